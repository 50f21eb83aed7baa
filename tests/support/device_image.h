// Test support: a simulated device's 1 MiB flash image with a real provisioning block
// (fresh P-256 key, self-signed certificate), as the station would write it.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tte/base/hex.h"
#include "tte/protocol/block.h"
#include "tte/protocol/fingerprint.h"

namespace tte::test {

struct TestDevice {
    std::filesystem::path image;
    std::uint32_t devId = 0;
    std::uint64_t otp = 0;
    std::string urn;
    std::string fingerprint;  ///< of the device key, 64 hex
    std::string certPem;
};

/// Writes `dir/<devid>.bin`: 1 MiB of 0xFF with the block at 0x08008000. `msFingerprint` is
/// the 64-hex fingerprint the device will pin for its MotherShip; `flags` the block's flags
/// (protocol::kBlockFlagLed: the firmware blinks the LED frame).
inline TestDevice makeDeviceImage(const std::filesystem::path& dir, std::uint32_t devId, std::uint64_t otp,
                                  const std::string& msAddress, std::uint16_t msPort, const std::string& msFingerprint,
                                  std::uint16_t flags = 0) {
    TestDevice d;
    d.devId = devId;
    d.otp = otp;
    d.urn = "urn:dev:ops:32473-tte.demo-00000001" + toHex(devId, 8);
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), static_cast<long>(devId & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 365);
    X509_set_pubkey(cert, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(d.urn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(cert));
    X509_sign(cert, key, EVP_sha256());
    unsigned char* der = nullptr;
    int derLen = i2d_X509(cert, &der);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* pem = nullptr;
    long pemLen = BIO_get_mem_data(bio, &pem);
    d.certPem.assign(pem, static_cast<std::size_t>(pemLen));
    BIO_free(bio);
    d.fingerprint = protocol::fingerprintFromDer(std::span<const std::uint8_t>(der, static_cast<std::size_t>(derLen)))->hex();

    protocol::ProvisioningBlock b;
    b.msId = 1;
    b.devId = devId;
    b.msPort = msPort;
    b.flags = flags;
    (void)protocol::setText(b.msAddress, msAddress, "ms address");
    auto msFp = fromHex(msFingerprint, "ms fingerprint");
    std::memcpy(b.msFingerprint, msFp->data(), 32);
    (void)protocol::setText(b.devUrn, d.urn, "urn");
    b.otp = otp;
    BIGNUM* priv = nullptr;
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &priv);
    BN_bn2binpad(priv, b.privateKey, 32);
    BN_clear_free(priv);
    b.certLength = static_cast<std::uint16_t>(derLen);
    std::memcpy(b.cert, der, static_cast<std::size_t>(derLen));
    OPENSSL_free(der);
    X509_free(cert);
    EVP_PKEY_free(key);
    auto bytes = protocol::serializeBlock(b);
    protocol::wipeBlock(b);
    std::vector<std::uint8_t> flash(1024 * 1024, 0xFF);
    std::memcpy(flash.data() + 0x8000, bytes->data(), bytes->size());
    d.image = dir / (toHex(devId, 8) + ".bin");
    std::ofstream(d.image, std::ios::binary).write(reinterpret_cast<const char*>(flash.data()), static_cast<std::streamsize>(flash.size()));
    return d;
}

/// The same for a DTLS-PSK device (PROTOCOL §11): a version-2 block with a fresh random
/// device–MotherShip PSK (`pskHex`) and no key pair; `fingerprint` is its PSK fingerprint.
struct TestPskDevice {
    std::filesystem::path image;
    std::uint32_t devId = 0;
    std::uint64_t otp = 0;
    std::string urn;
    std::string fingerprint;
    std::string pskHex;
};

inline TestPskDevice makePskDeviceImage(const std::filesystem::path& dir, std::uint32_t devId, std::uint64_t otp,
                                        const std::string& msAddress, std::uint16_t msPort,
                                        const std::string& msFingerprint) {
    TestPskDevice d;
    d.devId = devId;
    d.otp = otp;
    d.urn = "urn:dev:ops:32473-tte.demo-00000001" + toHex(devId, 8);
    protocol::ProvisioningBlock b;
    b.msId = 1;
    b.devId = devId;
    b.msPort = msPort;
    b.flags = protocol::kBlockFlagPsk;
    (void)protocol::setText(b.msAddress, msAddress, "ms address");
    auto msFp = fromHex(msFingerprint, "ms fingerprint");
    std::memcpy(b.msFingerprint, msFp->data(), 32);
    (void)protocol::setText(b.devUrn, d.urn, "urn");
    b.otp = otp;
    RAND_bytes(b.psk, sizeof b.psk);
    d.pskHex = toHex(std::span<const std::uint8_t>(b.psk, sizeof b.psk));
    d.fingerprint = protocol::pskFingerprint(std::span<const std::uint8_t, 32>(b.psk)).hex();
    auto bytes = protocol::serializeBlock(b);
    protocol::wipeBlock(b);
    std::vector<std::uint8_t> flash(1024 * 1024, 0xFF);
    std::memcpy(flash.data() + 0x8000, bytes->data(), bytes->size());
    d.image = dir / (toHex(devId, 8) + ".bin");
    std::ofstream(d.image, std::ios::binary).write(reinterpret_cast<const char*>(flash.data()), static_cast<std::streamsize>(flash.size()));
    return d;
}

}  // namespace tte::test
