// verify (QA) and rework: the subcommands that touch one device in a slot.
#include <cstdio>
#include <fstream>
#include <iterator>

#include "commands.h"
#include "tte/base/hex.h"
#include "tte/labels/render.h"
#include "tte/labels/scan.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/freestanding/block.h"
#include "tte/station/formats.h"

namespace tte::station::app {
namespace {

int failWith(const Error& e, int code = 1) {
    std::fprintf(stderr, "tte-provision: %s\n", e.toString().c_str());
    return code;
}

/// The latest Dev ID the journal allocated for `port`, and that device's latest entry kind.
Result<std::pair<std::uint32_t, std::vector<JournalEntry>>> deviceAt(Journal& journal, const std::string& port) {
    auto all = journal.entries();
    if (!all) return std::unexpected(all.error());
    std::optional<std::uint32_t> devId;
    for (const auto& e : *all)
        if (e.kind == "allocated" && e.devId && e.body.value("port", "") == port) devId = *e.devId;
    if (!devId) return fail(Errc::notFound, "the journal has no device at port " + port);
    auto mine = journal.entries(*devId);
    if (!mine) return std::unexpected(mine.error());
    return std::pair{*devId, std::move(*mine)};
}

std::string latestKind(const std::vector<JournalEntry>& entries) {
    std::string kind;
    for (const auto& e : entries)
        if (e.kind != "delivered") kind = e.kind;
    return kind;
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
    Secret otp(8);
    for (int i = 0; i < 8; ++i) otp.mutableBytes()[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(block.otp >> (56 - 8 * i));
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
    const Secret expected = enrollmentUrl(msId, otp, devId);
    c.check("label", scanned && constantTimeEqual(scanned->bytes(), expected.bytes()),
            scanned ? "the label's code is not this device's Enrollment URL" : scanned.error().message);
    auto remote = w.mothership().device(devId);
    c.check("mothership", remote && remote->urn == urn && remote->fingerprint == fingerprint,
            remote ? "the MotherShip's record differs" : remote.error().message);
    if (remote) std::printf("  state      %s\n", remote->state.c_str());
    return c.bad == 0 ? 0 : 1;
}

int reworkCommand(Wiring& w, const std::string& port) {
    auto j = w.journal();
    if (!j) return failWith(j.error());
    auto dev = deviceAt(**j, port);
    if (!dev) return failWith(dev.error());
    const auto [devId, entries] = std::move(*dev);
    const std::string kind = latestKind(entries);
    if (kind == "live" || kind == "committed")
        return failWith(Error{Errc::conflict, "device " + toHex(devId, 8) + " at " + port + " has a record (" + kind +
                                                  "): revoke it at the MotherShip instead of reworking",
                              {}, 0, {}});
    if (kind == "reworked") {
        std::printf("device %s at %s is already reworked\n", toHex(devId, 8).c_str(), port.c_str());
        return 0;
    }
    if (kind != "failed")
        return failWith(Error{Errc::conflict, "device " + toHex(devId, 8) + " is still in the pipeline (" + kind +
                                                  "): run `tte-provision run` first so the station recovers it",
                              {}, 0, {}});
    auto f = w.flasher();
    if (!f) return failWith(f.error());
    // Erase the block (and with it the OTP and key) and the controller log.
    const std::vector<FlashSegment> erase = {{w.encoder().blockAddress(), std::vector<std::uint8_t>(16 * 1024, 0xff)},
                                             {w.encoder().nvmAddress(), std::vector<std::uint8_t>(16 * 1024, 0xff)}};
    if (auto s = (*f)->writeAndVerify(port, erase); !s) return failWith(s.error());
    auto e = (*j)->append("reworked", devId, {{"port", port}});
    if (!e) return failWith(e.error());
    std::printf("device %s at %s erased; Dev ID %s stays burned, the next run gives it a new one\n",
                toHex(devId, 8).c_str(), port.c_str(), toHex(devId, 8).c_str());
    return 0;
}

}  // namespace tte::station::app
