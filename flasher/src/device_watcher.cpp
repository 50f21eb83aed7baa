// DeviceWatcher: arrivals and departures by comparing successive listings.
#include <algorithm>

#include "tte/flasher/transport.h"

namespace tte::flasher {
namespace {

bool sameDevice(const UsbIdentity& a, const UsbIdentity& b) {
    return a.portPath == b.portPath && a.serial == b.serial && a.vendorId == b.vendorId &&
           a.productId == b.productId;
}

bool contains(const std::vector<UsbIdentity>& list, const UsbIdentity& d) {
    return std::any_of(list.begin(), list.end(), [&](const UsbIdentity& x) { return sameDevice(x, d); });
}

}  // namespace

Result<DeviceChanges> DeviceWatcher::poll() {
    auto now = m_source.list();
    if (!now) return std::unexpected(now.error());
    DeviceChanges changes;
    for (const auto& d : *now) {
        if (!contains(m_present, d)) changes.arrived.push_back(d);
    }
    for (const auto& d : m_present) {
        if (!contains(*now, d)) changes.left.push_back(d);
    }
    m_present = std::move(*now);
    return changes;
}

}  // namespace tte::flasher
