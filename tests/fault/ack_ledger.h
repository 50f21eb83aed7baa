// What MotherShips acknowledged while they were SIGKILLed under load, kept by the workers of a
// kill test (mothership_kill_test, multi_mothership_kill_test): the station uploads, claims and
// CoAP registrations answered 2xx / 2.05, the claims a kill cut off after their commit, and
// what went wrong. The tests then check that every acknowledged request is in the registry.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "support/mothership.h"
#include "tte/base/hex.h"

namespace tte::test {

struct AckLedger {
    std::mutex mutex;
    std::condition_variable changed;                ///< work for the next worker, or stop
    std::map<std::uint32_t, std::uint64_t> stored;  ///< upload answered "stored": Dev ID → OTP
    std::set<std::uint32_t> claimed;                ///< claim answered 200
    std::set<std::uint32_t> claimedUnseen;          ///< 409: a claim committed, its answer lost in a kill
    std::set<std::uint32_t> registered;             ///< CoAP GET answered 2.05
    std::vector<std::string> errors;
    std::atomic<std::uint64_t> acks{0};

    /// The answer `r` to an upload of `batch` (Dev ID, OTP): each record answered "stored" is
    /// kept, anything else is an error; an answer counts one ack and wakes the workers. False
    /// when there was no answer (the instance died mid-request: not acknowledged).
    bool uploaded(const HttpResult& r, const std::vector<std::pair<std::uint32_t, std::uint64_t>>& batch) {
        if (r.status == 0) return false;
        auto doc = nlohmann::json::parse(r.body, nullptr, false);
        std::lock_guard lock(mutex);
        if (r.status != 200 || doc.is_discarded()) {
            errors.push_back("upload answered " + std::to_string(r.status) + ": " + r.body);
            return true;
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (doc["results"][i]["status"] != "stored") errors.push_back("record not stored: " + doc["results"][i].dump());
            else stored[batch[i].first] = batch[i].second;
        }
        acks++;
        changed.notify_all();
        return true;
    }

    /// A claimed device not registered yet, once there is one; none once `stop` is set (whether
    /// or not there is one).
    std::optional<std::uint32_t> nextToRegister(const std::atomic<bool>& stop) {
        std::optional<std::uint32_t> next;
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] {
            for (auto dev : claimed)
                if (!registered.count(dev)) {
                    next = dev;
                    break;
                }
            return stop || next;
        });
        if (stop) return std::nullopt;
        return next;
    }

    /// The answer `code` to device `dev`'s CoAP GET: 2.05 registers it (an ack), anything else
    /// is an error. False when there was no answer (code 0).
    bool registrationAnswered(std::uint32_t dev, int code) {
        if (code == 0) return false;
        std::lock_guard lock(mutex);
        if (code == 205) {
            registered.insert(dev);
            acks++;
        } else {
            errors.push_back("CoAP GET of " + toHex(dev, 8) + " answered " + std::to_string(code));
        }
        return true;
    }
};

}  // namespace tte::test
