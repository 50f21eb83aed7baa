// The flash image file and its NVM sector.
#include "tte/device_host/flash_image.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tte/protocol/freestanding/block.h"

namespace tte::devicehost {
namespace {

constexpr std::size_t kBlockOffset = protocol::kBlockAddress - kFlashBase;
constexpr std::size_t kNvmOffset = protocol::kNvmAddress - kFlashBase;

}  // namespace

Result<FlashImage> FlashImage::open(const std::filesystem::path& file) {
    int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        return failNative(err == ENOENT ? Errc::notFound : Errc::io, file.string() + ": " + std::strerror(err), "errno", err);
    }
    std::vector<std::uint8_t> bytes(kFlashSize + 1);
    ssize_t n = ::pread(fd, bytes.data(), bytes.size(), 0);
    if (n < 0) {
        int err = errno;
        ::close(fd);
        return failNative(Errc::io, file.string() + ": " + std::strerror(err), "errno", err);
    }
    if (static_cast<std::size_t>(n) != kFlashSize) {
        ::close(fd);
        return fail(Errc::invalidArgument, file.string() + ": " + std::to_string(n) + " bytes, expected a 1 MiB flash image");
    }
    bytes.resize(kFlashSize);
    return FlashImage(file, std::move(bytes), fd);
}

FlashImage::~FlashImage() {
    if (m_fd >= 0) ::close(m_fd);
}

std::span<const std::uint8_t> FlashImage::block() const {
    return std::span<const std::uint8_t>(m_bytes).subspan(kBlockOffset, protocol::kBlockSize);
}

std::span<const std::uint8_t> FlashImage::contents() const {
    return std::span<const std::uint8_t>(m_bytes).subspan(kNvmOffset, protocol::kNvmSize);
}

device::NvmStatus FlashImage::program(std::size_t offset, std::span<const std::uint8_t> data) {
    if (offset > protocol::kNvmSize || data.size() > protocol::kNvmSize - offset) return device::NvmStatus::outOfRange;
    std::uint8_t* cell = m_bytes.data() + kNvmOffset + offset;
    for (std::size_t i = 0; i < data.size(); ++i) cell[i] &= data[i];  // NOR flash: programming only clears bits
    ssize_t n = ::pwrite(m_fd, cell, data.size(), static_cast<off_t>(kNvmOffset + offset));
    if (n != static_cast<ssize_t>(data.size()) || ::fsync(m_fd) != 0) return device::NvmStatus::failed;
    return std::memcmp(cell, data.data(), data.size()) == 0 ? device::NvmStatus::ok : device::NvmStatus::failed;
}

}  // namespace tte::devicehost
