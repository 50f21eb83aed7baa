// The provisioning block (docs/PROTOCOL.md §9): 2048 bytes at 0x08008000 in the device's
// flash, written by the station, read by the firmware at boot. Versioned and CRC-32
// protected; little-endian. Freestanding: builds for the STM32 (no heap, no exceptions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tte::protocol {

inline constexpr std::size_t kBlockSize = 2048;
inline constexpr std::uint32_t kBlockAddress = 0x08008000;  ///< flash sector 2
inline constexpr std::uint32_t kNvmAddress = 0x0800C000;    ///< flash sector 3: controller record log
inline constexpr std::size_t kNvmSize = 16384;
inline constexpr std::uint16_t kBlockVersion = 1;
inline constexpr std::uint16_t kBlockFlagLed = 0x0001;  ///< LED enrollment (draft 5.1) enabled
inline constexpr std::size_t kMaxCertLength = 1024;
inline constexpr std::size_t kMaxDevUrnLength = 127;

/// The decoded block. Strings are NUL-terminated and NUL-padded. `privateKey` is secret:
/// call wipeBlock() when done with it.
struct ProvisioningBlock {
    std::uint32_t msId = 0;
    std::uint32_t devId = 0;
    std::uint16_t msPort = 0;
    std::uint16_t flags = 0;
    char msAddress[64] = {};
    std::uint8_t msFingerprint[32] = {};
    char devUrn[128] = {};
    std::uint64_t otp = 0;
    std::uint8_t privateKey[32] = {};
    std::uint16_t certLength = 0;
    std::uint8_t cert[kMaxCertLength] = {};
};

/// What is wrong with a block; the parser reports the first failure in this order.
enum class BlockError {
    ok,
    blank,    ///< all 0xFF: the sector is erased, never provisioned
    magic,    ///< not "TTEB"
    version,  ///< a version other than 1
    size,     ///< the total-size field, or the length of the input, is not 2048
    crc,      ///< the CRC-32 of bytes 0..2043 differs from the one stored at 2044
    field,    ///< a field breaks its rule; BlockFault::field names it
};

/// "ok", "blank", "magic", "version", "size", "crc" or "field".
const char* blockErrorName(BlockError error);

/// Details of a failure: the field name (msId, devId, msPort, flags, msAddress,
/// msFingerprint, devUrn, reserved, privateKey, certLength, cert) for BlockError::field, and
/// the stored and computed CRC for BlockError::crc.
struct BlockFault {
    const char* field = "";
    std::uint32_t storedCrc = 0;
    std::uint32_t computedCrc = 0;
};

/// Checks the fields of `block` against §9 (MS ID operational, Dev ID equal to the low 32
/// bits of the URN's serial, strings terminated, printable and zero-padded, port non-zero,
/// only known flags, fingerprint not all zero, private key in [1, n-1] of P-256, certificate
/// length 1..1024 and a DER SEQUENCE, zero after it). Returns the first bad field's name or
/// nullptr when all are good.
const char* checkBlockFields(const ProvisioningBlock& block);

/// Writes `block` as the 2048 bytes of §9. Errors: field (then `fault.field` names it);
/// `out` is fully written only on ok.
BlockError encodeBlock(const ProvisioningBlock& block, std::span<std::uint8_t, kBlockSize> out, BlockFault& fault);
BlockError encodeBlock(const ProvisioningBlock& block, std::span<std::uint8_t, kBlockSize> out);

/// Parses exactly kBlockSize bytes. Errors, first failure only: size (input length), blank,
/// magic, version, size (field), crc, field. `out` is meaningful only on ok.
BlockError decodeBlock(std::span<const std::uint8_t> bytes, ProvisioningBlock& out, BlockFault& fault);
BlockError decodeBlock(std::span<const std::uint8_t> bytes, ProvisioningBlock& out);

/// Overwrites the private key and OTP of `block` (volatile writes the optimizer keeps).
void wipeBlock(ProvisioningBlock& block);

/// Checks a Dev URN (§1): `urn:dev:ops:<PEN>-<product>-<serial>`, PEN decimal without a
/// leading zero and < 2^32, product 1-32 of [A-Za-z0-9._], serial 8-16 hex digits (either
/// case), at most 127 bytes. On true, `serial` holds the serial's value.
bool checkDevUrn(std::span<const char> urn, std::uint64_t& serial);

}  // namespace tte::protocol
