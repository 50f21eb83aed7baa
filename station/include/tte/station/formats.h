// The identifiers and URLs the station writes (PROTOCOL.md §1–3): Dev URN, MotherShip host
// name, Enrollment URL and box URL, built exactly as the contract says.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "tte/base/secret.h"

namespace tte::station {

/// `tte-` + low 24 bits as 6 upper-case hex digits + `.net`.
std::string msHostName(std::uint32_t msId);
/// `urn:dev:ops:<PEN>-<product>-<8 hex Dev ID>`.
std::string makeDevUrn(std::uint32_t pen, const std::string& product, std::uint32_t devId);
/// OTP bytes (8, big-endian) as an integer.
std::uint64_t otpValue(const Secret& otp);
/// `https://tte-XXXXXX.net/.well-known/tte?otp=<16 hex>,devid=<8 hex>`.
Secret enrollmentUrl(std::uint32_t msId, const Secret& otp, std::uint32_t devId);
/// `https://tte-XXXXXX.net/.well-known/tte-box?secret=<64 hex>,first=<8 hex>,last=<8 hex>`.
Secret boxUrl(std::uint32_t msId, const Secret& boxSecret, std::uint32_t first, std::uint32_t last);
/// Box number of a Dev ID in a bulk lot (boxSize > 0).
std::uint32_t boxOf(std::uint32_t firstDevId, std::uint32_t boxSize, std::uint32_t devId);

}  // namespace tte::station
