// The load of the controller kill test on the Controller: introductions (message 6) and
// check-ins (message 11), each noted in the Ledger as acknowledged, refused or cut off by a kill.

#include <algorithm>
#include <array>
#include <iterator>
#include <span>
#include <tuple>

#include "tte/client/https_client.h"
#include "tte/protocol/address.h"

#include "controller_kill.h"

namespace tte::controller_kill_tests {

Device ControllerKill::makeDevice(Kind kind) {
    std::lock_guard lock(rngMutex);
    Device d;
    d.kind = kind;
    d.devId = nextDevice++;
    d.urn = test::devUrn(d.devId);
    d.description = "bench " + toHex(d.devId, 8);
    std::uniform_int_distribution<std::uint64_t> any;
    d.otp = any(rng);
    d.otpHex = toHex(d.otp, 16);
    if (kind == Kind::psk) {
        std::array<std::uint8_t, 32> devicePsk{}, controllerPsk{};
        for (auto& b : devicePsk) b = static_cast<std::uint8_t>(rng() | 1);
        for (auto& b : controllerPsk) b = static_cast<std::uint8_t>(rng() | 1);  // never all zero
        d.fingerprint = protocol::pskFingerprint(devicePsk).hex();
        d.devicePskHex = toHex(std::span<const std::uint8_t>(devicePsk));
        d.pskHex = toHex(std::span<const std::uint8_t>(controllerPsk));
        d.key.pskIdentity = d.urn;
        d.key.psk.assign(controllerPsk.begin(), controllerPsk.end());
    } else {  // certificate, waiting (it checks in once expired) and unintroduced devices
        d.fingerprint = makeKeyFiles(dir.path() / "keys", d.devId, d.key);
    }
    if (kind == Kind::unintroduced) return d;
    // The MotherShip's part: one in six never hears of the device (it answers 404); the
    // others are uploaded (not-mapped) and then moved along a path of PROTOCOL §6. A PSK
    // device is not registered over CoAP here (the test's CoAP GET has a certificate).
    static const std::vector<std::vector<std::string>> plans = {
        {}, {"mapped"}, {"mapped", "registered"}, {"revoked"}, {"mapped", "revoked"}, {"mapped", "registered", "revoked"}};
    const auto pick = rng() % 7;
    d.atMotherShip = pick != 0;
    if (d.atMotherShip) d.msPlan = plans[pick - 1];
    if (kind == Kind::psk) std::erase(d.msPlan, std::string("registered"));
    return d;
}

void ControllerKill::introducer(const test::ControllerProcess& c, const std::atomic<bool>& stop) {
    const auto pinned = client::HttpsOptions::pinned(c.fingerprint, 10s);
    const std::string url = "https://" + c.https + "/tte/v1/introductions";
    for (std::uint64_t i = 0; !stop; ++i) {
        Device d;
        Why why = Why::fresh;
        {
            std::lock_guard lock(ledger.mutex);
            if (!ledger.cutIntroductions.empty()) {
                d = ledger.devices[ledger.cutIntroductions.front()];
                ledger.cutIntroductions.pop_front();
                why = Why::retry;
            } else if (i % 5 == 4 && !checkedInIntroduced.empty()) {
                d = ledger.devices[checkedInIntroduced[i % checkedInIntroduced.size()]];
                why = Why::again;
            }
        }
        if (why == Why::fresh) {
            d = makeDevice(i % 3 == 0 ? Kind::certificate : i % 3 == 1 ? Kind::psk : Kind::waiting);
            if (d.atMotherShip && !upload(d)) continue;
            std::lock_guard lock(ledger.mutex);
            ledger.devices[d.urn] = d;
            if (d.atMotherShip) {
                ledger.msStates[d.urn] = {"not-mapped"};
                if (!d.msPlan.empty()) ledger.msDue[d.urn] = stepAfter();
            }
        }
        auto r = client::httpsRequest(pinned, "POST", url, d.introduction(), "application/json");
        std::lock_guard lock(ledger.mutex);
        if (!r) {  // killed mid-request: unknown whether it was stored; sent again later
            ledger.cutIntroductions.push_back(d.urn);
            continue;
        }
        auto doc = json::parse(r->body, nullptr, false);
        if (r->status != 201 || doc.is_discarded() || doc.value("urn", "") != d.urn ||
            doc.value("fingerprint", "") != d.fingerprint || doc.value("description", "") != d.description ||
            !doc["expires_at"].is_number_integer()) {
            ledger.errors.push_back("introduction of " + d.urn + (why == Why::retry ? " (sent again after a kill)" : "") +
                                    " answered " + std::to_string(r->status) + ": " + r->body);
            continue;
        }
        if (why == Why::again) ledger.repeats++;
        if (why == Why::retry) ledger.retriedAfterCut++;
        ledger.introduced.insert(d.urn);
        ledger.expiresAt[d.urn] = doc["expires_at"].get<std::int64_t>();
        ledger.acks++;
        ledger.introductionsAnswered++;
        ledger.changed.notify_all();
    }
}

std::optional<std::pair<Device, Why>> ControllerKill::nextCheckin(std::uint64_t i) {
    if (!ledger.cutCheckins.empty()) {
        auto urn = ledger.cutCheckins.front();
        ledger.cutCheckins.pop_front();
        return std::pair{ledger.devices[urn], Why::retry};
    }
    const auto now = unixNow();
    const auto slot = i % 6;
    if (slot >= 1 && slot <= 3) {
        for (const auto& urn : ledger.introduced) {
            const Device& x = ledger.devices[urn];
            if (x.kind != Kind::waiting && !ledger.checkedIn.count(urn) && !ledger.refusedExpired.count(urn))
                return std::pair{x, Why::fresh};
        }
    }
    if (slot == 4 || (slot >= 1 && slot <= 3)) {
        std::vector<const std::string*> refused;
        for (const auto& urn : ledger.introduced) {
            if (ledger.checkedIn.count(urn) || ledger.expiresAt[urn] > now) continue;
            if (!ledger.refusedExpired.count(urn)) return std::pair{ledger.devices[urn], Why::expired};
            refused.push_back(&urn);
        }
        if (!refused.empty() && slot == 4) return std::pair{ledger.devices[*refused[(i / 6) % refused.size()]], Why::expired};
    }
    if (slot == 5 && !ledger.checkedIn.empty()) {
        auto it = ledger.checkedIn.begin();
        std::advance(it, static_cast<long>(i % ledger.checkedIn.size()));
        return std::pair{ledger.devices[*it], Why::again};
    }
    return std::nullopt;
}

void ControllerKill::checker(const test::ControllerProcess& c, const std::atomic<bool>& stop) {
    const auto coaps = protocol::parseHostPort(c.coaps, "coaps");
    ASSERT_TRUE(coaps);
    for (std::uint64_t i = 0; !stop; ++i) {
        Device d;
        Why why = Why::fresh;
        {
            std::lock_guard lock(ledger.mutex);
            auto next = nextCheckin(i);
            if (next) std::tie(d, why) = *next;
        }
        if (d.urn.empty() && i % 6 != 0) {  // nothing to do: wait for an introduction
            std::unique_lock lock(ledger.mutex);
            const auto seen = ledger.introductionsAnswered;
            ledger.changed.wait_for(lock, 50ms, [&] { return stop || ledger.introductionsAnswered != seen; });
            continue;
        }
        if (d.urn.empty()) {
            d = makeDevice(Kind::unintroduced);
            std::lock_guard lock(ledger.mutex);
            ledger.devices[d.urn] = d;
        }
        const auto payload = json::to_cbor(json{{"urn", d.urn}});
        const auto sent = unixNow();
        auto r = test::coapPost(coaps->port, d.key, c.fingerprint, "tte/v1/checkin", payload, 10s,
                                [&] { return stop.load(); });
        const auto answered = unixNow();
        std::lock_guard lock(ledger.mutex);
        const std::string what = "check-in of " + d.urn + (why == Why::retry ? " (sent again after a kill)" : "");
        if (r.code == 0) {  // no answer: the kill (or a handshake it broke); sent again later
            ledger.cutCheckins.push_back(d.urn);
            if (!ledger.cutCheckinSent.count(d.urn)) ledger.cutCheckinSent[d.urn] = sent;
            continue;
        }
        const std::string text(r.payload.begin(), r.payload.end());
        if (d.kind == Kind::unintroduced) {
            if (r.code != 204) ledger.errors.push_back(what + " answered " + std::to_string(r.code) + ": " + text);
            else {
                if (why == Why::again) ledger.repeats++;
                if (why == Why::retry) ledger.retriedAfterCut++;
                ledger.checkedIn.insert(d.urn);
                ledger.acks++;
            }
            continue;
        }
        // PROTOCOL §8: registered (2.04) only before expires_at; refused as expired after it.
        const std::int64_t expires = ledger.expiresAt[d.urn];
        const bool couldRegister = ledger.checkedIn.count(d.urn) || sent < expires ||
                                   (ledger.cutCheckinSent.count(d.urn) && ledger.cutCheckinSent[d.urn] < expires);
        if (r.code == 204) {
            if (!couldRegister || ledger.refusedExpired.count(d.urn)) {
                ledger.errors.push_back(what + " answered 2.04 though its introduction expired at " +
                                        std::to_string(expires) + " (sent at " + std::to_string(sent) + ")");
                continue;
            }
            if (why == Why::again) ledger.repeats++;
            if (why == Why::retry) ledger.retriedAfterCut++;
            if (expires - sent <= kShortTtl) ledger.checkinsBeforeExpiryInShortTtl++;
            ledger.checkedIn.insert(d.urn);
            ledger.cutCheckinSent.erase(d.urn);
            if (std::find(checkedInIntroduced.begin(), checkedInIntroduced.end(), d.urn) == checkedInIntroduced.end())
                checkedInIntroduced.push_back(d.urn);
            ledger.acks++;
        } else if (r.code == 403 && text == "introduction expired" && answered >= expires &&
                   !ledger.checkedIn.count(d.urn)) {
            ledger.refusedAgain += ledger.refusedExpired.count(d.urn);
            ledger.refusedExpired.insert(d.urn);
            ledger.cutCheckinSent.erase(d.urn);
            ledger.expiredRefusals++;
            ledger.acks++;
        } else {
            ledger.errors.push_back(what + " answered " + std::to_string(r.code) + ": " + text + " (expires_at " +
                                    std::to_string(expires) + ", sent " + std::to_string(sent) + ", answered " +
                                    std::to_string(answered) + ")");
        }
    }
}

}  // namespace tte::controller_kill_tests
