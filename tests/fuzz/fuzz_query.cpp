// Fuzz target: query strings, form bodies, and what the MotherShip reads from them (message 4
// as query|body: what parses must build back to a query that parses to the same request).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tte/protocol/enrollment_url.h"
#include "tte/protocol/mothership_messages.h"
#include "tte/protocol/query.h"

using namespace tte::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (auto parsed : {parseQuery(text), parseFormBody(text)}) {
        if (!parsed) continue;
        if (parsed->size() > kMaxQueryParams) std::abort();
        (void)credentialsFromQuery(*parsed, {"cip", "cport", "cfingerprint", "description"});
        (void)controllerRequestFromParams(*parsed);
        // Re-encoding every value must give a query that parses to the same parameters.
        std::string again;
        for (const auto& [name, value] : parsed->entries()) {
            if (!again.empty()) again += '&';
            again += name + "=" + percentEncode(value);
        }
        if (again.size() > kMaxQueryLength) continue;  // percent-encoding can triple the size
        auto reparsed = parseQuery(again);
        if (!reparsed || reparsed->entries() != parsed->entries()) std::abort();
    }
    const auto bar = text.find('|');
    const auto query = text.substr(0, bar);
    const auto body = bar == std::string_view::npos ? std::string_view() : text.substr(bar + 1);
    if (auto request = parseMappingRequest(query, body)) {
        const std::string built = mappingQuery(*request);
        if (built.size() > kMaxQueryLength) return 0;
        auto again = parseMappingRequest(built, "");
        if (!again || mappingQuery(*again) != built) std::abort();
    }
    return 0;
}
