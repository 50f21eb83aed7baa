// QA verify of one unit (docs/STATION.md "QA verify"): the flash block, the label, the journal
// and the MotherShip must tell the same story (Dev ID, URN, OTP, fingerprints, firmware,
// record signature, mcu_uid), and the device's own DTLS registration request with the block's
// key must be answered as for this device. Every check is a line of a pass/fail table; the
// terminal shows it and --report writes it with the label image as an HTML sheet.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tte/base/error.h"
#include "tte/base/secret.h"
#include "tte/protocol/freestanding/block.h"
#include "tte/station/parts.h"
#include "tte/station/ports.h"

namespace tte::station {

/// One line of the table: `check` is a short name ("label", "otp", "dtls"), `detail` says what
/// was found (on a pass) or names the mismatch (on a fail). Never an OTP or a key.
struct VerifyLine {
    std::string check;
    bool pass = false;
    std::string detail;
};

/// What the device's registration request (draft message 9, PROTOCOL.md §7) got back.
struct RegistrationAnswer {
    enum class Kind {
        notMapped,     ///< 4.04: key, pinning and record agree; nothing is spent
        mapped,        ///< 2.05 with a controller map (an enrolled unit)
        forbidden,     ///< 4.03: the MotherShip refused the key (not the recorded one, or revoked)
        peerMismatch,  ///< the server's key is not the block's MotherShip fingerprint
        noAnswer,      ///< unreachable, handshake failed, timeout
        other,         ///< another code or a 2.05 that is not a controller map
    };
    Kind kind = Kind::noAnswer;
    std::string detail;  ///< "4.04", "controller 192.0.2.1:5684", …
};

/// The device's own CoAP-over-DTLS request to the MotherShip its block names, made with the
/// block's key and certificate and pinning the block's MotherShip fingerprint.
class RegistrationProbe {
public:
    virtual ~RegistrationProbe() = default;
    virtual RegistrationAnswer ask(const protocol::ProvisioningBlock& block) = 0;
};

/// Reads `length` bytes of the unit's flash at `address` (the port through the flasher, or an
/// image file). Errors: the source's.
using FlashReader = std::function<Result<std::vector<std::uint8_t>>(std::uint32_t address, std::size_t length)>;

struct VerifyInput {
    std::uint32_t devId = 0;           ///< the unit QA says it holds (--devid)
    std::string source;                ///< "port 1-3" or "image FILE", for the table's title
    FlashReader readFlash;
    std::optional<std::string> boardMcuUid;  ///< read from the board (port), absent for an image
    Result<Secret> label = fail(Errc::notFound, "no label image");  ///< the label's decoded code
    std::optional<FirmwareImage> firmware;    ///< the lot's .dfu (the firmware line fails without it)
    std::string firmwareError;                ///< why `firmware` is absent
};

struct UnitReport {
    std::uint32_t devId = 0;
    std::string source;
    std::string urn;          ///< from the block, when it decoded
    std::string state;        ///< the MotherShip's state, when known
    std::vector<VerifyLine> lines;
    [[nodiscard]] bool passed() const;
    [[nodiscard]] int failures() const;
};

/// Runs every check. Errors (no table): the journal's or token's when they cannot be opened,
/// and the flash reader's when the block cannot be read at all (a read-protected board).
Result<UnitReport> verifyUnit(StationParts& parts, const VerifyInput& input, RegistrationProbe& probe);

/// The table for a terminal: a title line, one line per check ("  PASS  label   …" /
/// "  FAIL  label   …"), and a last line "verify: PASS" or "verify: FAIL (N mismatches: a, b)".
std::string formatTable(const UnitReport& report);

/// "verify: PASS" or "verify: FAIL (N mismatches: a, b)".
std::string verdictLine(const UnitReport& report);

/// A self-contained HTML sheet: the title, the table, and the label image embedded as a
/// data: URL (`labelPng`, empty: "no label image"). All text is HTML-escaped.
std::string formatHtml(const UnitReport& report, const std::vector<std::uint8_t>& labelPng, const std::string& when);

}  // namespace tte::station
