// The checks of the controller kill test after each restart: nothing acknowledged lost, nothing
// half-written, expiry and the status poller's answers as PROTOCOL §6 and §8 say.

#include <algorithm>
#include <sstream>

#include "tte/client/https_client.h"

#include "controller_kill.h"

namespace tte::controller_kill_tests {

std::string ControllerKill::sql(const std::string& query) {
    auto r = test::runShell("sqlite3 -readonly " + (dir.path() / "state/controller.db").string() + " \"" + query + "\"");
    EXPECT_EQ(r.exitCode, 0) << r.output;
    return r.output;
}

void ControllerKill::checkMotherShipState(const std::string& urn, const Device& d, const std::string& msState) {
    if (msState != "unknown") {
        const auto& had = ledger.msStates[urn];
        EXPECT_NE(std::find(had.begin(), had.end(), msState), had.end())
            << "the poller stored '" << msState << "', a state the MotherShip never had for this device"
            << (d.atMotherShip ? "" : " (it never heard of it)");
        if (statusSeen.insert({urn, msState}).second) statusAnswers[msState]++;
    }
    auto [last, first] = lastMsState.try_emplace(urn, msState);
    EXPECT_GE(rankOf(msState), rankOf(last->second)) << "the stored MotherShip state went back from " << last->second;
    last->second = msState;
    if (auto f = frozen.find(urn); f != frozen.end()) {
        EXPECT_EQ(msState, f->second) << "the poller asked about an introduction that had expired";
    }
}

void ControllerKill::checkStore() {
    EXPECT_EQ(sql("PRAGMA integrity_check"), "ok\n");
    const auto listSent = unixNow();
    auto listed = client::httpsRequest(client::HttpsOptions::pinned(controller.fingerprint, 10s), "GET",
                                       "https://" + controller.https + "/tte/v1/devices");
    const auto listAnswered = unixNow();
    ASSERT_TRUE(listed && listed->status == 200) << (listed ? listed->body : listed.error().toString());
    std::map<std::string, json> rows;
    const json doc = json::parse(listed->body);
    for (const auto& d : doc["devices"]) rows[d["urn"]] = d;
    // urn|introduced|registered|otp|psk|ms_state for each row, secrets included (test only).
    // Read after the list: the poller may have stored a newer answer meanwhile.
    std::map<std::string, std::vector<std::string>> stored;
    std::istringstream lines(sql("SELECT urn, introduced, registered_at IS NOT NULL, otp, psk, ms_state FROM devices"));
    for (std::string line; std::getline(lines, line);) {
        std::vector<std::string> fields;
        std::istringstream in(line);
        for (std::string f; std::getline(in, f, '|');) fields.push_back(f);
        while (fields.size() < 6) fields.emplace_back();
        stored[fields[0]] = fields;
    }
    const std::string files =
        test::readText(dir.path() / "state/controller.db") + test::readText(dir.path() / "state/controller.db-wal");

    std::lock_guard lock(ledger.mutex);
    for (const auto& e : ledger.errors) ADD_FAILURE() << e;
    ledger.errors.clear();
    EXPECT_EQ(rows.size(), stored.size());
    std::vector<std::string> lost;
    for (const auto& urn : ledger.introduced)
        if (!rows.count(urn)) lost.push_back("introduction of " + urn);
    for (const auto& urn : ledger.checkedIn)
        if (!rows.count(urn) || rows[urn]["state"] != "registered") lost.push_back("check-in of " + urn);
    lostTotal += lost.size();
    for (const auto& l : lost) ADD_FAILURE() << "acknowledged, then lost in a kill: " << l;
    const std::set<std::string> cut(ledger.cutIntroductions.begin(), ledger.cutIntroductions.end());
    std::set<std::string> forgetNow;  // OTPs that must be gone by the next check
    for (auto& [urn, row] : rows) {
        SCOPED_TRACE(row.dump());
        ASSERT_TRUE(ledger.devices.count(urn)) << "a device nobody sent";
        const Device& d = ledger.devices[urn];
        const auto& db = stored[urn];
        const bool registered = row["state"] == "registered";
        EXPECT_EQ(row["fingerprint"], d.fingerprint);
        EXPECT_EQ(db[2] == "1", registered);
        if (d.kind == Kind::unintroduced) {
            EXPECT_EQ(db[5], "unknown") << "nobody could ask the MotherShip about it";
            EXPECT_EQ(row["introduced"], false);
            EXPECT_TRUE(registered) << "a device accepted unintroduced is stored checked in, or not at all";
            EXPECT_FALSE(row["last_seen"].is_null());
            continue;
        }
        EXPECT_EQ(row["introduced"], true);
        EXPECT_EQ(row["devid"], toHex(d.devId, 8));
        EXPECT_EQ(row["description"], d.description);
        EXPECT_EQ(db[4], d.pskHex);
        checkMotherShipState(urn, d, db[5]);
        // The expiry the introducer was answered (unknown while a resend is outstanding).
        const bool expiryKnown = ledger.introduced.count(urn) && !cut.count(urn);
        const std::int64_t expires = expiryKnown ? ledger.expiresAt[urn] : 0;
        if (expiryKnown) {
            EXPECT_EQ(row["expires_at"], expires);
        }
        const bool finalAtMs = db[5] == "registered" || db[5] == "revoked";
        if (registered) {
            EXPECT_FALSE(row["last_seen"].is_null());
            EXPECT_FALSE(ledger.refusedExpired.count(urn)) << "checked in after its check-in was refused as expired";
            if (expiryKnown && !ledger.checkedIn.count(urn)) {
                EXPECT_TRUE(ledger.cutCheckinSent.count(urn) && ledger.cutCheckinSent[urn] < expires)
                    << "registered without a check-in sent before its introduction expired";
            }
            EXPECT_EQ(db[3], "") << "a checked-in device keeps no OTP";
            // Each device once, in the check after it was first seen checked in (the
            // restart's checkpoint is what wipes a WAL the kill left).
            if (otpSearched.insert(urn).second) {
                EXPECT_EQ(files.find(d.otpHex), std::string::npos) << "the OTP of a checked-in device is in the database files";
            }
            continue;
        }
        if (expiryKnown) {
            if (expires <= listSent) {
                EXPECT_EQ(row["state"], "expired");
            }
            if (expires > listAnswered) {
                EXPECT_EQ(row["state"], "introduced");
            }
        }
        const bool expiredBeforeStart = expiryKnown && expires <= startedAt;
        if (expiredBeforeStart) frozen.try_emplace(urn, db[5]);
        if (finalAtMs || expiredBeforeStart) {
            EXPECT_EQ(db[3], "") << (finalAtMs ? "the MotherShip's final state" : "an introduction that expired before the start")
                                 << " leaves no OTP";
            if (expiredBeforeStart) expiredOtpsForgotten.insert(urn);
            // In the files: the start wiped what expired before it; what the poller forgot
            // meanwhile is looked for in the next check (its checkpoint may still be under way).
            if (expiredBeforeStart || forgetDue.count(urn)) {
                if (otpSearched.insert(urn).second) {
                    EXPECT_EQ(files.find(d.otpHex), std::string::npos) << "a forgotten OTP is in the database files";
                }
            } else if (!cut.count(urn)) {
                forgetNow.insert(urn);
            }
        } else if (row["state"] == "introduced") {
            EXPECT_EQ(db[3], d.otpHex) << "a pending introduction keeps its OTP (message 7)";
        }
    }
    forgetDue = std::move(forgetNow);
}

}  // namespace tte::controller_kill_tests
