// Secret bytes (keys, OTPs, PINs): zeroized on destruction, never printed.
#pragma once

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tte {

/// Overwrites memory in a way the optimizer may not remove.
void secureZero(void* data, std::size_t size);

/// Owns secret bytes. Move-only; the buffer is zeroized when it is destroyed or reassigned.
/// Streams and formats as `***`, so a secret in a log line shows as that.
class Secret {
public:
    Secret() = default;
    explicit Secret(std::span<const std::uint8_t> bytes) : m_bytes(bytes.begin(), bytes.end()) {}
    explicit Secret(std::string_view text) : m_bytes(text.begin(), text.end()) {}
    explicit Secret(std::size_t size) : m_bytes(size) {}
    ~Secret() { clear(); }

    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    Secret(Secret&& other) noexcept : m_bytes(std::move(other.m_bytes)) { other.m_bytes.clear(); }
    Secret& operator=(Secret&& other) noexcept {
        if (this != &other) {
            clear();
            m_bytes = std::move(other.m_bytes);
            other.m_bytes.clear();
        }
        return *this;
    }

    /// A deliberate copy; the name makes every copy of a secret visible in review.
    [[nodiscard]] Secret clone() const { return Secret(std::span<const std::uint8_t>(m_bytes)); }

    [[nodiscard]] std::span<const std::uint8_t> bytes() const { return m_bytes; }
    [[nodiscard]] std::span<std::uint8_t> mutableBytes() { return m_bytes; }
    /// The bytes as text (for PINs); the view dies with this Secret.
    [[nodiscard]] std::string_view view() const {
        return {reinterpret_cast<const char*>(m_bytes.data()), m_bytes.size()};
    }
    [[nodiscard]] std::size_t size() const { return m_bytes.size(); }
    [[nodiscard]] bool empty() const { return m_bytes.empty(); }

    void clear() {
        if (!m_bytes.empty()) secureZero(m_bytes.data(), m_bytes.size());
        m_bytes.clear();
    }

    friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "***"; }

private:
    std::vector<std::uint8_t> m_bytes;
};

/// Constant-time equality of two byte strings of the same length (false if lengths differ;
/// the length itself is not secret).
bool constantTimeEqual(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

}  // namespace tte
