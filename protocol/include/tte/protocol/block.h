// Hosted access to the provisioning block (docs/PROTOCOL.md §9): the freestanding codec with
// tte::Error messages, for the station, tte-device and tools.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/protocol/freestanding/block.h"
#include "tte/protocol/freestanding/controller_record.h"

namespace tte::protocol {

/// Parses a block. Errors, first failure only:
/// invalidArgument "provisioning block: N bytes, expected 2048";
/// notFound "provisioning block: blank (erased flash)";
/// corrupt "provisioning block: bad magic (expected TTEB)";
/// unsupported "provisioning block: version N is not supported (expected 1, or 2 for DTLS-PSK)";
/// corrupt "provisioning block: version 1 with the PSK flag set" / "version 2 without the PSK flag";
/// corrupt "provisioning block: size field N, expected 2048";
/// corrupt "provisioning block: CRC mismatch (stored 0x%08x, computed 0x%08x)";
/// corrupt "provisioning block: invalid field <name>" (names as in BlockFault).
/// The result holds the device's private key or PSK: wipeBlock() it when done.
Result<ProvisioningBlock> parseBlock(std::span<const std::uint8_t> bytes);

/// Serializes a block. Errors: invalidArgument "provisioning block: invalid field <name>".
Result<std::vector<std::uint8_t>> serializeBlock(const ProvisioningBlock& block);

/// Copies `text` into a NUL-padded text field of a block or record (`what` names it in the
/// error). Errors: invalidArgument "<what>: longer than N bytes", "<what>: empty",
/// "<what>: only printable ASCII without spaces is allowed".
template <std::size_t N>
Status setText(char (&field)[N], std::string_view text, std::string_view what);
Status setTextField(std::span<char> field, std::string_view text, std::string_view what);

template <std::size_t N>
Status setText(char (&field)[N], std::string_view text, std::string_view what) {
    return setTextField(std::span<char>(field, N), text, what);
}

}  // namespace tte::protocol
