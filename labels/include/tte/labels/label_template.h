// Label templates as data: the size, resolution, QR area and text fields of the device and
// box labels, read from a TOML file (config/labels.toml) so a factory can change the layout
// for its label stock without a rebuild.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"

namespace tte::labels {

/// What a text line of a label shows.
enum class LabelField {
    devId,       ///< the device's Dev ID, 8 lower-case hex digits
    devIdRange,  ///< a box's first and last Dev ID, `0000002a-0000004f`
    box,         ///< a box number, 8 lower-case hex digits
    msHost,      ///< the MotherShip host name, `tte-000001.net`
    lot,         ///< the production lot
    date,        ///< the production date as the station gives it
    text,        ///< fixed text from the template (the human hint, "Scan to enroll")
};

/// Name of a field as written in the template (`devid`, `devid_range`, `ms_host`, ...).
std::string_view labelFieldName(LabelField field);

/// One line of text. Position is the top-left corner of the line box; the text is shrunk
/// in steps of 0.25 pt from `sizePt` down to `minSizePt` until it fits `maxWidthMm`.
struct TextSpec {
    LabelField field = LabelField::text;
    std::string text;    ///< the fixed text (field `text` only)
    std::string prefix;  ///< printed before the value, e.g. "Lot "
    double xMm = 0;
    double yMm = 0;
    double maxWidthMm = 0;
    std::string font = "DejaVu Sans";
    bool bold = false;
    double sizePt = 8;
    double minSizePt = 8;
    int line = 0;  ///< line of the template file where this entry starts (for errors)
};

/// The square where the QR code goes, quiet zone included. The code is centred in it.
struct QrSpec {
    double xMm = 0;
    double yMm = 0;
    double sizeMm = 0;
};

struct LabelTemplate {
    std::string name;  ///< `device` or `box`
    double widthMm = 0;
    double heightMm = 0;
    int dpi = 203;              ///< the printer's resolution; modules are whole dots of it
    int quietZoneModules = 4;   ///< ISO/IEC 18004: at least 4
    int minModuleDots = 3;      ///< smallest module the printer and scanners handle reliably
    QrSpec qr;
    std::vector<TextSpec> texts;
};

struct LabelTemplates {
    LabelTemplate device;
    LabelTemplate box;
};

/// Parses the TOML text of a template file. `sourceName` names the file in errors.
/// Errors: invalidArgument, one line that names the file, the line (and column for syntax
/// errors), the table and the key: `labels.toml:12: [device.qr] size_mm: must be > 0`,
/// `labels.toml:3: [box]: missing key 'dpi'`, `labels.toml:9: [device]: unknown key 'dip'`.
Result<LabelTemplates> parseLabelTemplates(std::string_view toml, std::string_view sourceName);

/// Reads and parses a template file. Errors: notFound / io when it cannot be read,
/// otherwise as parseLabelTemplates().
Result<LabelTemplates> loadLabelTemplates(const std::filesystem::path& path);

}  // namespace tte::labels
