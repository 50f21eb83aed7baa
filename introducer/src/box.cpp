// Bulk enrollment with a resumable, atomically replaced state file.
#include "tte/introducer/box.h"

#include <nlohmann/json.hpp>

#include "tte/base/hex.h"
#include "tte/base/atomic_file.h"
#include "tte/protocol/crypto.h"

namespace tte::introducer {
namespace {

using nlohmann::json;

/// Identifies the box without writing its secret: SHA-256("tte-box-state" ‖ secret), 16 hex.
std::string boxId(const protocol::BoxUrl& box) {
    constexpr std::string_view label = "tte-box-state";
    Secret input(label.size() + box.secret.size());
    std::copy(label.begin(), label.end(), input.mutableBytes().begin());
    std::copy(box.secret.bytes().begin(), box.secret.bytes().end(), input.mutableBytes().begin() + label.size());
    const protocol::Sha256 digest = protocol::sha256(input.bytes());
    return toHex(std::span<const std::uint8_t>(digest).first(8));
}

Result<json> loadState(const std::filesystem::path& file, const json& header) {
    auto text = readWholeFile(file);
    if (!text) {
        if (text.error().code == Errc::notFound) return json{{"box", header}, {"devices", json::object()}};
        return std::unexpected(text.error());
    }
    json doc = json::parse(*text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("devices") || !doc["devices"].is_object())
        return fail(Errc::corrupt, file.string() + " is not a box state file");
    if (doc.value("box", json()) != header)
        return fail(Errc::conflict, file.string() + " belongs to another box; use another --state file");
    return doc;
}

bool isFinal(const std::string& outcome) { return outcome != "failed"; }

BoxDeviceResult enrollOne(const protocol::BoxUrl& box, protocol::DevId devId, const BoxOptions& options,
                          MotherShipApi& ms, IntroductionSender& sender) {
    BoxDeviceResult r;
    r.devid = devId.hex();
    protocol::EnrollmentUrl url{box.ms, protocol::deriveBulkOtp(box.secret.bytes(), devId), devId};
    ControllerTarget target = options.controller;  // §11: a fresh device–Controller PSK per device
    if (auto psk = freshPsk(); psk) target.psk = *psk;
    else {
        r.outcome = "failed";
        r.message = psk.error().message;
        return r;
    }
    auto mapped = ms.map(url, target);
    if (!mapped && mapped.error().code == Errc::notFound) mapped = std::unexpected(explainNotFound(ms, url, mapped.error()));
    if (!mapped) {
        switch (mapped.error().code) {
            case Errc::conflict: r.outcome = "already-used"; break;
            case Errc::notFound: r.outcome = "not-found"; break;
            case Errc::permissionDenied: r.outcome = "revoked"; break;
            default: r.outcome = "failed"; break;
        }
        r.message = mapped.error().message;
        return r;
    }
    r.outcome = "mapped";
    r.urn = mapped->urn.text;
    r.fingerprint = mapped->fingerprint.hex();
    const auto sent = introduce(options.introductions,
                                {mapped->urn, mapped->fingerprint, url.otp, devId, box.ms, options.controller.description,
                                 mapped->psk ? target.psk : std::nullopt},
                                sender);
    const std::string why = sent.sendError ? sent.sendError->message : std::string("--later");
    r.introductionQueued = sent.queued;
    // Once mapped the OTP is spent: an introduction neither delivered nor kept is lost.
    r.introductionLost = options.introductions.notify && !sent.sent && !sent.queued;
    if (sent.sent) r.message = "introduced to the controller";
    else if (sent.queued) r.message = "introduction queued: " + why;
    else if (r.introductionLost)
        r.message = "introduction neither sent (" + why + ") nor queued" + (sent.queueError ? ": " + sent.queueError->message : "");
    return r;
}

}  // namespace

Result<std::vector<BoxDeviceResult>> enrollBox(const protocol::BoxUrl& box, const BoxOptions& options, MotherShipApi& ms,
                                               IntroductionSender& sender, const BoxProgress& progress) {
    json header = {{"ms", protocol::msHostName(box.ms)}, {"first", box.first.hex()}, {"last", box.last.hex()}, {"id", boxId(box)}};
    auto state = loadState(options.stateFile, header);
    if (!state) return std::unexpected(state.error());
    std::size_t total = static_cast<std::size_t>(box.last.value - box.first.value) + 1;
    std::vector<BoxDeviceResult> results;
    results.reserve(total);
    for (std::size_t i = 0; i < total; ++i) {
        protocol::DevId devId{static_cast<std::uint32_t>(box.first.value + i)};
        auto& slot = (*state)["devices"][devId.hex()];
        BoxDeviceResult r;
        if (slot.is_object() && isFinal(slot.value("outcome", "failed"))) {
            r = {devId.hex(), slot.value("outcome", ""), slot.value("urn", ""), slot.value("fingerprint", ""),
                 slot.value("message", ""), true};
        } else {
            r = enrollOne(box, devId, options, ms, sender);
            slot = {{"outcome", r.outcome}, {"urn", r.urn}, {"fingerprint", r.fingerprint}, {"message", r.message}};
            if (auto st = writeFileAtomic(options.stateFile, state->dump(1) + "\n"); !st) return std::unexpected(st.error());
        }
        if (progress) progress(i + 1, total, r);
        results.push_back(std::move(r));
    }
    return results;
}

}  // namespace tte::introducer
