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

std::string lockWarning(const LotConfig& lot) {
    switch (lot.lock) {
        case LotLock::none:
            return "WARNING: lot " + lot.id + " has lock = \"none\": boards are NOT read-protected after programming; "
                   "anyone with a DFU cable reads their device key and OTP (development lots only)";
        case LotLock::rdp2:
            return "WARNING: lot " + lot.id + " has lock = \"rdp2\": every board is locked for good (RDP level 2: no "
                   "bootloader, no debug port, no rework)";
        case LotLock::rdp1: break;
    }
    return {};
}

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

/// The device the board at `port` was: by its unique ID (or, while it is read-protected, by
/// the USB serial derived from it), else the last device allocated at the port.
Result<DeviceAtPort> deviceOfBoard(Journal& journal, const std::string& port, const BoardIdentity& board) {
    auto all = journal.entries();
    if (!all) return std::unexpected(all.error());
    std::optional<std::uint32_t> devId;
    const bool serialTells = board.usbSerial != "FFFFFFFEFFFF" && !board.usbSerial.empty();
    for (const auto& e : *all) {
        if (e.kind != "allocated" || !e.devId) continue;
        if (board.mcuUid ? e.body.value("mcu_uid", "") == *board.mcuUid
                         : serialTells && e.body.value("usb_serial", "") == board.usbSerial)
            devId = *e.devId;
    }
    if (!devId) return deviceAtPort(journal, port);  // a board of a journal without unique IDs
    auto mine = journal.entries(*devId);
    if (!mine) return std::unexpected(mine.error());
    DeviceAtPort d{*devId, std::move(*mine), {}};
    d.state = latestKind(d.entries);
    return d;
}

namespace {

/// Makes the board at `port` blank and journals `reworked` {port, seat, erased, mcu_uid} plus
/// `extra`: a read-protected board is regressed to level 0, which mass-erases it
/// (docs/FLASHER.md); an open one has its provisioning block and NVM sector erased (with them
/// its OTP and key).
Status clearBoard(Journal& journal, DeviceFlasher& flasher, const BlockEncoder& encoder, const std::string& port,
                  const std::string& seat, std::uint32_t devId, const BoardIdentity& board, nlohmann::json extra) {
    nlohmann::json body = {{"port", port}, {"seat", seat}};
    if (board.protection != ReadProtection::level0) {
        // Read unprotect: the chip mass-erases its flash (key, OTP, firmware) on the way to level 0.
        auto open = flasher.unprotect(port);
        if (!open) return withContext(open.error(), "device " + toHex(devId, 8) + ": regressing read protection");
        body["erased"] = "mass erase (read unprotect, RDP level 1 to 0)";
        if (open->mcuUid) body["mcu_uid"] = *open->mcuUid;
    } else {
        // Erase the block (and with it the OTP and key) and the controller log.
        const std::vector<FlashSegment> erase = {{encoder.blockAddress(), std::vector<std::uint8_t>(kNvmSize, 0xff)},
                                                 {encoder.nvmAddress(), std::vector<std::uint8_t>(kNvmSize, 0xff)}};
        if (auto s = flasher.writeAndVerify(port, erase); !s) return std::unexpected(s.error());
        body["erased"] = "provisioning block and NVM sector";
        if (board.mcuUid) body["mcu_uid"] = *board.mcuUid;
    }
    body.update(extra);
    if (auto e = journal.append("reworked", devId, body); !e) return std::unexpected(e.error());
    return {};
}

}  // namespace

Result<ReworkResult> reworkDevice(Journal& journal, DeviceFlasher& flasher, const BlockEncoder& encoder,
                                  const std::string& port, const std::string& seatName) {
    const std::string seat = seatName.empty() ? port : seatName;
    auto board = flasher.identify(port);
    if (!board) return withContext(board.error(), "seat " + seat + " (" + port + ")");
    auto dev = deviceOfBoard(journal, port, *board);
    if (!dev) return std::unexpected(dev.error());
    const std::uint32_t devId = dev->devId;
    const std::string& kind = dev->state;
    if (kind == "live" || kind == "committed")
        return fail(Errc::conflict, "device " + toHex(devId, 8) + " at " + port + " has a record (" + kind +
                                        "): rework it with `tte-provision rework --devid " + toHex(devId, 8) +
                                        "`, which revokes it at the MotherShip first");
    const bool locked = board->protection != ReadProtection::level0;
    if (kind == "reworked" && !locked) return ReworkResult{devId, true};
    if (kind != "failed" && kind != "rejected" && kind != "reworked")
        return fail(Errc::conflict, "device " + toHex(devId, 8) + " is still in the pipeline (" + kind +
                                        "): run `tte-provision run` first so the station recovers it");
    if (auto s = clearBoard(journal, flasher, encoder, port, seat, devId, *board, nlohmann::json::object()); !s)
        return std::unexpected(s.error());
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
    // Its board is made blank (a locked one regressed, which mass-erases it) before it gets its
    // new identity; the unique ID it keeps is provisioned again because its device is `reworked`.
    auto board = p.flasher.identify(port);
    if (!board) return withContext(board.error(), name + " is revoked; its board at " + port);
    if (auto s = clearBoard(p.journal, p.flasher, p.encoder, port, p.pipeline.config().seatName(port), devId, *board,
                            {{"revoked", true}});
        !s)
        return withContext(s.error(), name + " is revoked; its board at " + port);
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
