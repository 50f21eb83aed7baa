// BlockEncoder over tte::protocol's encodeBlock (PROTOCOL.md §9).
#pragma once

#include "tte/station/ports.h"

namespace tte::station {

class ProtocolBlockEncoder final : public BlockEncoder {
public:
    /// Errors: invalidArgument "provisioning block: field <name> does not fit" naming the
    /// first field that breaks §9 (e.g. msAddress too long, cert over 1024 bytes).
    Result<Secret> encode(const BlockFields& fields) override;
    [[nodiscard]] std::uint32_t blockAddress() const override;
    [[nodiscard]] std::uint32_t nvmAddress() const override;
};

}  // namespace tte::station
