// Fuzz target: controller record decoding and the newest-record scan over a whole sector.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "tte/protocol/freestanding/controller_record.h"

using namespace tte::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    ControllerRecord r;
    const char* field = nullptr;
    if (decodeControllerRecord(in, r, field) == RecordError::ok) {
        std::uint8_t out[kControllerRecordSize];
        if (encodeControllerRecord(r, out, field) != RecordError::ok || std::memcmp(out, data, size) != 0) std::abort();
    }
    std::size_t next = 0;
    ControllerRecord newest;
    const bool found = findNewestControllerRecord(in, newest, next);
    if (next > size || next % kControllerRecordSize != 0) std::abort();
    if (found && checkControllerRecordFields(newest) != nullptr) std::abort();
    return 0;
}
