// Controller record encode/decode and the newest-record scan (docs/PROTOCOL.md §9).
#include "tte/protocol/freestanding/controller_record.h"

#include <array>

#include "bytes.h"
#include "tte/protocol/freestanding/crc32.h"

namespace tte::protocol {
namespace {

constexpr std::size_t kOffSeq = 4, kOffPort = 8, kOffFlags = 10, kOffAddress = 12, kOffFp = 60;
constexpr std::size_t kOffPsk = 92, kOffCrc = 124;  // §9/§11: the PSK area was reserved (zero) before PSK mode
constexpr std::array<std::uint8_t, 4> kMagic = {'T', 'T', 'E', 'C'};

}  // namespace

const char* recordErrorName(RecordError error) {
    switch (error) {
    case RecordError::ok: return "ok";
    case RecordError::erased: return "erased";
    case RecordError::magic: return "magic";
    case RecordError::crc: return "crc";
    case RecordError::field: return "field";
    case RecordError::size: return "size";
    }
    return "unknown";
}

const char* checkControllerRecordFields(const ControllerRecord& r) {
    if (r.port == 0) return "port";
    if ((r.flags & ~kControllerFlagPsk) != 0) return "flags";
    if (detail::textFieldLength(r.address) == 0) return "address";
    if (detail::allEqual(r.fingerprint, 0)) return "fingerprint";
    if (detail::allEqual(r.psk, 0) == ((r.flags & kControllerFlagPsk) != 0)) return "psk";
    return nullptr;
}

RecordError encodeControllerRecord(const ControllerRecord& r, std::span<std::uint8_t, kControllerRecordSize> out,
                                   const char*& field) {
    field = checkControllerRecordFields(r);
    if (field != nullptr) return RecordError::field;
    std::span<std::uint8_t> o(out);
    for (auto& b : o) b = 0;
    for (std::size_t i = 0; i < kMagic.size(); ++i) o[i] = kMagic[i];
    detail::storeLe(o.subspan(kOffSeq), 4, r.sequence);
    detail::storeLe(o.subspan(kOffPort), 2, r.port);
    detail::storeLe(o.subspan(kOffFlags), 2, r.flags);
    for (std::size_t i = 0; i < sizeof(r.address); ++i) o[kOffAddress + i] = static_cast<std::uint8_t>(r.address[i]);
    for (std::size_t i = 0; i < sizeof(r.fingerprint); ++i) o[kOffFp + i] = r.fingerprint[i];
    for (std::size_t i = 0; i < sizeof(r.psk); ++i) o[kOffPsk + i] = r.psk[i];
    detail::storeLe(o.subspan(kOffCrc), 4, crc32(o.first(kOffCrc)));
    return RecordError::ok;
}

RecordError decodeControllerRecord(std::span<const std::uint8_t> s, ControllerRecord& r, const char*& field) {
    field = "";
    if (s.size() != kControllerRecordSize) return RecordError::size;
    if (detail::allEqual(s, 0xFF)) return RecordError::erased;
    for (std::size_t i = 0; i < kMagic.size(); ++i) {
        if (s[i] != kMagic[i]) return RecordError::magic;
    }
    if (detail::loadLe(s.subspan(kOffCrc), 4) != crc32(s.first(kOffCrc))) return RecordError::crc;
    ControllerRecord tmp;
    tmp.sequence = static_cast<std::uint32_t>(detail::loadLe(s.subspan(kOffSeq), 4));
    tmp.port = static_cast<std::uint16_t>(detail::loadLe(s.subspan(kOffPort), 2));
    tmp.flags = static_cast<std::uint16_t>(detail::loadLe(s.subspan(kOffFlags), 2));
    for (std::size_t i = 0; i < sizeof(tmp.address); ++i) tmp.address[i] = static_cast<char>(s[kOffAddress + i]);
    for (std::size_t i = 0; i < sizeof(tmp.fingerprint); ++i) tmp.fingerprint[i] = s[kOffFp + i];
    for (std::size_t i = 0; i < sizeof(tmp.psk); ++i) tmp.psk[i] = s[kOffPsk + i];
    const char* bad = checkControllerRecordFields(tmp);
    if (bad != nullptr) {
        field = bad;
        return RecordError::field;
    }
    r = tmp;
    return RecordError::ok;
}

bool findNewestControllerRecord(std::span<const std::uint8_t> sector, ControllerRecord& out,
                                std::size_t& nextFreeOffset) {
    bool found = false;
    std::uint32_t bestSeq = 0;
    nextFreeOffset = 0;
    const std::size_t slots = sector.size() / kControllerRecordSize;
    for (std::size_t i = 0; i < slots; ++i) {
        const auto slot = sector.subspan(i * kControllerRecordSize, kControllerRecordSize);
        ControllerRecord r;
        const char* field = nullptr;
        const RecordError e = decodeControllerRecord(slot, r, field);
        if (e == RecordError::erased) continue;
        nextFreeOffset = (i + 1) * kControllerRecordSize;
        if (e == RecordError::ok && (!found || r.sequence >= bestSeq)) {
            out = r;
            bestSeq = r.sequence;
            found = true;
        }
    }
    return found;
}

}  // namespace tte::protocol
