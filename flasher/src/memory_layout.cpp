// Parser of DfuSe memory layout strings and sector look-up.
#include "tte/flasher/memory_layout.h"

#include <cctype>
#include <charconv>

#include "tte/base/hex.h"

namespace tte::flasher {
namespace {

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    return std::string(s);
}

std::unexpected<Error> bad(std::string_view text, std::string why) {
    return fail(Errc::invalidArgument, "memory layout \"" + std::string(text) + "\": " + why);
}

// One run "04*016Kg" appended to `layout` from `*address` on.
Status parseRun(std::string_view text, std::string_view run, std::uint64_t* address, MemoryLayout* layout) {
    const auto star = run.find('*');
    if (star == std::string_view::npos || star == 0) return bad(text, "run \"" + std::string(run) + "\" is not COUNT*SIZE");
    unsigned count = 0;
    auto [p1, e1] = std::from_chars(run.data(), run.data() + star, count);
    if (e1 != std::errc{} || p1 != run.data() + star || count == 0) {
        return bad(text, "bad sector count in \"" + std::string(run) + "\"");
    }
    std::string_view rest = run.substr(star + 1);
    std::uint64_t size = 0;
    auto [p2, e2] = std::from_chars(rest.data(), rest.data() + rest.size(), size);
    if (e2 != std::errc{} || p2 == rest.data()) return bad(text, "bad sector size in \"" + std::string(run) + "\"");
    rest.remove_prefix(static_cast<std::size_t>(p2 - rest.data()));
    if (rest.size() != 2) return bad(text, "run \"" + std::string(run) + "\" needs a unit and a type letter");
    if (rest[0] == 'K') {
        size *= 1024;
    } else if (rest[0] == 'M') {
        size *= 1024 * 1024;
    } else if (rest[0] != ' ' && rest[0] != 'B') {
        return bad(text, std::string("unknown unit '") + rest[0] + "'");
    }
    if (rest[1] < 'a' || rest[1] > 'g') return bad(text, std::string("unknown memory type '") + rest[1] + "'");
    if (size == 0) return bad(text, "sector size 0 in \"" + std::string(run) + "\"");
    for (unsigned i = 0; i < count; ++i) {
        if (*address + size > 0x100000000ULL) return bad(text, "memory runs past 4 GiB");
        MemorySector s;
        s.address = static_cast<std::uint32_t>(*address);
        s.size = static_cast<std::uint32_t>(size);
        s.type = static_cast<std::uint8_t>(rest[1] - 'a' + 1);
        s.index = static_cast<int>(layout->sectors.size());
        layout->sectors.push_back(s);
        *address += size;
    }
    return {};
}

}  // namespace

Result<MemoryLayout> parseMemoryLayout(std::string_view text) {
    if (text.empty() || text[0] != '@') return bad(text, "does not start with '@'");
    std::string_view body = text.substr(1);
    const auto slash = body.find('/');
    if (slash == std::string_view::npos) return bad(text, "no '/' after the name");
    MemoryLayout layout;
    layout.name = trim(body.substr(0, slash));
    body.remove_prefix(slash + 1);
    // One or more "ADDRESS/RUN,RUN" groups separated by '/'.
    while (!body.empty()) {
        const auto s2 = body.find('/');
        if (s2 == std::string_view::npos) return bad(text, "no '/' after the start address");
        std::string addressText = trim(body.substr(0, s2));
        if (addressText.size() < 3 || addressText.size() > 10 || addressText[0] != '0' ||
            (addressText[1] != 'x' && addressText[1] != 'X')) {
            return bad(text, "start address \"" + addressText + "\" is not 0x-hex");
        }
        auto address = parseHexInt(std::string_view(addressText).substr(2), static_cast<int>(addressText.size() - 2),
                                   "start address");
        if (!address) return bad(text, "start address \"" + addressText + "\" is not 0x-hex");
        body.remove_prefix(s2 + 1);
        const auto next = body.find('/');
        std::string_view runs = body.substr(0, next);
        body = next == std::string_view::npos ? std::string_view{} : body.substr(next + 1);
        std::uint64_t at = *address;
        while (!runs.empty()) {
            const auto comma = runs.find(',');
            std::string_view run = runs.substr(0, comma);
            if (auto st = parseRun(text, run, &at, &layout); !st) return std::unexpected(st.error());
            runs = comma == std::string_view::npos ? std::string_view{} : runs.substr(comma + 1);
        }
    }
    if (layout.sectors.empty()) return bad(text, "no sectors");
    return layout;
}

const MemorySector* MemoryLayout::sectorAt(std::uint32_t address) const {
    for (const auto& s : sectors) {
        if (address >= s.address && address < s.end()) return &s;
    }
    return nullptr;
}

Result<std::vector<MemorySector>> MemoryLayout::sectorsFor(std::uint32_t address, std::uint64_t length) const {
    std::vector<MemorySector> out;
    std::uint64_t at = address;
    const std::uint64_t end = std::uint64_t{address} + length;
    while (at < end) {
        const MemorySector* s = at <= 0xFFFFFFFFULL ? sectorAt(static_cast<std::uint32_t>(at)) : nullptr;
        if (s == nullptr) {
            return fail(Errc::outOfRange, "address 0x" + toHex(at, 8) + " is outside " + name);
        }
        if (!s->writable() || !s->erasable()) {
            return fail(Errc::permissionDenied, name + " sector " + std::to_string(s->index) + " at 0x" +
                                                    toHex(s->address, 8) + " is not writable");
        }
        out.push_back(*s);
        at = s->end();
    }
    return out;
}

}  // namespace tte::flasher
