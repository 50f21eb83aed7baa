// A device's whole flash as a 1 MiB image file (what the flasher simulator writes): the
// provisioning block in sector 2 and, as the firmware core's Nvm seam, the controller record
// log in sector 3 (docs/PROTOCOL.md §9), programmed with NOR semantics.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <utility>
#include <vector>

#include "tte/base/error.h"
#include "tte/device/enrollment.h"

namespace tte::devicehost {

inline constexpr std::uint32_t kFlashBase = 0x08000000;
inline constexpr std::size_t kFlashSize = 1024 * 1024;

/// The image file, read once; NVM writes go to the file at once (pwrite + fsync).
class FlashImage final : public device::Nvm {
public:
    /// Opens an image of exactly 1 MiB. Errors: notFound, invalidArgument
    /// "<file>: N bytes, expected a 1 MiB flash image", io.
    static Result<FlashImage> open(const std::filesystem::path& file);

    FlashImage(FlashImage&& other) noexcept
        : m_file(std::move(other.m_file)), m_bytes(std::move(other.m_bytes)), m_fd(std::exchange(other.m_fd, -1)) {}
    FlashImage& operator=(FlashImage&&) = delete;
    FlashImage(const FlashImage&) = delete;
    ~FlashImage();

    /// The 2048 bytes of the provisioning block (sector 2).
    [[nodiscard]] std::span<const std::uint8_t> block() const;

    // device::Nvm: sector 3.
    std::span<const std::uint8_t> contents() const override;
    device::NvmStatus program(std::size_t offset, std::span<const std::uint8_t> data) override;

private:
    FlashImage(std::filesystem::path file, std::vector<std::uint8_t> bytes, int fd)
        : m_file(std::move(file)), m_bytes(std::move(bytes)), m_fd(fd) {}
    std::filesystem::path m_file;
    std::vector<std::uint8_t> m_bytes;
    int m_fd = -1;
};

}  // namespace tte::devicehost
