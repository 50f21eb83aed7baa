// The subcommands of tte-provision; each returns the process exit code and prints a one-line
// reason on failure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tte/station/wiring.h"

namespace tte::station::app {

struct RunOptions {
    int count = 0;
    int slots = 0;
    std::vector<std::string> ports;
    double drainSeconds = 10;
    std::string operatorName;
};

int runCommand(Wiring& w, const RunOptions& o);
int boxCommand(Wiring& w, std::uint32_t box);
struct VerifyOptions {
    std::uint32_t devId = 0;
    std::string port;        ///< read through the flasher, or
    std::string flashImage;  ///< a flash image file from 0x08000000
    std::string labelImage;  ///< PNG or PDF
    std::string report;      ///< HTML sheet to write ("" none)
};

/// QA verify (docs/STATION.md): exit 0 when every check passes, 1 on a mismatch or an error.
int verifyCommand(Wiring& w, const VerifyOptions& o);
/// Rework of the device `devId`, or when not given of the device last provisioned at `port`.
int reworkCommand(Wiring& w, std::optional<std::uint32_t> devId, const std::string& port, std::string reason);
int reprintCommand(Wiring& w, const std::string& port, const std::string& reason);
int journalVerifyCommand(Wiring& w);
int journalExportCommand(Wiring& w, const std::string& out);
int syncCommand(Wiring& w, double seconds);
int reconcileCommand(Wiring& w);
int statusCommand(Wiring& w);

}  // namespace tte::station::app
