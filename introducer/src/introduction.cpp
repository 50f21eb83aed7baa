// Message 6 to the Controller, now or from the queue directory.
#include "tte/introducer/introduction.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tte/base/atomic_file.h"
#include "tte/base/secret.h"
#include "tte/protocol/mothership_messages.h"

namespace tte::introducer {
namespace {

using nlohmann::json;
using Outcome = IntroductionQueue::Flushed::Outcome;

std::unexpected<Error> ioError(const std::string& what, int err) {
    return failNative(Errc::io, what + ": " + std::strerror(err), "errno", err);
}

std::string modeText(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

/// Makes `dir` and its missing parents with mode 0700 (XDG: "created with permission 0700").
Status makeDirectories(const std::filesystem::path& dir) {
    std::filesystem::path partial;
    for (const auto& part : dir) {
        partial /= part;
        if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) return ioError("cannot create " + partial.string(), errno);
    }
    return {};
}

/// Why a queue file does not hold an introduction, or empty.
std::string readEntry(const std::string& text, IntroductionQueue::Entry& entry) {
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return "not a JSON object";
    if (!doc.contains("url") || !doc["url"].is_string() || !doc["url"].get<std::string>().starts_with("https://"))
        return "\"url\" must be the Controller's https:// introductions URL";
    auto fp = protocol::parseFingerprint(doc.value("controller_fingerprint", ""));
    if (!fp) return "\"controller_fingerprint\": " + fp.error().message;
    if (!doc.contains("introduction") || !doc["introduction"].is_object()) return "no \"introduction\" object";
    auto intro = protocol::Introduction::fromJson(doc["introduction"].dump());
    if (!intro) return "\"introduction\": " + intro.error().message;
    entry.target = NotifyTarget{doc["url"].get<std::string>(), *fp};
    entry.introduction = std::move(*intro);
    return {};
}

}  // namespace

Result<std::filesystem::path> defaultQueueDir(const std::function<const char*(const char*)>& env) {
    const char* state = env("XDG_STATE_HOME");
    if (state != nullptr && std::filesystem::path(state).is_absolute()) return std::filesystem::path(state) / "tte" / "introductions";
    const char* home = env("HOME");
    if (home != nullptr && std::filesystem::path(home).is_absolute())
        return std::filesystem::path(home) / ".local" / "state" / "tte" / "introductions";
    return fail(Errc::notFound, "no place for the introduction queue: neither XDG_STATE_HOME nor HOME is set; give --queue DIR");
}

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

Status IntroductionQueue::checkDirectory(bool create) const {
    struct stat st {};
    if (::stat(m_dir.c_str(), &st) != 0) {
        if (errno != ENOENT) return ioError("cannot read " + m_dir.string(), errno);
        if (!create) return {};
        return makeDirectories(m_dir);
    }
    if (!S_ISDIR(st.st_mode))
        return fail(Errc::invalidArgument, m_dir.string() + " is not a directory: the introduction queue is a directory "
                                                            "with one file per introduction");
    if (st.st_uid != ::geteuid()) return fail(Errc::permissionDenied, m_dir.string() + " belongs to another user");
    if ((st.st_mode & 077) != 0)
        return fail(Errc::permissionDenied, m_dir.string() + " is open to other users (mode " + modeText(st.st_mode) +
                                                "); queued introductions hold OTPs: chmod 700 " + m_dir.string());
    return {};
}

Result<std::filesystem::path> IntroductionQueue::add(const NotifyTarget& target, const protocol::Introduction& intro) {
    if (auto st = checkDirectory(true); !st) return std::unexpected(st.error());
    const auto file = m_dir / (protocol::msHostName(intro.ms) + "-" + intro.devId.hex() + ".json");
    json doc = {{"url", target.url}, {"controller_fingerprint", target.fingerprint.hex()},
                {"introduction", json::parse(intro.toJson())}};
    std::string text = doc.dump(2) + "\n";
    auto st = writeFileAtomic(file, text);
    secureZero(text.data(), text.size());
    if (!st) return std::unexpected(st.error());
    return file;
}

Result<std::vector<IntroductionQueue::Entry>> IntroductionQueue::entries() const {
    if (auto st = checkDirectory(false); !st) return std::unexpected(st.error());
    std::vector<Entry> out;
    std::error_code ec;
    std::filesystem::directory_iterator it(m_dir, ec), end;
    if (ec == std::errc::no_such_file_or_directory) return out;
    if (ec) return failNative(Errc::io, "cannot list " + m_dir.string() + ": " + ec.message(), "errno", ec.value());
    for (; it != end; it.increment(ec)) {
        const auto name = it->path().filename().string();
        // A temp file is a write that did not finish: the entry it was for is whole or absent.
        if (name.ends_with(".tmp") || !it->is_regular_file(ec)) continue;
        Entry entry{name, std::nullopt, std::nullopt, {}};
        if (!name.ends_with(".json")) {
            entry.problem = "not a queued introduction (the queue's files are named <ms>-<devid>.json)";
        } else if (auto text = readWholeFile(it->path()); !text) {
            entry.problem = text.error().message;
        } else {
            entry.problem = readEntry(*text, entry);
            secureZero(text->data(), text->size());
        }
        out.push_back(std::move(entry));
    }
    if (ec) return failNative(Errc::io, "cannot list " + m_dir.string() + ": " + ec.message(), "errno", ec.value());
    std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.file < b.file; });
    return out;
}

std::size_t IntroductionQueue::FlushReport::sent() const {
    return static_cast<std::size_t>(
        std::count_if(entries.begin(), entries.end(), [](const Flushed& f) { return f.outcome == Outcome::sent; }));
}

Result<IntroductionQueue::FlushReport> IntroductionQueue::flush(std::chrono::seconds timeout) {
    auto queued = entries();
    if (!queued) return std::unexpected(queued.error());
    FlushReport report;
    for (const auto& entry : *queued) {
        Flushed f{entry.file, {}, {}, Outcome::malformed, entry.problem};
        if (entry.introduction) {
            f.urn = entry.introduction->urn.text;
            f.url = entry.target->url;
            auto st = sendIntroduction(*entry.target, *entry.introduction, timeout);
            if (st) {
                // Still there, it is sent again next time: the Controller answers a repeat as done.
                const bool removed = ::unlink((m_dir / entry.file).c_str()) == 0 || errno == ENOENT;
                f.outcome = removed ? Outcome::sent : Outcome::kept;
                f.message = removed ? "" : "delivered, but cannot remove the file: " + std::string(std::strerror(errno));
            } else {
                const bool refused = st.error().code == Errc::conflict || st.error().code == Errc::invalidArgument;
                f.outcome = refused ? Outcome::refused : Outcome::kept;
                f.message = st.error().toString();
            }
        }
        report.entries.push_back(std::move(f));
    }
    return report;
}

std::string_view flushOutcomeName(Outcome outcome) {
    switch (outcome) {
        case Outcome::sent: return "sent";
        case Outcome::kept: return "kept";
        case Outcome::refused: return "refused";
        case Outcome::malformed: return "malformed";
    }
    return "kept";
}

}  // namespace tte::introducer
