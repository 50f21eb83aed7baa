// tte-device's work as a library, so unit tests reach it: the host's Clock and Random for the
// firmware core, the progress and outcome lines it prints, booting a flash image (the core's
// Enrollment over a Transport) any number of times, showing an image, exporting its
// credentials. tte-device's main() only parses flags.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <random>
#include <string>

#include "tte/base/error.h"
#include "tte/device/enrollment.h"

namespace tte::devicehost {

/// The core's Clock on the host: steady milliseconds, sleeping the thread.
class HostClock final : public device::Clock {
public:
    std::uint64_t nowMs() override;
    void sleepUntilMs(std::uint64_t deadlineMs) override;
};

/// The core's Random on the host: a Mersenne twister seeded from std::random_device.
class HostRandom final : public device::Random {
public:
    std::uint32_t next() override { return m_engine(); }

private:
    std::mt19937 m_engine{std::random_device{}()};
};

/// "block-verified", "query-mothership", … (the names tte-device prints).
const char* stepName(device::Step step);
/// "answered", "no-answer", "peer-fingerprint-mismatch", "too-large".
const char* transportName(device::TransportStatus status);
/// A CoAP code as "class.detail" ("2.05").
std::string coapCodeText(std::uint8_t code);

/// One progress line: "boot N: STEP [attempt=A] [transport=T [code=C.DD]] [wait-ms=W] [detail=D]".
std::string progressLine(int boot, const device::Progress& progress);

/// The line after a boot: "boot N: outcome=O [block-error=E] [detail=D] [controller=ADDR:PORT
/// controller-fingerprint=HEX] from=nvm|mothership mothership-queries=Q checkin-attempts=C".
std::string outcomeLine(int boot, const device::EnrollmentResult& result);

struct BootOptions {
    std::filesystem::path flash;  ///< the 1 MiB image, read afresh at each boot
    std::uint32_t retryBaseMs = 2000;
    std::uint32_t retryCapMs = 3600000;
    std::uint32_t maxAttempts = 0;  ///< 0: never give up, as the firmware
    int boots = 1;                  ///< reboot this many times in a row (stops after a boot that failed)
};

/// Boots the image `options.boots` times over `transport`, writing the progress and outcome
/// lines to `out`; returns the last boot's result. Errors: those of FlashImage::open().
Result<device::EnrollmentResult> runBoots(const BootOptions& options, device::Transport& transport, device::Clock& clock,
                                device::Random& random, std::ostream& out);

/// The block's MotherShip address and port (for tte-device's test override). Errors: those of
/// FlashImage::open() and protocol::parseBlock().
Result<std::pair<std::string, std::uint16_t>> blockMotherShip(const std::filesystem::path& flash);

/// Prints the provisioning block (never the key or OTP) and the stored controller. Errors: those
/// of FlashImage::open() and protocol::parseBlock().
Status showFlash(const std::filesystem::path& flash, std::ostream& out);

/// Writes device.key.pem (0600), device.crt.pem and mothership.fingerprint into `dir` for
/// other CoAP clients in tests. Errors: those of parsing the image and the key, io.
Status exportCredentials(const std::filesystem::path& flash, const std::filesystem::path& dir);

}  // namespace tte::devicehost
