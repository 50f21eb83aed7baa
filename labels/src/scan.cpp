// Scan-back with libzbar, and the keyboard-wedge scanner hook. Payloads are secrets (they
// carry the OTP), so no error message ever contains one.
#include "tte/labels/scan.h"

#include <cerrno>
#include <cstring>
#include <memory>

#include <poll.h>
#include <unistd.h>
#include <zbar.h>

namespace tte::labels {

using namespace zbar;  // zbar.h declares its C API in namespace zbar under C++

namespace {

struct ScannerDeleter {
    void operator()(zbar_image_scanner_t* s) const { zbar_image_scanner_destroy(s); }
};
struct ImageDeleter {
    void operator()(zbar_image_t* i) const { zbar_image_destroy(i); }
};

}  // namespace

Result<std::vector<Secret>> decodeQrCodes(const Raster& raster) {
    if (raster.width <= 0 || raster.height <= 0 ||
        raster.pixels.size() != static_cast<std::size_t>(raster.width) * static_cast<std::size_t>(raster.height)) {
        return fail(Errc::invalidArgument, "scan-back: the raster is empty or its size does not match its pixels");
    }
    std::unique_ptr<zbar_image_scanner_t, ScannerDeleter> scanner(zbar_image_scanner_create());
    zbar_image_scanner_set_config(scanner.get(), ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
    zbar_image_scanner_set_config(scanner.get(), ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
    std::unique_ptr<zbar_image_t, ImageDeleter> image(zbar_image_create());
    zbar_image_set_format(image.get(), zbar_fourcc('Y', '8', '0', '0'));
    zbar_image_set_size(image.get(), static_cast<unsigned>(raster.width), static_cast<unsigned>(raster.height));
    // zbar only reads the data; no cleanup handler because the raster owns it.
    zbar_image_set_data(image.get(), raster.pixels.data(), raster.pixels.size(), nullptr);
    int n = zbar_scan_image(scanner.get(), image.get());
    if (n < 0) return failNative(Errc::internal, "scan-back: zbar could not scan the image", "zbar", n);
    std::vector<Secret> out;
    for (const zbar_symbol_t* s = zbar_image_first_symbol(image.get()); s != nullptr; s = zbar_symbol_next(s)) {
        if (zbar_symbol_get_type(s) != ZBAR_QRCODE) continue;
        const char* data = zbar_symbol_get_data(s);
        out.emplace_back(std::string_view(data, zbar_symbol_get_data_length(s)));
    }
    zbar_image_set_data(image.get(), nullptr, 0, nullptr);
    return out;
}

Status verifyScan(const Raster& raster, const Secret& url) {
    auto codes = decodeQrCodes(raster);
    if (!codes) return std::unexpected(codes.error());
    if (codes->empty()) return fail(Errc::corrupt, "scan-back: no QR code found");
    if (codes->size() > 1) {
        return fail(Errc::corrupt, "scan-back: " + std::to_string(codes->size()) + " QR codes found, expected 1");
    }
    const Secret& got = codes->front();
    if (!constantTimeEqual(got.bytes(), url.bytes())) {
        return fail(Errc::corrupt, "scan-back: the code does not carry the intended URL (" +
                                       std::to_string(got.size()) + " bytes decoded, " + std::to_string(url.size()) +
                                       " expected)");
    }
    return {};
}

Result<Secret> LineScanner::scan(Clock::Duration timeout) {
    const auto deadline = m_clock.now() + timeout;
    for (;;) {
        if (auto eol = m_pending.find_first_of("\r\n"); eol != std::string::npos) {
            Secret line(std::string_view(m_pending).substr(0, eol));
            std::size_t skip = eol + 1;
            while (skip < m_pending.size() && (m_pending[skip] == '\r' || m_pending[skip] == '\n')) ++skip;
            secureZero(m_pending.data(), skip);
            m_pending.erase(0, skip);
            if (line.empty()) continue;
            return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - m_clock.now());
        if (left.count() <= 0) return fail(Errc::timeout, "scanner: no code read within the deadline");
        // Poll without blocking and wait on the injected clock, so the deadline is the clock's.
        pollfd p{m_fd, POLLIN, 0};
        int r = ::poll(&p, 1, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return failNative(Errc::io, "scanner: poll failed", "errno", errno, std::strerror(errno));
        if (r == 0) {
            m_clock.sleepFor(std::min<Clock::Duration>(left, std::chrono::milliseconds(20)));
            continue;
        }
        char buf[256];
        ssize_t n = ::read(m_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failNative(Errc::io, "scanner: read failed", "errno", errno, std::strerror(errno));
        if (n == 0) return fail(Errc::unavailable, "scanner: end of input (scanner disconnected)");
        m_pending.append(buf, static_cast<std::size_t>(n));
        secureZero(buf, sizeof buf);
    }
}

Result<Secret> ImageScanner::scan(Clock::Duration timeout) {
    const auto deadline = m_clock.now() + timeout;
    for (;;) {
        auto picture = m_capture();
        if (!picture) return withContext(picture.error(), "camera");
        auto codes = decodeQrCodes(*picture);
        if (!codes) return withContext(codes.error(), "camera");
        if (codes->size() == 1) return std::move(codes->front());
        if (m_clock.now() >= deadline) return fail(Errc::timeout, "camera: no QR code read within the deadline");
        m_clock.sleepFor(m_retry);
    }
}

Status verifyWithScanner(Scanner& scanner, const Secret& url, Clock::Duration timeout) {
    auto got = scanner.scan(timeout);
    if (!got) return std::unexpected(got.error());
    if (!constantTimeEqual(got->bytes(), url.bytes())) {
        return fail(Errc::corrupt, "scanner read a different code (" + std::to_string(got->size()) + " bytes, " +
                                       std::to_string(url.size()) + " expected)");
    }
    return {};
}

}  // namespace tte::labels
