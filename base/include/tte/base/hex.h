// Hexadecimal text <-> bytes and integers, strict: exact length, hex digits only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"

namespace tte {

/// Lower-case hex of the bytes.
std::string toHex(std::span<const std::uint8_t> bytes);

/// `value` as exactly `digits` lower-case hex digits, zero-padded (digits <= 16).
std::string toHex(std::uint64_t value, int digits);

/// Parses hex of either case. Errors: invalidArgument (odd length, non-hex character,
/// with its position) – the message names `what`.
Result<std::vector<std::uint8_t>> fromHex(std::string_view text, std::string_view what);

/// Parses exactly `digits` hex digits (either case) into an integer (digits <= 16).
/// Errors: invalidArgument naming `what`, the expected and the found length, or the bad character.
Result<std::uint64_t> parseHexInt(std::string_view text, int digits, std::string_view what);

}  // namespace tte
