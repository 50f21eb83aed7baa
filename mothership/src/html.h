// The introducer's pages (draft 2, message 4): plain HTML that works without JavaScript,
// every value escaped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tte/base/html.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {

using tte::escapeHtml;  // tte/base/html.h

/// The form for the Controller's address, posting to `action`.
std::string formPage(const DeviceRow& device, std::string_view action);
/// Shown when the OTP was used already (mapped or registered).
std::string alreadyUsedPage(const DeviceRow& device);
/// Shown after a successful mapping; with a link to the Controller's web address `web` (an
/// http/https URL checked by protocol::checkControllerWebUrl()) when not empty.
std::string mappedPage(const DeviceRow& device, const ControllerAddress& controller, std::string_view web = {});
/// Shown for a device its station mapped for the customer (pre-enrolled): nothing to do.
std::string preEnrolledPage(const DeviceRow& device);
/// Any error: a title and a sentence.
/// The page for a revoked device (403): the device's URN, and that it is revoked.
std::string revokedPage(const DeviceRow& device);
std::string errorPage(int status, std::string_view title, std::string_view message);

}  // namespace tte::mothership
