// The firmware's console lines, formatted without printf (no libc formatting on the device).
#include "tte/device/console_lines.h"

namespace tte::device {
namespace {
constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kUpperHexDigits[] = "0123456789ABCDEF";

/// The text of a NUL-padded field (stops at the field's end if there is no NUL).
std::string_view field(const char* data, std::size_t size) {
    std::size_t n = 0;
    while (n < size && data[n] != '\0') {
        ++n;
    }
    return {data, n};
}
}  // namespace

Line& Line::text(std::string_view s) {
    for (char c : s) {
        if (m_size == m_data.size()) {
            break;
        }
        m_data[m_size++] = c;
    }
    return *this;
}

Line& Line::decimal(std::uint64_t value) {
    char digits[20];
    std::size_t n = 0;
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0) {
        text({&digits[--n], 1});
    }
    return *this;
}

Line& Line::hex(std::uint64_t value, unsigned digits) {
    for (unsigned i = digits; i > 0; --i) {
        text({&kHexDigits[(value >> (4 * (i - 1))) & 0xF], 1});
    }
    return *this;
}

Line& Line::hexBytes(std::span<const std::uint8_t> bytes) {
    for (std::uint8_t b : bytes) {
        hex(b, 2);
    }
    return *this;
}

Line bootOkLine(const protocol::ProvisioningBlock& block) {
    Line line;
    line.text("TTE BOOT OK ms=tte-");
    for (int shift = 20; shift >= 0; shift -= 4) {  // docs/PROTOCOL.md §1: 6 upper-case hex digits
        line.text({&kUpperHexDigits[(block.msId >> shift) & 0xF], 1});
    }
    line.text(".net devid=").hex(block.devId, 8);
    line.text(" urn=").text(field(block.devUrn, sizeof block.devUrn));
    line.text(" msfp=").hexBytes(block.msFingerprint);
    return line;
}

Line bootFailLine(protocol::BlockError error, const protocol::BlockFault& fault) {
    Line line;
    line.text("TTE BOOT FAIL reason=").text(protocol::blockErrorName(error));
    if (error == protocol::BlockError::field) {
        line.text(" field=").text(fault.field);
    }
    return line;
}

Line controllerLine(const protocol::ControllerRecord& record) {
    Line line;
    line.text("TTE CONTROLLER ip=").text(field(record.address, sizeof record.address));
    line.text(" port=").decimal(record.port);
    line.text(" fp=").hexBytes(record.fingerprint);
    line.text(" seq=").decimal(record.sequence);
    return line;
}

Line ledEdgeLine(bool on, std::uint64_t atMs) {
    Line line;
    line.text(on ? "LED 1 t=" : "LED 0 t=").decimal(atMs);
    return line;
}

Line ledGapLine(std::uint64_t atMs) {
    Line line;
    line.text("LED GAP t=").decimal(atMs);
    return line;
}

}  // namespace tte::device
