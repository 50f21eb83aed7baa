// Scan-back: every label is decoded again before its record is committed, because a label
// that cannot be scanned is a device that cannot be enrolled. Decoding is libzbar; a
// Scanner is the hook for a real scanner at the station (keyboard wedge, camera).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/clock.h"
#include "tte/base/error.h"
#include "tte/base/secret.h"
#include "tte/labels/render.h"

namespace tte::labels {

/// Decodes every QR code in the raster with zbar; the payloads in the order zbar reports
/// them (empty when there is none). Errors: internal when zbar fails to scan.
Result<std::vector<Secret>> decodeQrCodes(const Raster& raster);

/// Checks that the raster holds exactly one QR code and that it carries exactly `url`.
/// Errors (never showing the payload, which holds the OTP): corrupt "scan-back: no QR code
/// found", "scan-back: 2 QR codes found, expected 1", "scan-back: the code does not carry
/// the intended URL (N bytes decoded, M expected)".
Status verifyScan(const Raster& raster, const Secret& url);

/// A scanner at the station that reads a printed label.
class Scanner {
public:
    virtual ~Scanner() = default;
    /// Reads one code, waiting up to `timeout` on the scanner's clock.
    /// Errors: timeout (nothing scanned in time), unavailable (scanner gone), io.
    virtual Result<Secret> scan(Clock::Duration timeout) = 0;
};

/// A keyboard-wedge scanner (or any device that types a code and a newline) on a file
/// descriptor, e.g. a tty or a pipe. Reads one line; CR and LF end it. Does not own the fd.
class LineScanner final : public Scanner {
public:
    explicit LineScanner(int fd, Clock& clock) : m_fd(fd), m_clock(clock) {}
    /// Errors: timeout, unavailable (end of file), io (read/poll errno in nativeCode).
    Result<Secret> scan(Clock::Duration timeout) override;

private:
    int m_fd;
    Clock& m_clock;
    std::string m_pending;
};

/// A camera at the station: takes pictures through `capture` and decodes them with zbar
/// until one holds exactly one QR code or the deadline passes on the clock.
class ImageScanner final : public Scanner {
public:
    using Capture = std::function<Result<Raster>()>;
    ImageScanner(Capture capture, Clock& clock, Clock::Duration retryInterval = std::chrono::milliseconds(100))
        : m_capture(std::move(capture)), m_clock(clock), m_retry(retryInterval) {}
    /// Errors: the capture's errors; timeout "camera: no QR code read within the deadline".
    Result<Secret> scan(Clock::Duration timeout) override;

private:
    Capture m_capture;
    Clock& m_clock;
    Clock::Duration m_retry;
};

/// Scans with `scanner` and compares with `url`. Errors: those of the scanner, and
/// corrupt "scanner read a different code (N bytes, M expected)".
Status verifyWithScanner(Scanner& scanner, const Secret& url, Clock::Duration timeout);

}  // namespace tte::labels
