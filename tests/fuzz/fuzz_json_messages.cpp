// Fuzz target: every JSON document parser of §6-§8 and §10 (the first byte picks one). A
// document that parses must print to JSON that parses to the same printout.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tte/protocol/messages.h"

using namespace tte::protocol;

namespace {

template <class T>
void roundTrip(std::string_view text) {
    auto doc = T::fromJson(text);
    if (!doc) return;
    const std::string printed = doc->toJson();
    auto again = T::fromJson(printed);
    if (!again || again->toJson() != printed) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 17) {
    case 0: roundTrip<MappingResponse>(text); break;
    case 1: roundTrip<StatusResponse>(text); break;
    case 2: roundTrip<ErrorBody>(text); break;
    case 3: roundTrip<ControllerInfo>(text); break;
    case 4: roundTrip<Introduction>(text); break;
    case 5: roundTrip<Checkin>(text); break;
    case 6: roundTrip<RecordResults>(text); break;
    case 7: roundTrip<LotQuota>(text); break;
    case 8: roundTrip<BoxRegistration>(text); break;
    case 9: roundTrip<RevokeRequest>(text); break;
    case 10: roundTrip<StationRecord>(text); break;
    case 11: roundTrip<RevokeResponse>(text); break;
    case 12: roundTrip<DeviceInfo>(text); break;
    case 13: roundTrip<ControllerDevice>(text); break;
    case 14: roundTrip<DeviceList>(text); break;
    case 15: roundTrip<PreEnrollRequest>(text); break;
    default: roundTrip<PreEnrollResponse>(text); break;
    }
    return 0;
}
