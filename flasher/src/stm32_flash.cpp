// Flash model of the simulated STM32F405.
#include "tte/flasher/stm32_flash.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

namespace tte::flasher {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

Stm32Flash::Stm32Flash() : m_bytes(kSize, 0xFF) {
    auto layout = parseMemoryLayout(kStm32F405FlashLayout);
    // The constant is ours and parses; a failure here is a programming error.
    if (!layout) throw std::logic_error(layout.error().message);
    m_layout = std::move(*layout);
}

bool Stm32Flash::contains(std::uint32_t address, std::size_t n) const {
    return address >= kBase && std::uint64_t{address} + n <= std::uint64_t{kBase} + kSize;
}

std::span<const std::uint8_t> Stm32Flash::read(std::uint32_t address, std::size_t n) const {
    if (address < kBase || address >= kBase + kSize) return {};
    const std::size_t offset = address - kBase;
    return std::span<const std::uint8_t>(m_bytes).subspan(offset, std::min<std::size_t>(n, kSize - offset));
}

int Stm32Flash::sectorOf(std::uint32_t address) const {
    const MemorySector* s = m_layout.sectorAt(address);
    return s ? s->index : -1;
}

void Stm32Flash::eraseSector(int sector) {
    if (sector < 0 || sector >= kSectors || writeProtected(sector)) return;
    const MemorySector& s = m_layout.sectors[static_cast<std::size_t>(sector)];
    std::fill_n(m_bytes.begin() + (s.address - kBase), s.size, std::uint8_t{0xFF});
}

void Stm32Flash::massErase() {
    for (int i = 0; i < kSectors; ++i) eraseSector(i);
}

bool Stm32Flash::program(std::uint32_t address, std::span<const std::uint8_t> data) {
    if (!contains(address, data.size())) return false;
    if (!data.empty()) {
        const int first = sectorOf(address);
        const int last = sectorOf(static_cast<std::uint32_t>(address + data.size() - 1));
        for (int i = first; i <= last; ++i) {
            if (writeProtected(i)) return false;
        }
    }
    std::uint8_t* dst = m_bytes.data() + (address - kBase);
    for (std::size_t i = 0; i < data.size(); ++i) dst[i] &= data[i];  // NOR flash: 1 -> 0 only
    return true;
}

void Stm32Flash::eraseForRdpRegression() { std::fill(m_bytes.begin(), m_bytes.end(), std::uint8_t{0xFF}); }

void Stm32Flash::setWriteProtected(int sector, bool on) {
    if (sector < 0 || sector >= kSectors) return;
    const auto bit = static_cast<std::uint16_t>(1U << sector);
    const std::uint16_t mask = writeProtectMask();
    setWriteProtectMask(on ? static_cast<std::uint16_t>(mask | bit) : static_cast<std::uint16_t>(mask & ~bit));
}

std::vector<std::uint8_t> Stm32Flash::readMapped(std::uint32_t address, std::size_t n) const {
    if (contains(address, 1)) {
        auto bytes = read(address, n);
        return {bytes.begin(), bytes.end()};
    }
    if (address >= kOptionBytesAddress && address < kOptionBytesAddress + kOptionBytesSize) {
        const std::size_t at = address - kOptionBytesAddress;
        const std::size_t count = std::min(n, kOptionBytesSize - at);
        return {m_options.raw.begin() + static_cast<std::ptrdiff_t>(at),
                m_options.raw.begin() + static_cast<std::ptrdiff_t>(at + count)};
    }
    if (address >= kOtpAddress && address < kSystemPageEnd) {
        // OTP data and lock bytes are never programmed here: erased (0xFF).
        std::vector<std::uint8_t> page(kSystemPageEnd - kOtpAddress, 0xFF);
        const auto uid = m_uid.bytes();
        std::copy(uid.begin(), uid.end(), page.begin() + (kUidAddress - kOtpAddress));
        page[kFlashSizeAddress - kOtpAddress] = static_cast<std::uint8_t>(kSize / 1024);
        page[kFlashSizeAddress - kOtpAddress + 1] = static_cast<std::uint8_t>((kSize / 1024) >> 8);
        const std::size_t at = address - kOtpAddress;
        const std::size_t count = std::min(n, page.size() - at);
        return {page.begin() + static_cast<std::ptrdiff_t>(at), page.begin() + static_cast<std::ptrdiff_t>(at + count)};
    }
    return {};
}

nanoseconds Stm32Flash::eraseTime(std::uint32_t sectorSize, FlashTiming timing) {
    const bool typ = timing == FlashTiming::typical;
    if (sectorSize <= 16 * 1024) return typ ? milliseconds(250) : milliseconds(500);
    if (sectorSize <= 64 * 1024) return typ ? milliseconds(550) : milliseconds(1100);
    return typ ? milliseconds(1000) : milliseconds(2000);
}

nanoseconds Stm32Flash::massEraseTime(FlashTiming timing) {
    return timing == FlashTiming::typical ? milliseconds(8000) : milliseconds(16000);
}

nanoseconds Stm32Flash::programTime(std::size_t bytes, FlashTiming timing) {
    const auto words = static_cast<std::int64_t>((bytes + 3) / 4);
    return words * (timing == FlashTiming::typical ? microseconds(16) : microseconds(100));
}

Status Stm32Flash::saveImage(const std::filesystem::path& path) const {
    const auto tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(m_bytes.data()), static_cast<std::streamsize>(m_bytes.size()));
        out.flush();
        if (!out) return fail(Errc::io, "cannot write flash image " + tmp + ": " + std::strerror(errno));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return fail(Errc::io, "cannot rename " + tmp + " to " + path.string() + ": " + ec.message());
    return {};
}

Status Stm32Flash::loadImage(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Errc::io, "cannot open flash image " + path.string() + ": " + std::strerror(errno));
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() != kSize) {
        return fail(Errc::invalidArgument, "flash image " + path.string() + " has " + std::to_string(bytes.size()) +
                                               " bytes, expected " + std::to_string(kSize));
    }
    m_bytes = std::move(bytes);
    return {};
}

}  // namespace tte::flasher
