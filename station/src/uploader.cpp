// Draining the upload queue (see uploader.h).
#include "tte/station/uploader.h"

#include <map>

#include "tte/base/hex.h"
#include "tte/protocol/mothership_messages.h"

namespace tte::station {

Uploader::Uploader(const StationConfig& config, Journal& journal, StationKeys& keys, MotherShipClient& ms,
                   ControllerClient* controller, Clock& clock, UploadPolicy policy)
    : m_config(config), m_journal(journal), m_keys(keys), m_ms(ms), m_controller(controller), m_clock(clock),
      m_policy(policy) {}

namespace {
/// A DTLS-PSK device's record item seals OTP ‖ PSK (docs/STATION.md).
constexpr std::size_t kSealedOtpAndPsk = 8 + protocol::Psk::kSize;
}  // namespace

Result<protocol::Otp> Uploader::unseal(const QueueItem& item) {
    const std::size_t size = item.sealedOtp.size() == kSealedOtpAndPsk ? 8 : item.sealedOtp.size();
    auto mask = m_keys.queueMask(item.id, size);
    if (!mask) return std::unexpected(mask.error());
    Secret otp(size);
    for (std::size_t i = 0; i < size; ++i) otp.mutableBytes()[i] = item.sealedOtp[i] ^ mask->bytes()[i];
    auto value = protocol::Otp::fromBytes(otp.bytes());
    if (!value) return fail(Errc::corrupt, "queue item " + item.id + ": the sealed OTP is not 8 bytes");
    return *value;
}

Result<std::optional<protocol::Psk>> Uploader::unsealPsk(const QueueItem& item) {
    if (item.sealedOtp.size() != kSealedOtpAndPsk) return std::optional<protocol::Psk>{};
    auto mask = m_keys.queueMask(item.id + "/psk", protocol::Psk::kSize);
    if (!mask) return std::unexpected(mask.error());
    Secret psk(protocol::Psk::kSize);
    for (std::size_t i = 0; i < psk.size(); ++i) psk.mutableBytes()[i] = item.sealedOtp[8 + i] ^ mask->bytes()[i];
    auto value = protocol::Psk::fromBytes(psk.bytes());
    if (!value) return fail(Errc::corrupt, "queue item " + item.id + ": the sealed PSK is all zero");
    return value;
}

void Uploader::noteFailure(const Error& e, bool mothership) {
    std::lock_guard lock(m_mutex);
    // The token's own faults (unsealing an OTP) hold the line for the token, not the MotherShip.
    if (mothership && !m_failingSince && e.domain != "PKCS#11") {
        m_failingSince = m_clock.now();
        m_failingError = e.toString();  // the hold's words stay the same while it lasts
    }
    ++m_failures;
    m_lastError = e.toString();
    auto wait = m_policy.base;
    for (int i = 1; i < m_failures && wait < m_policy.cap; ++i) wait *= 2;
    m_next = m_clock.now() + std::min(wait, m_policy.cap);
}

void Uploader::updateHold() {
    if (m_hold == nullptr) return;
    bool hold = false;
    std::string lastError;
    {
        std::lock_guard lock(m_mutex);
        hold = m_failingSince && m_clock.now() - *m_failingSince >= std::chrono::seconds(m_config.msHoldAfterS);
        lastError = m_failingError;
    }
    constexpr const char* kCause = "mothership";
    if (!hold) {
        (void)m_hold->release(kCause);  // a journal that cannot be written shows in the next entry
        return;
    }
    (void)m_hold->hold(kCause, HoldReason::mothership,
                       "the MotherShip has taken no record for more than " + std::to_string(m_config.msHoldAfterS) +
                           " s (" + lastError + ")",
                       "check the network and the MotherShip at " + m_config.msUrl, true);
}

Result<int> Uploader::drainRecords() {
    auto items = m_journal.duePending("record", m_policy.batch);
    if (!items) return std::unexpected(items.error());
    if (items->empty()) return 0;
    protocol::RecordBatch batch;
    std::vector<const QueueItem*> sent;
    int settled = 0;
    for (const auto& item : *items) {
        auto otp = unseal(item);
        if (!otp) return std::unexpected(otp.error());
        auto psk = unsealPsk(item);
        if (!psk) return std::unexpected(psk.error());
        auto record = protocol::StationRecord::fromJsonWithoutOtp(item.body.dump(), *otp);
        if (record && *psk) record->psk = **psk;
        if (!record) {  // the journal's copy does not parse: it can never be accepted
            if (auto s = reject(item.id, "not sent: " + record.error().message); !s) return std::unexpected(s.error());
            ++settled;
            continue;
        }
        batch.records.push_back(std::move(*record));
        sent.push_back(&item);
    }
    if (batch.records.empty()) return settled;
    auto results = m_ms.uploadRecords(batch);
    if (!results) return std::unexpected(results.error());
    if (m_fault) m_fault("uploaded");
    std::map<std::string, const protocol::RecordResult*> byId;
    for (const auto& r : *results) byId[r.recordId] = &r;
    for (const QueueItem* item : sent) {
        auto it = byId.find(item->id);
        if (it == byId.end()) continue;  // not answered: stays pending, sent again
        const protocol::RecordResult& r = *it->second;
        const bool ok = r.status != protocol::RecordStatus::rejected;
        if (auto s = ok ? m_journal.settle(item->id, "done", "") : reject(item->id, r.message); !s)
            return std::unexpected(s.error());
        ++settled;
    }
    return settled;
}

Status Uploader::reject(const std::string& id, const std::string& message) {
    if (auto s = m_journal.settle(id, "rejected", message); !s) return s;
    // What waits for a rejected item (a record's mapping, a mapping's introduction) can never
    // be sent: it is rejected with it, so no item stays pending forever.
    auto all = m_journal.queue();
    if (!all) return std::unexpected(all.error());
    for (const auto& q : *all) {
        if (q.after != id || q.state != "pending") continue;
        if (auto s = reject(q.id, "not sent: " + id + " was rejected"); !s) return s;
    }
    return {};
}

Status Uploader::sendOther(const QueueItem& item) {
    if (item.kind == "box") {  // the journal keeps {"box", "first", "last"} as numbers
        return m_ms.registerBox({static_cast<std::uint32_t>(item.body["box"].get<std::uint64_t>()), m_config.lot.id,
                                 protocol::DevId{item.body["first"].get<std::uint32_t>()},
                                 protocol::DevId{item.body["last"].get<std::uint32_t>()}});
    }
    if (!m_config.lot.controller) return fail(Errc::invalidArgument, "the lot names no controller");
    const ControllerTarget& target = *m_config.lot.controller;
    if (item.kind == "map") {
        // Through the station API, not the label's OTP: the OTP stays unspent, so whoever scans
        // the label is told "pre-enrolled" (PROTOCOL.md §10). A queue item of an older station
        // that still holds a sealed OTP is sent the same way; the OTP is not read.
        auto devId = protocol::parseDevId(item.body.value("devid", ""));
        if (!devId) return std::unexpected(devId.error());
        auto fp = protocol::parseFingerprint(target.fingerprint);
        if (!fp) return withContext(fp.error(), "controller.fingerprint");
        auto done = m_ms.preEnroll(devId->value, {protocol::ControllerInfo{target.address, target.port, *fp}, {}});
        if (!done) return std::unexpected(done.error());
        return {};
    }
    auto otp = unseal(item);
    if (!otp) return std::unexpected(otp.error());
    if (!m_controller) return fail(Errc::invalidArgument, "no controller client");
    auto intro = protocol::Introduction::fromJsonWithoutOtp(item.body.dump(), *otp);
    if (!intro) return std::unexpected(intro.error());
    return m_controller->introduce(target, *intro);
}

Result<int> Uploader::drainOthers(const std::string& kind) {
    auto items = m_journal.duePending(kind, m_policy.batch);
    if (!items) return std::unexpected(items.error());
    int settled = 0;
    for (const auto& item : *items) {
        auto sent = sendOther(item);
        if (!sent) {
            const Errc c = sent.error().code;
            if (c == Errc::unavailable || c == Errc::timeout || c == Errc::io || c == Errc::rateLimited)
                return std::unexpected(sent.error());
            // A definite answer (bad request, not found, ...): the operator must look at it.
            if (auto s = reject(item.id, sent.error().toString()); !s) return std::unexpected(s.error());
            ++settled;
            continue;
        }
        if (m_fault) m_fault("delivered");
        if (auto s = m_journal.settle(item.id, "done", ""); !s) return std::unexpected(s.error());
        ++settled;
    }
    return settled;
}

Result<int> Uploader::drainOnce() {
    {
        std::unique_lock lock(m_mutex);
        if (m_clock.now() < m_next) {
            lock.unlock();
            updateHold();  // the bound may pass while waiting for the next try
            return 0;
        }
    }
    int total = 0;
    for (;;) {  // records first, in batches, until none is due
        auto n = drainRecords();
        if (!n) {
            noteFailure(n.error());
            updateHold();
            return std::unexpected(n.error());
        }
        total += *n;
        if (*n == 0) break;
    }
    {
        std::lock_guard lock(m_mutex);
        m_failingSince.reset();  // the MotherShip took every record that was due
    }
    for (const char* kind : {"map", "intro", "box"}) {
        auto n = drainOthers(kind);
        if (!n) {
            noteFailure(n.error(), std::string_view(kind) != "intro");
            updateHold();
            return std::unexpected(n.error());
        }
        total += *n;
    }
    {
        std::lock_guard lock(m_mutex);
        m_failures = 0;
        m_lastError.clear();
        m_failingSince.reset();
    }
    updateHold();
    return total;
}

Result<Backlog> Uploader::backlog() {
    auto items = m_journal.queue();
    if (!items) return std::unexpected(items.error());
    Backlog b;
    for (const auto& i : *items) {
        if (i.state == "pending") ++b.pending;
        else if (i.state == "done") ++b.done;
        else ++b.rejected;
    }
    std::lock_guard lock(m_mutex);
    b.failures = m_failures;
    b.lastError = m_lastError;
    const auto now = m_clock.now();
    b.retryIn = m_next > now ? m_next - now : Clock::Duration{0};
    return b;
}

Status Uploader::drain(Clock::Duration timeout) {
    const auto deadline = m_clock.now() + timeout;
    for (;;) {
        (void)drainOnce();
        auto b = backlog();
        if (!b) return std::unexpected(b.error());
        if (b->pending == 0) return {};
        if (m_clock.now() >= deadline)
            return fail(Errc::timeout, std::to_string(b->pending) + " items still queued" +
                                           (b->lastError.empty() ? "" : " (last error: " + b->lastError + ")"));
        m_clock.sleepFor(std::max(b->retryIn, Clock::Duration(std::chrono::milliseconds(50))));
    }
}

void Uploader::serve() {
    for (;;) {
        (void)drainOnce();
        auto b = backlog();
        std::unique_lock lock(m_mutex);
        if (m_stop) return;
        const auto wait = b && b->pending > 0 ? std::max(b->retryIn, Clock::Duration(std::chrono::milliseconds(100)))
                                              : Clock::Duration(std::chrono::seconds(1));
        m_cv.wait_for(lock, wait, [&] { return m_stop || m_poked; });
        m_poked = false;
        if (m_stop) return;
    }
}

void Uploader::poke() {
    std::lock_guard lock(m_mutex);
    m_poked = true;
    m_cv.notify_all();
}

void Uploader::stop() {
    std::lock_guard lock(m_mutex);
    m_stop = true;
    m_cv.notify_all();
}

}  // namespace tte::station
