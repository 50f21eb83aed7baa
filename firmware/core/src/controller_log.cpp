// The controller record log (docs/PROTOCOL.md §9) over the Nvm seam.
#include "tte/device/controller_log.h"

#include <cstring>

namespace tte::device {

bool loadController(const Nvm& nvm, protocol::ControllerRecord& out) {
    std::size_t nextFree = 0;
    return protocol::findNewestControllerRecord(nvm.contents(), out, nextFree);
}

StoreStatus appendController(Nvm& nvm, protocol::ControllerRecord& record) {
    protocol::ControllerRecord newest;
    std::size_t nextFree = 0;
    const bool any = protocol::findNewestControllerRecord(nvm.contents(), newest, nextFree);
    const std::size_t size = nvm.contents().size();
    if (nextFree > size || size - nextFree < protocol::kControllerRecordSize) {
        return StoreStatus::full;
    }
    if (any && newest.sequence == UINT32_MAX) {
        return StoreStatus::full;
    }
    record.sequence = any ? newest.sequence + 1 : 1;
    std::array<std::uint8_t, protocol::kControllerRecordSize> bytes{};
    const char* field = nullptr;
    if (protocol::encodeControllerRecord(record, bytes, field) != protocol::RecordError::ok) {
        return StoreStatus::invalid;
    }
    if (nvm.program(nextFree, bytes) != NvmStatus::ok) {
        return StoreStatus::failed;
    }
    // Read back through the same path the next boot uses.
    protocol::ControllerRecord stored;
    std::size_t after = 0;
    if (!protocol::findNewestControllerRecord(nvm.contents(), stored, after) || stored.sequence != record.sequence ||
        std::memcmp(stored.address, record.address, sizeof stored.address) != 0 || stored.port != record.port ||
        std::memcmp(stored.fingerprint, record.fingerprint, sizeof stored.fingerprint) != 0) {
        return StoreStatus::failed;
    }
    return StoreStatus::ok;
}

}  // namespace tte::device
