// Message 6 to the Controller, now or from the queue file.
#include "tte/introducer/introduction.h"

#include <nlohmann/json.hpp>

#include "tte/base/atomic_file.h"
#include "tte/protocol/mothership_messages.h"

namespace tte::introducer {
namespace {

using nlohmann::json;

Result<json> loadQueue(const std::filesystem::path& file) {
    auto text = readWholeFile(file);
    if (!text) {
        if (text.error().code == Errc::notFound) return json{{"introductions", json::array()}};
        return std::unexpected(text.error());
    }
    json doc = json::parse(*text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("introductions") || !doc["introductions"].is_array())
        return fail(Errc::corrupt, file.string() + " is not an introduction queue");
    return doc;
}

}  // namespace

Status sendIntroduction(const NotifyTarget& target, const protocol::Introduction& intro, std::chrono::seconds timeout) {
    const auto https = client::HttpsOptions::pinned(target.fingerprint.hex(), timeout);
    std::string body = intro.toJson();
    auto res = client::httpsRequest(https, "POST", target.url, body, "application/json");
    std::fill(body.begin(), body.end(), '\0');
    if (!res) return std::unexpected(res.error());
    if (res->status == 201 || res->status == 200) return {};
    std::string detail;
    if (auto e = protocol::ErrorBody::fromJson(res->body)) detail = e->message;
    Errc code = res->status == 409 ? Errc::conflict : res->status == 400 ? Errc::invalidArgument : Errc::unavailable;
    return failNative(code, "the Controller answered HTTP " + std::to_string(res->status) + (detail.empty() ? "" : ": " + detail),
                      "HTTP", res->status);
}

Status IntroductionQueue::add(const NotifyTarget& target, const protocol::Introduction& intro) {
    auto doc = loadQueue(m_file);
    if (!doc) return std::unexpected(doc.error());
    (*doc)["introductions"].push_back(
        {{"url", target.url}, {"controller_fingerprint", target.fingerprint.hex()}, {"introduction", json::parse(intro.toJson())}});
    return writeFileAtomic(m_file, doc->dump(2) + "\n");
}

Result<std::size_t> IntroductionQueue::size() const {
    auto doc = loadQueue(m_file);
    if (!doc) return std::unexpected(doc.error());
    return (*doc)["introductions"].size();
}

Result<IntroductionQueue::FlushReport> IntroductionQueue::flush(std::chrono::seconds timeout) {
    auto doc = loadQueue(m_file);
    if (!doc) return std::unexpected(doc.error());
    FlushReport report;
    json keep = json::array();
    for (auto& entry : (*doc)["introductions"]) {
        auto fp = protocol::parseFingerprint(entry.value("controller_fingerprint", ""));
        auto intro = protocol::Introduction::fromJson(entry.value("introduction", json::object()).dump());
        if (!fp || !intro || !entry.contains("url") || !entry["url"].is_string()) {
            report.dropped++;
            report.problems.push_back("a queued entry is malformed and was dropped");
            continue;
        }
        auto st = sendIntroduction({entry["url"].get<std::string>(), *fp}, *intro, timeout);
        if (st) {
            report.sent++;
        } else if (st.error().code == Errc::conflict || st.error().code == Errc::invalidArgument) {
            report.dropped++;
            report.problems.push_back(intro->urn.text + ": " + st.error().message);
        } else {
            report.kept++;
            report.problems.push_back(intro->urn.text + ": " + st.error().message + " (kept)");
            keep.push_back(entry);
        }
    }
    (*doc)["introductions"] = keep;
    if (auto st = writeFileAtomic(m_file, doc->dump(2) + "\n"); !st) return std::unexpected(st.error());
    return report;
}

}  // namespace tte::introducer
