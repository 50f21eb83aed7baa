// Flasher: erase touched sectors, download, verify by read-back, leave.
#include "tte/flasher/flasher.h"

#include <zlib.h>

#include <algorithm>

#include "tte/base/hex.h"

namespace tte::flasher {
namespace {

std::string hex32(std::uint64_t v) { return "0x" + toHex(v, 8); }

void report(const ProgressCallback& cb, Phase phase, std::uint64_t done, std::uint64_t total) {
    if (cb) cb(Progress{phase, done, total});
}

}  // namespace

std::uint32_t crc32(std::span<const std::uint8_t> bytes) {
    uLong crc = ::crc32(0L, Z_NULL, 0);
    std::size_t at = 0;
    while (at < bytes.size()) {  // zlib takes uInt lengths
        const auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size() - at, 1U << 30));
        crc = ::crc32(crc, bytes.data() + at, n);
        at += n;
    }
    return static_cast<std::uint32_t>(crc);
}

std::string_view phaseName(Phase phase) {
    switch (phase) {
    case Phase::erase: return "erase";
    case Phase::download: return "download";
    case Phase::verify: return "verify";
    case Phase::read: return "read";
    case Phase::leave: return "leave";
    case Phase::lock: return "lock";
    }
    return "?";
}

Result<FlashTarget> openMemory(DfuTransport& transport, std::string_view name) {
    auto alts = transport.altSettings();
    if (!alts) return withContext(alts.error(), "reading the DFU interface");
    for (const auto& alt : *alts) {
        auto layout = parseMemoryLayout(alt.name);
        if (!layout || layout->name != name) continue;
        auto functional = transport.functional();
        if (!functional) return withContext(functional.error(), "reading the DFU functional descriptor");
        if (functional->transferSize == 0) return fail(Errc::invalidArgument, "the device reports wTransferSize 0");
        if (auto st = transport.claim(alt.interfaceNumber, alt.altSetting); !st) {
            return withContext(st.error(), "claiming the DFU interface");
        }
        return FlashTarget{alt, std::move(*layout), functional->transferSize};
    }
    return fail(Errc::notFound,
                "the device has no \"" + std::string(name) + "\" DfuSe memory (is it an STM32 in DFU mode?)");
}

Result<FlashTarget> openFlashTarget(DfuTransport& transport) { return openMemory(transport, "Internal Flash"); }

Result<std::vector<MemorySector>> sectorsToErase(const MemoryLayout& layout, std::span<const Segment> segments,
                                                 std::span<const std::pair<std::uint32_t, std::uint32_t>> alsoErase) {
    if (segments.empty() && alsoErase.empty()) return fail(Errc::invalidArgument, "nothing to write");
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;  // [begin, end)
    std::vector<MemorySector> sectors;
    auto add = [&](std::uint32_t address, std::uint64_t length) -> Status {
        auto touched = layout.sectorsFor(address, length);
        if (!touched) return std::unexpected(touched.error());
        sectors.insert(sectors.end(), touched->begin(), touched->end());
        return {};
    };
    for (const auto& s : segments) {
        if (s.bytes.empty()) return fail(Errc::invalidArgument, "segment at " + hex32(s.address) + " is empty");
        ranges.emplace_back(s.address, std::uint64_t{s.address} + s.bytes.size());
        if (auto st = add(s.address, s.bytes.size()); !st) return withContext(st.error(), "segment at " + hex32(s.address));
    }
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i) {
        if (ranges[i].first < ranges[i - 1].second) {
            return fail(Errc::invalidArgument,
                        "segments at " + hex32(ranges[i - 1].first) + " and " + hex32(ranges[i].first) + " overlap");
        }
    }
    for (const auto& [address, length] : alsoErase) {
        if (auto st = add(address, length); !st) return withContext(st.error(), "erase range at " + hex32(address));
    }
    std::sort(sectors.begin(), sectors.end(), [](const auto& a, const auto& b) { return a.address < b.address; });
    sectors.erase(std::unique(sectors.begin(), sectors.end(),
                              [](const auto& a, const auto& b) { return a.address == b.address; }),
                  sectors.end());
    return sectors;
}

Result<WriteReport> Flasher::write(DfuTransport& transport, std::span<const Segment> segments,
                                   const WriteOptions& options, const ProgressCallback& progress) {
    const auto start = m_clock.now();
    auto target = openFlashTarget(transport);
    if (!target) return std::unexpected(target.error());
    auto sectors = sectorsToErase(target->layout, segments, options.alsoErase);
    if (!sectors) return std::unexpected(sectors.error());
    DfuseSession session(transport, m_clock, target->alt.interfaceNumber, target->transferSize, m_timeouts);
    if (auto st = session.ensureIdle(); !st) return withContext(st.error(), "preparing the device");

    WriteReport out;
    for (std::size_t i = 0; i < sectors->size(); ++i) {
        report(progress, Phase::erase, i, sectors->size());
        if (auto st = session.eraseSector((*sectors)[i].address); !st) return std::unexpected(st.error());
        out.erasedSectors.push_back((*sectors)[i].index);
    }
    report(progress, Phase::erase, sectors->size(), sectors->size());

    std::uint64_t total = 0;
    for (const auto& s : segments) total += s.bytes.size();
    const std::size_t block = target->transferSize;
    for (const auto& s : segments) {
        if (auto st = session.setAddress(s.address); !st) return std::unexpected(st.error());
        for (std::size_t off = 0, n = 0; off < s.bytes.size(); off += block, ++n) {
            report(progress, Phase::download, out.bytesWritten, total);
            const auto chunk = std::span<const std::uint8_t>(s.bytes).subspan(off, std::min(block, s.bytes.size() - off));
            if (auto st = session.download(static_cast<std::uint16_t>(n + 2), chunk); !st) {
                return withContext(st.error(), "writing " + hex32(s.address + off));
            }
            out.bytesWritten += chunk.size();
        }
    }
    report(progress, Phase::download, out.bytesWritten, total);
    if (options.verify) {
        if (auto st = verify(session, *target, segments, progress, &out); !st) return std::unexpected(st.error());
    }
    if (options.leave) {
        report(progress, Phase::leave, 0, 1);
        const std::uint32_t at = options.leaveAddress.value_or(target->layout.sectors.front().address);
        if (auto st = session.leave(at); !st) return withContext(st.error(), "leaving DFU mode");
        out.left = true;
        report(progress, Phase::leave, 1, 1);
    }
    out.elapsed = m_clock.now() - start;
    return out;
}

Status Flasher::verify(DfuseSession& session, const FlashTarget& target, std::span<const Segment> segments,
                       const ProgressCallback& progress, WriteReport* out) {
    std::uint64_t total = 0;
    std::uint64_t done = 0;
    for (const auto& s : segments) total += s.bytes.size();
    for (const auto& s : segments) {
        const auto size = static_cast<std::uint32_t>(s.bytes.size());
        auto back = readWith(session, s.address, size, progress, Phase::verify, &done, total);
        if (!back) return withContext(back.error(), "verifying " + hex32(s.address));
        const std::uint32_t want = crc32(s.bytes);
        const std::uint32_t got = crc32(*back);
        if (got != want || *back != s.bytes) {
            const auto diff = std::mismatch(back->begin(), back->end(), s.bytes.begin());
            const auto at = s.address + static_cast<std::uint32_t>(diff.first - back->begin());
            const MemorySector* sector = target.layout.sectorAt(at);
            return fail(Errc::corrupt, "verify failed: read-back of " + std::to_string(size) + " bytes at " +
                                           hex32(s.address) + " has CRC-32 " + hex32(got) + ", written " +
                                           hex32(want) + "; first difference at " + hex32(at) + " (sector " +
                                           std::to_string(sector ? sector->index : -1) +
                                           ", write-protected or faulty flash)");
        }
        out->verified.push_back({s.address, size, got});
    }
    return {};
}

Result<std::vector<std::uint8_t>> Flasher::readWith(DfuseSession& session, std::uint32_t address,
                                                    std::uint32_t length, const ProgressCallback& progress,
                                                    Phase phase, std::uint64_t* done, std::uint64_t total) {
    if (auto st = session.setAddress(address); !st) return std::unexpected(st.error());
    if (auto st = session.abort(); !st) return std::unexpected(st.error());  // upload starts from dfuIDLE
    std::vector<std::uint8_t> bytes(length);
    const std::size_t block = session.transferSize();
    for (std::size_t off = 0, n = 0; off < length; off += block, ++n) {
        report(progress, phase, *done, total);
        const auto want = std::min<std::size_t>(block, length - off);
        auto got = session.upload(static_cast<std::uint16_t>(n + 2), std::span(bytes).subspan(off, want));
        if (!got) return withContext(got.error(), "reading " + hex32(address + off));
        if (*got != want) {
            return fail(Errc::io, "reading " + hex32(address + off) + ": device sent " + std::to_string(*got) +
                                      " of " + std::to_string(want) + " bytes");
        }
        *done += want;
    }
    report(progress, phase, *done, total);
    // A full last frame leaves the device in dfuUPLOAD-IDLE; return it to dfuIDLE.
    if (auto st = session.ensureIdle(); !st) return std::unexpected(st.error());
    return bytes;
}

Result<std::vector<std::uint8_t>> Flasher::read(DfuTransport& transport, std::uint32_t address, std::uint32_t length,
                                                const ProgressCallback& progress) {
    auto target = openFlashTarget(transport);
    if (!target) return std::unexpected(target.error());
    if (length == 0) return fail(Errc::invalidArgument, "nothing to read (length 0)");
    for (std::uint64_t at = address; at < std::uint64_t{address} + length;) {
        const MemorySector* s = at <= 0xFFFFFFFFULL ? target->layout.sectorAt(static_cast<std::uint32_t>(at)) : nullptr;
        if (!s) return fail(Errc::outOfRange, "address " + hex32(at) + " is outside " + target->layout.name);
        at = s->end();
    }
    DfuseSession session(transport, m_clock, target->alt.interfaceNumber, target->transferSize, m_timeouts);
    if (auto st = session.ensureIdle(); !st) return withContext(st.error(), "preparing the device");
    std::uint64_t done = 0;
    return readWith(session, address, length, progress, Phase::read, &done, length);
}

}  // namespace tte::flasher
