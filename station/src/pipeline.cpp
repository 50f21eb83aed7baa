// The per-device state machine and the slot workers (see pipeline.h).
#include "tte/station/pipeline.h"

#include <algorithm>
#include <map>
#include <thread>

#include "tte/base/hex.h"

namespace tte::station {
namespace {

bool allZero(const std::string& hex) { return hex.find_first_not_of('0') == std::string::npos; }

const std::map<std::string, std::string>& nextStep() {
    static const std::map<std::string, std::string> m = {
        {"allocated", "keys"}, {"keyed", "flash"},       {"flashed", "label"},
        {"locked", "label"},   {"printing", "label"},    {"labelled", "commit"}};
    return m;
}

}  // namespace

Pipeline::Pipeline(const StationConfig& config, Journal& journal, PipelinePorts ports)
    : m_config(config), m_journal(journal), m_ports(ports), m_hold(journal, ports.clock) {
    m_journal.setClock(ports.clock);  // entries say when (the counters per shift read it)
}

Status Pipeline::openLot(const std::optional<protocol::LotQuota>& quota) {
    const LotConfig& lot = m_config.lot;
    auto fw = m_ports.flasher.loadFirmware(lot.firmware);
    if (!fw) return withContext(fw.error(), "lot " + lot.id + ": firmware " + lot.firmware);
    if (!lot.firmwareSha256.empty() && fw->sha256 != lot.firmwareSha256)
        return fail(Errc::corrupt, "lot " + lot.id + ": firmware " + lot.firmware + " has SHA-256 " + fw->sha256 +
                                       ", the lot pins " + lot.firmwareSha256);
    for (const auto& seg : fw->segments) {
        const std::uint64_t begin = seg.address, end = begin + seg.data.size();
        if (begin < std::uint64_t{m_ports.encoder.nvmAddress()} + kNvmSize && end > m_ports.encoder.blockAddress())
            return fail(Errc::invalidArgument, "lot " + lot.id + ": firmware overlaps the provisioning block and NVM sectors at 0x" +
                                                   toHex(m_ports.encoder.blockAddress(), 8));
    }
    if (allZero(lot.msFingerprint))
        return fail(Errc::invalidArgument, "lot " + lot.id + ": the MotherShip fingerprint is all zero");

    // The quota: from the MotherShip now, or as journalled when it was last checked.
    std::optional<protocol::LotQuota> q = quota;
    if (!q) {
        auto all = m_journal.entries();
        if (!all) return std::unexpected(all.error());
        for (const auto& e : *all) {
            if (e.kind == "lot-opened" && e.body.value("lot", "") == lot.id)
                q = protocol::LotQuota{lot.id, protocol::DevId{e.body["quota_first"].get<std::uint32_t>()},
                                       protocol::DevId{e.body["quota_last"].get<std::uint32_t>()}, 0};
        }
        if (!q)
            return fail(Errc::unavailable, "lot " + lot.id +
                                               ": the MotherShip's quota cannot be checked (unreachable) and was never checked before");
    }
    if (q->lot != lot.id) return fail(Errc::invalidArgument, "lot " + lot.id + ": the MotherShip answered for lot " + q->lot);
    if (lot.firstDevId < q->first.value || lot.lastDevId > q->last.value)
        return fail(Errc::outOfRange, "lot " + lot.id + ": Dev IDs " + toHex(lot.firstDevId, 8) + ".." +
                                          toHex(lot.lastDevId, 8) + " are outside the MotherShip's quota " +
                                          q->first.hex() + ".." + q->last.hex());
    m_firmware = std::move(*fw);
    m_first = lot.firstDevId;
    m_last = lot.lastDevId;
    nlohmann::json body = {{"lot", lot.id},          {"first", lot.firstDevId}, {"last", lot.lastDevId},
                           {"quota_first", q->first.value}, {"quota_last", q->last.value},   {"firmware_sha256", m_firmware.sha256},
                           {"ms_id", lot.msId},      {"ms_fingerprint", lot.msFingerprint}};
    auto all = m_journal.entries();
    if (!all) return std::unexpected(all.error());
    bool same = false;
    for (const auto& e : *all) {
        // A quota the MotherShip extended while the line held (waitForQuota) stays extended.
        if (e.kind == "quota-extended" && e.body.value("lot", "") == lot.id && e.body.value("first", 0u) == m_first)
            m_last = std::max(m_last, std::min(e.body.value("last", 0u), q->last.value));
        if (e.kind != "lot-opened") continue;
        nlohmann::json seen = e.body;
        seen.erase("operator");  // who opened it, and when, does not make it another lot
        seen.erase("at");
        same = same || seen == body;
    }
    if (!same) {
        if (auto e = m_journal.append("lot-opened", std::nullopt, body); !e) return std::unexpected(e.error());
    }
    m_opened = true;
    return {};
}

Result<int> Pipeline::recover() {
    auto all = m_journal.entries();
    if (!all) return std::unexpected(all.error());
    struct Last {
        std::string kind, port;
        int job = 0;  // the label job it waited for ("printing")
    };
    std::map<std::uint32_t, Last> last;
    for (const auto& e : *all) {
        if (!e.devId || e.kind == "live" || e.kind == "delivered" || e.kind == "rejected") continue;
        auto& slot = last[*e.devId];
        slot.kind = e.kind;
        if (e.body.contains("port")) slot.port = e.body["port"].get<std::string>();
        if (e.kind == "printing") slot.job = e.body.value("job", 0);
    }
    // A station stopped while its line held: the new run starts running (it holds again by
    // itself if the fault is still there).
    for (auto it = all->rbegin(); it != all->rend(); ++it) {
        if (it->kind == "resumed") break;
        if (it->kind != "held") continue;
        nlohmann::json body = {{"reason", it->body.value("reason", "")}, {"problem", it->body.value("problem", "")},
                               {"after", "station restarted"}, {"at", rfc3339(m_ports.clock.wallNow())}};
        if (auto e = m_journal.append("resumed", std::nullopt, body); !e) return std::unexpected(e.error());
        break;
    }
    int n = 0;
    for (const auto& [devId, state] : last) {
        auto it = nextStep().find(state.kind);
        if (it == nextStep().end()) continue;
        std::string reason = "station stopped during this step (interrupted after " + state.kind + ")";
        if (state.job > 0) {
            // The job may still wait in a stopped queue: its label must never come out.
            auto cancelled = m_ports.printer.cancel(state.job);
            reason += cancelled ? "; its label job " + std::to_string(state.job) + " was cancelled"
                                : "; its label job " + std::to_string(state.job) + " could not be cancelled (" +
                                      cancelled.error().message + "): do not use that label";
        }
        nlohmann::json body = {{"step", it->second}, {"reason", reason}, {"port", state.port},
                               {"seat", m_config.seatName(state.port)}};
        if (auto e = m_journal.append("failed", devId, body); !e) return std::unexpected(e.error());
        ++n;
    }
    return n;
}

Result<std::vector<std::string>> Pipeline::freshPorts(const std::vector<std::string>& ports) {
    auto all = m_journal.entries();
    if (!all) return std::unexpected(all.error());
    std::map<std::uint32_t, std::string> portOf;
    std::map<std::string, std::string> lastKind;  // port → latest kind of its latest device
    for (const auto& e : *all) {
        if (!e.devId) continue;
        if (e.kind == "allocated") portOf[*e.devId] = e.body.value("port", "");
        auto it = portOf.find(*e.devId);
        if (it != portOf.end() && e.kind != "live" && e.kind != "delivered") lastKind[it->second] = e.kind;
    }
    std::vector<std::string> out;
    for (const auto& p : ports) {
        auto it = lastKind.find(p);
        if (it == lastKind.end() || it->second == "reworked" || (it->second == "committed" && blankDeviceIn(p)))
            out.push_back(p);
    }
    return out;
}

bool Pipeline::blankDeviceIn(const std::string& port) {
    // A committed device's block was read back equal, so an erased block start means the
    // operator put the next device into this fixture slot.
    auto head = m_ports.flasher.read(port, m_ports.encoder.blockAddress(), 16);
    return head && std::all_of(head->begin(), head->end(), [](std::uint8_t b) { return b == 0xff; });
}

Result<BoardIdentity> Pipeline::admit(const std::string& port) {
    const std::string seat = m_config.seatName(port);
    auto board = m_ports.flasher.identify(port);
    if (!board) return withContext(board.error(), "seat " + seat + " (" + port + "): reading the MCU unique ID");
    std::optional<Error> refusal;
    if (!board->mcuUid) {
        refusal = Error{Errc::permissionDenied,
                        "the board in seat " + seat + " (serial " + board->usbSerial + ") is read-protected (RDP level " +
                            (board->protection == ReadProtection::level2 ? "2" : "1") +
                            "): it was provisioned before; rework it (tte-provision rework --port " + port + ")",
                        "refused", 0, {}};
    } else {
        auto all = m_journal.entries();
        if (!all) return std::unexpected(all.error());
        std::optional<std::uint32_t> before;  // the latest device this unique ID was
        std::map<std::uint32_t, std::string> kind;
        for (const auto& e : *all) {
            if (!e.devId) continue;
            if (e.kind == "allocated" && e.body.value("mcu_uid", "") == *board->mcuUid) before = *e.devId;
            if (e.kind != "live" && e.kind != "delivered") kind[*e.devId] = e.kind;
        }
        if (before && kind[*before] != "reworked")
            refusal = Error{Errc::alreadyExists,
                            "the board in seat " + seat + " (MCU unique ID " + *board->mcuUid +
                                ") was provisioned before as device " + toHex(*before, 8) + " (" + kind[*before] +
                                "): rework it (tte-provision rework --devid " + toHex(*before, 8) + ") or take it off the line",
                            "refused", 0, {}};
    }
    if (!refusal) return board;
    nlohmann::json body = {{"port", port}, {"seat", seat}, {"usb_serial", board->usbSerial}, {"reason", refusal->message}};
    body["mcu_uid"] = board->mcuUid ? nlohmann::json(*board->mcuUid) : nlohmann::json(nullptr);
    if (auto e = m_journal.append("refused", std::nullopt, body); !e) return std::unexpected(e.error());
    emit(port, 0, "refused", refusal->message);
    return std::unexpected(*refusal);
}

Result<std::uint32_t> Pipeline::allocate(const std::string& port, const BoardIdentity& board,
                                         std::optional<std::uint32_t> reworkedFrom) {
    std::lock_guard lock(m_allocMutex);
    auto last = m_journal.lastAllocated(m_first, m_last);
    if (!last) return std::unexpected(last.error());
    if (*last && **last >= m_last) {
        // Used up: the line holds until the MotherShip grants more (or the run ends).
        if (auto more = waitForQuota(); !more) return std::unexpected(more.error());
    }
    const std::uint32_t devId = *last ? **last + 1 : m_first;
    // Journalled (fsync) before anything else happens: a Dev ID is never handed out twice.
    // A held line starts no board: the allocation waits until it runs.
    for (;;) {
        auto started = m_hold.whenRunning(m_stop, [&]() -> Status {
            nlohmann::json body = {{"lot", m_config.lot.id}, {"port", port}, {"seat", m_config.seatName(port)},
                                   {"mcu_uid", board.mcuUid.value_or("")}, {"usb_serial", board.usbSerial}};
            if (reworkedFrom) body["reworked_from"] = toHex(*reworkedFrom, 8);
            auto e = m_journal.append("allocated", devId, std::move(body));
            if (!e) return std::unexpected(e.error());
            return {};
        });
        if (started) return devId;
        // The entry could not be signed: the token is away. Nothing was taken; wait for it.
        if (!isTokenFault(started.error())) return std::unexpected(started.error());
        if (auto s = waitForToken(0, port, started.error()); !s) return std::unexpected(s.error());
    }
}

Status Pipeline::step(const std::string& name, std::uint32_t devId, const std::string& port, nlohmann::json body,
                      const std::string& label) {
    body["port"] = port;
    body["seat"] = m_config.seatName(port);
    // Each entry is signed in the token: a step waits while the token is away.
    auto e = withToken<JournalEntry>(devId, port, [&] { return m_journal.append(name, devId, body); });
    if (!e) return std::unexpected(e.error());
    SlotEvent event;
    event.port = port;
    event.devId = devId;
    event.step = name;
    event.label = label;
    emit(std::move(event));
    fault(name, devId);
    return {};
}

std::unexpected<Error> Pipeline::failDevice(std::uint32_t devId, const std::string& port, const std::string& stepName,
                                           const Error& err) {
    auto e = m_journal.append("failed", devId,
                              {{"step", stepName}, {"reason", err.toString()}, {"port", port}, {"seat", m_config.seatName(port)}});
    emit(port, devId, "failed", stepName + ": " + err.toString());
    if (!e) return std::unexpected(e.error());
    return std::unexpected(Error{err.code, stepName + ": " + err.message, err.domain, err.nativeCode, err.nativeName});
}

void Pipeline::emit(const std::string& port, std::uint32_t devId, const std::string& stepName, const std::string& message) {
    if (m_observer) m_observer(SlotEvent{port, devId, stepName, message, m_config.seatName(port), 0, 0, {}, {}});
}

Status Pipeline::flashWithProgress(const std::string& port, std::uint32_t devId, std::span<const FlashSegment> segments) {
    // A bar moves in steps of a 50th: enough for the eye, few enough events for a queue that
    // crosses into the GUI thread (a real flash reports every 2 KiB transfer).
    constexpr std::uint64_t kProgressSteps = 50;
    std::uint64_t total = 0;
    for (const auto& s : segments) total += s.data.size();
    SlotEvent event;
    event.port = port;
    event.devId = devId;
    event.step = "flashing";
    event.bytesTotal = total;
    emit(event);
    std::uint64_t shownStep = 0;
    const auto progress = [&](const FlashProgress& p) {
        const char* stage = p.stage == FlashProgress::Stage::writing ? "flashing" : "verifying";
        const std::uint64_t stepNow = p.total ? p.done * kProgressSteps / p.total : 0;
        if (event.step == stage && stepNow == shownStep) return;  // a new stage's first report always shows
        event.step = stage;
        event.bytesDone = p.done;
        event.bytesTotal = p.total;
        shownStep = stepNow;
        emit(event);
    };
    return m_ports.flasher.writeAndVerify(port, segments, progress);
}

void Pipeline::emitWaiting(const std::string& port, std::uint32_t devId, HoldReason reason, const std::string& message) {
    SlotEvent event;
    event.port = port;
    event.devId = devId;
    event.step = "waiting";
    event.message = message;
    event.hold = holdReasonName(reason);
    emit(std::move(event));
}

void Pipeline::emit(SlotEvent event) {
    event.seat = m_config.seatName(event.port);
    if (m_observer) m_observer(event);
}

}  // namespace tte::station
