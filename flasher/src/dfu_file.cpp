// DfuSe file reader and writer (UM0391) with the DFU 1.1 suffix.
#include "tte/flasher/dfu_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "tte/base/hex.h"
#include "tte/flasher/flasher.h"

namespace tte::flasher {
namespace {

constexpr std::size_t kPrefixSize = 11;
constexpr std::size_t kSuffixSize = 16;
constexpr std::size_t kTargetPrefixSize = 274;
constexpr std::size_t kElementHeaderSize = 8;
constexpr std::uint16_t kBcdDfuSe = 0x011A;

std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t get32(const std::uint8_t* p) {
    return p[0] | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24);
}
void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
    v.push_back(static_cast<std::uint8_t>(x));
    v.push_back(static_cast<std::uint8_t>(x >> 8));
}
void put32(std::vector<std::uint8_t>& v, std::uint32_t x) {
    for (int i = 0; i < 4; ++i) v.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
}
std::string hex32(std::uint64_t v) { return "0x" + toHex(v, 8); }
std::string hex16(std::uint16_t v) { return "0x" + toHex(v, 4); }

std::unexpected<Error> bad(std::string why) { return fail(Errc::invalidArgument, "DfuSe file: " + why); }

Status checkElements(const DfuTarget& t) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (const auto& e : t.elements) ranges.emplace_back(e.address, std::uint64_t{e.address} + e.bytes.size());
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i) {
        if (ranges[i].first < ranges[i - 1].second) {
            return bad("target " + std::to_string(t.altSetting) + ": elements at " + hex32(ranges[i - 1].first) +
                       " and " + hex32(ranges[i].first) + " overlap");
        }
    }
    return {};
}

// Parses one target at `*at`; advances `*at` past it.
Result<DfuTarget> parseTarget(std::span<const std::uint8_t> body, std::size_t* at, std::size_t index) {
    const std::string which = "target " + std::to_string(index);
    if (body.size() - *at < kTargetPrefixSize) return bad(which + " is truncated");
    const std::uint8_t* p = body.data() + *at;
    if (std::memcmp(p, "Target", 6) != 0) return bad(which + " has no \"Target\" signature");
    DfuTarget t;
    t.altSetting = p[6];
    if (get32(p + 7) != 0) t.name = std::string(reinterpret_cast<const char*>(p + 11), strnlen(reinterpret_cast<const char*>(p + 11), 255));
    const std::uint32_t targetSize = get32(p + 266);
    const std::uint32_t elements = get32(p + 270);
    *at += kTargetPrefixSize;
    if (targetSize > body.size() - *at) {
        return bad(which + " says " + std::to_string(targetSize) + " bytes, only " + std::to_string(body.size() - *at) +
                   " remain");
    }
    const std::size_t end = *at + targetSize;
    for (std::uint32_t e = 0; e < elements; ++e) {
        if (end - *at < kElementHeaderSize) {
            return bad(which + " says " + std::to_string(elements) + " elements, holds " + std::to_string(e));
        }
        const std::uint32_t address = get32(body.data() + *at);
        const std::uint32_t size = get32(body.data() + *at + 4);
        *at += kElementHeaderSize;
        if (size > end - *at) {
            return bad(which + " element " + std::to_string(e) + " at " + hex32(address) + " (" + std::to_string(size) +
                       " bytes) runs past the target's end");
        }
        if (size == 0) return bad(which + " element " + std::to_string(e) + " at " + hex32(address) + " is empty");
        t.elements.push_back({address, {body.begin() + static_cast<std::ptrdiff_t>(*at),
                                        body.begin() + static_cast<std::ptrdiff_t>(*at + size)}});
        *at += size;
    }
    if (*at != end) {
        return bad(which + " says " + std::to_string(targetSize) + " bytes, its elements hold " +
                   std::to_string(targetSize - (end - *at)));
    }
    if (auto st = checkElements(t); !st) return std::unexpected(st.error());
    return t;
}

}  // namespace

std::uint32_t dfuSuffixCrc(std::span<const std::uint8_t> bytes) { return ~crc32(bytes); }

Result<DfuFile> parseDfuFile(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < kPrefixSize + kSuffixSize) {
        return bad("truncated: " + std::to_string(bytes.size()) + " bytes, smaller than a prefix and a suffix");
    }
    const std::uint8_t* suffix = bytes.data() + bytes.size() - kSuffixSize;
    if (std::memcmp(suffix + 8, "UFD", 3) != 0) return bad("no DFU suffix (\"UFD\" signature missing)");
    if (suffix[11] != kSuffixSize) return bad("DFU suffix length " + std::to_string(suffix[11]) + ", expected 16");
    const std::uint32_t stored = get32(suffix + 12);
    const std::uint32_t computed = dfuSuffixCrc(bytes.first(bytes.size() - 4));
    if (stored != computed) {
        return fail(Errc::corrupt, "DfuSe file: CRC mismatch: suffix says " + hex32(stored) + ", content gives " +
                                       hex32(computed) + " (file damaged or truncated)");
    }
    DfuFile file;
    file.bcdDevice = get16(suffix);
    file.productId = get16(suffix + 2);
    file.vendorId = get16(suffix + 4);
    if (const auto bcd = get16(suffix + 6); bcd != kBcdDfuSe) {
        return fail(Errc::unsupported, "DfuSe file: bcdDFU " + hex16(bcd) + " is not DfuSe (0x011a): a plain DFU image, "
                                       "use tte-flash pack to make a DfuSe file");
    }
    if (bytes[0] == 0x01 && bytes[1] == 0x00 && std::memcmp(bytes.data(), "DfuSe", 5) != 0) {
        return fail(Errc::unsupported, "DfuSe file: has a TI Stellaris (LMDFU) prefix, not a DfuSe prefix");
    }
    if (std::memcmp(bytes.data(), "DfuSe", 5) != 0) return bad("no \"DfuSe\" prefix");
    if (bytes[5] != 0x01) return bad("prefix version " + std::to_string(bytes[5]) + ", expected 1");
    // UM0391: DFUImageSize is the length of the whole file, suffix included.
    const std::size_t imageSize = get32(bytes.data() + 6);
    if (imageSize != bytes.size()) {
        return bad("prefix says the file has " + std::to_string(imageSize) + " bytes, it has " +
                   std::to_string(bytes.size()));
    }
    const unsigned targets = bytes[10];
    if (targets == 0) return bad("prefix says 0 targets");
    const auto body = bytes.first(bytes.size() - kSuffixSize);
    std::size_t at = kPrefixSize;
    for (unsigned i = 0; i < targets; ++i) {
        if (at == body.size()) {
            return bad("prefix says " + std::to_string(targets) + " targets, file holds " + std::to_string(i));
        }
        auto t = parseTarget(body, &at, i);
        if (!t) return std::unexpected(t.error());
        file.targets.push_back(std::move(*t));
    }
    if (at != body.size()) {
        return bad("prefix says " + std::to_string(targets) + " targets, " + std::to_string(body.size() - at) +
                   " bytes follow the last one");
    }
    return file;
}

Result<std::vector<std::uint8_t>> serializeDfuFile(const DfuFile& file) {
    if (file.targets.empty() || file.targets.size() > 255) return bad("needs 1 to 255 targets");
    std::vector<std::uint8_t> out = {'D', 'f', 'u', 'S', 'e', 0x01, 0, 0, 0, 0,
                                     static_cast<std::uint8_t>(file.targets.size())};
    for (const auto& t : file.targets) {
        if (t.name.size() >= 255) return bad("target name longer than 254 bytes");
        if (t.elements.empty()) return bad("target " + std::to_string(t.altSetting) + " has no elements");
        for (const auto& e : t.elements) {
            if (e.bytes.empty()) return bad("element at " + hex32(e.address) + " is empty");
        }
        if (auto st = checkElements(t); !st) return std::unexpected(st.error());
        std::uint64_t size = 0;
        for (const auto& e : t.elements) size += kElementHeaderSize + e.bytes.size();
        if (size > 0xFFFFFFFFULL) return bad("target larger than 4 GiB");
        out.insert(out.end(), {'T', 'a', 'r', 'g', 'e', 't', t.altSetting});
        put32(out, t.name.empty() ? 0 : 1);
        std::vector<std::uint8_t> name(255, 0);
        std::copy(t.name.begin(), t.name.end(), name.begin());
        out.insert(out.end(), name.begin(), name.end());
        put32(out, static_cast<std::uint32_t>(size));
        put32(out, static_cast<std::uint32_t>(t.elements.size()));
        for (const auto& e : t.elements) {
            put32(out, e.address);
            put32(out, static_cast<std::uint32_t>(e.bytes.size()));
            out.insert(out.end(), e.bytes.begin(), e.bytes.end());
        }
    }
    const auto imageSize = static_cast<std::uint32_t>(out.size() + kSuffixSize);  // UM0391: whole file
    for (int i = 0; i < 4; ++i) out[6 + i] = static_cast<std::uint8_t>(imageSize >> (8 * i));
    put16(out, file.bcdDevice);
    put16(out, file.productId);
    put16(out, file.vendorId);
    put16(out, kBcdDfuSe);
    out.insert(out.end(), {'U', 'F', 'D', static_cast<std::uint8_t>(kSuffixSize)});
    put32(out, dfuSuffixCrc(out));
    return out;
}

DfuFile dfuFileForImage(std::uint32_t address, std::vector<std::uint8_t> image) {
    DfuFile f;
    f.targets.push_back(DfuTarget{0, "ST...", {Segment{address, std::move(image)}}});
    return f;
}

Result<std::vector<std::uint8_t>> readFileBytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Errc::io, "cannot open " + path.string() + ": " + std::strerror(errno));
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return fail(Errc::io, "cannot read " + path.string());
    return bytes;
}

Status writeFileBytes(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
    const auto tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return fail(Errc::io, "cannot create " + tmp + ": " + std::strerror(errno));
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) return fail(Errc::io, "cannot write " + tmp + ": " + std::strerror(errno));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return fail(Errc::io, "cannot rename " + tmp + " to " + path.string() + ": " + ec.message());
    return {};
}

}  // namespace tte::flasher
