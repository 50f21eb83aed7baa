// tte-hsm: sets up the station's PKCS#11 token and its keys (init, keygen, list, export).
// Only flags are parsed here; the work is tte::hsm's. PINs come from files or variables,
// never from argv.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <filesystem>
#include <iostream>

#include "tte/cli/program.h"
#include "tte/base/hex.h"
#include "tte/hsm/pkcs11_key_store.h"
#include "tte/hsm/pkcs11_uri.h"
#include "tte/hsm/softhsm_site.h"
#include "tte/hsm/x509.h"
#include "tte/protocol/fingerprint.h"

namespace {

using namespace tte;
using namespace tte::hsm;

struct Flags {
    std::string module;
    std::string token = "pkcs11:token=tte-station";
    std::string pinFile;
    std::string pinEnv;
    std::string object = "station-key";
    std::string name;
    std::string dir;
    std::string label = "tte-station";
    std::string cn;
    std::string out;
    int days = 3650;
};

int failWith(const Error& e) {
    std::fprintf(stderr, "tte-hsm: %s\n", e.toString().c_str());
    return 1;
}

Result<std::unique_ptr<Pkcs11KeyStore>> openStore(const Flags& f) {
    Pkcs11Options o;
    o.modulePath = f.module;
    o.tokenUri = f.token;
    if (!f.pinFile.empty()) o.pinSource = "file:" + std::filesystem::absolute(f.pinFile).string();
    if (!f.pinEnv.empty()) o.pinSource = "env:" + f.pinEnv;
    return Pkcs11KeyStore::open(o);
}

std::string keyUri(const Flags& f, const std::string& object) {
    auto uri = parsePkcs11Uri(f.token);
    return "pkcs11:token=" + (uri ? uri->token : std::string()) + ";object=" + object;
}

int writeOut(const Flags& f, const std::string& text) {
    if (f.out.empty()) {
        std::cout << text;
        return 0;
    }
    std::ofstream file(f.out, std::ios::trunc);
    file << text;
    if (!file) {
        std::fprintf(stderr, "tte-hsm: cannot write %s\n", f.out.c_str());
        return 1;
    }
    return 0;
}

int runInit(const Flags& f) {
    SoftHsmSiteOptions o;
    o.dir = f.dir;
    o.label = f.label;
    o.userPinFile = f.pinFile;
    o.modulePath = f.module;
    auto site = createSoftHsmSite(o);
    if (!site) return failWith(site.error());
    std::printf("token '%s' initialized in %s\nSOFTHSM2_CONF=%s\nuser PIN file: %s\nSO PIN file: %s\n",
                site->label.c_str(), site->tokenDir.c_str(), site->confPath.c_str(), site->userPinFile.c_str(),
                site->soPinFile.c_str());
    return 0;
}

int runKeygen(const Flags& f, const std::string& kind) {
    auto store = openStore(f);
    if (!store) return failWith(store.error());
    if (kind == "station") {
        auto spki = (*store)->createSigningKey(keyUri(f, f.object));
        if (!spki) return failWith(spki.error());
        std::printf("signing key '%s' created; fingerprint %s\n", f.object.c_str(),
                    tte::protocol::fingerprintOfSpki(*spki).hex().c_str());
        return 0;
    }
    std::string label = kind == "lot" ? "lot-" + f.name : f.name;
    if (auto s = (*store)->createHmacKey(keyUri(f, label)); !s) return failWith(s.error());
    std::printf("HMAC key '%s' created\n", label.c_str());
    return 0;
}

int runList(const Flags& f) {
    auto store = openStore(f);
    if (!store) return failWith(store.error());
    auto keys = (*store)->listKeys();
    if (!keys) return failWith(keys.error());
    std::printf("%-32s %-10s %-9s %-11s %s\n", "label", "kind", "sensitive", "extractable", "token");
    for (const auto& k : *keys) {
        std::printf("%-32s %-10s %-9s %-11s %s\n", k.label.c_str(), std::string(keyKindName(k.kind)).c_str(),
                    k.sensitive ? "yes" : "no", k.extractable ? "yes" : "no", k.onToken ? "yes" : "no");
    }
    return 0;
}

int runExport(const Flags& f, bool certificate) {
    auto store = openStore(f);
    if (!store) return failWith(store.error());
    if (!certificate) {
        auto spki = (*store)->publicKey(keyUri(f, f.object));
        if (!spki) return failWith(spki.error());
        auto pem = tte::protocol::publicKeyPem(*spki);
        if (!pem) return failWith(pem.error());
        return writeOut(f, *pem);
    }
    CertificateSpec spec;
    spec.commonName = f.cn.empty() ? f.object : f.cn;
    spec.notBefore = std::chrono::system_clock::now();
    spec.validity = std::chrono::hours(24) * f.days;
    auto serial = (*store)->random(8);
    if (!serial) return failWith(serial.error());
    for (auto b : serial->bytes()) spec.serial = (spec.serial << 8) | b;
    spec.serial &= 0x7fffffffffffffffULL;
    auto der = (*store)->selfSignedCertificate(keyUri(f, f.object), spec);
    if (!der) return failWith(der.error());
    auto pem = tte::protocol::certificatePem(*der);
    if (!pem) return failWith(pem.error());
    return writeOut(f, *pem);
}

}  // namespace

int main(int argc, char** argv) {
    Flags f;
    const char* envModule = std::getenv("TTE_PKCS11_MODULE");
    f.module = envModule != nullptr && *envModule != '\0' ? envModule : std::string(kDefaultModulePath);
    CLI::App app{"tte-hsm: the station's PKCS#11 token - create it, make its keys, list and export them.\n"
                 "PINs are read from a file (--pin-file) or a variable (--pin-env), never from the command line."};
    tte::cli::setUp(app, "tte-hsm");
    app.require_subcommand(1);
    app.add_option("--module", f.module, "PKCS#11 module (default $TTE_PKCS11_MODULE or SoftHSM's)");
    app.add_option("--token", f.token, "RFC 7512 token URI, e.g. pkcs11:token=tte-station")->capture_default_str();
    app.add_option("--pin-file", f.pinFile, "file holding the user PIN (init: where to write it)");
    app.add_option("--pin-env", f.pinEnv, "environment variable holding the user PIN");

    auto* init = app.add_subcommand("init", "create a SoftHSM token directory, softhsm2.conf and random PINs in DIR");
    init->add_option("DIR", f.dir, "directory for the token")->required();
    init->add_option("--label", f.label, "token label")->capture_default_str();

    auto* keygen = app.add_subcommand("keygen", "create a key in the token");
    keygen->require_subcommand(1);
    auto* station = keygen->add_subcommand("station", "the station's P-256 identity key pair");
    station->add_option("--object", f.object, "object label")->capture_default_str();
    auto* lot = keygen->add_subcommand("lot", "a lot master key (HMAC-SHA256), labelled lot-NAME");
    lot->add_option("NAME", f.name, "lot name")->required();
    auto* hmacKey = keygen->add_subcommand("hmac", "an HMAC-SHA256 key labelled NAME (e.g. the MotherShip's OTP-hash key)");
    hmacKey->add_option("NAME", f.name, "object label")->required();

    auto* list = app.add_subcommand("list", "list the key objects (never their values)");
    auto* cert = app.add_subcommand("export-cert", "print a self-signed certificate (PEM) for a signing key");
    cert->add_option("--object", f.object, "object label")->capture_default_str();
    cert->add_option("--cn", f.cn, "subject common name (default: the object label)");
    cert->add_option("--days", f.days, "validity in days")->capture_default_str()->check(CLI::Range(1, 36500));
    cert->add_option("--out", f.out, "write to this file instead of stdout");
    auto* pub = app.add_subcommand("export-pubkey", "print the public key (PEM) of a signing key");
    pub->add_option("--object", f.object, "object label")->capture_default_str();
    pub->add_option("--out", f.out, "write to this file instead of stdout");

    if (auto exit = tte::cli::parse(app, argc, argv)) return *exit;
    if (init->parsed()) return runInit(f);
    if (station->parsed()) return runKeygen(f, "station");
    if (lot->parsed()) return runKeygen(f, "lot");
    if (hmacKey->parsed()) return runKeygen(f, "hmac");
    if (list->parsed()) return runList(f);
    if (cert->parsed()) return runExport(f, true);
    if (pub->parsed()) return runExport(f, false);
    return 2;
}
