// tte-provision: the headless station. Parses flags, wires the real adapters, runs one
// subcommand (INTERFACES.md "Programs").

#include <csignal>
#include <cstdio>

#include "commands.h"
#include "pin_input.h"
#include "tte/base/hex.h"
#include "tte/cli/program.h"

int main(int argc, char** argv) {
    using namespace tte::station::app;
    // A PKCS#11 module that talks to its token over a socket (p11-kit's client) writes to it
    // after the other end died: that must come back as the token's error, not end the station.
    std::signal(SIGPIPE, SIG_IGN);
    CLI::App cli{"tte-provision: the headless TTE provisioning station"};
    tte::cli::setUp(cli, "tte-provision");
    cli.require_subcommand(1);
    std::string configPath;
    std::string simDir;
    cli.add_option("--config", configPath, "station config (station.toml)")->required();
    cli.add_option("--sim", simDir, "use the simulated devices in DIR (tte-flash sim create)");
    bool checkConfig = false;
    tte::cli::addCheckConfig(cli, checkConfig);

    RunOptions run;
    auto* runCmd = cli.add_subcommand("run", "provision devices: one pipeline per slot, with live progress");
    runCmd->add_option("--count", run.count, "provision at most N devices (default: every device present)")
        ->check(CLI::NonNegativeNumber);
    runCmd->add_option("--slots", run.slots, "parallel slots (default: station.slots)")->check(CLI::Range(1, 64));
    runCmd->add_option("--port", run.ports, "only these port paths");
    runCmd->add_option("--drain", run.drainSeconds, "seconds to wait for the upload backlog at the end")
        ->check(CLI::NonNegativeNumber);
    std::string& operatorName = run.operatorName;
    const auto addOperator = [&](CLI::App* sub) {
        sub->add_option("--operator", operatorName, "who runs the station: named in every journal entry")
            ->check([](const std::string& v) {
                return v.empty() || v.size() > 64 || v.find_first_of("\n\r\t\"") != std::string::npos
                           ? std::string("must be 1-64 printable characters")
                           : std::string();
            });
    };
    addOperator(runCmd);
    // The token's PIN when station.toml names no hsm.pin_file: never on the command line.
    PinInput pinInput;
    const auto addPin = [&](CLI::App* sub) {
        sub->add_option("--pin-file", pinInput.file, "read the token's PIN from FILE (when hsm.pin_file is not set)");
        sub->add_option("--pin-fd", pinInput.fd, "read the token's PIN from open file descriptor N")->check(CLI::NonNegativeNumber);
    };
    addPin(runCmd);

    std::string boxText;
    auto* boxCmd = cli.add_subcommand("box", "print the box label of a bulk lot's box and register the box");
    boxCmd->add_option("--box", boxText, "box number (8 hex digits)")->required();

    std::string port;
    VerifyOptions verify;
    std::string verifyDevId;
    auto* verifyCmd = cli.add_subcommand(
        "verify", "QA: prove one unit: flash block, label, journal and MotherShip agree, and the device's own DTLS "
                  "request with its key is answered (spends no OTP)");
    verifyCmd->add_option("--devid", verifyDevId, "Dev ID of the unit (8 hex digits)")->required();
    auto* verifyByPort = verifyCmd->add_option("--port", verify.port, "read the unit's flash through the flasher at this port path");
    auto* verifyByImage = verifyCmd->add_option(
        "--flash-image", verify.flashImage, "the unit's flash from 0x08000000, as `tte-flash read` or the simulator saves it");
    verifyByPort->excludes(verifyByImage);
    verifyCmd->add_option("--label-image", verify.labelImage, "the unit's label (PNG, or PDF as printed)")->required();
    verifyCmd->add_option("--report", verify.report, "also write the table and the label as a sheet: FILE.html or FILE.pdf");
    auto* reworkCmd = cli.add_subcommand(
        "rework", "rework a device: a failed one is erased; a live one is revoked at the MotherShip, then provisioned anew");
    std::string reworkDevId;
    auto* reworkById = reworkCmd->add_option("--devid", reworkDevId, "Dev ID of the device (8 hex digits)");
    auto* reworkByPort = reworkCmd->add_option("--port", port, "port path of the device (the last one provisioned there)");
    reworkById->excludes(reworkByPort);
    std::string reworkReason;
    reworkCmd->add_option("--reason", reworkReason, "why (sent with the revocation and audited; default \"reworked at station <id>\")");
    addOperator(reworkCmd);
    addPin(reworkCmd);
    std::string reason;
    auto* reprintCmd = cli.add_subcommand("reprint", "print a provisioned device's label again (same code), logged");
    reprintCmd->add_option("--port", port, "port path of the device")->required();
    reprintCmd->add_option("--reason", reason, "why (journalled with the new job)")->required();
    addOperator(reprintCmd);
    addPin(reprintCmd);

    auto* journalCmd = cli.add_subcommand("journal", "the signed journal");
    journalCmd->require_subcommand(1);
    auto* jVerify = journalCmd->add_subcommand("verify", "check hash chain and signatures");
    std::string exportPath = "-";
    auto* jExport = journalCmd->add_subcommand("export", "write the journal as JSON lines (no secrets)");
    jExport->add_option("--out", exportPath, "output file (default stdout)");

    double syncSeconds = 30;
    auto* syncCmd = cli.add_subcommand("sync", "upload the backlog now");
    syncCmd->add_option("--timeout", syncSeconds, "seconds to keep trying")->check(CLI::NonNegativeNumber);
    auto* reconcileCmd = cli.add_subcommand("reconcile", "list devices missing at the MotherShip or in the journal");
    auto* statusCmd = cli.add_subcommand("status", "counts, next Dev ID and the upload backlog");

    if (auto exit = tte::cli::parse(cli, argc, argv)) return *exit;
    if (checkConfig) return tte::cli::checkConfigResult(configPath, tte::station::checkConfigFiles(configPath));
    auto config = tte::station::loadConfig(configPath);
    if (!config) return tte::cli::configFailed("tte-provision", config.error());
    tte::station::Wiring w(std::move(*config), simDir);
    if (*runCmd && !w.config().seats.empty() && operatorName.empty())
        return tte::cli::usage("tte-provision", "run: a fixture with seats needs --operator NAME (who runs the line)");
    // A token without a PIN file: the operator signs in with its PIN (terminal, --pin-file, --pin-fd).
    if ((*runCmd || *reworkCmd || *reprintCmd) && w.needsPin()) {
        auto pin = readPin(pinInput, "PIN of HSM token " + w.config().tokenLabel + ": ");
        if (!pin) return std::fprintf(stderr, "tte-provision: %s\n", pin.error().message.c_str()), 1;
        if (auto s = w.signIn(*pin); !s) return std::fprintf(stderr, "tte-provision: %s\n", s.error().message.c_str()), 1;
    }
    if (!operatorName.empty()) {
        auto j = w.journal();
        if (!j) return std::fprintf(stderr, "tte-provision: %s\n", j.error().toString().c_str()), 1;
        (*j)->setOperator(operatorName);
    }
    if (*runCmd) return runCommand(w, run);
    if (*boxCmd) {
        auto box = tte::parseHexInt(boxText, 8, "--box");
        if (!box) return tte::cli::usage("tte-provision", box.error().message);
        return boxCommand(w, static_cast<std::uint32_t>(*box));
    }
    if (*verifyCmd) {
        auto id = tte::parseHexInt(verifyDevId, 8, "--devid");
        if (!id) return tte::cli::usage("tte-provision", id.error().message);
        verify.devId = static_cast<std::uint32_t>(*id);
        if (verify.port.empty() && verify.flashImage.empty())
            return tte::cli::usage("tte-provision", "verify needs --port P or --flash-image F");
        if (!verify.report.empty() && !verify.report.ends_with(".html") && !verify.report.ends_with(".htm") &&
            !verify.report.ends_with(".pdf"))
            return tte::cli::usage("tte-provision", "--report: " + verify.report + ": name the sheet FILE.html or FILE.pdf");
        return verifyCommand(w, verify);
    }
    if (*reworkCmd) {
        if (reworkDevId.empty() && port.empty()) return tte::cli::usage("tte-provision", "rework needs --devid D or --port P");
        std::optional<std::uint32_t> id;
        if (!reworkDevId.empty()) {
            auto parsed = tte::parseHexInt(reworkDevId, 8, "--devid");
            if (!parsed) return tte::cli::usage("tte-provision", parsed.error().message);
            id = static_cast<std::uint32_t>(*parsed);
        }
        return reworkCommand(w, id, port, reworkReason);
    }
    if (*reprintCmd) return reprintCommand(w, port, reason);
    if (*jVerify) return journalVerifyCommand(w);
    if (*jExport) return journalExportCommand(w, exportPath);
    if (*syncCmd) return syncCommand(w, syncSeconds);
    if (*reconcileCmd) return reconcileCommand(w);
    if (*statusCmd) return statusCommand(w);
    return 2;
}
