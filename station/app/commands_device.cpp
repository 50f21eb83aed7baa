// verify (QA), rework and reprint: the subcommands that touch one device in a slot.
#include <cstdio>
#include <fstream>
#include <iterator>

#include "commands.h"
#include "tte/base/hex.h"
#include "tte/labels/render.h"
#include "tte/labels/scan.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/freestanding/block.h"
#include "tte/protocol/enrollment_url.h"
#include "tte/station/operations.h"

namespace tte::station::app {
namespace {

int failWith(const Error& e, int code = 1) {
    std::fprintf(stderr, "tte-provision: %s\n", e.toString().c_str());
    return code;
}

Result<Secret> scanLabelFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Errc::notFound, "no label image " + path);
    std::vector<std::uint8_t> png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto raster = labels::decodePng(png, 203);
    if (!raster) return std::unexpected(raster.error());
    auto codes = labels::decodeQrCodes(*raster);
    if (!codes) return std::unexpected(codes.error());
    if (codes->size() != 1) return fail(Errc::corrupt, std::to_string(codes->size()) + " QR codes on " + path);
    return std::move((*codes)[0]);
}

struct Checks {
    int bad = 0;
    void check(const char* what, bool good, const std::string& detail) {
        std::printf("  %-10s %s%s\n", what, good ? "ok" : "MISMATCH: ", good ? "" : detail.c_str());
        bad += good ? 0 : 1;
    }
};

}  // namespace

int verifyCommand(Wiring& w, const std::string& port) {
    auto f = w.flasher();
    if (!f) return failWith(f.error());
    auto bytes = (*f)->read(port, w.encoder().blockAddress(), protocol::kBlockSize);
    if (!bytes) return failWith(bytes.error());
    protocol::ProvisioningBlock block;
    protocol::BlockFault fault;
    const auto err = protocol::decodeBlock(*bytes, block, fault);
    secureZero(bytes->data(), bytes->size());
    if (err != protocol::BlockError::ok) {
        protocol::wipeBlock(block);
        return failWith(Error{Errc::corrupt, std::string("port ") + port + ": provisioning block: " +
                                                 protocol::blockErrorName(err) + (*fault.field ? std::string(" ") + fault.field : ""),
                              {}, 0, {}});
    }
    const std::uint32_t devId = block.devId;
    const std::string urn = block.devUrn;
    auto fp = protocol::fingerprintFromDer(std::span<const std::uint8_t>(block.cert, block.certLength));
    const protocol::Otp otp(block.otp);
    const std::uint32_t msId = block.msId;
    protocol::wipeBlock(block);
    const std::string fingerprint = fp ? fp->hex() : "";
    std::printf("port %s: Dev ID %s, %s, fingerprint %s\n", port.c_str(), toHex(devId, 8).c_str(), urn.c_str(),
                fingerprint.c_str());
    Checks c;
    c.check("ms id", msId == w.config().lot.msId, "block has " + std::to_string(msId));
    auto j = w.journal();
    if (!j) return failWith(j.error());
    auto entries = (*j)->entries(devId);
    if (!entries) return failWith(entries.error());
    const JournalEntry* committed = nullptr;
    for (const auto& e : *entries)
        if (e.kind == "committed") committed = &e;
    c.check("journal", committed && committed->body["record"].value("urn", "") == urn &&
                           committed->body["record"].value("fingerprint", "") == fingerprint,
            committed ? "record differs from the block" : "no committed record for this Dev ID");
    auto scanned = scanLabelFile(w.config().labelsDir + "/" + toHex(devId, 8) + ".png");
    std::string url = protocol::buildEnrollmentUrl({protocol::MsId{msId}, otp, protocol::DevId{devId}});
    const Secret expected(url);
    secureZero(url.data(), url.size());
    c.check("label", scanned && constantTimeEqual(scanned->bytes(), expected.bytes()),
            scanned ? "the label's code is not this device's Enrollment URL" : scanned.error().message);
    auto remote = w.mothership().device(devId);
    c.check("mothership", remote && remote->urn.text == urn && remote->fingerprint.hex() == fingerprint,
            remote ? "the MotherShip's record differs" : remote.error().message);
    if (remote) std::printf("  state      %s\n", std::string(protocol::enrollmentStateName(remote->state)).c_str());
    return c.bad == 0 ? 0 : 1;
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
