// tte-device: the firmware's enrollment core (tte::device_core) run on a host against a flash
// image file, over libcoap DTLS. Composition root: flags, seams, boots.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "tte/base/hex.h"
#include "tte/device/enrollment.h"
#include "tte/device_host/coap_transport.h"
#include "tte/device_host/credentials.h"
#include "tte/device_host/flash_image.h"
#include "tte/protocol/block.h"
#include "tte/protocol/fingerprint.h"

namespace {

using namespace tte;
using namespace tte::devicehost;

class HostClock final : public device::Clock {
public:
    std::uint64_t nowMs() override {
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now().time_since_epoch())
                                              .count());
    }
    void sleepUntilMs(std::uint64_t deadlineMs) override {
        auto now = nowMs();
        if (deadlineMs > now) std::this_thread::sleep_for(std::chrono::milliseconds(deadlineMs - now));
    }
};

class HostRandom final : public device::Random {
public:
    std::uint32_t next() override { return m_engine(); }

private:
    std::mt19937 m_engine{std::random_device{}()};
};

const char* stepName(device::Step s) {
    switch (s) {
        case device::Step::blockVerified: return "block-verified";
        case device::Step::controllerFromNvm: return "controller-from-nvm";
        case device::Step::queryMotherShip: return "query-mothership";
        case device::Step::motherShipAnswer: return "mothership-answer";
        case device::Step::badAnswer: return "bad-answer";
        case device::Step::retryWait: return "retry-wait";
        case device::Step::controllerStored: return "controller-stored";
        case device::Step::checkin: return "checkin";
        case device::Step::checkinAnswer: return "checkin-answer";
    }
    return "?";
}

const char* transportName(device::TransportStatus t) {
    switch (t) {
        case device::TransportStatus::answered: return "answered";
        case device::TransportStatus::noAnswer: return "no-answer";
        case device::TransportStatus::peerMismatch: return "peer-fingerprint-mismatch";
        case device::TransportStatus::tooLarge: return "too-large";
    }
    return "?";
}

std::string coapCodeText(std::uint8_t code) {
    return std::to_string(code >> 5) + "." + (((code & 0x1f) < 10) ? "0" : "") + std::to_string(code & 0x1f);
}

class PrintObserver final : public device::Observer {
public:
    explicit PrintObserver(int boot) : m_boot(boot) {}
    void onProgress(const device::Progress& p) override {
        std::printf("boot %d: %s", m_boot, stepName(p.step));
        if (p.attempt) std::printf(" attempt=%u", p.attempt);
        if (p.step == device::Step::motherShipAnswer || p.step == device::Step::checkinAnswer) {
            std::printf(" transport=%s", transportName(p.transport));
            if (p.transport == device::TransportStatus::answered) std::printf(" code=%s", coapCodeText(p.code).c_str());
        }
        if (p.step == device::Step::retryWait) std::printf(" wait-ms=%llu", static_cast<unsigned long long>(p.waitMs));
        if (p.detail && *p.detail) std::printf(" detail=%s", p.detail);
        std::printf("\n");
        std::fflush(stdout);
    }

private:
    int m_boot;
};

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

Result<std::pair<std::string, std::uint16_t>> splitAddress(const std::string& text) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return fail(Errc::invalidArgument, "--ms-address must be ADDR:PORT");
    int port = std::atoi(text.c_str() + colon + 1);
    if (port <= 0 || port > 65535 || std::to_string(port) != text.substr(colon + 1))
        return fail(Errc::invalidArgument, "--ms-address has a bad port: " + text);
    return std::make_pair(text.substr(0, colon), static_cast<std::uint16_t>(port));
}

int boot(int n, const RunOptions& o, CoapTransport& transport) {
    auto image = FlashImage::open(o.flash);  // a reboot reads the flash afresh
    if (!image) return die(image.error().message);
    HostClock clock;
    HostRandom random;
    PrintObserver observer(n);
    device::Seams seams{transport, *image, clock, random, &observer};
    device::RetryPolicy policy{static_cast<std::uint32_t>(o.retryBaseMs), static_cast<std::uint32_t>(o.retryCapMs),
                               static_cast<std::uint32_t>(o.maxAttempts)};
    auto enrollment = std::make_unique<device::Enrollment>(seams, device::EnrollmentConfig{policy, policy});
    auto r = enrollment->run(image->block());
    std::printf("boot %d: outcome=%s", n, device::outcomeName(r.outcome));
    if (r.outcome == device::Outcome::blockInvalid) std::printf(" block-error=%s", protocol::blockErrorName(r.blockError));
    if (r.detail && *r.detail) std::printf(" detail=%s", r.detail);
    if (r.outcome == device::Outcome::checkedIn || r.controller.port != 0)
        std::printf(" controller=%s:%u controller-fingerprint=%s", r.controller.address, r.controller.port,
                    toHex(std::span<const std::uint8_t>(r.controller.fingerprint, 32)).c_str());
    std::printf(" from=%s mothership-queries=%u checkin-attempts=%u\n", r.controllerFromNvm ? "nvm" : "mothership",
                r.motherShipQueries, r.checkinAttempts);
    std::fflush(stdout);
    return r.outcome == device::Outcome::checkedIn ? 0 : 2;
}

int runCommand(const RunOptions& o) {
    CoapTransport::Options topts;
    topts.timeout = std::chrono::milliseconds(o.timeoutMs);
    if (!o.msAddress.empty()) {
        auto image = FlashImage::open(o.flash);
        if (!image) return die(image.error().message);
        auto block = protocol::parseBlock(image->block());
        if (!block) return die(block.error().message);
        auto to = splitAddress(o.msAddress);
        if (!to) return die(to.error().message);
        topts.redirectFrom = std::make_pair(std::string(block->msAddress), block->msPort);
        topts.redirectTo = *to;
        protocol::wipeBlock(*block);
        std::printf("TEST OVERRIDE: MotherShip %s:%u is reached at %s\n", topts.redirectFrom->first.c_str(),
                    topts.redirectFrom->second, o.msAddress.c_str());
    }
    CoapTransport transport(topts);
    int rc = 0;
    for (int n = 1; n <= o.rebootLoop && rc == 0; ++n) rc = boot(n, o, transport);
    return rc;
}

int showCommand(const std::string& flash) {
    auto image = FlashImage::open(flash);
    if (!image) return die(image.error().message);
    auto block = protocol::parseBlock(image->block());
    if (!block) return die(block.error().message);
    std::printf("ms-id: %u\ndev-id: %08x\ndev-urn: %s\nms-address: %s:%u\nms-fingerprint: %s\nled-enrollment: %s\n",
                block->msId, block->devId, block->devUrn, block->msAddress, block->msPort,
                toHex(std::span<const std::uint8_t>(block->msFingerprint, 32)).c_str(),
                (block->flags & protocol::kBlockFlagLed) ? "on" : "off");
    protocol::wipeBlock(*block);
    protocol::ControllerRecord rec;
    std::size_t next = 0;
    if (protocol::findNewestControllerRecord(image->contents(), rec, next))
        std::printf("controller: %s:%u\ncontroller-fingerprint: %s\ncontroller-record-sequence: %u\n", rec.address, rec.port,
                    toHex(std::span<const std::uint8_t>(rec.fingerprint, 32)).c_str(), rec.sequence);
    else
        std::printf("controller: none (not enrolled yet)\n");
    std::printf("nvm-records-free: %zu\n", (protocol::kNvmSize - next) / protocol::kControllerRecordSize);
    return 0;
}

int exportCommand(const std::string& flash, const std::string& dir) {
    auto image = FlashImage::open(flash);
    if (!image) return die(image.error().message);
    auto block = protocol::parseBlock(image->block());
    if (!block) return die(block.error().message);
    auto key = ecPrivateKeyPem(std::span<const std::uint8_t, 32>(block->privateKey, 32));
    auto cert = protocol::certificatePem(std::span<const std::uint8_t>(block->cert, block->certLength));
    std::string msFp = toHex(std::span<const std::uint8_t>(block->msFingerprint, 32));
    protocol::wipeBlock(*block);
    if (!key) return die(key.error().message);
    if (!cert) return die(cert.error().message);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    auto keyPath = std::filesystem::path(dir) / "device.key.pem";
    {
        std::ofstream k(keyPath, std::ios::binary | std::ios::trunc);
        std::filesystem::permissions(keyPath, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
        k.write(reinterpret_cast<const char*>(key->bytes().data()), static_cast<std::streamsize>(key->size()));
        std::ofstream c(std::filesystem::path(dir) / "device.crt.pem", std::ios::trunc);
        c << *cert;
        std::ofstream f(std::filesystem::path(dir) / "mothership.fingerprint", std::ios::trunc);
        f << msFp << "\n";
        if (!k || !c || !f) return die("cannot write the credentials into " + dir);
    }
    std::printf("wrote %s/device.key.pem (0600), %s/device.crt.pem, %s/mothership.fingerprint\n", dir.c_str(), dir.c_str(), dir.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tte-device – the device's enrollment client (firmware core) on a host, against a 1 MiB flash image"};
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
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (*run) {
        if (o.rebootLoop < 1) return die("--reboot-loop must be at least 1");
        if (o.timeoutMs < 100) return die("--timeout-ms must be at least 100");
        return runCommand(o);
    }
    if (*show) return showCommand(o.flash);
    return exportCommand(o.flash, dir);
}
