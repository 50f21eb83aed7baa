// Secrets hygiene over a whole round with the real parts: tte-provision provisions simulated
// STM32F405 boards through a SoftHSM token, prints their labels through a private cupsd and
// uploads the records to a real tte-mothership; an introducer enrolls one board from its label
// with a real tte-controller; the board runs from its read-back flash image and checks in.
// Then every file the round left – logs, journals, databases (and their WAL files), the print
// queue, reports, token files, the controller's state, the processes' captured output – is
// searched for each board's OTP and private-key scalar in every spelling a program might use
// (hex either case, decimal, raw bytes either byte order, base64 at any alignment). They may
// be only where they belong: the labels (the station's copies and the printed documents, in
// the queue until printed) and the flash images. The same search must find them in the flash
// images, so it is not blind.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "support/sites.h"
#include "support/station_site.h"
#include "tte/base/hex.h"
#include "tte/protocol/freestanding/block.h"

namespace tte {
namespace {

namespace fs = std::filesystem;

struct Needle {
    std::string what;   ///< e.g. "OTP of 00000100 as hex"
    std::string bytes;  ///< what to look for
};

std::string raw(const std::uint8_t* p, std::size_t n) { return std::string(reinterpret_cast<const char*>(p), n); }

std::string base64(const std::string& bytes, bool urlSafe) {
    static const char* std64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char* url64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char* a = urlSafe ? url64 : std64;
    std::string out;
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                           static_cast<unsigned char>(bytes[i + 2]);
        for (int s = 18; s >= 0; s -= 6) out += a[(v >> s) & 63];
    }
    return out;  // whole groups only: the tail depends on what follows
}

/// The base64 text that `bytes` turn into wherever they sit in a longer base64 blob (a PEM or
/// DER key, a JSON field): for each of the three alignments, the characters that depend only
/// on `bytes` themselves.
std::vector<std::string> base64AtAnyAlignment(const std::string& bytes, bool urlSafe) {
    std::vector<std::string> out;
    for (std::size_t lead = 0; lead < 3; ++lead) {
        const std::string padded = std::string(lead, '\0') + bytes;
        const std::string text = base64(padded, urlSafe);
        // Drop the group the zero lead bytes share with the secret: its characters depend on
        // whatever really precedes the secret.
        out.push_back(lead == 0 ? text : text.substr(4));
    }
    return out;
}

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

/// Every spelling of one board's OTP and private-key scalar, from its flash block.
std::vector<Needle> needlesOf(const fs::path& flash) {
    const std::string bytes = test::readText(flash);
    constexpr std::size_t kBlockOffset = 0x8000;  // PROTOCOL.md §9
    protocol::ProvisioningBlock b;
    if (bytes.size() < kBlockOffset + protocol::kBlockSize) return {};
    auto span = std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()) + kBlockOffset, protocol::kBlockSize);
    if (protocol::decodeBlock(span, b) != protocol::BlockError::ok) return {};
    const std::string dev = toHex(b.devId, 8);
    std::vector<Needle> out;
    std::uint8_t be[8], le[8];
    for (int i = 0; i < 8; ++i) {
        be[i] = static_cast<std::uint8_t>(b.otp >> (56 - 8 * i));
        le[i] = static_cast<std::uint8_t>(b.otp >> (8 * i));
    }
    const std::string otpHex = toHex(b.otp, 16);
    out.push_back({"OTP of " + dev + " as hex", otpHex});
    out.push_back({"OTP of " + dev + " as upper-case hex", upper(otpHex)});
    out.push_back({"OTP of " + dev + " in decimal", std::to_string(b.otp)});
    out.push_back({"OTP of " + dev + " as bytes (big-endian)", raw(be, 8)});
    out.push_back({"OTP of " + dev + " as bytes (little-endian)", raw(le, 8)});
    for (bool url : {false, true})
        for (const auto& t : base64AtAnyAlignment(raw(be, 8), url)) out.push_back({"OTP of " + dev + " as base64", t});
    const std::string key = raw(b.privateKey, 32);
    const std::string keyHex = toHex(std::span<const std::uint8_t>(b.privateKey, 32));
    out.push_back({"private key of " + dev + " as hex", keyHex});
    out.push_back({"private key of " + dev + " as upper-case hex", upper(keyHex)});
    out.push_back({"private key of " + dev + " as bytes", key});
    std::string reversed(key.rbegin(), key.rend());
    out.push_back({"private key of " + dev + " as bytes (little-endian)", reversed});
    for (bool url : {false, true})
        for (const auto& t : base64AtAnyAlignment(key, url)) out.push_back({"private key of " + dev + " as base64", t});
    protocol::wipeBlock(b);
    return out;
}

/// Which needles each file under `root` holds, for the files `allowed` does not exempt.
std::map<std::string, std::set<std::string>> search(const fs::path& root, const std::vector<Needle>& needles,
                                                    const std::function<bool(const fs::path&)>& allowed,
                                                    int& filesSearched) {
    std::map<std::string, std::set<std::string>> hits;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied);
         it != fs::recursive_directory_iterator(); ++it) {
        std::error_code ec;
        if (!it->is_regular_file(ec) || allowed(it->path())) continue;
        const std::string content = test::readText(it->path());
        ++filesSearched;
        for (const auto& n : needles)
            if (content.find(n.bytes) != std::string::npos) hits[it->path().string()].insert(n.what);
    }
    return hits;
}

std::string describe(const std::map<std::string, std::set<std::string>>& hits) {
    std::string out;
    for (const auto& [file, whats] : hits) {
        out += file + ":";
        for (const auto& w : whats) out += " [" + w + "]";
        out += "\n";
    }
    return out;
}

bool under(const fs::path& p, const fs::path& dir) {
    const auto rel = fs::relative(p, dir);
    return !rel.empty() && *rel.begin() != "..";
}

TEST(SecretsHygiene, NoOtpOrKeyOutsideTheLabelsAndTheFlashImages) {
    test::StationSite site({.devices = 3, .slots = 2});
    ASSERT_EQ(site.setUp(), "");
    auto run = site.provision({"run", "--count", "3", "--slots", "2"});
    ASSERT_EQ(run.code, 0) << run.out << run.err;
    EXPECT_NE(run.out.find("upload backlog: 0 pending, 3 done, 0 rejected"), std::string::npos) << run.out;
    const auto devices = site.provisionedDevices();
    ASSERT_EQ(devices.size(), 3u);
    std::vector<Needle> needles;
    for (const auto& d : devices) {
        auto n = needlesOf(d.flash);
        ASSERT_FALSE(n.empty()) << d.flash;
        needles.insert(needles.end(), n.begin(), n.end());
    }
    // The station's reports of the run (they go to stdout: the captured output is searched).
    for (const auto& args : std::vector<std::vector<std::string>>{{"status"}, {"journal", "verify"}})
        EXPECT_EQ(site.provision(args).code, 0);

    // One board enrolls end to end, from its label to the check-in, running its read-back image.
    const auto& first = devices.front();
    const auto image = site.path("flash") / (first.devIdHex + ".bin");
    fs::create_directories(image.parent_path());
    auto read = test::run({(test::binDir() / "tte-flash").string(), "--sim", site.path("sim").string(), "read", "--address",
                           "0x08000000", "--length", "1048576", "-o", image.string(), "--device", first.port},
                          site.path("flash"), "read-back");
    ASSERT_EQ(read.code, 0) << read.out << read.err;
    auto controller = test::startController(site.path("."), "controller",
                                            {"--ms-cacert", site.caCert().string(), "--ms-connect-to", site.connectTo(),
                                             "--poll-interval", "1", "--poll-backoff", "1"});
    ASSERT_FALSE(controller.fingerprint.empty());
    auto enroll = site.introduce(first.devIdHex, {"--controller", controller.coaps, "--controller-fingerprint",
                                                  controller.fingerprint, "--description", "hygiene", "--notify",
                                                  controller.notifyUrl()});
    ASSERT_EQ(enroll.code, 0) << enroll.out << enroll.err;
    auto boot = test::run({(test::binDir() / "tte-device").string(), "run", "--flash", image.string(), "--timeout-ms",
                           "4000", "--retry-base-ms", "200", "--retry-cap-ms", "1000", "--max-attempts", "4"},
                          site.path("."), "device", std::chrono::seconds(60));
    ASSERT_EQ(boot.code, 0) << boot.out << boot.err;
    ASSERT_NE(boot.out.find("outcome=checked-in"), std::string::npos) << boot.out;
    // The MotherShip's own reports: the device, its audit trail, the export.
    for (const auto& args : std::vector<std::vector<std::string>>{{"show", "--devid", first.devIdHex},
                                                                   {"export", "--format", "jsonl"}})
        EXPECT_EQ(site.msAdmin(args).code, 0);

    const fs::path printed = site.cups().outputDir(test::StationSite::kQueue);
    const auto allowed = [&](const fs::path& p) {
        if (under(p, site.labelsDir()) || under(p, printed)) return true;               // the labels
        if (p.extension() == ".flash" || under(p, site.path("flash"))) return true;      // the flash images
        // A job's document waits in the spool as d<job>-<n> until it is printed: a label too.
        return under(p, site.cups().dir() / "spool") && p.filename().string().starts_with("d");
    };
    const auto searchAll = [&](const char* when) {
        int files = 0;
        auto hits = search(site.path("."), needles, allowed, files);
        auto cups = search(site.cups().dir(), needles, allowed, files);
        hits.insert(cups.begin(), cups.end());
        EXPECT_TRUE(hits.empty()) << when << ": secrets outside the labels and the flash images:\n" << describe(hits);
        EXPECT_GT(files, 20) << when;
        return files;
    };
    const int live = searchAll("while everything runs");
    // Stopped, the processes have flushed their logs and SQLite has folded its WAL into the file.
    EXPECT_EQ(controller.proc->kill(), 0);
    EXPECT_EQ(site.mothership()->stop(), 0);
    const int stopped = searchAll("after the processes stopped");
    std::printf("searched %d files while running, %d after stopping, for %zu spellings of %zu boards' secrets\n", live,
                stopped, needles.size(), devices.size());

    // The search is not blind: each flash image holds its board's key, and its OTP in one of
    // the two byte orders, as raw bytes.
    for (const auto& d : devices) {
        const std::string flash = test::readText(d.flash);
        std::map<std::string, std::string> spelled;
        for (const auto& n : needlesOf(d.flash)) spelled[n.what] = n.bytes;
        const std::string dev = d.devIdHex;
        EXPECT_NE(flash.find(spelled["private key of " + dev + " as bytes"]), std::string::npos) << dev;
        EXPECT_TRUE(flash.find(spelled["OTP of " + dev + " as bytes (big-endian)"]) != std::string::npos ||
                    flash.find(spelled["OTP of " + dev + " as bytes (little-endian)"]) != std::string::npos)
            << dev;
    }
}

}  // namespace
}  // namespace tte
