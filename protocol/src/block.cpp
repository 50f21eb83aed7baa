// Hosted wrappers of the provisioning block codec with precise error messages.
#include "tte/protocol/block.h"

#include <cstdio>
#include <string>

namespace tte::protocol {
namespace {

std::uint32_t le(std::span<const std::uint8_t> b, std::size_t off, std::size_t n) {
    std::uint32_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | b[off + i];
    return v;
}

std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

}  // namespace

Result<ProvisioningBlock> parseBlock(std::span<const std::uint8_t> bytes) {
    constexpr std::string_view kWhat = "provisioning block: ";
    ProvisioningBlock block;
    BlockFault fault;
    switch (decodeBlock(bytes, block, fault)) {
    case BlockError::ok: return block;
    case BlockError::blank: return fail(Errc::notFound, std::string(kWhat) + "blank (erased flash)");
    case BlockError::magic: return fail(Errc::corrupt, std::string(kWhat) + "bad magic (expected TTEB)");
    case BlockError::version: {
        const auto version = le(bytes, 4, 2);
        if (version == kBlockVersion || version == kBlockVersionPsk) {
            return fail(Errc::corrupt, std::string(kWhat) + "version " + std::to_string(version) +
                                           (version == kBlockVersion ? " with the PSK flag set" : " without the PSK flag"));
        }
        return fail(Errc::unsupported, std::string(kWhat) + "version " + std::to_string(version) +
                                           " is not supported (expected 1, or 2 for DTLS-PSK)");
    }
    case BlockError::size:
        if (bytes.size() != kBlockSize) {
            return fail(Errc::invalidArgument,
                        std::string(kWhat) + std::to_string(bytes.size()) + " bytes, expected 2048");
        }
        return fail(Errc::corrupt, std::string(kWhat) + "size field " + std::to_string(le(bytes, 6, 2)) +
                                       ", expected 2048");
    case BlockError::crc:
        return fail(Errc::corrupt, std::string(kWhat) + "CRC mismatch (stored " + hex32(fault.storedCrc) +
                                       ", computed " + hex32(fault.computedCrc) + ")");
    case BlockError::field:
        wipeBlock(block);
        return fail(Errc::corrupt, std::string(kWhat) + "invalid field " + fault.field);
    }
    return fail(Errc::internal, std::string(kWhat) + "unknown error");
}

Result<std::vector<std::uint8_t>> serializeBlock(const ProvisioningBlock& block) {
    std::vector<std::uint8_t> out(kBlockSize);
    BlockFault fault;
    if (encodeBlock(block, std::span<std::uint8_t, kBlockSize>(out.data(), kBlockSize), fault) != BlockError::ok) {
        return fail(Errc::invalidArgument, std::string("provisioning block: invalid field ") + fault.field);
    }
    return out;
}

Status setTextField(std::span<char> field, std::string_view text, std::string_view what) {
    if (text.empty()) return fail(Errc::invalidArgument, std::string(what) + ": empty");
    if (text.size() >= field.size()) {
        return fail(Errc::invalidArgument,
                    std::string(what) + ": longer than " + std::to_string(field.size() - 1) + " bytes");
    }
    for (char c : text) {
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7E) {
            return fail(Errc::invalidArgument, std::string(what) + ": only printable ASCII without spaces is allowed");
        }
    }
    std::fill(field.begin(), field.end(), '\0');
    std::copy(text.begin(), text.end(), field.begin());
    return {};
}

}  // namespace tte::protocol
