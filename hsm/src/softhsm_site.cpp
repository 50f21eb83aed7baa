// Creating a private SoftHSM token directory with random PINs.
#include "tte/hsm/softhsm_site.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "tte/base/hex.h"
#include "tte/hsm/pkcs11_uri.h"

namespace tte::hsm {
namespace {

std::unexpected<Error> ioError(const std::string& what, int err) {
    return failNative(Errc::io, what + ": " + std::strerror(err), "errno", err);
}

// Writes a new file with mode 0600 (never replacing one).
Status writePrivateFile(const std::string& path, std::string_view content) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return fail(Errc::alreadyExists, path + " exists already");
        return ioError("cannot create " + path, errno);
    }
    std::string line(content);
    line.push_back('\n');
    ssize_t n = ::write(fd, line.data(), line.size());
    int err = errno;
    secureZero(line.data(), line.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(content.size() + 1)) return ioError("cannot write " + path, err);
    return {};
}

Result<Secret> randomPin() {
    std::uint8_t raw[12];
    if (RAND_bytes(raw, sizeof raw) != 1) return fail(Errc::internal, "the host random generator failed");
    std::string hex = toHex(raw);
    secureZero(raw, sizeof raw);
    Secret pin{std::string_view(hex)};
    secureZero(hex.data(), hex.size());
    return pin;
}

}  // namespace

Pkcs11Options SoftHsmSite::storeOptions(const std::string& modulePath) const {
    Pkcs11Options o;
    o.modulePath = modulePath;
    o.tokenUri = "pkcs11:token=" + label;
    o.pinSource = "file:" + userPinFile;
    return o;
}

Result<SoftHsmSite> createSoftHsmSite(const SoftHsmSiteOptions& options) {
    if (options.dir.empty()) return fail(Errc::invalidArgument, "no directory given for the SoftHSM token");
    SoftHsmSite site;
    site.dir = std::filesystem::absolute(options.dir).lexically_normal().string();
    site.confPath = site.dir + "/softhsm2.conf";
    site.tokenDir = site.dir + "/tokens";
    site.soPinFile = site.dir + "/so-pin";
    site.userPinFile = options.userPinFile.empty() ? site.dir + "/user-pin"
                                                   : std::filesystem::absolute(options.userPinFile).string();
    site.label = options.label;
    std::error_code ec;
    std::filesystem::create_directories(site.tokenDir, ec);
    if (ec) return ioError("cannot create " + site.tokenDir, ec.value());
    ::chmod(site.tokenDir.c_str(), 0700);
    std::string conf = "# SoftHSM token of this site (tte-hsm init)\ndirectories.tokendir = " + site.tokenDir +
                       "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n";
    if (auto s = writePrivateFile(site.confPath, conf); !s) return std::unexpected(s.error());

    auto soPin = randomPin();
    if (!soPin) return std::unexpected(soPin.error());
    if (auto s = writePrivateFile(site.soPinFile, soPin->view()); !s) return std::unexpected(s.error());
    Result<Secret> userPin = std::filesystem::exists(site.userPinFile) ? readPin(site.userPinFile) : randomPin();
    if (!userPin) return std::unexpected(userPin.error());
    if (!std::filesystem::exists(site.userPinFile)) {
        if (auto s = writePrivateFile(site.userPinFile, userPin->view()); !s) return std::unexpected(s.error());
    }
    ::setenv("SOFTHSM2_CONF", site.confPath.c_str(), 1);
    if (auto s = initToken(options.modulePath, options.label, *soPin, *userPin); !s) return std::unexpected(s.error());
    return site;
}

}  // namespace tte::hsm
