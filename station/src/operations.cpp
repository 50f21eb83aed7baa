// Operations shared by tte-provision and tte-station (see operations.h).
#include "tte/station/operations.h"

#include "tte/base/hex.h"

namespace tte::station {
namespace {

std::string latestKind(const std::vector<JournalEntry>& entries) {
    std::string kind;
    for (const auto& e : entries)
        if (e.kind != "delivered") kind = e.kind;
    return kind;
}

const JournalEntry* lastOfKind(const std::vector<JournalEntry>& entries, std::string_view kind) {
    const JournalEntry* found = nullptr;
    for (const auto& e : entries)
        if (e.kind == kind) found = &e;
    return found;
}

}  // namespace

Status openLotWithQuota(const StationConfig& config, Pipeline& pipeline, MotherShipClient& ms, std::string& notice) {
    auto quota = ms.lotQuota(config.lot.id);
    std::optional<protocol::LotQuota> q;
    if (quota) q = *quota;
    else if (quota.error().code == Errc::unavailable || quota.error().code == Errc::timeout)
        notice = "MotherShip unreachable (" + quota.error().message + "): using the quota journalled before";
    else
        return withContext(quota.error(), "lot " + config.lot.id + ": quota");
    return pipeline.openLot(q);
}

Result<DeviceAtPort> deviceAtPort(Journal& journal, const std::string& port) {
    auto all = journal.entries();
    if (!all) return std::unexpected(all.error());
    std::optional<std::uint32_t> devId;
    for (const auto& e : *all)
        if (e.kind == "allocated" && e.devId && e.body.value("port", "") == port) devId = *e.devId;
    if (!devId) return fail(Errc::notFound, "the journal has no device at port " + port);
    auto mine = journal.entries(*devId);
    if (!mine) return std::unexpected(mine.error());
    DeviceAtPort d{*devId, std::move(*mine), {}};
    d.state = latestKind(d.entries);
    return d;
}

Result<ReworkResult> reworkDevice(Journal& journal, DeviceFlasher& flasher, const BlockEncoder& encoder,
                                  const std::string& port) {
    auto dev = deviceAtPort(journal, port);
    if (!dev) return std::unexpected(dev.error());
    const std::uint32_t devId = dev->devId;
    const std::string& kind = dev->state;
    if (kind == "live" || kind == "committed")
        return fail(Errc::conflict, "device " + toHex(devId, 8) + " at " + port + " has a record (" + kind +
                                        "): rework it with `tte-provision rework --devid " + toHex(devId, 8) +
                                        "`, which revokes it at the MotherShip first");
    if (kind == "reworked") return ReworkResult{devId, true};
    if (kind != "failed")
        return fail(Errc::conflict, "device " + toHex(devId, 8) + " is still in the pipeline (" + kind +
                                        "): run `tte-provision run` first so the station recovers it");
    // Erase the block (and with it the OTP and key) and the controller log.
    const std::vector<FlashSegment> erase = {{encoder.blockAddress(), std::vector<std::uint8_t>(kNvmSize, 0xff)},
                                             {encoder.nvmAddress(), std::vector<std::uint8_t>(kNvmSize, 0xff)}};
    if (auto s = flasher.writeAndVerify(port, erase); !s) return std::unexpected(s.error());
    if (auto e = journal.append("reworked", devId, {{"port", port}}); !e) return std::unexpected(e.error());
    return ReworkResult{devId, false};
}

namespace {

/// The port the journal last allocated `devId` in, and its latest state.
Result<DeviceAtPort> deviceById(Journal& journal, std::uint32_t devId, std::string& port) {
    auto mine = journal.entries(devId);
    if (!mine) return std::unexpected(mine.error());
    const JournalEntry* allocated = lastOfKind(*mine, "allocated");
    if (!allocated) return fail(Errc::notFound, "the journal has no device " + toHex(devId, 8));
    port = allocated->body.value("port", "");
    DeviceAtPort d{devId, std::move(*mine), {}};
    d.state = latestKind(d.entries);
    return d;
}

/// Uploads what is queued and tells whether the device's record is now live.
Result<bool> makeLive(const ReworkParts& p, std::uint32_t devId, std::string& why) {
    auto pass = p.uploader.drainOnce();
    if (!pass) why = pass.error().toString();
    auto mine = p.journal.entries(devId);
    if (!mine) return std::unexpected(mine.error());
    for (const auto& e : *mine)
        if (e.kind == "live") return true;
    if (why.empty()) {
        auto backlog = p.uploader.backlog();
        why = backlog && !backlog->lastError.empty() ? backlog->lastError : "the upload did not reach it";
    }
    return false;
}

}  // namespace

Result<ReworkOutcome> reworkById(const ReworkParts& p, std::uint32_t devId, std::string_view reason) {
    const std::string name = "device " + toHex(devId, 8);
    std::string port;
    auto dev = deviceById(p.journal, devId, port);
    if (!dev) return std::unexpected(dev.error());
    ReworkOutcome out;
    out.devId = devId;
    out.port = port;
    if (dev->state == "reworked") {
        out.alreadyReworked = true;
        return out;
    }
    auto there = deviceAtPort(p.journal, port);
    if (!there) return std::unexpected(there.error());
    if (there->devId != devId)
        return fail(Errc::conflict, name + " is no longer the board at " + port + " (device " + toHex(there->devId, 8) +
                                        " was provisioned there after it)");
    if (dev->state == "failed") {  // never live: erase, as before
        auto erased = reworkDevice(p.journal, p.flasher, p.encoder, port);
        if (!erased) return std::unexpected(erased.error());
        out.erased = true;
        return out;
    }
    if (dev->state != "committed" && dev->state != "live")
        return fail(Errc::conflict, name + " is still in the pipeline (" + dev->state +
                                        "): run `tte-provision run` first so the station recovers it");
    if (reason.empty()) return fail(Errc::invalidArgument, "rework needs a reason");
    // Its OTP and key may be in use already: they must be refused before the board gets a new
    // identity, so the record must be at the MotherShip to be revoked there.
    if (dev->state == "committed") {
        std::string why;
        auto live = makeLive(p, devId, why);
        if (!live) return std::unexpected(live.error());
        if (!*live)
            return fail(Errc::unavailable, name + " was not reworked: its record is not at the MotherShip yet (" + why +
                                               "), so it cannot be revoked there; nothing was changed");
    }
    auto revoked = p.ms.revokeDevice(devId, protocol::RevokeRequest{std::string(reason)});
    if (!revoked) {
        const Error& e = revoked.error();
        return std::unexpected(Error{e.code, name + " was not reworked: the revocation at the MotherShip failed: " + e.message +
                                                 "; nothing was provisioned",
                                     e.domain, e.nativeCode, e.nativeName});
    }
    out.revoked = true;
    if (auto e = p.journal.append("revoked", devId, {{"port", port}, {"reason", std::string(reason)}}); !e)
        return std::unexpected(e.error());
    if (auto e = p.journal.append("reworked", devId, {{"port", port}, {"revoked", true}}); !e)
        return std::unexpected(e.error());
    auto fresh = p.pipeline.provision(port, devId);
    if (!fresh)
        return withContext(fresh.error(), name + " is revoked; its board's new identity failed");
    out.newDevId = *fresh;
    std::string why;
    auto live = makeLive(p, *fresh, why);
    if (!live) return std::unexpected(live.error());
    if (!*live) out.uploadNotice = "the new record is queued (" + why + "): `tte-provision sync` uploads it";
    return out;
}

Result<PrintedLabel> reprintLabel(Journal& journal, LabelPrinter& printer, const std::string& port,
                                  std::string_view reason) {
    if (reason.empty()) return fail(Errc::invalidArgument, "reprint needs a reason");
    auto dev = deviceAtPort(journal, port);
    if (!dev) return std::unexpected(dev.error());
    const std::string name = "device " + toHex(dev->devId, 8);
    if (dev->state != "committed" && dev->state != "live")
        return fail(Errc::conflict, name + " at " + port + " has no record (" + dev->state + "): nothing to reprint");
    const JournalEntry* labelled = lastOfKind(dev->entries, "labelled");
    const JournalEntry* keyed = lastOfKind(dev->entries, "keyed");
    const JournalEntry* allocated = lastOfKind(dev->entries, "allocated");
    if (!labelled || !keyed || !allocated) return fail(Errc::corrupt, name + ": the journal lacks its label entries");
    const PrintedLabel kept{labelled->body.value("job", ""), labelled->body.value("artefact", ""),
                            labelled->body.value("scanned_from", "")};
    auto url = printer.scanBack(kept);
    if (!url) return withContext(url.error(), name + ": the kept label");
    const std::string devIdParam = "devid=" + toHex(dev->devId, 8);
    const std::string_view text(reinterpret_cast<const char*>(url->bytes().data()), url->bytes().size());
    if (text.find(devIdParam) == std::string_view::npos)
        return fail(Errc::corrupt, name + ": the kept label " + kept.artefact + " is not this device's");
    DeviceLabel label{dev->devId, keyed->body.value("urn", ""), allocated->body.value("lot", ""), std::move(*url),
                      std::nullopt};
    auto printed = printer.print(label);
    if (!printed) return withContext(printed.error(), name + ": reprint");
    auto scanned = printer.scanBack(*printed);
    if (!scanned) return withContext(scanned.error(), name + ": reprint scan-back");
    if (!constantTimeEqual(scanned->bytes(), label.url.bytes()))
        return fail(Errc::corrupt, name + ": the reprinted label does not carry this device's Enrollment URL");
    nlohmann::json body = {{"devid", toHex(dev->devId, 8)}, {"port", port}, {"job", printed->job},
                           {"artefact", printed->artefact}, {"scanned_from", printed->scannedFrom},
                           {"reason", std::string(reason)}};
    if (auto e = journal.append("reprinted", std::nullopt, std::move(body)); !e) return std::unexpected(e.error());
    return printed;
}

}  // namespace tte::station
