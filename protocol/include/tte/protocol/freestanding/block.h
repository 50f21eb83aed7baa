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
inline constexpr std::uint16_t kBlockVersion = 1;     ///< a certificate-mode block
inline constexpr std::uint16_t kBlockVersionPsk = 2;  ///< a DTLS-PSK block (draft 5.3, §11)
inline constexpr std::uint16_t kBlockFlagLed = 0x0001;  ///< LED enrollment (draft 5.1) enabled
inline constexpr std::uint16_t kBlockFlagPsk = 0x0002;  ///< DTLS-PSK mode (draft 5.3): written as version 2
inline constexpr std::size_t kPskSize = 32;             ///< every PSK of §11 is 32 bytes
inline constexpr std::size_t kMaxCertLength = 1024;
inline constexpr std::size_t kMaxDevUrnLength = 127;

/// The decoded block. Strings are NUL-terminated and NUL-padded. `privateKey`, `psk` and
/// `otp` are secret: call wipeBlock() when done with them. With kBlockFlagPsk in `flags` the
/// device has no key pair (privateKey, certLength and cert are zero) but the device–MotherShip
/// PSK `psk`, whose PSK identity is the Dev URN (§11).
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
    std::uint8_t psk[kPskSize] = {};
};

/// True when the block is a DTLS-PSK block (kBlockFlagPsk).
inline bool isPskBlock(const ProvisioningBlock& block) { return (block.flags & kBlockFlagPsk) != 0; }

/// What is wrong with a block; the parser reports the first failure in this order.
enum class BlockError {
    ok,
    blank,    ///< all 0xFF: the sector is erased, never provisioned
    magic,    ///< not "TTEB"
    version,  ///< a version other than 1 or 2, or a flags field that does not match it
    size,     ///< the total-size field, or the length of the input, is not 2048
    crc,      ///< the CRC-32 of bytes 0..2043 differs from the one stored at 2044
    field,    ///< a field breaks its rule; BlockFault::field names it
};

/// "ok", "blank", "magic", "version", "size", "crc" or "field".
const char* blockErrorName(BlockError error);

/// Details of a failure: the field name (msId, devId, msPort, flags, msAddress,
/// msFingerprint, devUrn, reserved, privateKey, certLength, cert, psk) for BlockError::field, and
/// the stored and computed CRC for BlockError::crc.
struct BlockFault {
    const char* field = "";
    std::uint32_t storedCrc = 0;
    std::uint32_t computedCrc = 0;
};

/// Checks the fields of `block` against §9 (MS ID operational, Dev ID equal to the low 32
/// bits of the URN's serial, strings terminated, printable and zero-padded, port non-zero,
/// only known flags, fingerprint not all zero; certificate mode: private key in [1, n-1] of
/// P-256, certificate length 1..1024 and a DER SEQUENCE, zero after it, PSK zero; PSK mode:
/// private key, certificate length and certificate zero, PSK not all zero). Returns the first
/// bad field's name or nullptr when all are good.
const char* checkBlockFields(const ProvisioningBlock& block);

/// Writes `block` as the 2048 bytes of §9: version 1, or version 2 when kBlockFlagPsk is set.
/// Errors: field (then `fault.field` names it);
/// `out` is fully written only on ok.
BlockError encodeBlock(const ProvisioningBlock& block, std::span<std::uint8_t, kBlockSize> out, BlockFault& fault);
BlockError encodeBlock(const ProvisioningBlock& block, std::span<std::uint8_t, kBlockSize> out);

/// Parses exactly kBlockSize bytes. Errors, first failure only: size (input length), blank,
/// magic, version, size (field), crc, field. `out` is meaningful only on ok.
BlockError decodeBlock(std::span<const std::uint8_t> bytes, ProvisioningBlock& out, BlockFault& fault);
BlockError decodeBlock(std::span<const std::uint8_t> bytes, ProvisioningBlock& out);

/// Overwrites the private key, PSK and OTP of `block` (volatile writes the optimizer keeps).
void wipeBlock(ProvisioningBlock& block);

/// Checks a Dev URN (§1): `urn:dev:ops:<PEN>-<product>-<serial>`, PEN decimal without a
/// leading zero and < 2^32, product 1-32 of [A-Za-z0-9._], serial 8-16 hex digits (either
/// case), at most 127 bytes. On true, `serial` holds the serial's value.
bool checkDevUrn(std::span<const char> urn, std::uint64_t& serial);

}  // namespace tte::protocol
