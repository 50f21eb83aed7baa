// One device through the station (provision), its signed record (commitRecord), and the
// slot workers (run).
#include <ctime>
#include <thread>

#include "tte/base/hex.h"
#include "tte/protocol/crypto.h"
#include "tte/protocol/enrollment_url.h"
#include "tte/station/pipeline.h"

namespace tte::station {
namespace {

/// The OTP XOR the HSM-derived queue mask for `id` (docs/STATION.md, "The OTP in the queue").
Result<std::vector<std::uint8_t>> seal(StationKeys& keys, const std::string& id, const Secret& otp) {
    auto mask = keys.queueMask(id, otp.size());
    if (!mask) return std::unexpected(mask.error());
    std::vector<std::uint8_t> out(otp.size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = otp.bytes()[i] ^ mask->bytes()[i];
    return out;
}

/// A SHA-256 the station holds as hex (firmware, journal chain): written by the station itself.
protocol::Sha256 sha256FromHex(const std::string& hex) {
    protocol::Sha256 out{};
    if (auto bytes = fromHex(hex, "SHA-256"); bytes && bytes->size() == out.size()) std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

QueueItem item(std::string id, std::string kind, std::uint32_t devId, std::string after, nlohmann::json body,
               std::vector<std::uint8_t> sealed) {
    QueueItem q;
    q.id = std::move(id);
    q.kind = std::move(kind);
    q.devId = devId;
    q.after = std::move(after);
    q.body = std::move(body);
    q.sealedOtp = std::move(sealed);
    return q;
}

}  // namespace

Result<std::uint32_t> Pipeline::provision(const std::string& port, std::optional<std::uint32_t> reworkedFrom) {
    if (!m_opened) return fail(Errc::conflict, "the lot is not open");
    const LotConfig& lot = m_config.lot;
    // Who the board is, before anything is written or any Dev ID is taken.
    auto board = admit(port);
    if (!board) return std::unexpected(board.error());
    auto allocated = allocate(port, *board, reworkedFrom);
    if (!allocated) return std::unexpected(allocated.error());
    const std::uint32_t devId = *allocated;
    emit(port, devId, "allocated");
    fault("allocated", devId);

    const std::uint32_t box = lot.boxOf(devId);
    // The token's calls wait while it is away (the line holds): the board keeps its Dev ID.
    auto otp = withToken<Secret>(devId, port, [&] {
        return lot.boxSize > 0 ? m_ports.keys.bulkOtp(box, devId) : m_ports.keys.newOtp();
    });
    if (!otp && otp.error().code == Errc::cancelled) return std::unexpected(otp.error());  // stopped while held
    if (!otp) return failDevice(devId, port, "keys", otp.error());
    auto urn = protocol::makeDevUrn(lot.pen, lot.product, protocol::DevId{devId});
    if (!urn) return failDevice(devId, port, "keys", urn.error());
    // A certificate device gets a key pair; a DTLS-PSK device (PROTOCOL.md §11) a PSK instead.
    std::optional<DeviceKey> key;
    std::optional<Secret> pskBytes;
    std::optional<protocol::Psk> psk;
    protocol::Fingerprint fingerprint;
    if (lot.dtls == LotDtls::psk) {
        auto made = withToken<Secret>(devId, port, [&] { return m_ports.keys.newPsk(); });
        if (!made && made.error().code == Errc::cancelled) return std::unexpected(made.error());
        if (!made) return failDevice(devId, port, "keys", made.error());
        psk = protocol::Psk::fromBytes(made->bytes());
        if (!psk) return failDevice(devId, port, "keys", Error{Errc::internal, "the token's PSK is not 32 bytes (or all zero)", {}, 0, {}});
        fingerprint = protocol::pskFingerprint(psk->bytes());
        pskBytes = std::move(*made);
    } else {
        auto made = withToken<DeviceKey>(devId, port, [&] { return m_ports.keys.newDeviceKey(urn->text); });
        if (!made && made.error().code == Errc::cancelled) return std::unexpected(made.error());
        if (!made) return failDevice(devId, port, "keys", made.error());
        fingerprint = made->fingerprint;
        key = std::move(*made);
    }
    BlockFields fields{lot.msId, devId, lot.msPort, lot.ledEnrollment, lot.msAddress, lot.msFingerprint, urn->text, &*otp,
                       key ? &*key : nullptr, pskBytes ? &*pskBytes : nullptr};
    auto block = m_ports.encoder.encode(fields);
    key.reset();
    pskBytes.reset();
    if (!block) return failDevice(devId, port, "keys", block.error());
    nlohmann::json keyed = {{"urn", urn->text}, {"fingerprint", fingerprint.hex()}};
    if (psk) keyed["dtls"] = "psk";
    if (lot.boxSize > 0) keyed["box"] = toHex(box, 8);
    if (auto s = step("keyed", devId, port, keyed); !s) return std::unexpected(s.error());

    std::vector<FlashSegment> segments = m_firmware.segments;
    segments.push_back({m_ports.encoder.blockAddress(), {block->bytes().begin(), block->bytes().end()}});
    segments.push_back({m_ports.encoder.nvmAddress(), std::vector<std::uint8_t>(kNvmSize, 0xff)});
    auto flashed = flashWithProgress(port, devId, segments);
    secureZero(segments[segments.size() - 2].data.data(), segments[segments.size() - 2].data.size());
    if (!flashed) return failDevice(devId, port, "flash", flashed.error());
    if (auto s = step("flashed", devId, port, {{"firmware_sha256", m_firmware.sha256}}); !s) return std::unexpected(s.error());
    if (lot.lock != LotLock::none) {
        // Read-out protection after read-back verify: the block holds the device key and OTP.
        const ReadProtection level = lot.lock == LotLock::rdp2 ? ReadProtection::level2 : ReadProtection::level1;
        emit(port, devId, "locking");
        if (auto locked = m_ports.flasher.protect(port, level); !locked) return failDevice(devId, port, "lock", locked.error());
        if (auto s = step("locked", devId, port, {{"rdp", level == ReadProtection::level2 ? 2 : 1}}); !s)
            return std::unexpected(s.error());
    }

    const auto otpValue = protocol::Otp::fromBytes(otp->bytes());
    if (!otpValue) return failDevice(devId, port, "keys", Error{Errc::internal, "the token's OTP is not 8 bytes", {}, 0, {}});
    std::string urlText = protocol::buildEnrollmentUrl({protocol::MsId{lot.msId}, *otpValue, protocol::DevId{devId}});
    DeviceLabel label{devId, urn->text, lot.id, Secret(urlText), std::nullopt};
    secureZero(urlText.data(), urlText.size());
    auto printed = printLabel(devId, port, label);
    if (!printed && printed.error().code == Errc::cancelled) return std::unexpected(printed.error());  // stopped while held
    if (!printed) return failDevice(devId, port, "label", printed.error());
    fault("printed", devId);
    auto scanned = m_ports.printer.scanBack(*printed);
    if (!scanned) return failDevice(devId, port, "scan-back", scanned.error());
    if (!constantTimeEqual(scanned->bytes(), label.url.bytes()))
        return failDevice(devId, port, "scan-back",
                          Error{Errc::corrupt, "the scanned label does not carry this device's Enrollment URL", {}, 0, {}});
    if (auto s = step("labelled", devId, port,
                      {{"job", printed->job}, {"artefact", printed->artefact}, {"scanned_from", printed->scannedFrom}},
                      printed->artefact);
        !s)
        return std::unexpected(s.error());

    auto committed = withToken<JournalEntry>(devId, port, [&] {
        return commitRecord(*urn, fingerprint, psk, *otp, *otpValue, board->mcuUid, reworkedFrom, port);
    });
    if (!committed && committed.error().code == Errc::cancelled) return std::unexpected(committed.error());
    if (!committed) return failDevice(devId, port, "commit", committed.error());
    emit(port, devId, "committed");
    fault("committed", devId);
    return devId;
}

Result<JournalEntry> Pipeline::commitRecord(const protocol::DevUrn& urn, const protocol::Fingerprint& fingerprint,
                                            const std::optional<protocol::Psk>& psk, const Secret& otpBytes,
                                            const protocol::Otp& otp, const std::optional<std::string>& mcuUid,
                                            std::optional<std::uint32_t> reworkedFrom, const std::string& port) {
    const LotConfig& lot = m_config.lot;
    const std::uint32_t devId = urn.devId().value;
    return m_journal.commit("committed", devId, [&](std::int64_t seq, const std::string& prev) -> Result<Commit> {
        protocol::StationRecord r;
        r.recordId = m_config.stationId + "-" + std::to_string(seq);
        r.station = m_config.stationId;
        r.seq = static_cast<std::uint64_t>(seq);
        r.devId = urn.devId();
        r.urn = urn;
        r.fingerprint = fingerprint;
        r.psk = psk;
        r.otp = otp;
        r.lot = lot.id;
        if (lot.boxSize > 0) r.box = lot.boxOf(devId);
        r.firmwareSha256 = sha256FromHex(m_firmware.sha256);
        r.created = rfc3339(m_ports.clock.wallNow());
        r.prev = sha256FromHex(prev);
        r.mcuUid = mcuUid;
        if (reworkedFrom) r.reworkedFrom = protocol::DevId{*reworkedFrom};
        // The signature covers the OTP and a PSK (PROTOCOL.md §10, §11); the journal keeps the
        // record without them.
        std::string canonical = r.canonicalBytes();
        auto sig = m_ports.keys.sign(std::span(reinterpret_cast<const std::uint8_t*>(canonical.data()), canonical.size()));
        secureZero(canonical.data(), canonical.size());
        if (!sig) return std::unexpected(sig.error());
        r.signature = protocol::base64Encode(*sig);
        const nlohmann::json record = nlohmann::json::parse(r.toJsonWithoutOtp());

        Commit c{{{"record", record}, {"port", port}, {"seat", m_config.seatName(port)}}, {}};
        auto sealed = seal(m_ports.keys, r.recordId, otpBytes);
        if (!sealed) return std::unexpected(sealed.error());
        if (psk) {  // OTP ‖ PSK, the PSK under the mask of "<id>/psk" (docs/STATION.md)
            auto sealedPsk = seal(m_ports.keys, r.recordId + "/psk", Secret(std::span<const std::uint8_t>(psk->bytes())));
            if (!sealedPsk) return std::unexpected(sealedPsk.error());
            sealed->insert(sealed->end(), sealedPsk->begin(), sealedPsk->end());
        }
        c.items.push_back(item(r.recordId, "record", devId, "", record, std::move(*sealed)));
        if (lot.controller) {
            // Pre-enrolled lot: map at the MotherShip through the station API (no OTP: the label
            // stays unspent, PROTOCOL.md §10), then introduce to the controller (message 6 carries
            // the OTP, sealed).
            auto introSealed = seal(m_ports.keys, r.recordId + "/intro", otpBytes);
            if (!introSealed) return std::unexpected(introSealed.error());
            c.items.push_back(item(r.recordId + "/map", "map", devId, r.recordId, {{"devid", r.devId.hex()}}, {}));
            const protocol::Introduction intro{urn, fingerprint, otp, r.devId, protocol::MsId{lot.msId}, "lot " + lot.id};
            c.items.push_back(item(r.recordId + "/intro", "intro", devId, r.recordId + "/map",
                                   nlohmann::json::parse(intro.toJsonWithoutOtp()), std::move(*introSealed)));
        }
        fault("signed", devId);  // a crash here rolls the whole commit back
        return c;
    });
}

Result<RunSummary> Pipeline::run(int count, int slots, const std::vector<std::string>& ports,
                                  const std::atomic<bool>* stop) {
    std::vector<std::string> all = ports;
    if (all.empty()) {
        auto present = m_ports.flasher.slots();
        if (!present) return std::unexpected(present.error());
        all = *present;
    }
    auto fresh = freshPorts(all);
    if (!fresh) return std::unexpected(fresh.error());
    if (count > 0 && static_cast<std::size_t>(count) < fresh->size()) fresh->resize(static_cast<std::size_t>(count));

    RunSummary summary;
    m_stop = stop;
    std::mutex mutex;
    std::size_t next = 0;
    bool exhausted = false;
    std::optional<Error> fatal;
    auto worker = [&] {
        for (;;) {
            std::string port;
            m_hold.waitWhileHeld(stop);  // a held line starts no new board
            {
                std::lock_guard lock(mutex);
                if (exhausted || next >= fresh->size() || (stop && stop->load())) return;
                port = (*fresh)[next++];
            }
            auto r = provision(port);
            std::lock_guard lock(mutex);
            if (r) {
                ++summary.committed;
            } else if (r.error().domain == "refused") {
                ++summary.refused;
                summary.failures.push_back(port + ": " + r.error().message);
            } else if (r.error().code == Errc::cancelled) {
                summary.failures.push_back(port + ": " + r.error().message);  // not failed: left for the next start
            } else if (r.error().code == Errc::resourceExhausted || r.error().domain == "SQLite") {
                exhausted = true;  // quota used up with no MotherShip to ask, or the journal cannot be written
                if (!fatal) fatal = r.error();
            } else {
                ++summary.failed;
                summary.failures.push_back(port + ": " + r.error().toString());
            }
        }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < std::max(1, slots); ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    m_stop = nullptr;
    if (fatal && summary.committed == 0 && summary.failed == 0) return std::unexpected(*fatal);
    if (fatal) summary.failures.push_back("stopped: " + fatal->toString());
    return summary;
}

}  // namespace tte::station
