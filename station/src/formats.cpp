// Dev URN, MotherShip host name and the label URLs (PROTOCOL.md §1–3).
#include "tte/station/formats.h"

#include <cstdio>

#include "tte/base/hex.h"

namespace tte::station {

std::string msHostName(std::uint32_t msId) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "tte-%06X.net", msId & 0xffffffu);
    return buf;
}

std::string makeDevUrn(std::uint32_t pen, const std::string& product, std::uint32_t devId) {
    return "urn:dev:ops:" + std::to_string(pen) + "-" + product + "-" + toHex(devId, 8);
}

std::uint64_t otpValue(const Secret& otp) {
    std::uint64_t v = 0;
    for (auto b : otp.bytes()) v = (v << 8) | b;
    return v;
}

Secret enrollmentUrl(std::uint32_t msId, const Secret& otp, std::uint32_t devId) {
    std::string url = "https://" + msHostName(msId) + "/.well-known/tte?otp=" + toHex(otp.bytes()) +
                      ",devid=" + toHex(devId, 8);
    Secret s(url);
    secureZero(url.data(), url.size());
    return s;
}

Secret boxUrl(std::uint32_t msId, const Secret& boxSecret, std::uint32_t first, std::uint32_t last) {
    std::string url = "https://" + msHostName(msId) + "/.well-known/tte-box?secret=" + toHex(boxSecret.bytes()) +
                      ",first=" + toHex(first, 8) + ",last=" + toHex(last, 8);
    Secret s(url);
    secureZero(url.data(), url.size());
    return s;
}

std::uint32_t boxOf(std::uint32_t firstDevId, std::uint32_t boxSize, std::uint32_t devId) {
    return boxSize == 0 ? 0 : (devId - firstDevId) / boxSize;
}

}  // namespace tte::station
