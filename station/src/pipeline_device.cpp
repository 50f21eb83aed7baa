// One device through the station (provision), its signed record (commitRecord), and the
// slot workers (run).
#include <ctime>
#include <thread>

#include "tte/base/hex.h"
#include "tte/station/crypto.h"
#include "tte/station/formats.h"
#include "tte/station/pipeline.h"

namespace tte::station {
namespace {

std::string rfc3339(std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/// The OTP XOR the HSM-derived queue mask for `id` (docs/STATION.md, "The OTP in the queue").
Result<std::vector<std::uint8_t>> seal(StationKeys& keys, const std::string& id, const Secret& otp) {
    auto mask = keys.queueMask(id, otp.size());
    if (!mask) return std::unexpected(mask.error());
    std::vector<std::uint8_t> out(otp.size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = otp.bytes()[i] ^ mask->bytes()[i];
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

Result<std::uint32_t> Pipeline::provision(const std::string& port) {
    if (!m_opened) return fail(Errc::conflict, "the lot is not open");
    const LotConfig& lot = m_config.lot;
    auto allocated = allocate(port);
    if (!allocated) return std::unexpected(allocated.error());
    const std::uint32_t devId = *allocated;
    emit(port, devId, "allocated");
    fault("allocated", devId);

    const std::uint32_t box = boxOf(lot.firstDevId, lot.boxSize, devId);
    auto otp = lot.boxSize > 0 ? m_ports.keys.bulkOtp(box, devId) : m_ports.keys.newOtp();
    if (!otp) return failDevice(devId, port, "keys", otp.error());
    const std::string urn = makeDevUrn(lot.pen, lot.product, devId);
    auto key = m_ports.keys.newDeviceKey(urn);
    if (!key) return failDevice(devId, port, "keys", key.error());
    BlockFields fields{lot.msId, devId, lot.msPort, lot.ledEnrollment, lot.msAddress, lot.msFingerprint, urn, &*otp, &*key};
    auto block = m_ports.encoder.encode(fields);
    if (!block) return failDevice(devId, port, "keys", block.error());
    nlohmann::json keyed = {{"urn", urn}, {"fingerprint", key->fingerprint}};
    if (lot.boxSize > 0) keyed["box"] = toHex(box, 8);
    if (auto s = step("keyed", devId, port, keyed); !s) return std::unexpected(s.error());

    std::vector<FlashSegment> segments = m_firmware.segments;
    segments.push_back({m_ports.encoder.blockAddress(), {block->bytes().begin(), block->bytes().end()}});
    segments.push_back({m_ports.encoder.nvmAddress(), std::vector<std::uint8_t>(kNvmSize, 0xff)});
    auto flashed = m_ports.flasher.writeAndVerify(port, segments);
    secureZero(segments[segments.size() - 2].data.data(), segments[segments.size() - 2].data.size());
    if (!flashed) return failDevice(devId, port, "flash", flashed.error());
    if (auto s = step("flashed", devId, port, {{"firmware_sha256", m_firmware.sha256}}); !s) return std::unexpected(s.error());

    DeviceLabel label{devId, urn, lot.id, enrollmentUrl(lot.msId, *otp, devId), std::nullopt};
    auto printed = m_ports.printer.print(label);
    if (!printed) return failDevice(devId, port, "label", printed.error());
    fault("printed", devId);
    auto scanned = m_ports.printer.scanBack(*printed);
    if (!scanned) return failDevice(devId, port, "scan-back", scanned.error());
    if (!constantTimeEqual(scanned->bytes(), label.url.bytes()))
        return failDevice(devId, port, "scan-back",
                          Error{Errc::corrupt, "the scanned label does not carry this device's Enrollment URL", {}, 0, {}});
    if (auto s = step("labelled", devId, port,
                      {{"job", printed->job}, {"artefact", printed->artefact}, {"scanned_from", printed->scannedFrom}});
        !s)
        return std::unexpected(s.error());

    auto committed = commitRecord(devId, urn, *key, *otp);
    if (!committed) return failDevice(devId, port, "commit", committed.error());
    emit(port, devId, "committed");
    fault("committed", devId);
    return devId;
}

Result<JournalEntry> Pipeline::commitRecord(std::uint32_t devId, const std::string& urn, const DeviceKey& key,
                                            const Secret& otp) {
    const LotConfig& lot = m_config.lot;
    return m_journal.commit("committed", devId, [&](std::int64_t seq, const std::string& prev) -> Result<Commit> {
        const std::string recordId = m_config.stationId + "-" + std::to_string(seq);
        nlohmann::json record = {{"record_id", recordId},       {"station", m_config.stationId},
                                 {"seq", seq},                  {"devid", toHex(devId, 8)},
                                 {"urn", urn},                  {"fingerprint", key.fingerprint},
                                 {"lot", lot.id},               {"firmware_sha256", m_firmware.sha256},
                                 {"created", rfc3339(m_ports.clock.wallNow())}, {"prev", prev}};
        record["box"] = lot.boxSize > 0 ? nlohmann::json(toHex(boxOf(lot.firstDevId, lot.boxSize, devId), 8))
                                        : nlohmann::json(nullptr);
        // The signature covers the OTP (PROTOCOL.md §10); the journal keeps the record without it.
        nlohmann::json withOtp = record;
        withOtp["otp"] = toHex(otp.bytes());
        std::string canonical = withOtp.dump();
        auto& otpText = withOtp["otp"].get_ref<std::string&>();
        secureZero(otpText.data(), otpText.size());
        auto sig = m_ports.keys.sign(std::span(reinterpret_cast<const std::uint8_t*>(canonical.data()), canonical.size()));
        secureZero(canonical.data(), canonical.size());
        if (!sig) return std::unexpected(sig.error());
        record["signature"] = base64Encode(*sig);

        Commit c{{{"record", record}}, {}};
        auto sealed = seal(m_ports.keys, recordId, otp);
        if (!sealed) return std::unexpected(sealed.error());
        c.items.push_back(item(recordId, "record", devId, "", record, std::move(*sealed)));
        if (lot.controller) {
            // Pre-enrolled lot: map at the MotherShip, then introduce to the controller.
            auto mapSealed = seal(m_ports.keys, recordId + "/map", otp);
            auto introSealed = seal(m_ports.keys, recordId + "/intro", otp);
            if (!mapSealed) return std::unexpected(mapSealed.error());
            if (!introSealed) return std::unexpected(introSealed.error());
            c.items.push_back(item(recordId + "/map", "map", devId, recordId, {{"devid", toHex(devId, 8)}}, std::move(*mapSealed)));
            nlohmann::json intro = {{"urn", urn}, {"fingerprint", key.fingerprint}, {"devid", toHex(devId, 8)},
                                    {"ms", msHostName(lot.msId)}, {"description", "lot " + lot.id}};
            c.items.push_back(item(recordId + "/intro", "intro", devId, recordId + "/map", intro, std::move(*introSealed)));
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
    std::mutex mutex;
    std::size_t next = 0;
    bool exhausted = false;
    std::optional<Error> fatal;
    auto worker = [&] {
        for (;;) {
            std::string port;
            {
                std::lock_guard lock(mutex);
                if (exhausted || next >= fresh->size() || (stop && stop->load())) return;
                port = (*fresh)[next++];
            }
            auto r = provision(port);
            std::lock_guard lock(mutex);
            if (r) {
                ++summary.committed;
            } else if (r.error().code == Errc::resourceExhausted || r.error().domain == "SQLite") {
                exhausted = true;  // quota (or token) used up, or the journal cannot be written: stop the line
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
    if (fatal && summary.committed == 0 && summary.failed == 0) return std::unexpected(*fatal);
    if (fatal) summary.failures.push_back("stopped: " + fatal->toString());
    return summary;
}

}  // namespace tte::station
