// A tiny bounds-checked CBOR reader and writer (RFC 8949) for the device's two documents.
#include "tte/device/cbor.h"

#include <cstring>
#include <string_view>

namespace tte::device {
namespace {

constexpr unsigned kMaxSkipDepth = 4;

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
    bool text(std::string_view& out) {
        unsigned major = 0;
        std::uint64_t length = 0;
        if (!head(major, length) || major != 3 || length > remaining()) {
            return false;
        }
        out = {reinterpret_cast<const char*>(m_data.data() + m_pos), static_cast<std::size_t>(length)};
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

bool isIpv4(std::string_view s) {
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
bool isIpv6(std::string_view s) {
    if (s.size() < 2 || s.size() > 45 || s.find(':') == std::string_view::npos) {
        return false;
    }
    unsigned colons = 0;
    std::size_t groupLength = 0;
    for (char c : s) {
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

AnswerError readField(Reader& reader, std::string_view key, protocol::ControllerRecord& out, unsigned& seen) {
    if (key == "cip") {
        std::string_view ip;
        if (!reader.text(ip)) {
            return AnswerError::badIp;
        }
        if (ip.size() >= sizeof out.address || !(isIpv4(ip) || isIpv6(ip))) {
            return AnswerError::badIp;
        }
        std::memset(out.address, 0, sizeof out.address);
        std::memcpy(out.address, ip.data(), ip.size());
        seen |= 1u;
    } else if (key == "cport") {
        unsigned major = 0;
        std::uint64_t port = 0;
        if (!reader.head(major, port) || major != 0 || port == 0 || port > 65535) {
            return AnswerError::badPort;
        }
        out.port = static_cast<std::uint16_t>(port);
        seen |= 2u;
    } else if (key == "cfingerprint") {
        std::string_view hex;
        if (!reader.text(hex) || hex.size() != 2 * sizeof out.fingerprint) {
            return AnswerError::badFingerprint;
        }
        for (std::size_t i = 0; i < sizeof out.fingerprint; ++i) {
            if (!isHexDigit(hex[2 * i]) || !isHexDigit(hex[2 * i + 1])) {
                return AnswerError::badFingerprint;
            }
            out.fingerprint[i] = static_cast<std::uint8_t>((hexValue(hex[2 * i]) << 4) | hexValue(hex[2 * i + 1]));
        }
        seen |= 4u;
    } else if (!reader.skip(0)) {
        return AnswerError::malformed;
    }
    return AnswerError::ok;
}

unsigned keyBit(std::string_view key) {
    if (key == "cip") {
        return 1u;
    }
    if (key == "cport") {
        return 2u;
    }
    return key == "cfingerprint" ? 4u : 0u;
}

}  // namespace

const char* answerErrorName(AnswerError error) {
    switch (error) {
    case AnswerError::ok: return "ok";
    case AnswerError::malformed: return "malformed";
    case AnswerError::notMap: return "not-map";
    case AnswerError::keyNotText: return "key-not-text";
    case AnswerError::duplicateKey: return "duplicate-key";
    case AnswerError::missingKey: return "missing-key";
    case AnswerError::badIp: return "bad-ip";
    case AnswerError::badPort: return "bad-port";
    case AnswerError::badFingerprint: return "bad-fingerprint";
    case AnswerError::trailingBytes: return "trailing-bytes";
    }
    return "unknown";
}

AnswerError parseControllerAnswer(std::span<const std::uint8_t> cbor, protocol::ControllerRecord& out) {
    Reader reader(cbor);
    unsigned major = 0;
    std::uint64_t pairs = 0;
    if (!reader.head(major, pairs)) {
        return AnswerError::malformed;
    }
    if (major != 5) {
        return AnswerError::notMap;
    }
    if (pairs > reader.remaining() / 2) {
        return AnswerError::malformed;
    }
    protocol::ControllerRecord result = out;
    unsigned seen = 0;
    for (std::uint64_t i = 0; i < pairs; ++i) {
        std::string_view key;
        unsigned keyMajor = 0;
        std::uint64_t ignored = 0;
        Reader probe = reader;
        if (!probe.head(keyMajor, ignored)) {
            return AnswerError::malformed;
        }
        if (keyMajor != 3) {
            return AnswerError::keyNotText;
        }
        if (!reader.text(key)) {
            return AnswerError::malformed;
        }
        if ((seen & keyBit(key)) != 0) {
            return AnswerError::duplicateKey;
        }
        if (const AnswerError error = readField(reader, key, result, seen); error != AnswerError::ok) {
            return error;
        }
    }
    if (reader.remaining() != 0) {
        return AnswerError::trailingBytes;
    }
    if (seen != 7u) {
        return AnswerError::missingKey;
    }
    out = result;
    return AnswerError::ok;
}

std::size_t encodeCheckinRequest(const char* urn, std::span<std::uint8_t> out) {
    const std::size_t length = std::strlen(urn);
    const std::size_t size = 1 + 4 + (length < 24 ? 1 : 2) + length;  // map(1), "urn", text head, URN
    if (length > protocol::kMaxDevUrnLength || out.size() < size) {
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

}  // namespace tte::device
