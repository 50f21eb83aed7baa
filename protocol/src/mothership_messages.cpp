// MotherShip answer documents (docs/PROTOCOL.md §6, §7).
#include "tte/protocol/mothership_messages.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <iterator>

#include "json_object.h"
#include "tte/base/secret.h"
#include "tte/protocol/freestanding/coap_messages.h"

namespace tte::protocol {

using nlohmann::json;
using detail::JsonObject;

Result<ControllerInfo> detail::readControllerAddress(const JsonObject& o) {
    auto cip = o.string("cip");
    if (!cip) return std::unexpected(cip.error());
    if (auto ok = checkIpLiteral(*cip); !ok) return o.fieldError("cip", ok.error());
    auto cport = o.integer("cport", 1, 65535);
    if (!cport) return std::unexpected(cport.error());
    auto fp = detail::readField(o, "cfingerprint", parseFingerprint);
    if (!fp) return std::unexpected(fp.error());
    return ControllerInfo{*cip, static_cast<std::uint16_t>(*cport), *fp, std::nullopt};
}

namespace {

constexpr std::array<EnrollmentState, 5> kStates = {EnrollmentState::notMapped, EnrollmentState::mapped,
                                                    EnrollmentState::registered, EnrollmentState::revoked,
                                                    EnrollmentState::preEnrolled};

/// Reads "urn" and "fingerprint" of `o`.
Status readUrnAndFingerprint(const JsonObject& o, DevUrn& urn, Fingerprint& fp) {
    auto urnText = o.string("urn");
    if (!urnText) return std::unexpected(urnText.error());
    auto parsedUrn = parseDevUrn(*urnText);
    if (!parsedUrn) return o.fieldError("urn", parsedUrn.error());
    auto fpText = o.string("fingerprint");
    if (!fpText) return std::unexpected(fpText.error());
    auto parsedFp = parseFingerprint(*fpText);
    if (!parsedFp) return o.fieldError("fingerprint", parsedFp.error());
    urn = std::move(*parsedUrn);
    fp = *parsedFp;
    return {};
}

Result<ControllerInfo> controllerFrom(const json& j, std::string_view what) {
    auto o = JsonObject::from(j, what, {"cip", "cport", "cfingerprint", "cpsk"});
    if (!o) return std::unexpected(o.error());
    auto info = detail::readControllerAddress(*o);
    if (!info) return std::unexpected(info.error());
    auto psk = detail::readOptionalPsk(*o, "cpsk");
    if (!psk) return std::unexpected(psk.error());
    info->cpsk = *psk;
    return info;
}

json controllerJson(const ControllerInfo& c) {
    json j{{"cip", c.cip}, {"cport", c.cport}, {"cfingerprint", c.cfingerprint.hex()}};
    if (c.cpsk) j["cpsk"] = c.cpsk->hex();  // §11: only inside the device's DTLS-PSK session
    return j;
}

}  // namespace

std::string_view enrollmentStateName(EnrollmentState state) {
    switch (state) {
    case EnrollmentState::notMapped: return "not-mapped";
    case EnrollmentState::mapped: return "mapped";
    case EnrollmentState::registered: return "registered";
    case EnrollmentState::revoked: return "revoked";
    case EnrollmentState::preEnrolled: return "pre-enrolled";
    }
    return "not-mapped";
}

Result<EnrollmentState> parseEnrollmentState(std::string_view text) {
    for (EnrollmentState s : kStates) {
        if (enrollmentStateName(s) == text) return s;
    }
    return fail(Errc::invalidArgument, "unknown state " + quoteForError(text));
}

std::string MappingResponse::toJson() const {
    json j{{"urn", urn.text}, {"fingerprint", fingerprint.hex()}};
    if (psk) j["dtls"] = "psk";  // absent for a certificate device: the bytes of before
    return detail::dumpJson(j);
}

Result<MappingResponse> MappingResponse::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "MappingResponse");
    if (!j) return std::unexpected(j.error());
    auto o = JsonObject::from(*j, "MappingResponse", {"urn", "fingerprint", "dtls"});
    if (!o) return std::unexpected(o.error());
    MappingResponse r;
    if (auto ok = readUrnAndFingerprint(*o, r.urn, r.fingerprint); !ok) return std::unexpected(ok.error());
    auto dtls = o->optionalString("dtls");
    if (!dtls) return std::unexpected(dtls.error());
    if (*dtls && **dtls != "psk") return o->error("field 'dtls': expected \"psk\"");
    r.psk = dtls->has_value();
    return r;
}

std::string StatusResponse::toJson() const {
    json j{{"urn", urn.text}, {"fingerprint", fingerprint.hex()}, {"state", std::string(enrollmentStateName(state))}};
    if (preEnrolledTo) j["cfingerprint"] = preEnrolledTo->hex();
    return detail::dumpJson(j);
}

Result<StatusResponse> StatusResponse::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "StatusResponse");
    if (!j) return std::unexpected(j.error());
    auto o = JsonObject::from(*j, "StatusResponse", {"urn", "fingerprint", "state", "cfingerprint"});
    if (!o) return std::unexpected(o.error());
    StatusResponse r;
    if (auto ok = readUrnAndFingerprint(*o, r.urn, r.fingerprint); !ok) return std::unexpected(ok.error());
    auto stateText = o->string("state");
    if (!stateText) return std::unexpected(stateText.error());
    auto state = parseEnrollmentState(*stateText);
    if (!state) return o->fieldError("state", state.error());
    r.state = *state;
    auto cfp = o->optionalString("cfingerprint");
    if (!cfp) return std::unexpected(cfp.error());
    if (*cfp) {
        if (r.state != EnrollmentState::preEnrolled && r.state != EnrollmentState::registered)
            return o->error("field 'cfingerprint' goes only with state 'pre-enrolled' or 'registered'");
        auto fp = parseFingerprint(**cfp);
        if (!fp) return o->fieldError("cfingerprint", fp.error());
        r.preEnrolledTo = *fp;
    } else if (r.state == EnrollmentState::preEnrolled) {
        return o->error("state 'pre-enrolled' needs field 'cfingerprint'");
    }
    return r;
}

Result<Errc> parseErrcName(std::string_view text) {
    for (int i = 0; i <= static_cast<int>(Errc::internal); ++i) {
        if (errcName(static_cast<Errc>(i)) == text) return static_cast<Errc>(i);
    }
    return fail(Errc::invalidArgument, "unknown code " + quoteForError(text));
}

std::string ErrorBody::toJson() const {
    return detail::dumpJson(json{{"error", std::string(errcName(error))}, {"message", message}});
}

Result<ErrorBody> ErrorBody::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "ErrorBody");
    if (!j) return std::unexpected(j.error());
    auto o = JsonObject::from(*j, "ErrorBody", {"error", "message"});
    if (!o) return std::unexpected(o.error());
    auto code = o->string("error");
    if (!code) return std::unexpected(code.error());
    auto errc = parseErrcName(*code);
    if (!errc) return o->fieldError("error", errc.error());
    auto message = o->string("message");
    if (!message) return std::unexpected(message.error());
    if (message->size() > 1000) return o->error("field 'message': longer than 1000 bytes");
    return ErrorBody{*errc, std::move(*message)};
}

std::string ControllerInfo::toJson() const { return detail::dumpJson(controllerJson(*this)); }

std::vector<std::uint8_t> ControllerInfo::toCbor() const { return json::to_cbor(controllerJson(*this)); }

Result<ControllerInfo> ControllerInfo::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "ControllerInfo");
    if (!j) return std::unexpected(j.error());
    return controllerFrom(*j, "ControllerInfo");
}

Result<ControllerInfo> ControllerInfo::fromCbor(std::span<const std::uint8_t> bytes) {
    // The device's own reader (freestanding), so that what this accepts is what devices accept.
    const auto refuse = [](std::string message) { return fail(Errc::invalidArgument, "ControllerInfo: " + message); };
    if (bytes.size() > detail::kMaxDocumentSize) return refuse("document longer than 1048576 bytes");
    ControllerRecord record;
    switch (parseControllerAnswer(bytes, record)) {
    case ControllerAnswerError::ok: break;
    case ControllerAnswerError::malformed: return refuse("invalid CBOR");
    case ControllerAnswerError::notMap: return refuse("expected a CBOR map");
    case ControllerAnswerError::keyNotText: return refuse("a key is not a text string");
    case ControllerAnswerError::duplicateKey: return refuse("duplicate field");
    case ControllerAnswerError::missingKey: return refuse("missing field 'cip', 'cport' or 'cfingerprint'");
    case ControllerAnswerError::badIp: return refuse("field 'cip': not an IPv4 or IPv6 address");
    case ControllerAnswerError::badPort: return refuse("field 'cport' must be an integer from 1 to 65535");
    case ControllerAnswerError::badFingerprint: return refuse("field 'cfingerprint': expected 64 hex digits");
    case ControllerAnswerError::trailingBytes: return refuse("bytes after the map");
    case ControllerAnswerError::badPsk: return refuse("field 'cpsk': expected 64 hex digits, not all zero");
    }
    ControllerInfo info{record.address, record.port, {}, std::nullopt};
    if ((record.flags & kControllerFlagPsk) != 0) info.cpsk = Psk::fromBytes(record.psk);
    secureZero(record.psk, sizeof record.psk);
    if (auto ok = checkIpLiteral(info.cip); !ok) return refuse("field 'cip': not an IPv4 or IPv6 address");
    std::copy(std::begin(record.fingerprint), std::end(record.fingerprint), info.cfingerprint.bytes.begin());
    return info;
}

Status checkIpLiteral(std::string_view text) {
    std::array<unsigned char, 16> buf{};
    const std::string s(text);
    if (s.size() > 45 || s.find('\0') != std::string::npos ||
        (inet_pton(AF_INET, s.c_str(), buf.data()) != 1 && inet_pton(AF_INET6, s.c_str(), buf.data()) != 1)) {
        return fail(Errc::invalidArgument, "not an IPv4 or IPv6 address");
    }
    return {};
}

Result<ControllerRequest> controllerRequestFromParams(const QueryParams& params) {
    auto need = [&](std::string_view name) -> Result<std::string> {
        const std::string* v = params.find(name);
        if (v == nullptr) return fail(Errc::invalidArgument, "missing parameter '" + std::string(name) + "'");
        return *v;
    };
    auto cip = need("cip");
    if (!cip) return std::unexpected(cip.error());
    if (auto ok = checkIpLiteral(*cip); !ok) return withContext(ok.error(), "cip");
    auto cport = need("cport");
    if (!cport) return std::unexpected(cport.error());
    unsigned long port = 0;
    bool portOk = !cport->empty() && cport->size() <= 5 && (*cport)[0] != '0';
    for (char c : *cport) {
        portOk = portOk && c >= '0' && c <= '9';
        if (portOk) port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (!portOk || port < 1 || port > 65535) {
        return fail(Errc::invalidArgument, "cport: must be a decimal number from 1 to 65535");
    }
    auto cfp = need("cfingerprint");
    if (!cfp) return std::unexpected(cfp.error());
    auto fp = parseFingerprint(*cfp);
    if (!fp) return fail(Errc::invalidArgument, "c" + fp.error().message);
    ControllerRequest r{ControllerInfo{*cip, static_cast<std::uint16_t>(port), *fp, std::nullopt}, {}, {}};
    if (const std::string* cpsk = params.find("cpsk")) {
        auto psk = parsePsk(*cpsk, "cpsk");
        if (!psk) return std::unexpected(psk.error());
        r.controller.cpsk = *psk;
    }
    if (const std::string* d = params.find("description")) {
        if (auto ok = detail::checkText(*d, 200); !ok) return withContext(ok.error(), "description");
        r.description = *d;
    }
    if (const std::string* web = params.find("cweb")) {
        if (auto ok = checkControllerWebUrl(*web); !ok) return withContext(ok.error(), "cweb");
        r.web = *web;
    }
    return r;
}

Status checkControllerWebUrl(std::string_view text) {
    if (text.size() > 512) return fail(Errc::invalidArgument, "longer than 512 bytes");
    const auto lower = [](std::string_view s) {
        std::string out(s);
        for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        return out;
    };
    const std::size_t colon = text.find("://");
    const std::string scheme = colon == std::string_view::npos ? std::string() : lower(text.substr(0, colon));
    if (scheme != "http" && scheme != "https") return fail(Errc::invalidArgument, "must be an http:// or https:// URL");
    // Only what RFC 3986 lets a URL hold as it is; a space, a quote, '<' or a non-ASCII byte
    // must come percent-encoded (the page shows the URL and puts it into a link).
    constexpr std::string_view kRefused = "\"<>\\^`{|}";
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c <= 0x20 || c >= 0x7f || kRefused.find(static_cast<char>(c)) != std::string_view::npos) {
            static constexpr char kHex[] = "0123456789abcdef";
            return fail(Errc::invalidArgument, std::string("character 0x") + kHex[c >> 4] + kHex[c & 15] + " at position " +
                                                   std::to_string(i) + " is not allowed in a URL (percent-encode it)");
        }
    }
    const std::string_view rest = text.substr(colon + 3);
    if (rest.empty() || rest.front() == '/' || rest.front() == '?' || rest.front() == '#' || rest.front() == ':')
        return fail(Errc::invalidArgument, "no host after '" + std::string(text.substr(0, colon)) + "://'");
    return {};
}

}  // namespace tte::protocol

namespace tte::protocol {

std::string mappingQuery(const MappingRequest& r) {
    const ControllerInfo& c = r.controller.controller;
    std::string q = credentialsQuery(r.credentials) + ",cip=" + percentEncode(c.cip) +
                    ",cport=" + std::to_string(c.cport) + ",cfingerprint=" + c.cfingerprint.hex();
    if (c.cpsk) q += ",cpsk=" + c.cpsk->hex();
    if (!r.controller.description.empty()) q += ",description=" + percentEncode(r.controller.description);
    if (!r.controller.web.empty()) q += ",cweb=" + percentEncode(r.controller.web);
    return q;
}

std::string buildMappingUrl(MsId ms, const MappingRequest& request) {
    return "https://" + msHostName(ms) + std::string(kEnrollmentPath) + "?" + mappingQuery(request);
}

Result<MappingRequest> parseMappingRequest(std::string_view query, std::string_view formBody) {
    auto params = parseQuery(query);
    if (!params) return std::unexpected(params.error());
    if (!formBody.empty()) {
        auto form = parseFormBody(formBody);
        if (!form) return withContext(form.error(), "body");
        for (const auto& [name, value] : form->entries()) {
            if (auto ok = params->add(name, value); !ok) return std::unexpected(ok.error());
        }
    }
    auto credentials = credentialsFromQuery(*params, {"cip", "cport", "cfingerprint", "cpsk", "description", "cweb"});
    if (!credentials) return std::unexpected(credentials.error());
    auto controller = controllerRequestFromParams(*params);
    if (!controller) return std::unexpected(controller.error());
    return MappingRequest{*credentials, std::move(*controller)};
}

std::string buildStatusUrl(const EnrollmentUrl& url) {
    return "https://" + msHostName(url.ms) + std::string(kStatusPath) + "?" + credentialsQuery({url.otp, url.devId});
}

}  // namespace tte::protocol
