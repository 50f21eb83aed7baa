// Fuzz target: the station's upload batch, strict and per record; the two must agree.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tte/protocol/station_messages.h"

using namespace tte::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto strict = RecordBatch::fromJson(text);
    auto entries = parseRecordBatchEntries(text);
    if (strict) {
        if (!entries || entries->size() != strict->records.size()) std::abort();
        for (std::size_t i = 0; i < entries->size(); ++i) {
            const auto& e = (*entries)[i];
            if (!e.record || e.record->canonicalBytes() != strict->records[i].canonicalBytes()) std::abort();
        }
        auto again = RecordBatch::fromJson(strict->toJson());
        if (!again || again->toJson() != strict->toJson()) std::abort();
    }
    return 0;
}
