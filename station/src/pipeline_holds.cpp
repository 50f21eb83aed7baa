// Faults of the line that are not the printer's (docs/STATION.md "When the line holds"): the HSM
// token away or refusing its PIN, and the lot's Dev ID quota used up. Both hold the line as the
// printer does: no new board starts, the boards in flight wait where they are, nothing is
// failed and no Dev ID is burned; the line goes on by itself once the cause is gone.
#include <algorithm>
#include <set>

#include "tte/base/hex.h"
#include "tte/station/pipeline.h"

namespace tte::station {
namespace {

constexpr const char* kTokenCause = "token";
constexpr const char* kQuotaCause = "quota";

/// The problem and the one thing to do for a token fault, by its CK_RV.
std::pair<std::string, std::string> tokenWords(const Error& e, const std::string& token) {
    const std::string name = "HSM token " + token;
    const std::string& rv = e.nativeName;
    if (rv == "CKR_PIN_INCORRECT" || rv == "CKR_PIN_EXPIRED" || rv == "CKR_USER_PIN_NOT_INITIALIZED")
        return {name + " refuses the station's PIN (" + rv + ")",
                "Stop, then start the station again with the token's right PIN (a refused PIN is not tried again)"};
    if (rv == "CKR_PIN_LOCKED")
        return {name + " has locked its PIN after too many wrong tries (CKR_PIN_LOCKED)",
                "have the security officer unlock the PIN"};
    if (rv == "CKR_USER_NOT_LOGGED_IN" || rv == "CKR_SESSION_HANDLE_INVALID" || rv == "CKR_SESSION_CLOSED")
        return {name + " lost the station's session (" + rv + ")", "check the token's connection"};
    return {name + " cannot be reached (" + (rv.empty() ? e.message : rv) + ")", "plug the token in"};
}

}  // namespace

bool isTokenFault(const Error& e) {
    if (e.domain != "PKCS#11") return false;
    static const std::set<std::string> kNames = {
        "CKR_DEVICE_REMOVED",        "CKR_TOKEN_NOT_PRESENT",   "CKR_TOKEN_NOT_RECOGNIZED", "CKR_DEVICE_ERROR",
        "CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED",     "CKR_USER_NOT_LOGGED_IN",   "CKR_PIN_INCORRECT",
        "CKR_PIN_EXPIRED",           "CKR_PIN_LOCKED",          "CKR_USER_PIN_NOT_INITIALIZED", "CKR_SLOT_ID_INVALID",
        "CKR_CRYPTOKI_NOT_INITIALIZED", "CKR_GENERAL_ERROR",    "CKR_DEVICE_MEMORY"};
    return kNames.contains(e.nativeName);
}

void Pipeline::sleepUnlessStopped(Clock::Duration d) {
    // A stop must not wait for a whole poll (30 s for the quota): sleep in slices.
    const Clock::Duration slice = std::chrono::milliseconds(200);
    for (Clock::Duration slept{0}; slept < d && !stopping(); slept += slice) m_ports.clock.sleepFor(std::min(slice, d - slept));
}

Status Pipeline::waitForToken(std::uint32_t devId, const std::string& port, const Error& cause) {
    auto [problem, action] = tokenWords(cause, m_config.tokenLabel);
    const bool was = m_hold.held();
    // The journal signs with the token: its `held` may have to wait for the token (line_hold.h).
    if (auto s = m_hold.hold(kTokenCause, HoldReason::token, problem, action, true); !s && !isTokenFault(s.error())) return s;
    emitWaiting(port, devId, HoldReason::token, problem);
    if (!was) fault("held", devId);
    for (;;) {
        if (stopping())
            return fail(Errc::cancelled, "the station stopped while the HSM token was away: device " + toHex(devId, 8) +
                                             " waits (rework at the next start)");
        sleepUnlessStopped(std::chrono::milliseconds(m_config.tokenPollMs));
        if (stopping()) continue;
        auto back = m_ports.keys.check();
        if (back) return m_hold.release(kTokenCause);
        if (!isTokenFault(back.error())) return m_hold.release(kTokenCause);  // the token answers: the step says the rest
        auto [p, a] = tokenWords(back.error(), m_config.tokenLabel);
        if (p != problem) {
            problem = p;
            if (auto s = m_hold.hold(kTokenCause, HoldReason::token, problem, a, true); !s && !isTokenFault(s.error()))
                return s;
            emitWaiting(port, devId, HoldReason::token, problem);
        }
    }
}

template <class T>
Result<T> Pipeline::withToken(std::uint32_t devId, const std::string& port, const std::function<Result<T>()>& op) {
    for (;;) {
        auto r = op();
        if (r || !isTokenFault(r.error())) return r;
        if (auto s = waitForToken(devId, port, r.error()); !s) return std::unexpected(s.error());
    }
}

template Result<Secret> Pipeline::withToken(std::uint32_t, const std::string&, const std::function<Result<Secret>()>&);
template Result<DeviceKey> Pipeline::withToken(std::uint32_t, const std::string&, const std::function<Result<DeviceKey>()>&);
template Result<JournalEntry> Pipeline::withToken(std::uint32_t, const std::string&,
                                                  const std::function<Result<JournalEntry>()>&);

Status Pipeline::waitForQuota() {
    const LotConfig& lot = m_config.lot;
    const std::string range = toHex(m_first, 8) + ".." + toHex(m_last, 8);
    if (m_ports.mothership == nullptr)
        return fail(Errc::resourceExhausted, "lot " + lot.id + ": the Dev ID quota " + range + " is used up");
    if (auto s = m_hold.hold(kQuotaCause, HoldReason::quota,
                             "the Dev ID quota " + range + " of lot " + lot.id + " is used up",
                             "ask for a new quota or lot (tte-mothership admin lot set --lot " + lot.id + ")", true);
        !s)
        return s;
    for (;;) {
        if (stopping()) return fail(Errc::cancelled, "the run was stopped while the quota of lot " + lot.id + " was used up");
        auto q = m_ports.mothership->lotQuota(lot.id);
        if (q && q->lot == lot.id && q->first.value <= m_first && q->last.value > m_last) {
            // The MotherShip granted more: the lot goes on up to its quota's end.
            nlohmann::json body = {{"lot", lot.id}, {"first", m_first}, {"last", q->last.value},
                                   {"before", m_last}, {"at", rfc3339(m_ports.clock.wallNow())}};
            if (auto e = m_journal.append("quota-extended", std::nullopt, body); !e) return std::unexpected(e.error());
            m_last = q->last.value;
            return m_hold.release(kQuotaCause);
        }
        sleepUnlessStopped(std::chrono::seconds(m_config.quotaPollS));
    }
}

}  // namespace tte::station
