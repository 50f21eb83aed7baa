// What goes on a label: the code's URL (a secret: it carries the OTP or the box secret)
// and the fields a person reads. The station fills these from its record of the device.
#pragma once

#include <cstdint>
#include <string>

#include "tte/base/secret.h"

namespace tte::labels {

/// A device label (draft 2, message 1): the Enrollment URL as QR code, Dev ID, MS host,
/// lot and date.
struct DeviceLabel {
    Secret url;  ///< `https://tte-XXXXXX.net/.well-known/tte?otp=…,devid=…`
    std::uint32_t devId = 0;
    std::string msHost;
    std::string lot;
    std::string date;
};

/// A box label (draft 5.2, docs/PROTOCOL.md §3): one code that enrolls the whole box.
struct BoxLabel {
    Secret url;  ///< `https://tte-XXXXXX.net/.well-known/tte-box?secret=…,first=…,last=…`
    std::uint32_t box = 0;
    std::uint32_t firstDevId = 0;
    std::uint32_t lastDevId = 0;
    std::string msHost;
    std::string lot;
    std::string date;
};

}  // namespace tte::labels
