// STM32F405 identity and protection data: UID, bootloader serial, option bytes.
#include "tte/flasher/stm32_device.h"

#include <cctype>

#include "tte/base/hex.h"

namespace tte::flasher {
namespace {

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

std::string McuUid::hex() const { return toHex(words[0], 8) + toHex(words[1], 8) + toHex(words[2], 8); }

std::array<std::uint8_t, 12> McuUid::bytes() const {
    std::array<std::uint8_t, 12> out{};
    for (std::size_t w = 0; w < 3; ++w) {
        for (std::size_t b = 0; b < 4; ++b) out[w * 4 + b] = static_cast<std::uint8_t>(words[w] >> (8 * b));
    }
    return out;
}

McuUid McuUid::fromBytes(std::span<const std::uint8_t, 12> bytes) {
    McuUid uid;
    for (std::size_t w = 0; w < 3; ++w) {
        for (std::size_t b = 0; b < 4; ++b) uid.words[w] |= std::uint32_t{bytes[w * 4 + b]} << (8 * b);
    }
    return uid;
}

Result<McuUid> McuUid::parse(std::string_view hex) {
    if (hex.size() != 24) {
        return fail(Errc::invalidArgument, "MCU unique ID \"" + std::string(hex) + "\" has " +
                                               std::to_string(hex.size()) + " characters, expected 24 hex digits");
    }
    McuUid uid;
    for (std::size_t w = 0; w < 3; ++w) {
        auto v = parseHexInt(hex.substr(w * 8, 8), 8, "MCU unique ID");
        if (!v) return std::unexpected(v.error());
        uid.words[w] = static_cast<std::uint32_t>(*v);
    }
    return uid;
}

std::string dfuSerialOf(const McuUid& uid) {
    // The ROM adds words 0 and 2 as 32-bit integers (the carry crosses the half-words: an
    // all-ones UID gives FFFFFFFE, the serial some bootloaders show) and appends the upper
    // half of word 1.
    const std::uint32_t sum = uid.words[0] + uid.words[2];
    return upper(toHex(sum, 8) + toHex(uid.words[1] >> 16, 4));
}

std::string_view rdpLevelName(RdpLevel level) {
    switch (level) {
    case RdpLevel::level0: return "level 0";
    case RdpLevel::level1: return "level 1";
    case RdpLevel::level2: return "level 2";
    }
    return "level ?";
}

RdpLevel rdpLevelOf(std::uint8_t rdpByte) {
    if (rdpByte == 0xAA) return RdpLevel::level0;
    if (rdpByte == 0xCC) return RdpLevel::level2;
    return RdpLevel::level1;
}

std::uint8_t rdpByteFor(RdpLevel level) {
    switch (level) {
    case RdpLevel::level0: return 0xAA;
    case RdpLevel::level1: return 0x55;
    case RdpLevel::level2: return 0xCC;
    }
    return 0x55;
}

OptionBytes OptionBytes::factoryDefault() {
    OptionBytes ob;
    ob.raw.fill(0xFF);
    ob.raw[1] = 0xAA;
    return ob;
}

std::uint16_t OptionBytes::writeProtectMask() const {
    const auto nWrp = static_cast<std::uint16_t>(raw[8] | (raw[9] << 8));
    return static_cast<std::uint16_t>(~nWrp & 0x0FFF);
}

void OptionBytes::setWriteProtectMask(std::uint16_t mask) {
    const auto nWrp = static_cast<std::uint16_t>(~mask & 0x0FFF);
    raw[8] = static_cast<std::uint8_t>(nWrp);
    raw[9] = static_cast<std::uint8_t>((raw[9] & 0xF0) | (nWrp >> 8));
}

std::string OptionBytes::describe() const {
    static constexpr std::string_view kBor[4] = {"BOR level 3", "BOR level 2", "BOR level 1", "BOR off"};
    const std::uint8_t u = user();
    std::string out = "RDP 0x" + toHex(rdpByte(), 2) + " (" + std::string(rdpLevelName(rdp())) + "), USER 0x" +
                      toHex(u, 2) + " (WDG_SW=" + std::to_string((u >> 5) & 1) + " nRST_STOP=" +
                      std::to_string((u >> 6) & 1) + " nRST_STDBY=" + std::to_string((u >> 7) & 1) + " " +
                      std::string(kBor[(u >> 2) & 3]) + "), ";
    const std::uint16_t mask = writeProtectMask();
    if (mask == 0) return out + "no sector write-protected";
    out += "write-protected sectors";
    for (int i = 0; i < 12; ++i) {
        if ((mask >> i) & 1U) out += " " + std::to_string(i);
    }
    return out;
}

}  // namespace tte::flasher
