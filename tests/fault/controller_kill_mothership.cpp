// The real MotherShip steps of the controller kill test: station uploads, claims, CoAP
// registrations and station revocations, which the Controller's status poller then reads.


#include "controller_kill.h"

namespace tte::controller_kill_tests {

bool ControllerKill::upload(const Device& d) {
    const auto record = test::signedRecord(site.pki.stationKey, "station-1", d.devId, d.otp, d.fingerprint, d.devId,
                                           kLot, std::nullopt, std::nullopt,
                                           d.devicePskHex.empty() ? std::nullopt : std::optional(d.devicePskHex));
    test::HttpCall call{"POST", "/api/v1/records", json{{"records", json::array({record})}}.dump(), "application/json", "",
                        site.pki.stationCert, site.pki.stationKey};
    auto r = test::https(site.server->httpsPort(), site.pki.caCert, call);
    auto doc = json::parse(r.body, nullptr, false);
    const bool ok = r.status == 200 && !doc.is_discarded() && doc["results"][0]["status"] == "stored";
    if (!ok) {
        std::lock_guard lock(ledger.mutex);
        ledger.errors.push_back("upload of " + d.urn + " answered " + std::to_string(r.status) + ": " + r.body + r.error);
    }
    return ok;
}

std::chrono::steady_clock::time_point ControllerKill::stepAfter() {
    std::lock_guard lock(rngMutex);
    return std::chrono::steady_clock::now() + std::chrono::milliseconds(100 + rng() % 600);
}

void ControllerKill::motherShipWorker(const test::ControllerProcess& c, const std::atomic<bool>& stop) {
    while (!stop) {
        std::string urn, step;
        Device d;
        {
            std::lock_guard lock(ledger.mutex);
            const auto now = std::chrono::steady_clock::now();
            for (const auto& [u, due] : ledger.msDue)
                if (due <= now) {
                    urn = u;
                    break;
                }
            if (!urn.empty()) {
                d = ledger.devices[urn];
                auto& states = ledger.msStates[urn];
                step = d.msPlan[states.size() - 1];
                states.push_back(step);
                ledger.msDue.erase(urn);
            }
        }
        if (urn.empty()) {
            std::unique_lock lock(msMutex);  // nothing due: look again in 50 ms, or stop
            msWake.wait_for(lock, 50ms, [&] { return stop.load(); });
            continue;
        }
        std::string failure;
        if (step == "mapped") {
            const std::string port = c.coaps.substr(c.coaps.rfind(':') + 1);
            std::string path = "/.well-known/tte?otp=" + d.otpHex + ",devid=" + toHex(d.devId, 8) +
                               ",cip=127.0.0.1,cport=" + port + ",cfingerprint=" + c.fingerprint;
            if (!d.pskHex.empty()) path += ",cpsk=" + d.pskHex;
            auto r = test::https(site.server->httpsPort(), site.pki.caCert, {"POST", path, "", "", "", "", ""});
            if (r.status != 200) failure = "claim answered " + std::to_string(r.status) + ": " + r.body + r.error;
        } else if (step == "registered") {
            auto r = test::coapGet(site.server->coapsPort(), d.key.certFile, d.key.keyFile, site.pki.dtlsFingerprint, d.urn);
            if (r.code != 205) failure = "CoAP registration answered " + std::to_string(r.code);
        } else {
            test::HttpCall call{"POST", "/api/v1/devices/" + toHex(d.devId, 8) + "/revoke", R"({"reason": "kill test"})",
                                "application/json", "", site.pki.stationCert, site.pki.stationKey};
            auto r = test::https(site.server->httpsPort(), site.pki.caCert, call);
            if (r.status != 200) failure = "revoke answered " + std::to_string(r.status) + ": " + r.body + r.error;
        }
        const auto next = stepAfter();
        std::lock_guard lock(ledger.mutex);
        if (!failure.empty()) {
            ledger.errors.push_back("MotherShip step '" + step + "' of " + urn + ": " + failure);
            continue;
        }
        ledger.msSteps++;
        if (ledger.msStates[urn].size() - 1 < d.msPlan.size()) ledger.msDue[urn] = next;
    }
}

}  // namespace tte::controller_kill_tests
