// Provisioning block serializer and strict parser (docs/PROTOCOL.md §9).
#include "tte/protocol/freestanding/block.h"

#include <array>

#include "bytes.h"
#include "tte/protocol/freestanding/crc32.h"

namespace tte::protocol {
namespace {

// Offsets of §9.
constexpr std::size_t kOffMagic = 0, kOffVersion = 4, kOffSize = 6, kOffMsId = 8, kOffDevId = 12;
constexpr std::size_t kOffPort = 16, kOffFlags = 18, kOffAddress = 20, kOffMsFp = 84, kOffUrn = 116;
constexpr std::size_t kOffOtp = 244, kOffReserved1 = 252, kOffKey = 256, kOffCertLen = 288, kOffCert = 290;
constexpr std::size_t kOffPsk = 1314;  // version 2 only (§11); reserved (zero) in version 1
constexpr std::size_t kOffReserved2 = 1314, kOffReserved2Psk = kOffPsk + kPskSize, kOffCrc = 2044;
constexpr std::array<std::uint8_t, 4> kMagic = {'T', 'T', 'E', 'B'};

// The order n of the P-256 group, big-endian: a private key is in [1, n-1].
constexpr std::array<std::uint8_t, 32> kP256Order = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};

bool validScalar(const std::uint8_t (&key)[32]) {
    if (detail::allEqual(key, 0)) return false;
    for (std::size_t i = 0; i < 32; ++i) {
        if (key[i] != kP256Order[i]) return key[i] < kP256Order[i];
    }
    return false;  // equal to n
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }
int hexValue(char c) {
    if (isDigit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
bool isProductChar(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_';
}

template <std::size_t N>
void copyBytes(std::span<std::uint8_t> dst, const std::uint8_t (&src)[N]) {
    for (std::size_t i = 0; i < N; ++i) dst[i] = src[i];
}
template <std::size_t N>
void copyText(std::span<std::uint8_t> dst, const char (&src)[N]) {
    for (std::size_t i = 0; i < N; ++i) dst[i] = static_cast<std::uint8_t>(src[i]);
}
template <std::size_t N>
void readBytes(std::uint8_t (&dst)[N], std::span<const std::uint8_t> src) {
    for (std::size_t i = 0; i < N; ++i) dst[i] = src[i];
}
template <std::size_t N>
void readText(char (&dst)[N], std::span<const std::uint8_t> src) {
    for (std::size_t i = 0; i < N; ++i) dst[i] = static_cast<char>(src[i]);
}

}  // namespace

const char* blockErrorName(BlockError error) {
    switch (error) {
    case BlockError::ok: return "ok";
    case BlockError::blank: return "blank";
    case BlockError::magic: return "magic";
    case BlockError::version: return "version";
    case BlockError::size: return "size";
    case BlockError::crc: return "crc";
    case BlockError::field: return "field";
    }
    return "unknown";
}

bool checkDevUrn(std::span<const char> urn, std::uint64_t& serial) {
    constexpr char kPrefix[] = "urn:dev:ops:";
    constexpr std::size_t kPrefixLen = sizeof(kPrefix) - 1;
    if (urn.size() > kMaxDevUrnLength || urn.size() <= kPrefixLen) return false;
    for (std::size_t i = 0; i < kPrefixLen; ++i) {
        if (urn[i] != kPrefix[i]) return false;
    }
    std::size_t i = kPrefixLen;
    const std::size_t penStart = i;
    std::uint64_t pen = 0;
    while (i < urn.size() && isDigit(urn[i])) {
        pen = pen * 10 + static_cast<std::uint64_t>(urn[i] - '0');
        if (pen > 0xFFFFFFFFULL) return false;
        ++i;
    }
    const std::size_t penLen = i - penStart;
    if (penLen == 0 || (penLen > 1 && urn[penStart] == '0')) return false;
    if (i >= urn.size() || urn[i] != '-') return false;
    const std::size_t productStart = ++i;
    while (i < urn.size() && isProductChar(urn[i])) ++i;
    const std::size_t productLen = i - productStart;
    if (productLen == 0 || productLen > 32) return false;
    if (i >= urn.size() || urn[i] != '-') return false;
    const std::size_t serialLen = urn.size() - ++i;
    if (serialLen < 8 || serialLen > 16) return false;
    std::uint64_t value = 0;
    for (; i < urn.size(); ++i) {
        const int v = hexValue(urn[i]);
        if (v < 0) return false;
        value = (value << 4) | static_cast<std::uint64_t>(v);
    }
    serial = value;
    return true;
}

const char* checkBlockFields(const ProvisioningBlock& b) {
    if (b.msId == 0 || (b.msId >> 24) != 0) return "msId";  // draft 3.4; 0 is for examples
    if (b.msPort == 0) return "msPort";
    if ((b.flags & ~(kBlockFlagLed | kBlockFlagPsk)) != 0) return "flags";
    if (detail::textFieldLength(b.msAddress) == 0) return "msAddress";
    if (detail::allEqual(b.msFingerprint, 0)) return "msFingerprint";
    const std::size_t urnLen = detail::textFieldLength(b.devUrn);
    std::uint64_t serial = 0;
    if (urnLen == 0 || !checkDevUrn(std::span<const char>(b.devUrn, urnLen), serial)) return "devUrn";
    if (static_cast<std::uint32_t>(serial) != b.devId) return "devId";  // §1: Dev ID = low 32 bits
    if (isPskBlock(b)) {
        // draft 5.3: no public key crypto – a PSK device carries no key pair at all.
        if (!detail::allEqual(b.privateKey, 0)) return "privateKey";
        if (b.certLength != 0) return "certLength";
        if (!detail::allEqual(b.cert, 0)) return "cert";
        if (detail::allEqual(b.psk, 0)) return "psk";
        return nullptr;
    }
    if (!validScalar(b.privateKey)) return "privateKey";
    if (b.certLength == 0 || b.certLength > kMaxCertLength) return "certLength";
    if (b.cert[0] != 0x30) return "cert";  // a DER certificate is a SEQUENCE
    for (std::size_t i = b.certLength; i < kMaxCertLength; ++i) {
        if (b.cert[i] != 0) return "cert";
    }
    if (!detail::allEqual(b.psk, 0)) return "psk";
    return nullptr;
}

BlockError encodeBlock(const ProvisioningBlock& b, std::span<std::uint8_t, kBlockSize> out, BlockFault& fault) {
    if (const char* field = checkBlockFields(b)) {
        fault.field = field;
        return BlockError::field;
    }
    std::span<std::uint8_t> o(out);
    for (auto& byte : o) byte = 0;
    for (std::size_t i = 0; i < kMagic.size(); ++i) o[kOffMagic + i] = kMagic[i];
    detail::storeLe(o.subspan(kOffVersion), 2, isPskBlock(b) ? kBlockVersionPsk : kBlockVersion);
    detail::storeLe(o.subspan(kOffSize), 2, kBlockSize);
    detail::storeLe(o.subspan(kOffMsId), 4, b.msId);
    detail::storeLe(o.subspan(kOffDevId), 4, b.devId);
    detail::storeLe(o.subspan(kOffPort), 2, b.msPort);
    detail::storeLe(o.subspan(kOffFlags), 2, b.flags);
    copyText(o.subspan(kOffAddress), b.msAddress);
    copyBytes(o.subspan(kOffMsFp), b.msFingerprint);
    copyText(o.subspan(kOffUrn), b.devUrn);
    detail::storeBe(o.subspan(kOffOtp), 8, b.otp);  // big-endian, as in the LED frame
    copyBytes(o.subspan(kOffKey), b.privateKey);
    detail::storeLe(o.subspan(kOffCertLen), 2, b.certLength);
    copyBytes(o.subspan(kOffCert), b.cert);
    if (isPskBlock(b)) copyBytes(o.subspan(kOffPsk), b.psk);
    detail::storeLe(o.subspan(kOffCrc), 4, crc32(o.first(kOffCrc)));
    return BlockError::ok;
}

BlockError encodeBlock(const ProvisioningBlock& block, std::span<std::uint8_t, kBlockSize> out) {
    BlockFault fault;
    return encodeBlock(block, out, fault);
}

BlockError decodeBlock(std::span<const std::uint8_t> in, ProvisioningBlock& b, BlockFault& fault) {
    if (in.size() != kBlockSize) return BlockError::size;
    if (detail::allEqual(in, 0xFF)) return BlockError::blank;
    for (std::size_t i = 0; i < kMagic.size(); ++i) {
        if (in[kOffMagic + i] != kMagic[i]) return BlockError::magic;
    }
    const auto version = detail::loadLe(in.subspan(kOffVersion), 2);
    if (version != kBlockVersion && version != kBlockVersionPsk) return BlockError::version;
    if (detail::loadLe(in.subspan(kOffSize), 2) != kBlockSize) return BlockError::size;
    fault.storedCrc = static_cast<std::uint32_t>(detail::loadLe(in.subspan(kOffCrc), 4));
    fault.computedCrc = crc32(in.first(kOffCrc));
    if (fault.storedCrc != fault.computedCrc) return BlockError::crc;
    b.msId = static_cast<std::uint32_t>(detail::loadLe(in.subspan(kOffMsId), 4));
    b.devId = static_cast<std::uint32_t>(detail::loadLe(in.subspan(kOffDevId), 4));
    b.msPort = static_cast<std::uint16_t>(detail::loadLe(in.subspan(kOffPort), 2));
    b.flags = static_cast<std::uint16_t>(detail::loadLe(in.subspan(kOffFlags), 2));
    readText(b.msAddress, in.subspan(kOffAddress));
    readBytes(b.msFingerprint, in.subspan(kOffMsFp));
    readText(b.devUrn, in.subspan(kOffUrn));
    b.otp = detail::loadBe(in.subspan(kOffOtp), 8);
    readBytes(b.privateKey, in.subspan(kOffKey));
    b.certLength = static_cast<std::uint16_t>(detail::loadLe(in.subspan(kOffCertLen), 2));
    readBytes(b.cert, in.subspan(kOffCert));
    const bool psk = version == kBlockVersionPsk;
    if (psk) readBytes(b.psk, in.subspan(kOffPsk));
    // The version says the mode: a version-1 block with the PSK flag (or the reverse) is
    // refused as a version mismatch, so an old reader never takes a PSK block for its own.
    if (psk != isPskBlock(b)) {
        wipeBlock(b);
        return BlockError::version;
    }
    const char* field = checkBlockFields(b);
    const std::size_t reserved2 = psk ? kOffReserved2Psk : kOffReserved2;
    if (field == nullptr && !detail::allEqual(in.subspan(kOffReserved1, kOffKey - kOffReserved1), 0)) field = "reserved";
    if (field == nullptr && !detail::allEqual(in.subspan(reserved2, kOffCrc - reserved2), 0)) field = "reserved";
    if (field != nullptr) {
        fault.field = field;
        return BlockError::field;
    }
    return BlockError::ok;
}

BlockError decodeBlock(std::span<const std::uint8_t> bytes, ProvisioningBlock& out) {
    BlockFault fault;
    return decodeBlock(bytes, out, fault);
}

void wipeBlock(ProvisioningBlock& block) {
    volatile std::uint8_t* key = block.privateKey;
    for (std::size_t i = 0; i < sizeof(block.privateKey); ++i) key[i] = 0;
    volatile std::uint8_t* psk = block.psk;
    for (std::size_t i = 0; i < sizeof(block.psk); ++i) psk[i] = 0;
    volatile std::uint64_t* otp = &block.otp;
    *otp = 0;
}

}  // namespace tte::protocol
