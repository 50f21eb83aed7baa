// QA verify of one unit: the checks of the table (see verify.h). The flash block is the
// reference; each other witness (label, journal, MotherShip record, status query, the device's
// own DTLS request) is compared with it, and a mismatch names the witness and the field.
#include "tte/station/verify.h"

#include <algorithm>

#include "tte/base/hex.h"
#include "tte/protocol/crypto.h"
#include "tte/protocol/enrollment_url.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/mothership_messages.h"
#include "tte/protocol/station_messages.h"

namespace tte::station {
namespace {

/// What the flash block says, with the secrets kept only as long as the checks need them.
struct BlockFacts {
    bool valid = false;
    std::string problem;
    protocol::ProvisioningBlock block;
    std::string urn;
    std::string fingerprint;
    std::string msFingerprint;
    protocol::Otp otp;
    std::optional<protocol::Psk> psk;  ///< a DTLS-PSK device's block (PROTOCOL.md §11)
    ~BlockFacts() { protocol::wipeBlock(block); }
};

std::string shortFp(const std::string& fp) { return fp.size() > 16 ? fp.substr(0, 16) + "…" : fp; }

class Table {
public:
    explicit Table(UnitReport& r) : m_r(r) {}
    void add(std::string check, bool pass, std::string detail) {
        m_r.lines.push_back({std::move(check), pass, std::move(detail)});
    }
    /// One line that passes only when `problems` is empty; otherwise they are its detail.
    void all(std::string check, const std::vector<std::string>& problems, std::string passDetail) {
        if (problems.empty()) return add(std::move(check), true, std::move(passDetail));
        std::string d;
        for (const auto& p : problems) d += (d.empty() ? "" : "; ") + p;
        add(std::move(check), false, d);
    }

private:
    UnitReport& m_r;
};

Result<BlockFacts*> readBlock(StationParts& parts, const VerifyInput& in, BlockFacts& f) {
    auto bytes = in.readFlash(parts.encoder().blockAddress(), protocol::kBlockSize);
    if (!bytes) return std::unexpected(bytes.error());
    protocol::BlockFault fault;
    const auto err = protocol::decodeBlock(*bytes, f.block, fault);
    secureZero(bytes->data(), bytes->size());
    if (err != protocol::BlockError::ok) {
        f.problem = std::string("the flash holds no valid provisioning block: ") + protocol::blockErrorName(err) +
                    (err == protocol::BlockError::field && fault.field ? std::string(" ") + fault.field : "");
        return &f;
    }
    if (f.block.devId != in.devId) {
        f.problem = "the flash holds the block of Dev ID " + toHex(f.block.devId, 8) + ", not " + toHex(in.devId, 8) +
                    " (another device's image)";
        return &f;
    }
    if (protocol::isPskBlock(f.block)) {  // a DTLS-PSK device (PROTOCOL.md §11): its PSK fingerprint
        f.psk = protocol::Psk::fromBytes(std::span<const std::uint8_t>(f.block.psk));
        if (!f.psk) {
            f.problem = "the block's PSK is all zero";
            return &f;
        }
        f.fingerprint = protocol::pskFingerprint(f.psk->bytes()).hex();
    }
    auto fp = f.psk ? Result<protocol::Fingerprint>(protocol::Fingerprint{})
                    : protocol::fingerprintFromDer(std::span<const std::uint8_t>(f.block.cert, f.block.certLength));
    if (!fp) {
        f.problem = "the block's certificate does not parse: " + fp.error().message;
        return &f;
    }
    f.valid = true;
    f.urn = f.block.devUrn;
    if (!f.psk) f.fingerprint = fp->hex();
    f.msFingerprint = toHex(std::span<const std::uint8_t>(f.block.msFingerprint, 32));
    f.otp = protocol::Otp(f.block.otp);
    return &f;
}

/// The last committed record of `devId` in the journal, and the mcu_uid its allocation saw.
struct JournalFacts {
    std::optional<nlohmann::json> record;
    std::optional<std::string> allocatedMcuUid;
};

JournalFacts journalFacts(const std::vector<JournalEntry>& entries) {
    JournalFacts out;
    for (const auto& e : entries) {
        if (e.kind == "committed" && e.body.contains("record")) out.record = e.body["record"];
        if (e.kind == "allocated" && e.body.value("mcu_uid", nlohmann::json()).is_string())
            out.allocatedMcuUid = e.body["mcu_uid"].get<std::string>();
    }
    return out;
}

std::string str(const nlohmann::json& j, const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

void checkLabel(Table& t, const VerifyInput& in, const BlockFacts& b, std::optional<protocol::EnrollmentUrl>& label) {
    if (!in.label) return t.add("label", false, "the label image gives no code: " + in.label.error().message);
    auto parsed = protocol::parseEnrollmentUrl(in.label->view());
    if (!parsed) return t.add("label", false, "the label's code is not an Enrollment URL: " + parsed.error().message);
    label = *parsed;
    std::vector<std::string> p;
    if (parsed->devId.value != in.devId)
        p.push_back("the label is Dev ID " + parsed->devId.hex() + "'s, not " + toHex(in.devId, 8) + "'s (another device's label)");
    if (b.valid && parsed->ms.value != b.block.msId)
        p.push_back("the label names MS ID " + std::to_string(parsed->ms.value) + ", the block " + std::to_string(b.block.msId));
    if (b.valid && parsed->devId.value == in.devId && !(parsed->otp == b.otp))
        p.push_back("the label's OTP is not the flash block's");
    if (!b.valid && p.empty()) p.push_back("no flash block of Dev ID " + toHex(in.devId, 8) + " to compare the label's OTP with");
    t.all("label", p, "Dev ID " + parsed->devId.hex() + ", MS ID " + std::to_string(parsed->ms.value) + ", OTP as in the flash block");
}

void checkMotherShipPinning(Table& t, const LotConfig& lot, const BlockFacts& b) {
    if (!b.valid) return t.add("ms-pin", false, "no valid block of this device");
    std::vector<std::string> p;
    if (b.block.msId != lot.msId)
        p.push_back("the block names MS ID " + std::to_string(b.block.msId) + ", the lot " + std::to_string(lot.msId));
    if (b.msFingerprint != lot.msFingerprint)
        p.push_back("the block pins MotherShip " + shortFp(b.msFingerprint) + ", the lot " + shortFp(lot.msFingerprint));
    if (std::string(b.block.msAddress) != lot.msAddress || b.block.msPort != lot.msPort)
        p.push_back("the block names the MotherShip at " + std::string(b.block.msAddress) + ":" + std::to_string(b.block.msPort) +
                    ", the lot " + lot.msAddress + ":" + std::to_string(lot.msPort));
    t.all("ms-pin", p, "MS ID " + std::to_string(b.block.msId) + " at " + b.block.msAddress + ":" + std::to_string(b.block.msPort) +
                           ", fingerprint " + shortFp(b.msFingerprint));
}

/// The value every witness should agree on, checked against each that has one.
void agree(Table& t, const char* check, const std::string& reference, const char* refName,
           const std::vector<std::pair<const char*, std::optional<std::string>>>& witnesses, const std::string& shown) {
    std::vector<std::string> p;
    for (const auto& [name, value] : witnesses) {
        if (!value) continue;
        if (*value != reference) p.push_back(std::string(name) + " has " + (value->empty() ? "none" : *value) + ", " + refName + " " + reference);
    }
    t.all(check, p, shown);
}

void checkFirmware(Table& t, const VerifyInput& in, const std::optional<nlohmann::json>& record,
                   const Result<protocol::DeviceInfo>& remote) {
    if (!in.firmware) return t.add("firmware", false, "the lot's firmware cannot be read: " + in.firmwareError);
    std::vector<std::string> p;
    const std::string& sha = in.firmware->sha256;
    if (record && str(*record, "firmware_sha256") != sha)
        p.push_back("the journal's record names firmware " + shortFp(str(*record, "firmware_sha256")) + ", the lot's .dfu is " + shortFp(sha));
    if (remote && toHex(remote->firmwareSha256) != sha)
        p.push_back("the MotherShip's record names firmware " + shortFp(toHex(remote->firmwareSha256)) + ", the lot's .dfu is " + shortFp(sha));
    for (const auto& s : in.firmware->segments) {
        auto got = in.readFlash(s.address, s.data.size());
        if (!got) {
            p.push_back("flash at 0x" + toHex(s.address, 8) + " unreadable: " + got.error().message);
            continue;
        }
        auto diff = std::mismatch(s.data.begin(), s.data.end(), got->begin(), got->end());
        if (got->size() != s.data.size() || diff.first != s.data.end())
            p.push_back("the flash differs from the lot's firmware at 0x" +
                        toHex(s.address + static_cast<std::uint32_t>(diff.first - s.data.begin()), 8));
    }
    t.all("firmware", p, "flash holds the lot's firmware, SHA-256 " + shortFp(sha) + " as recorded");
}

void checkSignature(Table& t, StationKeys& keys, const std::optional<nlohmann::json>& record, const protocol::Otp* otp,
                    const std::optional<protocol::Psk>& psk, const Result<protocol::DeviceInfo>& remote) {
    if (!record) return t.add("signature", false, "the journal has no committed record of this device");
    if (otp == nullptr) return t.add("signature", false, "no OTP (block or label) to check the record's signature with");
    std::vector<std::string> p;
    auto rec = protocol::StationRecord::fromJsonWithoutOtp(record->dump(), *otp);
    if (rec && psk) rec->psk = psk;  // the signature covers a PSK device's PSK, which the journal leaves out
    auto key = keys.stationPublicKey();
    if (!rec) {
        p.push_back("the journal's record does not parse: " + rec.error().message);
    } else if (!key) {
        p.push_back("the station key: " + key.error().message);
    } else {
        std::string canonical = rec->canonicalBytes();
        auto sig = protocol::base64Decode(rec->signature);
        const bool good = sig && protocol::verifyEcdsaSha256(*key, std::span(reinterpret_cast<const std::uint8_t*>(canonical.data()),
                                                                              canonical.size()),
                                                             *sig);
        secureZero(canonical.data(), canonical.size());
        if (!good)
            p.push_back(std::string("the station's signature does not verify over the journal's record with this OTP") +
                        (rec->psk ? " and the block's PSK" : ""));
    }
    if (rec && remote) {
        if (remote->signature != rec->signature) p.push_back("the MotherShip's record carries another signature");
        if (remote->recordId != rec->recordId) p.push_back("the MotherShip's record is " + remote->recordId + ", the journal's " + rec->recordId);
        // The signature covers these fields: a MotherShip record that differs in one is not the signed record.
        std::string changed;
        const auto field = [&](bool same, const char* name) {
            if (!same) changed += (changed.empty() ? "" : ", ") + std::string(name);
        };
        field(remote->urn == rec->urn, "urn");
        field(remote->fingerprint == rec->fingerprint, "fingerprint");
        field(remote->firmwareSha256 == rec->firmwareSha256, "firmware_sha256");
        field(remote->created == rec->created, "created");
        field(remote->lot == rec->lot, "lot");
        field(remote->box == rec->box, "box");
        field(remote->station == rec->station, "station");
        field(remote->mcuUid == rec->mcuUid, "mcu_uid");
        field(remote->reworkedFrom == rec->reworkedFrom, "reworked_from");
        if (!changed.empty()) p.push_back("the MotherShip's record is not the signed one: " + changed + " differ");
    }
    t.all("signature", p, rec ? "record " + rec->recordId + " signed by the station, the same at the MotherShip" : "");
}

void checkDtls(Table& t, RegistrationProbe& probe, const BlockFacts& b) {
    if (!b.valid) return t.add("dtls", false, "no valid block of this device: its key cannot be tried");
    const RegistrationAnswer a = probe.ask(b.block);
    using K = RegistrationAnswer::Kind;
    switch (a.kind) {
    case K::notMapped:
        return t.add("dtls", true, "the device's own request with its key: 4.04 not mapped (key, pinning, record agree)");
    case K::mapped: return t.add("dtls", true, "the device's own request with its key: 2.05, " + a.detail);
    case K::forbidden:
        return t.add("dtls", false, "the MotherShip refused the device's key: 4.03 (not the recorded key, or revoked)");
    case K::peerMismatch:
        return t.add("dtls", false, "the MotherShip's key is not the fingerprint pinned in the block");
    case K::noAnswer: return t.add("dtls", false, "no answer from the MotherShip: " + a.detail);
    case K::other: return t.add("dtls", false, "unexpected answer " + a.detail);
    }
}

}  // namespace

bool UnitReport::passed() const { return failures() == 0 && !lines.empty(); }
int UnitReport::failures() const {
    return static_cast<int>(std::count_if(lines.begin(), lines.end(), [](const VerifyLine& l) { return !l.pass; }));
}

Result<UnitReport> verifyUnit(StationParts& parts, const VerifyInput& in, RegistrationProbe& probe) {
    auto keys = parts.keys();
    if (!keys) return std::unexpected(keys.error());
    auto journal = parts.journal();
    if (!journal) return std::unexpected(journal.error());
    auto entries = (*journal)->entries(in.devId);
    if (!entries) return std::unexpected(entries.error());
    BlockFacts b;
    if (auto r = readBlock(parts, in, b); !r) return std::unexpected(r.error());

    UnitReport report;
    report.devId = in.devId;
    report.source = in.source;
    report.urn = b.urn;
    Table t(report);
    t.add("block", b.valid, b.valid ? "Dev ID " + toHex(in.devId, 8) + ", " + b.urn : b.problem);
    checkMotherShipPinning(t, parts.config().lot, b);
    std::optional<protocol::EnrollmentUrl> label;
    checkLabel(t, in, b, label);

    const JournalFacts j = journalFacts(*entries);
    const auto remote = parts.mothership().device(in.devId);
    if (remote) report.state = std::string(protocol::enrollmentStateName(remote->state));
    {
        std::vector<std::string> p;
        if (!j.record) p.push_back("the journal has no committed record of Dev ID " + toHex(in.devId, 8));
        if (!remote) p.push_back("the MotherShip: " + remote.error().message);
        if (remote && remote->state == protocol::EnrollmentState::revoked) p.push_back("the MotherShip has the device revoked");
        t.all("records", p, "committed in the journal, " + report.state + " at the MotherShip");
    }

    // OTP: the label's (else the block's) through the status query, which spends nothing.
    const protocol::Otp* otp = label && label->devId.value == in.devId ? &label->otp : (b.valid ? &b.otp : nullptr);
    std::optional<protocol::StatusResponse> status;
    if (otp == nullptr) {
        t.add("otp", false, "no OTP of this device (neither label nor block) to ask the MotherShip with");
    } else {
        auto s = parts.mothership().status({*otp, protocol::DevId{in.devId}});
        if (!s) {
            t.add("otp", false, s.error().code == Errc::notFound
                                    ? std::string("the MotherShip does not accept the ") + (label ? "label's" : "block's") +
                                          " OTP for Dev ID " + toHex(in.devId, 8)
                                    : "the status query failed: " + s.error().message);
        } else {
            status = *s;
            const std::string state(protocol::enrollmentStateName(s->state));
            t.add("otp", s->state != protocol::EnrollmentState::revoked,
                  s->state == protocol::EnrollmentState::revoked
                      ? "the MotherShip answers the OTP with state revoked"
                      : "the MotherShip accepts the " + std::string(label ? "label's" : "block's") + " OTP: " + state +
                            // a pre-enrolled device's OTP is unspent too: its station mapped it
                            (s->state == protocol::EnrollmentState::notMapped || s->preEnrolledTo ? " (unspent)" : ""));
        }
    }

    const auto opt = [](bool has, std::string v) { return has ? std::optional<std::string>(std::move(v)) : std::nullopt; };
    const std::string refUrn = b.valid ? b.urn : (j.record ? str(*j.record, "urn") : "");
    agree(t, "urn", refUrn, b.valid ? "the block" : "the journal",
          {{"the journal", opt(j.record.has_value(), j.record ? str(*j.record, "urn") : "")},
           {"the MotherShip", opt(remote.has_value(), remote ? remote->urn.text : "")},
           {"the status query", opt(status.has_value(), status ? status->urn.text : "")}},
          refUrn);
    const std::string refFp = b.valid ? b.fingerprint : (j.record ? str(*j.record, "fingerprint") : "");
    agree(t, "device-fp", refFp, b.valid ? (b.psk ? "the block's PSK" : "the block's certificate") : "the journal",
          {{"the journal", opt(j.record.has_value(), j.record ? str(*j.record, "fingerprint") : "")},
           {"the MotherShip", opt(remote.has_value(), remote ? remote->fingerprint.hex() : "")},
           {"the status query", opt(status.has_value(), status ? status->fingerprint.hex() : "")}},
          refFp);
    checkFirmware(t, in, j.record, remote);
    checkSignature(t, **keys, j.record, otp, b.psk, remote);
    {
        const std::optional<std::string> recorded = j.record && j.record->contains("mcu_uid") && (*j.record)["mcu_uid"].is_string()
                                                        ? std::optional(str(*j.record, "mcu_uid"))
                                                        : j.allocatedMcuUid;
        std::vector<std::string> p;
        if (!recorded) p.push_back("the journal has no mcu_uid of this device");
        if (recorded && remote && remote->mcuUid != recorded)
            p.push_back("the MotherShip has " + remote->mcuUid.value_or("none") + ", the journal " + *recorded);
        if (recorded && in.boardMcuUid && *in.boardMcuUid != *recorded)
            p.push_back("the board is " + *in.boardMcuUid + ", the journal has " + *recorded);
        t.all("mcu_uid", p, recorded.value_or("") + (in.boardMcuUid ? " (read from the board)" : " (journal and MotherShip)"));
    }
    checkDtls(t, probe, b);
    return report;
}

}  // namespace tte::station
