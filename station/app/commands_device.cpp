// verify (QA: docs/STATION.md), rework and reprint: the subcommands that touch one device in a slot.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>

#include "commands.h"
#include "tte/base/atomic_file.h"
#include "tte/base/clock.h"
#include "tte/base/hex.h"
#include "tte/labels/render.h"
#include "tte/labels/scan.h"
#include "tte/station/adapters/device_probe.h"
#include "tte/station/adapters/flasher_devices.h"
#include "tte/station/adapters/verify_pdf.h"
#include "tte/station/operations.h"
#include "tte/station/verify.h"

namespace tte::station::app {
namespace {

int failWith(const Error& e, int code = 1) {
    std::fprintf(stderr, "tte-provision: %s\n", e.toString().c_str());
    return code;
}

Result<std::vector<std::uint8_t>> readInputFile(const std::string& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Errc::notFound, std::string("no ") + what + " " + path);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return fail(Errc::io, std::string("cannot read ") + what + " " + path);
    return bytes;
}

/// The label's one QR code, from a PNG or a label PDF (rasterized at the printer's 203 dpi);
/// `png` gets the image for the report.
Result<Secret> scanLabel(const std::string& path, std::vector<std::uint8_t>& png) {
    auto bytes = readInputFile(path, "label image");
    if (!bytes) return std::unexpected(bytes.error());
    const bool pdf = bytes->size() >= 4 && std::equal(bytes->begin(), bytes->begin() + 4, "%PDF");
    auto raster = pdf ? labels::rasterizePdf(*bytes, 203) : labels::decodePng(*bytes, 203);
    if (!raster) return withContext(raster.error(), path);
    if (pdf) {
        auto encoded = labels::encodePng(*raster);
        if (encoded) png = std::move(*encoded);
    } else {
        png = *bytes;
    }
    auto codes = labels::decodeQrCodes(*raster);
    if (!codes) return std::unexpected(codes.error());
    if (codes->size() != 1) return fail(Errc::corrupt, std::to_string(codes->size()) + " QR codes on " + path + ", expected 1");
    return std::move((*codes)[0]);
}

/// The flash of an image file that starts at the flash base (what the simulator keeps and
/// `tte-flash read --address 0x08000000` saves).
FlashReader imageReader(std::shared_ptr<std::vector<std::uint8_t>> image, const std::string& path) {
    return [image, path](std::uint32_t address, std::size_t length) -> Result<std::vector<std::uint8_t>> {
        constexpr std::uint32_t kFlashBase = 0x08000000;
        if (address < kFlashBase || address - kFlashBase + length > image->size())
            return fail(Errc::outOfRange, path + ": " + std::to_string(image->size()) + " bytes from 0x08000000 do not hold 0x" +
                                              toHex(address, 8) + "+" + std::to_string(length));
        const auto from = image->begin() + (address - kFlashBase);
        return std::vector<std::uint8_t>(from, from + static_cast<std::ptrdiff_t>(length));
    };
}

bool readProtected(const Error& e) { return e.code == Errc::permissionDenied && e.nativeName == "errVENDOR"; }

Error lockedBoard(const std::string& port) {
    return Error{Errc::permissionDenied,
                 "port " + port + ": the board is read-protected (RDP level 1): its bootloader refuses every read; "
                 "verify the image captured before the lock with --flash-image FILE",
                 {}, 0, {}};
}

}  // namespace

int verifyCommand(Wiring& w, const VerifyOptions& o) {
    VerifyInput in;
    in.devId = o.devId;
    if (!o.flashImage.empty()) {
        auto image = readInputFile(o.flashImage, "flash image");
        if (!image) return failWith(image.error());
        in.source = "image " + o.flashImage;
        in.readFlash = imageReader(std::make_shared<std::vector<std::uint8_t>>(std::move(*image)), o.flashImage);
    } else {
        auto f = w.flasher();
        if (!f) return failWith(f.error());
        auto board = (*f)->identify(o.port);
        if (!board) return failWith(readProtected(board.error()) ? lockedBoard(o.port) : board.error());
        if (board->protection != ReadProtection::level0) return failWith(lockedBoard(o.port));
        in.boardMcuUid = board->mcuUid;
        in.source = "port " + o.port;
        in.readFlash = [f = *f, port = o.port](std::uint32_t address, std::size_t length) -> Result<std::vector<std::uint8_t>> {
            auto bytes = f->read(port, address, length);
            if (!bytes && readProtected(bytes.error())) return std::unexpected(lockedBoard(port));
            return bytes;
        };
    }
    std::vector<std::uint8_t> png;
    in.label = scanLabel(o.labelImage, png);
    auto firmware = loadFirmwareFile(w.config().lot.firmware);
    if (firmware) in.firmware = std::move(*firmware);
    else in.firmwareError = firmware.error().message;
    auto probe = makeDeviceRegistrationProbe(std::chrono::seconds(10));
    auto report = verifyUnit(w, in, *probe);
    if (!report) return failWith(report.error());
    std::fputs(formatTable(*report).c_str(), stdout);
    if (!o.report.empty()) {
        std::string sheet;
        const std::string now = rfc3339(std::chrono::system_clock::now());
        if (o.report.ends_with(".pdf")) {
            auto pdf = formatPdf(*report, png, now);
            if (!pdf) return failWith(pdf.error());
            sheet.assign(pdf->begin(), pdf->end());
        } else {
            sheet = formatHtml(*report, png, now);
        }
        // A whole sheet or none (a temporary file and a rename), readable by QA, not by everyone.
        if (auto s = writeFileAtomic(o.report, sheet, 0640); !s) return failWith(s.error());
        std::printf("report written to %s\n", o.report.c_str());
    }
    return report->passed() ? 0 : 1;
}

int reworkCommand(Wiring& w, std::optional<std::uint32_t> devId, const std::string& port, std::string reason) {
    auto j = w.journal();
    if (!j) return failWith(j.error());
    if (!devId) {
        auto at = deviceAtPort(**j, port);
        if (!at) return failWith(at.error());
        devId = at->devId;
    }
    auto f = w.flasher();
    if (!f) return failWith(f.error());
    auto p = w.pipeline();
    if (!p) return failWith(p.error());
    auto up = w.uploader();
    if (!up) return failWith(up.error());
    // The new identity is provisioned in the station's open lot, as a run would.
    std::string notice;
    if (auto s = openLotWithQuota(w.config(), **p, w.mothership(), notice); !s) return failWith(s.error());
    if (!notice.empty()) std::printf("%s\n", notice.c_str());
    if (reason.empty()) reason = "reworked at station " + w.config().stationId;
    const ReworkParts parts{**j, **f, w.encoder(), w.mothership(), **up, **p};
    auto r = reworkById(parts, *devId, reason);
    if (!r) return failWith(r.error());
    const std::string id = toHex(r->devId, 8);
    const char* at = r->port.c_str();
    if (r->alreadyReworked) {
        std::printf("device %s at %s is already reworked\n", id.c_str(), at);
        return 0;
    }
    if (r->erased) {
        std::printf("device %s at %s erased; Dev ID %s stays burned, the next run gives it a new one\n", id.c_str(), at,
                    id.c_str());
        return 0;
    }
    std::printf("device %s at %s revoked at the MotherShip (%s)\n", id.c_str(), at, reason.c_str());
    std::printf("device %s at %s provisioned, reworked from %s\n", toHex(*r->newDevId, 8).c_str(), at, id.c_str());
    if (!r->uploadNotice.empty()) std::printf("%s\n", r->uploadNotice.c_str());
    return 0;
}

int reprintCommand(Wiring& w, const std::string& port, const std::string& reason) {
    auto j = w.journal();
    if (!j) return failWith(j.error());
    auto p = w.printer();
    if (!p) return failWith(p.error());
    auto printed = reprintLabel(**j, **p, port, reason);
    if (!printed) return failWith(printed.error());
    std::printf("label of the device at %s reprinted: job %s, %s\n", port.c_str(), printed->job.c_str(),
                printed->artefact.c_str());
    return 0;
}

}  // namespace tte::station::app
