// The fakes of station.h for the station's keys and its peers: the token (OTPs, device keys,
// record signatures) and the MotherShip and Controller that check and keep what it made. What a
// board goes through on the line (flasher, encoder, printer) is faked in station_line.cpp.
#include "support/fakes/station.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tte/base/hex.h"
#include "tte/protocol/crypto.h"
#include "tte/protocol/fingerprint.h"

namespace tte::station::fakes {
namespace {

std::vector<std::uint8_t> hmac(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
    std::vector<std::uint8_t> out(32);
    unsigned int len = 32;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &len);
    return out;
}

std::vector<std::uint8_t> be32(std::string_view prefix, std::uint32_t v) {
    std::vector<std::uint8_t> d(prefix.begin(), prefix.end());
    for (int s = 24; s >= 0; s -= 8) d.push_back(static_cast<std::uint8_t>(v >> s));
    return d;
}

std::vector<std::uint8_t> spki(EVP_PKEY* key) {
    unsigned char* der = nullptr;
    const int n = i2d_PUBKEY(key, &der);
    std::vector<std::uint8_t> out(der, der + n);
    OPENSSL_free(der);
    return out;
}

std::vector<std::uint8_t> bytesOf(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

FakeKeys::FakeKeys() : m_stationKey(EVP_EC_gen("P-256")), m_lotKey(32), m_queueKey(32) {
    RAND_bytes(m_lotKey.data(), 32);
    RAND_bytes(m_queueKey.data(), 32);
}

FakeKeys::FakeKeys(const std::string& dir) : m_stationKey(nullptr), m_lotKey(32), m_queueKey(32) {
    const std::string pem = dir + "/fake-station.pem";
    const std::string secrets = dir + "/fake-secrets.bin";
    if (FILE* f = std::fopen(pem.c_str(), "r")) {
        m_stationKey = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
        std::fclose(f);
        std::ifstream in(secrets, std::ios::binary);
        in.read(reinterpret_cast<char*>(m_lotKey.data()), 32);
        in.read(reinterpret_cast<char*>(m_queueKey.data()), 32);
        return;
    }
    m_stationKey = EVP_EC_gen("P-256");
    RAND_bytes(m_lotKey.data(), 32);
    RAND_bytes(m_queueKey.data(), 32);
    FILE* f = std::fopen(pem.c_str(), "w");
    PEM_write_PrivateKey(f, static_cast<EVP_PKEY*>(m_stationKey), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    std::ofstream out(secrets, std::ios::binary);
    out.write(reinterpret_cast<const char*>(m_lotKey.data()), 32);
    out.write(reinterpret_cast<const char*>(m_queueKey.data()), 32);
}

FakeKeys::~FakeKeys() { EVP_PKEY_free(static_cast<EVP_PKEY*>(m_stationKey)); }

std::optional<Error> FakeKeys::tokenFault() {
    std::lock_guard lock(m_mutex);
    return m_tokenFault;
}

void FakeKeys::setTokenFault(std::optional<Error> e) {
    std::lock_guard lock(m_mutex);
    m_tokenFault = std::move(e);
}

int FakeKeys::checks() {
    std::lock_guard lock(m_mutex);
    return m_checks;
}

Status FakeKeys::check() {
    std::lock_guard lock(m_mutex);
    ++m_checks;
    if (m_tokenFault) return std::unexpected(*m_tokenFault);
    return {};
}

Result<Secret> FakeKeys::newOtp() {
    if (auto f = tokenFault()) return std::unexpected(*f);
    std::lock_guard lock(m_mutex);
    if (failOtp) return fail(Errc::unavailable, "token removed");
    Secret otp(8);
    RAND_bytes(otp.mutableBytes().data(), 8);
    issuedOtps.push_back(toHex(otp.bytes()));
    return otp;
}

Result<Secret> FakeKeys::boxSecret(std::uint32_t box) { return Secret(hmac(m_lotKey, be32("tte-box", box))); }

Result<Secret> FakeKeys::bulkOtp(std::uint32_t box, std::uint32_t devId) {
    if (auto f = tokenFault()) return std::unexpected(*f);
    auto secret = boxSecret(box);
    auto mac = hmac(secret->bytes(), be32("tte-otp", devId));
    Secret otp(std::span<const std::uint8_t>(mac.data(), 8));
    std::lock_guard lock(m_mutex);
    issuedOtps.push_back(toHex(otp.bytes()));
    return otp;
}

Result<DeviceKey> FakeKeys::newDeviceKey(std::string_view) {
    if (auto f = tokenFault()) return std::unexpected(*f);
    EVP_PKEY* key = EVP_EC_gen("P-256");
    DeviceKey out;
    BIGNUM* priv = nullptr;
    EVP_PKEY_get_bn_param(key, "priv", &priv);
    out.privateScalar = Secret(32);
    BN_bn2binpad(priv, out.privateScalar.mutableBytes().data(), 32);
    BN_clear_free(priv);
    out.certificateDer = spki(key);  // a fake: the SPKI stands in for the certificate
    out.fingerprint = protocol::fingerprintOfSpki(out.certificateDer);
    EVP_PKEY_free(key);
    return out;
}

Result<Secret> FakeKeys::newPsk() {
    Secret psk(32);
    RAND_bytes(psk.mutableBytes().data(), 32);
    return psk;
}

Result<std::vector<std::uint8_t>> FakeKeys::sign(std::span<const std::uint8_t> data) {
    if (auto f = tokenFault()) return std::unexpected(*f);
    std::lock_guard lock(m_mutex);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, static_cast<EVP_PKEY*>(m_stationKey));
    EVP_DigestSign(ctx, nullptr, &len, data.data(), data.size());
    std::vector<std::uint8_t> sig(len);
    EVP_DigestSign(ctx, sig.data(), &len, data.data(), data.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    return sig;
}

Result<std::vector<std::uint8_t>> FakeKeys::stationPublicKey() { return spki(static_cast<EVP_PKEY*>(m_stationKey)); }

Result<Secret> FakeKeys::queueMask(std::string_view itemId, std::size_t size) {
    if (auto f = tokenFault()) return std::unexpected(*f);
    auto mac = hmac(m_queueKey, bytesOf(std::string(itemId)));
    if (size > mac.size()) return fail(Errc::invalidArgument, "mask too long");
    return Secret(std::span<const std::uint8_t>(mac.data(), size));
}

FakeMotherShip::FakeMotherShip(StationKeys& keys, protocol::LotQuota q, std::string file)
    : m_file(std::move(file)), m_keys(keys), quota(std::move(q)) {
    std::ifstream in(m_file);
    std::string line;
    while (std::getline(in, line)) {
        auto r = protocol::StationRecord::fromJson(line);
        if (!r) continue;
        otpByDevId[r->devId.value] = r->otp.hex();
        records.emplace(r->recordId, std::move(*r));
        ++stored;
    }
}

Result<std::vector<protocol::RecordResult>> FakeMotherShip::uploadRecords(const protocol::RecordBatch& batch) {
    std::lock_guard lock(mutex);
    ++uploadCalls;
    if (down) return fail(Errc::unavailable, "connection refused");
    auto key = m_keys.stationPublicKey();
    std::vector<protocol::RecordResult> out;
    for (const auto& r : batch.records) {
        const std::string canonical = r.canonicalBytes();
        auto sig = protocol::base64Decode(r.signature);
        if (!sig || !protocol::verifyEcdsaSha256(*key, bytesOf(canonical), *sig)) {
            out.push_back({r.recordId, protocol::RecordStatus::rejected, "signature does not verify"});
            continue;
        }
        auto it = records.find(r.recordId);
        if (it != records.end()) {
            const bool same = it->second.canonicalBytes() == canonical;
            out.push_back({r.recordId, same ? protocol::RecordStatus::duplicate : protocol::RecordStatus::rejected,
                           same ? "" : "the record id was stored with other content"});
            continue;
        }
        if (r.reworkedFrom && !revoked.contains(r.reworkedFrom->value)) {
            out.push_back({r.recordId, protocol::RecordStatus::rejected, "reworked_from " + r.reworkedFrom->hex() + " is not revoked"});
            continue;
        }
        records.emplace(r.recordId, r);
        ++stored;
        if (!m_file.empty()) std::ofstream(m_file, std::ios::app) << r.toJson() << "\n";
        otpByDevId[r.devId.value] = r.otp.hex();
        out.push_back({r.recordId, protocol::RecordStatus::stored, ""});
    }
    return out;
}

Result<protocol::LotQuota> FakeMotherShip::lotQuota(std::string_view lot) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    if (lot != quota.lot) return fail(Errc::notFound, "no lot " + std::string(lot));
    return quota;
}

Status FakeMotherShip::registerBox(const protocol::BoxRegistration& box) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    boxes.push_back(toHex(box.box, 8) + " " + box.lot + " " + box.first.hex() + ".." + box.last.hex());
    return {};
}

Result<protocol::DeviceInfo> FakeMotherShip::device(std::uint32_t devId) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    for (const auto& [id, r] : records) {
        if (r.devId.value != devId) continue;
        protocol::DeviceInfo d;
        d.devId = r.devId;
        d.urn = r.urn;
        d.fingerprint = r.fingerprint;
        d.lot = r.lot;
        d.box = r.box;
        d.station = r.station;
        d.recordId = id;
        d.firmwareSha256 = r.firmwareSha256;
        d.created = r.created;
        d.signature = r.signature;
        d.mcuUid = r.mcuUid;
        d.state = revoked.contains(devId) ? protocol::EnrollmentState::revoked
                  : mapped.contains(devId)  ? protocol::EnrollmentState::mapped
                                            : protocol::EnrollmentState::notMapped;
        d.reworkedFrom = r.reworkedFrom;
        return d;
    }
    return fail(Errc::notFound, "no device " + toHex(devId, 8));
}

Result<protocol::PreEnrollResponse> FakeMotherShip::preEnroll(std::uint32_t devId, const protocol::PreEnrollRequest& request) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    if (!otpByDevId.contains(devId)) return fail(Errc::notFound, "no device with Dev ID " + toHex(devId, 8));
    if (revoked.contains(devId)) return fail(Errc::conflict, "device " + toHex(devId, 8) + " is revoked: it cannot be pre-enrolled");
    mapped[devId] = request.controller.cfingerprint.hex();
    return protocol::PreEnrollResponse{protocol::DevId{devId}, protocol::EnrollmentState::preEnrolled,
                                       request.controller.cfingerprint};
}

Result<protocol::RevokeResponse> FakeMotherShip::revokeDevice(std::uint32_t devId, const protocol::RevokeRequest& request) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    if (revokeFails) return std::unexpected(*revokeFails);
    if (!otpByDevId.contains(devId)) return fail(Errc::notFound, "no device with Dev ID " + toHex(devId, 8));
    revoked.emplace(devId, request.reason);  // the first reason stays
    return protocol::RevokeResponse{protocol::DevId{devId}, protocol::EnrollmentState::revoked};
}

Result<protocol::StatusResponse> FakeMotherShip::status(const protocol::EnrollmentCredentials& credentials) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    const std::uint32_t devId = credentials.devId.value;
    auto it = otpByDevId.find(devId);
    if (it == otpByDevId.end() || it->second != credentials.otp.hex()) return fail(Errc::notFound, "unknown device or OTP");
    for (const auto& [id, r] : records) {
        if (r.devId.value != devId) continue;
        protocol::StatusResponse out{r.urn, r.fingerprint, protocol::EnrollmentState::notMapped, std::nullopt};
        if (mapped.contains(devId)) {
            out.state = protocol::EnrollmentState::preEnrolled;
            out.preEnrolledTo = *protocol::parseFingerprint(mapped[devId]);
        }
        if (revoked.contains(devId)) out.state = protocol::EnrollmentState::revoked;
        return out;
    }
    return fail(Errc::notFound, "unknown device or OTP");
}

Status FakeController::introduce(const ControllerTarget&, const protocol::Introduction& introduction) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    introductions.push_back(introduction.toJson());
    return {};
}

}  // namespace tte::station::fakes
