// Controller documents: Introduction and Checkin (docs/PROTOCOL.md §8).
#include "tte/protocol/controller_messages.h"

#include "json_object.h"
#include "tte/base/secret.h"
#include "tte/protocol/freestanding/coap_messages.h"

namespace tte::protocol {

using nlohmann::json;
using detail::JsonObject;

namespace {

using detail::readField;

Result<Checkin> checkinFrom(const json& j) {
    auto o = JsonObject::from(j, "Checkin", {"urn"});
    if (!o) return std::unexpected(o.error());
    auto urn = readField(*o, "urn", parseDevUrn);
    if (!urn) return std::unexpected(urn.error());
    return Checkin{std::move(*urn)};
}

json introductionJson(const Introduction& in) {
    json j{{"urn", in.urn.text}, {"fingerprint", in.fingerprint.hex()}, {"otp", in.otp.hex()},
           {"devid", in.devId.hex()}, {"ms", msHostName(in.ms)}, {"description", in.description}};
    if (in.psk) j["psk"] = in.psk->hex();  // §11: a DTLS-PSK device's device–Controller PSK
    return j;
}

/// Message 6; without `otp` when `knownOtp` is given.
Result<Introduction> introductionFrom(std::string_view text, const Otp* knownOtp) {
    auto j = detail::parseJsonText(text, "Introduction");
    if (!j) return std::unexpected(j.error());
    auto o = knownOtp == nullptr
                 ? JsonObject::from(*j, "Introduction", {"urn", "fingerprint", "otp", "devid", "ms", "description", "psk"})
                 : JsonObject::from(*j, "Introduction", {"urn", "fingerprint", "devid", "ms", "description"});
    if (!o) return std::unexpected(o.error());
    auto urn = readField(*o, "urn", parseDevUrn);
    if (!urn) return std::unexpected(urn.error());
    auto fp = readField(*o, "fingerprint", parseFingerprint);
    if (!fp) return std::unexpected(fp.error());
    auto otp = knownOtp != nullptr ? Result<Otp>(*knownOtp) : readField(*o, "otp", parseOtp);
    if (!otp) return std::unexpected(otp.error());
    auto devId = readField(*o, "devid", parseDevId);
    if (!devId) return std::unexpected(devId.error());
    auto ms = readField(*o, "ms", [](std::string_view h) { return parseMsHostName(h, MsIdUse::operational); });
    if (!ms) return std::unexpected(ms.error());
    auto description = o->optionalString("description");
    if (!description) return std::unexpected(description.error());
    if (*description) {
        if (auto ok = detail::checkText(**description, 200); !ok) return o->fieldError("description", ok.error());
    }
    if (urn->devId() != *devId) {
        return o->error("devid " + devId->hex() + " does not match the URN's " + urn->devId().hex());
    }
    Introduction in{std::move(*urn), *fp, *otp, *devId, *ms, description->value_or(""), std::nullopt};
    if (knownOtp == nullptr) {
        auto psk = detail::readOptionalPsk(*o, "psk");
        if (!psk) return std::unexpected(psk.error());
        in.psk = *psk;
    }
    return in;
}

}  // namespace

std::string Introduction::toJson() const { return detail::dumpJson(introductionJson(*this)); }

std::string Introduction::toJsonWithoutOtp() const {
    json j = introductionJson(*this);
    j.erase("otp");
    j.erase("psk");
    return detail::dumpJson(j);
}

Result<Introduction> Introduction::fromJson(std::string_view text) { return introductionFrom(text, nullptr); }

Result<Introduction> Introduction::fromJsonWithoutOtp(std::string_view text, const Otp& otp) {
    return introductionFrom(text, &otp);
}

std::string Checkin::toJson() const { return detail::dumpJson(json{{"urn", urn.text}}); }

std::vector<std::uint8_t> Checkin::toCbor() const {
    // The device's own writer (freestanding): one builder of message 11.
    std::vector<std::uint8_t> out(kMaxDevUrnLength + 8);
    out.resize(encodeCheckin(urn.text.c_str(), out));  // a parsed URN is at most 127 bytes
    return out;
}

Result<Checkin> Checkin::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "Checkin");
    if (!j) return std::unexpected(j.error());
    return checkinFrom(*j);
}

Result<Checkin> Checkin::fromCbor(std::span<const std::uint8_t> bytes) {
    auto j = detail::parseCbor(bytes, "Checkin");
    if (!j) return std::unexpected(j.error());
    return checkinFrom(*j);
}

}  // namespace tte::protocol

namespace tte::protocol {
namespace {

constexpr ControllerDeviceState kDeviceStates[] = {ControllerDeviceState::introduced, ControllerDeviceState::expired,
                                                   ControllerDeviceState::registered};
constexpr std::uint64_t kMaxJsonInteger = (1ULL << 53) - 1;

json deviceJson(const ControllerDevice& d) {
    json j{{"urn", d.urn.text},
           {"devid", d.devId ? d.devId->hex() : std::string()},
           {"fingerprint", d.fingerprint.hex()},
           {"description", d.description},
           {"state", std::string(controllerDeviceStateName(d.state))},
           {"ms_state", d.msState ? std::string(enrollmentStateName(*d.msState)) : std::string("unknown")},
           {"ms", d.ms ? msHostName(*d.ms) : std::string()},
           {"introduced", d.introduced},
           {"expires_at", d.expiresAt}};
    j["last_seen"] = d.lastSeen ? json(*d.lastSeen) : json(nullptr);
    return j;
}

/// An optional value written as "" when absent.
template <class T, class Parse>
Result<std::optional<T>> emptyOr(const JsonObject& o, std::string_view key, Parse parse) {
    auto text = o.string(key);
    if (!text) return std::unexpected(text.error());
    if (text->empty()) return std::optional<T>();
    auto value = parse(std::string_view(*text));
    if (!value) return o.fieldError(key, value.error());
    return std::optional<T>(std::move(*value));
}

Status readDeviceIds(const JsonObject& o, const json& j, ControllerDevice& d) {
    auto urn = readField(o, "urn", parseDevUrn);
    if (!urn) return std::unexpected(urn.error());
    auto devId = emptyOr<DevId>(o, "devid", parseDevId);
    if (!devId) return std::unexpected(devId.error());
    auto fp = readField(o, "fingerprint", parseFingerprint);
    if (!fp) return std::unexpected(fp.error());
    auto ms = emptyOr<MsId>(o, "ms", [](std::string_view h) { return parseMsHostName(h, MsIdUse::operational); });
    if (!ms) return std::unexpected(ms.error());
    const auto introduced = j.find("introduced");
    if (introduced == j.end()) return o.error("missing field 'introduced'");
    if (!introduced->is_boolean()) return o.error("field 'introduced' must be true or false");
    if (*devId && urn->devId() != **devId) {
        return o.error("devid " + (*devId)->hex() + " does not match the URN's " + urn->devId().hex());
    }
    d.urn = std::move(*urn);
    d.devId = *devId;
    d.fingerprint = *fp;
    d.ms = *ms;
    d.introduced = introduced->get<bool>();
    return {};
}

Result<ControllerDevice> deviceFrom(const json& j, std::string_view what) {
    auto o = JsonObject::from(j, what,
                              {"urn", "devid", "fingerprint", "description", "state", "ms_state", "ms", "introduced",
                               "expires_at", "last_seen"});
    if (!o) return std::unexpected(o.error());
    ControllerDevice d;
    if (auto ok = readDeviceIds(*o, j, d); !ok) return std::unexpected(ok.error());
    auto description = o->string("description");
    if (!description) return std::unexpected(description.error());
    if (auto ok = detail::checkText(*description, 200); !ok) return o->fieldError("description", ok.error());
    auto state = readField(*o, "state", parseControllerDeviceState);
    if (!state) return std::unexpected(state.error());
    auto msState = readField(*o, "ms_state", [](std::string_view t) -> Result<std::optional<EnrollmentState>> {
        if (t == "unknown") return std::optional<EnrollmentState>();
        auto s = parseEnrollmentState(t);
        if (!s) return std::unexpected(s.error());
        return std::optional<EnrollmentState>(*s);
    });
    if (!msState) return std::unexpected(msState.error());
    auto expires = o->integer("expires_at", 0, kMaxJsonInteger);
    if (!expires) return std::unexpected(expires.error());
    if (j.contains("last_seen") && !j["last_seen"].is_null()) {
        auto seen = o->integer("last_seen", 0, kMaxJsonInteger);
        if (!seen) return std::unexpected(seen.error());
        d.lastSeen = static_cast<std::int64_t>(*seen);
    }
    d.description = std::move(*description);
    d.state = *state;
    d.msState = *msState;
    d.expiresAt = static_cast<std::int64_t>(*expires);
    return d;
}

}  // namespace

std::string_view controllerDeviceStateName(ControllerDeviceState state) {
    switch (state) {
    case ControllerDeviceState::introduced: return "introduced";
    case ControllerDeviceState::expired: return "expired";
    case ControllerDeviceState::registered: return "registered";
    }
    return "introduced";
}

Result<ControllerDeviceState> parseControllerDeviceState(std::string_view text) {
    for (ControllerDeviceState s : kDeviceStates) {
        if (controllerDeviceStateName(s) == text) return s;
    }
    return fail(Errc::invalidArgument, "unknown state " + quoteForError(text));
}

std::string ControllerDevice::toJson() const { return detail::dumpJson(deviceJson(*this)); }

Result<ControllerDevice> ControllerDevice::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "ControllerDevice");
    if (!j) return std::unexpected(j.error());
    return deviceFrom(*j, "ControllerDevice");
}

std::string DeviceList::toJson() const {
    json list = json::array();
    for (const ControllerDevice& d : devices) list.push_back(deviceJson(d));
    return detail::dumpJson(json{{"devices", std::move(list)}});
}

Result<DeviceList> DeviceList::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "DeviceList");
    if (!j) return std::unexpected(j.error());
    auto o = JsonObject::from(*j, "DeviceList", {"devices"});
    if (!o) return std::unexpected(o.error());
    auto list = o->array("devices");
    if (!list) return std::unexpected(list.error());
    DeviceList out;
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
        auto d = deviceFrom((**list)[i], "ControllerDevice");
        if (!d) return withContext(d.error(), "DeviceList: devices[" + std::to_string(i) + "]");
        out.devices.push_back(std::move(*d));
    }
    return out;
}

}  // namespace tte::protocol
