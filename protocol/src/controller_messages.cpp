// Controller documents: Introduction and Checkin (docs/PROTOCOL.md §8).
#include "tte/protocol/controller_messages.h"

#include "json_object.h"

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

}  // namespace

std::string Introduction::toJson() const {
    return detail::dumpJson(json{{"urn", urn.text}, {"fingerprint", fingerprint.hex()}, {"otp", otp.hex()},
                                 {"devid", devId.hex()}, {"ms", msHostName(ms)}, {"description", description}});
}

Result<Introduction> Introduction::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "Introduction");
    if (!j) return std::unexpected(j.error());
    auto o = JsonObject::from(*j, "Introduction", {"urn", "fingerprint", "otp", "devid", "ms", "description"});
    if (!o) return std::unexpected(o.error());
    auto urn = readField(*o, "urn", parseDevUrn);
    if (!urn) return std::unexpected(urn.error());
    auto fp = readField(*o, "fingerprint", parseFingerprint);
    if (!fp) return std::unexpected(fp.error());
    auto otp = readField(*o, "otp", parseOtp);
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
    return Introduction{std::move(*urn), *fp, *otp, *devId, *ms, description->value_or("")};
}

std::string Checkin::toJson() const { return detail::dumpJson(json{{"urn", urn.text}}); }

std::vector<std::uint8_t> Checkin::toCbor() const { return json::to_cbor(json{{"urn", urn.text}}); }

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
