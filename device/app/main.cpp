// tte-device: the firmware's enrollment core (tte::device_core) run on a host against a flash
// image file, over libcoap DTLS. Parses flags and runs the device_host library's runner.h.

#include <cstdio>
#include <iostream>

#include "tte/cli/program.h"
#include "tte/device_host/coap_transport.h"
#include "tte/device_host/runner.h"
#include "tte/protocol/address.h"

namespace {

using namespace tte;
using namespace tte::devicehost;

/// `run`: a boot ended without checking in (mothership-forbidden, controller-forbidden, gave-up).
constexpr int kExitNotCheckedIn = 3;

struct RunOptions {
    std::string flash;
    std::string msAddress;
    long timeoutMs = 10000;
    long retryBaseMs = 2000;
    long retryCapMs = 3600000;
    long maxAttempts = 0;
    int rebootLoop = 1;
};

int die(const std::string& m) {
    std::cerr << "tte-device: " << m << "\n";
    return 1;
}

int runCommand(const RunOptions& o) {
    CoapTransport::Options topts;
    topts.timeout = std::chrono::milliseconds(o.timeoutMs);
    if (!o.msAddress.empty()) {
        auto from = blockMotherShip(o.flash);
        if (!from) return die(from.error().message);
        auto to = protocol::parseHostPort(o.msAddress, "--ms-address");
        if (!to) return die(to.error().message);
        topts.redirectFrom = *from;
        topts.redirectTo = std::make_pair(to->host, to->port);
        std::printf("TEST OVERRIDE: MotherShip %s:%u is reached at %s\n", from->first.c_str(), from->second,
                    o.msAddress.c_str());
        std::fflush(stdout);
    }
    CoapTransport transport(topts);
    HostClock clock;
    HostRandom random;
    const BootOptions boot{o.flash, static_cast<std::uint32_t>(o.retryBaseMs), static_cast<std::uint32_t>(o.retryCapMs),
                           static_cast<std::uint32_t>(o.maxAttempts), o.rebootLoop};
    auto r = runBoots(boot, transport, clock, random, std::cout);
    if (!r) return die(r.error().message);
    return r->outcome == device::Outcome::checkedIn ? 0 : kExitNotCheckedIn;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tte-device – the device's enrollment client (firmware core) on a host, against a 1 MiB flash image"};
    tte::cli::setUp(app, "tte-device");
    app.require_subcommand(1);
    RunOptions o;
    std::string dir;
    auto* run = app.add_subcommand("run", "boot: MotherShip (unless a controller is stored), then check in at the controller");
    run->add_option("--flash", o.flash, "the device's 1 MiB flash image")->required();
    run->add_option("--ms-address", o.msAddress, "TEST ONLY: reach the block's MotherShip at this ADDR:PORT instead");
    run->add_option("--timeout-ms", o.timeoutMs, "per CoAP request, handshake included")->capture_default_str();
    run->add_option("--retry-base-ms", o.retryBaseMs, "backoff base (docs §7: 2000)")->capture_default_str();
    run->add_option("--retry-cap-ms", o.retryCapMs, "backoff cap (docs §7: 3600000)")->capture_default_str();
    run->add_option("--max-attempts", o.maxAttempts, "give up after this many attempts (0: never, as the firmware)")->capture_default_str();
    run->add_option("--reboot-loop", o.rebootLoop, "boot this many times in a row (each reads the flash afresh)")->capture_default_str();
    auto* show = app.add_subcommand("show", "print the provisioning block (no key) and the stored controller");
    show->add_option("--flash", o.flash, "the device's 1 MiB flash image")->required();
    auto* exp = app.add_subcommand("export-credentials", "write the device key and certificate as PEM (for other CoAP clients in tests)");
    exp->add_option("--flash", o.flash, "the device's 1 MiB flash image")->required();
    exp->add_option("dir", dir, "output directory")->required();
    if (auto exit = tte::cli::parse(app, argc, argv)) return *exit;
    if (*run) {
        if (o.rebootLoop < 1) return tte::cli::usage("tte-device", "--reboot-loop must be at least 1");
        if (o.timeoutMs < 100) return tte::cli::usage("tte-device", "--timeout-ms must be at least 100");
        return runCommand(o);
    }
    if (*show) {
        if (auto s = showFlash(o.flash, std::cout); !s) return die(s.error().message);
        return 0;
    }
    if (auto s = exportCredentials(o.flash, dir); !s) return die("cannot write the credentials into " + dir + ": " + s.error().message);
    std::printf("wrote %s/device.key.pem (0600), %s/device.crt.pem, %s/mothership.fingerprint\n", dir.c_str(), dir.c_str(),
                dir.c_str());
    return 0;
}
