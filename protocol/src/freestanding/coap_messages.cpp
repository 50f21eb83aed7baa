// A tiny bounds-checked CBOR reader and writer (RFC 8949) for the device's two documents.
// Freestanding: no library call but memcpy/memset (text is compared by hand, so no memcmp).
#include "tte/protocol/freestanding/coap_messages.h"

#include <cstring>

namespace tte::protocol {
namespace {

constexpr unsigned kMaxSkipDepth = 4;

/// A view of text in the input (std::string_view would bring memcmp and strlen along).
struct Text {
    const char* data = nullptr;
    std::size_t length = 0;
    [[nodiscard]] std::size_t size() const { return length; }
    char operator[](std::size_t i) const { return data[i]; }
    [[nodiscard]] bool contains(char c) const {
        for (std::size_t i = 0; i < length; ++i) {
            if (data[i] == c) {
                return true;
            }
        }
        return false;
    }
    /// Equal to the NUL-terminated `literal`.
    [[nodiscard]] bool is(const char* literal) const {
        std::size_t i = 0;
        for (; i < length; ++i) {
            if (literal[i] == '\0' || literal[i] != data[i]) {
                return false;
            }
        }
        return literal[i] == '\0';
    }
};

class Reader {
public:
    explicit Reader(std::span<const std::uint8_t> data) : m_data(data) {}

    [[nodiscard]] std::size_t remaining() const { return m_data.size() - m_pos; }

    /// Reads an item head: major type and argument. Rejects reserved and indefinite lengths.
    bool head(unsigned& major, std::uint64_t& value) {
        if (remaining() == 0) {
            return false;
        }
        const std::uint8_t initial = m_data[m_pos++];
        major = initial >> 5;
        const unsigned info = initial & 0x1F;
        if (info < 24) {
            value = info;
            return true;
        }
        if (info > 27) {
            return false;  // 28-30 reserved, 31 indefinite length
        }
        const std::size_t bytes = std::size_t{1} << (info - 24);
        if (remaining() < bytes) {
            return false;
        }
        value = 0;
        for (std::size_t i = 0; i < bytes; ++i) {
            value = (value << 8) | m_data[m_pos++];
        }
        return true;
    }

    /// Reads a text string of the given major type into a view of the input.
    bool text(Text& out) {
        unsigned major = 0;
        std::uint64_t length = 0;
        if (!head(major, length) || major != 3 || length > remaining()) {
            return false;
        }
        out = Text{reinterpret_cast<const char*>(m_data.data() + m_pos), static_cast<std::size_t>(length)};
        m_pos += static_cast<std::size_t>(length);
        return true;
    }

    /// Skips one well-formed item of any type.
    bool skip(unsigned depth) {
        unsigned major = 0;
        std::uint64_t value = 0;
        if (depth > kMaxSkipDepth || !head(major, value)) {
            return false;
        }
        switch (major) {
        case 2:
        case 3:
            if (value > remaining()) {
                return false;
            }
            m_pos += static_cast<std::size_t>(value);
            return true;
        case 4:
        case 5: {
            const std::uint64_t items = major == 5 ? value * 2 : value;
            if (value > remaining() || items > remaining()) {  // every item takes a byte at least
                return false;
            }
            for (std::uint64_t i = 0; i < items; ++i) {
                if (!skip(depth + 1)) {
                    return false;
                }
            }
            return true;
        }
        case 6:
            return skip(depth + 1);
        default:  // 0, 1 integers; 7 simple values and floats: the head is all
            return true;
        }
    }

private:
    std::span<const std::uint8_t> m_data;
    std::size_t m_pos = 0;
};

bool isHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::uint8_t hexValue(char c) {
    if (c <= '9') {
        return static_cast<std::uint8_t>(c - '0');
    }
    return static_cast<std::uint8_t>((c | 0x20) - 'a' + 10);
}

bool isIpv4(Text s) {
    unsigned parts = 0;
    std::size_t i = 0;
    while (i < s.size() && parts < 4) {
        unsigned value = 0;
        std::size_t digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            value = value * 10 + static_cast<unsigned>(s[i] - '0');
            ++digits;
            ++i;
        }
        if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && s[i - digits] == '0')) {
            return false;
        }
        ++parts;
        if (i < s.size()) {
            if (s[i] != '.' || parts == 4) {
                return false;
            }
            ++i;
            if (i == s.size()) {
                return false;
            }
        }
    }
    return parts == 4 && i == s.size();
}

// An IPv6 literal (RFC 4291 2.2), checked for its alphabet and shape; the transport's
// resolver is the final judge.
bool isIpv6(Text s) {
    if (s.size() < 2 || s.size() > 45 || !s.contains(':')) {
        return false;
    }
    unsigned colons = 0;
    std::size_t groupLength = 0;
    for (std::size_t k = 0; k < s.size(); ++k) {
        const char c = s[k];
        if (c == ':') {
            ++colons;
            groupLength = 0;
        } else if (isHexDigit(c) || c == '.') {
            if (++groupLength > 15) {  // an embedded IPv4 tail is at most 15 characters
                return false;
            }
        } else {
            return false;
        }
    }
    return colons >= 2 && colons <= 7;
}

ControllerAnswerError readField(Reader& reader, Text key, ControllerRecord& out, unsigned& seen) {
    if (Reader probe = reader; !probe.skip(0)) {
        return ControllerAnswerError::malformed;  // a truncated value is no bad field, it is no CBOR
    }
    if (key.is("cip")) {
        Text ip;
        if (!reader.text(ip)) {
            return ControllerAnswerError::badIp;
        }
        if (ip.size() >= sizeof out.address || !(isIpv4(ip) || isIpv6(ip))) {
            return ControllerAnswerError::badIp;
        }
        std::memset(out.address, 0, sizeof out.address);
        std::memcpy(out.address, ip.data, ip.size());
        seen |= 1u;
    } else if (key.is("cport")) {
        unsigned major = 0;
        std::uint64_t port = 0;
        if (!reader.head(major, port) || major != 0 || port == 0 || port > 65535) {
            return ControllerAnswerError::badPort;
        }
        out.port = static_cast<std::uint16_t>(port);
        seen |= 2u;
    } else if (key.is("cfingerprint")) {
        Text hex;
        if (!reader.text(hex) || hex.size() != 2 * sizeof out.fingerprint) {
            return ControllerAnswerError::badFingerprint;
        }
        for (std::size_t i = 0; i < sizeof out.fingerprint; ++i) {
            if (!isHexDigit(hex[2 * i]) || !isHexDigit(hex[2 * i + 1])) {
                return ControllerAnswerError::badFingerprint;
            }
            out.fingerprint[i] = static_cast<std::uint8_t>((hexValue(hex[2 * i]) << 4) | hexValue(hex[2 * i + 1]));
        }
        seen |= 4u;
    } else if (key.is("cpsk")) {
        Text hex;
        if (!reader.text(hex) || hex.size() != 2 * sizeof out.psk) {
            return ControllerAnswerError::badPsk;
        }
        bool allZero = true;
        for (std::size_t i = 0; i < sizeof out.psk; ++i) {
            if (!isHexDigit(hex[2 * i]) || !isHexDigit(hex[2 * i + 1])) {
                return ControllerAnswerError::badPsk;
            }
            out.psk[i] = static_cast<std::uint8_t>((hexValue(hex[2 * i]) << 4) | hexValue(hex[2 * i + 1]));
            allZero = allZero && out.psk[i] == 0;
        }
        if (allZero) {
            return ControllerAnswerError::badPsk;
        }
        out.flags |= kControllerFlagPsk;
        seen |= 8u;
    } else {
        (void)reader.skip(0);  // well-formed: checked above
    }
    return ControllerAnswerError::ok;
}

unsigned keyBit(Text key) {
    if (key.is("cip")) {
        return 1u;
    }
    if (key.is("cport")) {
        return 2u;
    }
    if (key.is("cpsk")) {
        return 8u;
    }
    return key.is("cfingerprint") ? 4u : 0u;
}

}  // namespace

const char* controllerAnswerErrorName(ControllerAnswerError error) {
    switch (error) {
    case ControllerAnswerError::ok: return "ok";
    case ControllerAnswerError::malformed: return "malformed";
    case ControllerAnswerError::notMap: return "not-map";
    case ControllerAnswerError::keyNotText: return "key-not-text";
    case ControllerAnswerError::duplicateKey: return "duplicate-key";
    case ControllerAnswerError::missingKey: return "missing-key";
    case ControllerAnswerError::badIp: return "bad-ip";
    case ControllerAnswerError::badPort: return "bad-port";
    case ControllerAnswerError::badFingerprint: return "bad-fingerprint";
    case ControllerAnswerError::trailingBytes: return "trailing-bytes";
    case ControllerAnswerError::badPsk: return "bad-psk";
    }
    return "unknown";
}

ControllerAnswerError parseControllerAnswer(std::span<const std::uint8_t> cbor, ControllerRecord& out) {
    Reader reader(cbor);
    unsigned major = 0;
    std::uint64_t pairs = 0;
    if (!reader.head(major, pairs)) {
        return ControllerAnswerError::malformed;
    }
    if (major != 5) {
        return ControllerAnswerError::notMap;
    }
    if (pairs > reader.remaining() / 2) {
        return ControllerAnswerError::malformed;
    }
    ControllerRecord result = out;
    result.flags = 0;
    for (auto& byte : result.psk) byte = 0;
    unsigned seen = 0;
    for (std::uint64_t i = 0; i < pairs; ++i) {
        Text key;
        unsigned keyMajor = 0;
        std::uint64_t ignored = 0;
        Reader probe = reader;
        if (!probe.head(keyMajor, ignored)) {
            return ControllerAnswerError::malformed;
        }
        if (keyMajor != 3) {
            return ControllerAnswerError::keyNotText;
        }
        if (!reader.text(key)) {
            return ControllerAnswerError::malformed;
        }
        if ((seen & keyBit(key)) != 0) {
            return ControllerAnswerError::duplicateKey;
        }
        if (const ControllerAnswerError error = readField(reader, key, result, seen); error != ControllerAnswerError::ok) {
            return error;
        }
    }
    if (reader.remaining() != 0) {
        return ControllerAnswerError::trailingBytes;
    }
    if ((seen & 7u) != 7u) {
        return ControllerAnswerError::missingKey;
    }
    out = result;
    return ControllerAnswerError::ok;
}

std::size_t encodeCheckin(const char* urn, std::span<std::uint8_t> out) {
    std::size_t length = 0;
    while (length <= kMaxDevUrnLength && urn[length] != '\0') ++length;
    const std::size_t size = 1 + 4 + (length < 24 ? 1 : 2) + length;  // map(1), "urn", text head, URN
    if (length > kMaxDevUrnLength || out.size() < size) {
        return 0;
    }
    std::size_t pos = 0;
    out[pos++] = 0xA1;  // map of 1 pair
    out[pos++] = 0x63;  // text(3)
    out[pos++] = 'u';
    out[pos++] = 'r';
    out[pos++] = 'n';
    if (length < 24) {
        out[pos++] = static_cast<std::uint8_t>(0x60 | length);
    } else {
        out[pos++] = 0x78;  // text, one length byte
        out[pos++] = static_cast<std::uint8_t>(length);
    }
    std::memcpy(out.data() + pos, urn, length);
    return pos + length;
}

}  // namespace tte::protocol
