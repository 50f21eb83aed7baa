// Creating and loading the Controller's P-256 key and self-signed certificate (the key and
// certificate making and parsing are tte::server's).
#include "tte/controller/identity.h"

#include "tte/base/atomic_file.h"
#include "tte/server/tls.h"

namespace tte::controller {
namespace {

Result<Identity> create(const std::filesystem::path& keyPath, const std::filesystem::path& certPath) {
    auto made = server::makeSelfSignedP256("tte-controller", 365 * 20);
    if (!made) return std::unexpected(made.error());
    auto parsed = server::certifiedKeyFromPem(made->certPem, made->keyPem);
    if (!parsed) return std::unexpected(parsed.error());
    if (auto st = writeFileAtomic(keyPath, made->keyPem.view(), 0600); !st) return std::unexpected(st.error());
    if (auto st = writeFileAtomic(certPath, made->certPem, 0644); !st) return std::unexpected(st.error());
    return Identity{std::move(made->certPem), std::move(made->keyPem), parsed->fingerprint()};
}

Result<Identity> load(const std::filesystem::path& keyPath, const std::filesystem::path& certPath) {
    auto keyText = readWholeFile(keyPath);
    if (!keyText) return fail(Errc::io, "cannot read " + keyPath.string());
    Secret keyPem(*keyText);
    secureZero(keyText->data(), keyText->size());
    auto certText = readWholeFile(certPath);
    if (!certText) return fail(Errc::io, "cannot read " + certPath.string());
    auto parsed = server::certifiedKeyFromPem(*certText, keyPem);
    if (!parsed) {
        const std::string& m = parsed.error().message;
        if (m == "not a PEM certificate") return fail(Errc::corrupt, certPath.string() + " is not a PEM certificate");
        if (m == "not a PEM private key") return fail(Errc::corrupt, keyPath.string() + " is not a PEM private key");
        return fail(Errc::corrupt, keyPath.string() + " does not belong to " + certPath.string());
    }
    return Identity{std::move(*certText), std::move(keyPem), parsed->fingerprint()};
}

}  // namespace

Result<Identity> loadOrCreateIdentity(const std::filesystem::path& stateDir) {
    std::error_code ec;
    std::filesystem::create_directories(stateDir, ec);
    if (ec) return failNative(Errc::io, "cannot create state directory " + stateDir.string(), "errno", ec.value());
    auto keyPath = stateDir / "identity.key";
    auto certPath = stateDir / "identity.crt";
    // create() writes the key, then the certificate: a kill in between leaves the key alone.
    // The key is the identity (its fingerprint may be pinned already), so only the
    // certificate is made again.
    if (std::filesystem::exists(keyPath) && !std::filesystem::exists(certPath)) {
        auto keyText = readWholeFile(keyPath);
        if (!keyText) return fail(Errc::io, "cannot read " + keyPath.string());
        Secret keyPem(*keyText);
        secureZero(keyText->data(), keyText->size());
        auto cert = server::selfSignedCertificateFor(keyPem, "tte-controller", 365 * 20);
        if (!cert) return fail(Errc::corrupt, keyPath.string() + " is not a PEM private key");
        if (auto st = writeFileAtomic(certPath, *cert, 0644); !st) return std::unexpected(st.error());
    }
    if (std::filesystem::exists(keyPath) || std::filesystem::exists(certPath)) return load(keyPath, certPath);
    return create(keyPath, certPath);
}

}  // namespace tte::controller
