// HTML of the introducer pages (html.h). No scripts, no external resources.
#include "html.h"

namespace tte::mothership {

namespace {

std::string page(std::string_view title, std::string_view body) {
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>" + escapeHtml(title) + "</title><style>"
           "body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.4}"
           "label{display:block;margin-top:1em;font-weight:bold}"
           "input{width:100%;padding:.4em;font-size:1em;box-sizing:border-box}"
           "button{margin-top:1.5em;padding:.6em 1.5em;font-size:1em}"
           ".warn{background:#fff3cd;border:2px solid #c90;padding:1em}"
           ".ok{background:#e6f4ea;border:2px solid #2a7;padding:1em}"
           ".err{background:#fde8e8;border:2px solid #c33;padding:1em}"
           "code{word-break:break-all}</style></head><body>\n<h1>" + escapeHtml(title) + "</h1>\n" +
           std::string(body) + "\n</body></html>\n";
}

std::string deviceLine(const DeviceRow& d) {
    return "<p>Device <code id=\"urn\">" + escapeHtml(d.urn) + "</code></p>";
}

}  // namespace

std::string formPage(const DeviceRow& device, std::string_view action) {
    return page("Enroll your device",
                deviceLine(device) +
                    "<p>Enter the Controller this device should obey. The device will ask for it when it first "
                    "reaches the network.</p>"
                    "<form method=\"post\" action=\"" + escapeHtml(action) + "\">"
                    "<label for=\"cip\">Controller IP address</label>"
                    "<input id=\"cip\" name=\"cip\" required placeholder=\"192.0.2.10\">"
                    "<label for=\"cport\">Controller port</label>"
                    "<input id=\"cport\" name=\"cport\" required inputmode=\"numeric\" value=\"5684\">"
                    "<label for=\"cfingerprint\">Controller fingerprint (64 hex digits)</label>"
                    "<input id=\"cfingerprint\" name=\"cfingerprint\" required minlength=\"64\" maxlength=\"64\">"
                    "<label for=\"description\">Description (optional)</label>"
                    "<input id=\"description\" name=\"description\" maxlength=\"200\">"
                    "<label for=\"cweb\">Controller web address (optional, http:// or https://)</label>"
                    "<input id=\"cweb\" name=\"cweb\" maxlength=\"512\" placeholder=\"https://controller.example/\">"
                    "<button type=\"submit\" id=\"submit\">Enroll</button></form>");
}

std::string alreadyUsedPage(const DeviceRow& device) {
    return page("Already enrolled",
                deviceLine(device) +
                    "<div class=\"warn\" id=\"already-used\"><strong>This enrollment code was already used.</strong> "
                    "The device is mapped to a Controller. A code works only once; if this was not you, contact the "
                    "manufacturer.</div>");
}

std::string mappedPage(const DeviceRow& device, const ControllerAddress& c, std::string_view web) {
    // draft 2 TODO "after mapping": lead on to the Controller, where the device is set up next.
    const std::string next =
        web.empty() ? std::string()
                    : "<p id=\"next\">Next: open your Controller at <a id=\"controller-web\" href=\"" + escapeHtml(web) +
                          "\" rel=\"noopener noreferrer\">" + escapeHtml(web) + "</a> to set the device up there.</p>";
    return page("Device enrolled",
                deviceLine(device) + "<div class=\"ok\" id=\"mapped\"><strong>Done.</strong> The device will use the "
                                     "Controller at <code>" +
                    escapeHtml(c.ip) + "</code> port <code>" + std::to_string(c.port) +
                    "</code> with fingerprint <code>" + escapeHtml(c.fingerprint) +
                    "</code>.</div>" + next + "<p>Device fingerprint: <code id=\"fingerprint\">" +
                    escapeHtml(device.fingerprint) + "</code></p>");
}

std::string preEnrolledPage(const DeviceRow& device) {
    const std::string cfp = device.controller ? device.controller->fingerprint : std::string();
    return page("Already set up for you",
                deviceLine(device) +
                    "<div class=\"ok\" id=\"pre-enrolled\"><strong>Nothing to do: this device was set up for you by "
                    "the manufacturer.</strong> It is pre-enrolled to your Controller and will connect to it by itself "
                    "once it is powered and on the network. Your code was not used and stays valid for checking the "
                    "device.</div><p>Controller fingerprint: <code id=\"cfingerprint\">" + escapeHtml(cfp) +
                    "</code></p><p>If the fingerprint is not your Controller's, contact the manufacturer.</p>");
}

std::string revokedPage(const DeviceRow& device) {
    return page("Device revoked",
                deviceLine(device) +
                    "<div class=\"err\" id=\"revoked\" data-status=\"403\"><strong>This device has been revoked by the "
                    "manufacturer.</strong> It cannot be enrolled, and it will not be given a Controller. If you hold this "
                    "device, contact the manufacturer.</div>");
}

std::string errorPage(int status, std::string_view title, std::string_view message) {
    return page(title, "<div class=\"err\" id=\"error\" data-status=\"" + std::to_string(status) + "\">" +
                           escapeHtml(message) + "</div>");
}

}  // namespace tte::mothership
