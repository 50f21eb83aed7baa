// The station's ports: the narrow interfaces through which the provisioning pipeline reaches
// the HSM, the flasher, the label printer and the MotherShip. Real adapters live in
// station/src/adapters/, in-memory fakes in tests/station/. (DESIGN: "Seams".)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/base/secret.h"
#include "tte/protocol/controller_messages.h"
#include "tte/protocol/station_messages.h"

namespace tte::station {

/// A device key pair made in the HSM and exported once, for the provisioning block only.
struct DeviceKey {
    Secret privateScalar;                     ///< P-256 scalar, 32 bytes, big-endian
    std::vector<std::uint8_t> certificateDer; ///< self-signed X.509, subject the Dev URN
    protocol::Fingerprint fingerprint;        ///< SHA-256 of the SPKI
};

/// Keys and secrets of the station's token. Every method may be called from several slot
/// workers at once; the adapter keeps one HSM session per thread or serialises.
class StationKeys {
public:
    virtual ~StationKeys() = default;
    /// A fresh 64-bit OTP from the token's random generator (8 bytes).
    virtual Result<Secret> newOtp() = 0;
    /// OTP(Dev ID) of a box, derived in the token (PROTOCOL.md §4).
    virtual Result<Secret> bulkOtp(std::uint32_t box, std::uint32_t devId) = 0;
    /// Box secret = HMAC(lot key, "tte-box" ‖ box), computed in the token (PROTOCOL.md §4).
    virtual Result<Secret> boxSecret(std::uint32_t box) = 0;
    /// A new P-256 device key and self-signed certificate for `urn`; the token keeps no copy.
    virtual Result<DeviceKey> newDeviceKey(std::string_view urn) = 0;
    /// A fresh 32-byte device–MotherShip PSK of a DTLS-PSK lot (PROTOCOL.md §11) from the
    /// token's random generator (C_GenerateRandom, as the OTP; docs/HSM.md); the token keeps
    /// no copy, and the station puts it only into the block and its sealed upload queue item.
    virtual Result<Secret> newPsk() = 0;
    /// DER ECDSA-SHA256 signature of `data` by the station identity key.
    virtual Result<std::vector<std::uint8_t>> sign(std::span<const std::uint8_t> data) = 0;
    /// DER SubjectPublicKeyInfo of the station identity key (for journal verification).
    virtual Result<std::vector<std::uint8_t>> stationPublicKey() = 0;
    /// A keystream of `size` bytes for item `itemId` of the upload queue, HMAC-derived in the
    /// token from the station's queue key; the OTP is stored XORed with it (docs/STATION.md).
    virtual Result<Secret> queueMask(std::string_view itemId, std::size_t size) = 0;
    /// One look at the token while the line holds for it: a logged-in session can be had and
    /// the station's queue key answers. Errors: the token's (PKCS#11 domain, CK_RV kept).
    virtual Status check() = 0;
};

/// One contiguous piece of flash content.
struct FlashSegment {
    std::uint32_t address = 0;
    std::vector<std::uint8_t> data;
};

/// The firmware to flash, as loaded from the lot's .dfu file.
struct FirmwareImage {
    std::vector<FlashSegment> segments;
    std::string sha256;  ///< of the .dfu file, 64 hex
};

/// Read-out protection of the board's MCU (RM0090 §3.7.3), set through its option bytes.
/// level1: neither the bootloader nor a debugger reads the flash; reversible by read
/// unprotect, which erases the flash. level2: permanent (no bootloader, no debug port).
enum class ReadProtection { level0, level1, level2 };

/// Who the board in a slot is, as its ROM bootloader tells before anything is written.
struct BoardIdentity {
    /// The bootloader's USB serial: derived from the unique ID (so a locked board can still
    /// be matched to a recorded mcuUid), or "FFFFFFFEFFFF" on bootloaders that report that.
    std::string usbSerial;
    /// The MCU's 96-bit unique ID as 24 lower-case hex digits: the 32-bit words at
    /// 0x1FFF7A10, 0x1FFF7A14, 0x1FFF7A18 in that order ("002d00303334510b32313533").
    /// Absent while the board is read-protected: the bootloader refuses the read.
    std::optional<std::string> mcuUid;
    ReadProtection protection = ReadProtection::level0;
};

/// How far a writeAndVerify() is: `done` of `total` bytes of the stage (for the seat's
/// progress bar; erasing is part of writing and not counted in bytes).
struct FlashProgress {
    enum class Stage { writing, verifying };
    Stage stage = Stage::writing;
    std::uint64_t done = 0;
    std::uint64_t total = 0;
};
/// Called on the thread that flashes; must not block for long.
using FlashProgressFn = std::function<void(const FlashProgress&)>;

/// A subscription to the bus's arrivals and departures (DeviceFlasher::watchBus); ends when destroyed.
class BusSubscription {
public:
    virtual ~BusSubscription() = default;
};

/// The gang flasher: devices in DFU mode, one per fixture slot, named by port path.
class DeviceFlasher {
public:
    virtual ~DeviceFlasher() = default;
    /// Calls `changed` (on a thread of its own; it must not block) whenever a board arrives in
    /// or leaves DFU mode on any port, until the subscription is destroyed: the fixture then
    /// looks at its seats when the bus changed instead of every watch_ms.
    /// Errors: unsupported (no hotplug: libusb without LIBUSB_CAP_HAS_HOTPLUG, the simulator).
    virtual Result<std::unique_ptr<BusSubscription>> watchBus(std::function<void()> changed) {
        (void)changed;
        return fail(Errc::unsupported, "no hotplug events: the seats are polled");
    }
    /// Loads and checks a DfuSe file. Errors: io, corrupt (bad DfuSe), invalidArgument.
    virtual Result<FirmwareImage> loadFirmware(const std::string& path) = 0;
    /// Slots that hold a device in DFU mode now.
    virtual Result<std::vector<std::string>> slots() = 0;
    /// Erases what the segments cover, writes them, and reads every byte back.
    /// Reports how far it is to `progress` (if given) as it goes.
    /// Errors: unavailable (no device), io (transfer), corrupt (read-back differs).
    virtual Status writeAndVerify(const std::string& slot, std::span<const FlashSegment> segments,
                                  const FlashProgressFn& progress = {}) = 0;
    /// Reads `length` bytes at `address` (for QA verify). Errors: permissionDenied naming
    /// read protection on a protected board.
    virtual Result<std::vector<std::uint8_t>> read(const std::string& slot, std::uint32_t address,
                                                   std::size_t length) = 0;
    /// Reads who the board is, before anything is written: its MCU unique ID (checked
    /// against the serial the bootloader derives from it) and its read protection; a
    /// read-protected board answers without mcuUid. Errors: notFound/unavailable (no board,
    /// busy, gone), corrupt (the ID read is not the chip's), io, timeout.
    virtual Result<BoardIdentity> identify(const std::string& slot) = 0;
    /// Locks the board after read-back verify: writes RDP `level` into the option bytes (the
    /// board resets and re-enumerates) and confirms it now refuses reads. level2 is
    /// permanent: pass it only for a lot that explicitly asks for it. A board already at
    /// `level` is left alone. Errors: invalidArgument (level0: use unprotect),
    /// permissionDenied (level2 asked of a board at level1), unavailable (the board did not
    /// come back), conflict (another board came back in the slot), io (the write did not take).
    virtual Status protect(const std::string& slot, ReadProtection level) = 0;
    /// For rework: regresses a protected board to level0 with read unprotect, which erases
    /// the whole flash; confirms level0 and a blank flash, and returns the identity read then
    /// (mcuUid readable again). A board at level0 is left alone (nothing erased).
    /// Errors: as protect(), corrupt (flash not blank afterwards).
    virtual Result<BoardIdentity> unprotect(const std::string& slot) = 0;
};

/// What goes on a device label; `url` carries the OTP and is a secret until printed.
struct DeviceLabel {
    std::uint32_t devId = 0;
    std::string urn;
    std::string lot;
    Secret url;  ///< the Enrollment URL (or the box URL for a box label)
    std::optional<std::pair<std::uint32_t, std::uint32_t>> boxRange;  ///< box labels only
};

/// A printed label: the job and the rendered artefact that scan-back reads.
struct PrintedLabel {
    std::string job;
    std::string artefact;     ///< path of the label image that scanBack() decodes (or a fake's handle)
    std::string scannedFrom;  ///< "printed document <path>", or "rendering" where the printer gives nothing back
};

/// Where a label job stands, as the line sees it (LabelPrinter::jobState).
struct LabelJobState {
    enum class Kind {
        waiting,  ///< queued, held or printing: the label may still come out
        printed,  ///< completed: collect() it
        lost,     ///< cancelled, aborted, or gone from the queue: the label was not printed
    };
    Kind kind = Kind::waiting;
    std::string message;  ///< one line, e.g. "job 7 on Q is pending"
    std::string action;   ///< for a job that waits for a person, what to do (e.g. release a held job)
};

/// The printer as the line sees it: ready to print, or a fault the operator must clear.
struct PrinterCondition {
    bool ready = true;
    bool acceptsJobs = true;  ///< not ready, but a job submitted now waits in the queue (paused, out of labels)
    std::string problem;  ///< e.g. "printer Q is out of labels"
    std::string action;   ///< the one thing to do, e.g. "load a roll"
};

/// Renders, prints (waits for the job to complete) and scans back labels.
class LabelPrinter {
public:
    virtual ~LabelPrinter() = default;
    /// Prints and waits for the job (box labels, reprints). Errors: invalidArgument
    /// (template), unavailable (queue), io, timeout (job not done).
    virtual Result<PrintedLabel> print(const DeviceLabel& label) = 0;
    /// Decodes the QR code of the printed label. Errors: corrupt (no/unreadable code), io.
    virtual Result<Secret> scanBack(const PrintedLabel& printed) = 0;

    // The device label step of the line, which waits for the job itself and holds while the
    // printer cannot print (Pipeline, docs/STATION.md "When the printer stops").

    /// Renders the label, checks its rendering decodes, submits one job; returns its id.
    /// Errors: the label's (template, layout, scan-back) and the queue's (unreachable, ...):
    /// which one it is, printerCondition() tells.
    virtual Result<int> submit(const DeviceLabel& label) = 0;
    /// One look at job `job`. Errors: the queue cannot be asked (unreachable).
    virtual Result<LabelJobState> jobState(int job) = 0;
    /// One look at the printer; an unreachable printer is a condition too, not an error.
    virtual PrinterCondition printerCondition() = 0;
    /// Job `job` of `label` completed: the printed label, kept and scan-back ready (as print()).
    virtual Result<PrintedLabel> collect(const DeviceLabel& label, int job) = 0;
    /// Cancels a job that will not be wanted (its device was given up). Errors: the queue's.
    virtual Status cancel(int job) = 0;
};

/// A pre-enrolled lot's customer controller (draft 2, message 6).
struct ControllerTarget {
    std::string address;
    std::uint16_t port = 0;
    std::string fingerprint;
    std::string url;  ///< HTTPS base URL of the controller's introduction API
};

/// The MotherShip's station API over mutual TLS, plus the public status query; every document
/// is protocol/'s (PROTOCOL.md §6, §10). Errors of every call: unavailable/timeout (retry
/// later), unauthenticated (TLS), the server's error code otherwise.
class MotherShipClient {
public:
    virtual ~MotherShipClient() = default;
    /// POST /api/v1/records: one result per record the MotherShip answered.
    virtual Result<std::vector<protocol::RecordResult>> uploadRecords(const protocol::RecordBatch& batch) = 0;
    /// GET /api/v1/lots/<lot>.
    virtual Result<protocol::LotQuota> lotQuota(std::string_view lot) = 0;
    /// POST /api/v1/boxes.
    virtual Status registerBox(const protocol::BoxRegistration& box) = 0;
    /// GET /api/v1/devices/<devid>. Errors: notFound when the MotherShip has no record.
    virtual Result<protocol::DeviceInfo> device(std::uint32_t devId) = 0;
    /// POST /api/v1/devices/<devid>/revoke {"reason"} (PROTOCOL.md §6.1, §10): the device's OTP
    /// and key are refused from the answer on; a device revoked before answers the same.
    /// Errors: notFound (no such device), permissionDenied (another station's device),
    /// invalidArgument (the reason), besides those of every call.
    virtual Result<protocol::RevokeResponse> revokeDevice(std::uint32_t devId, const protocol::RevokeRequest& request) = 0;
    /// POST /api/v1/devices/<devid>/pre-enroll (PROTOCOL.md §10) for a pre-enrolled lot: maps
    /// the station's own device to the lot's Controller without spending its OTP, so the
    /// label's holder is told `pre-enrolled`. The same pre-enrollment again answers the same.
    /// Errors: notFound (no such device), permissionDenied (another station's device),
    /// conflict (revoked, mapped by its label, or pre-enrolled to another Controller),
    /// invalidArgument, besides those of every call.
    virtual Result<protocol::PreEnrollResponse> preEnroll(std::uint32_t devId, const protocol::PreEnrollRequest& request) = 0;
    /// GET /.well-known/tte/status?otp,devid (message 7/8), the query a label's holder makes:
    /// it spends nothing. Errors: notFound (unknown Dev ID or wrong OTP), rateLimited,
    /// besides those of every call.
    virtual Result<protocol::StatusResponse> status(const protocol::EnrollmentCredentials& credentials) = 0;
};

/// The customer controller's introduction API (message 6).
class ControllerClient {
public:
    virtual ~ControllerClient() = default;
    /// POST /tte/v1/introductions (the document holds the OTP). A 409 for the same fingerprint
    /// counts as done.
    virtual Status introduce(const ControllerTarget& controller, const protocol::Introduction& introduction) = 0;
};

}  // namespace tte::station

namespace tte::station {

/// Everything that goes into a device's provisioning block (PROTOCOL.md §9).
struct BlockFields {
    std::uint32_t msId = 0;
    std::uint32_t devId = 0;
    std::uint16_t msPort = 0;
    bool ledEnrollment = false;
    std::string msAddress;
    std::string msFingerprint;  ///< 64 hex
    std::string urn;
    const Secret* otp = nullptr;         ///< 8 bytes, big-endian
    const DeviceKey* key = nullptr;      ///< a certificate device (block version 1), or
    const Secret* psk = nullptr;         ///< a DTLS-PSK device (32 bytes; block version 2, §11)
};

/// Encodes the provisioning block; the real one is tte::protocol's encodeBlock.
class BlockEncoder {
public:
    virtual ~BlockEncoder() = default;
    /// The 2048-byte block (it holds the private key, hence a Secret).
    /// Errors: invalidArgument naming the field that does not fit.
    virtual Result<Secret> encode(const BlockFields& fields) = 0;
    /// Flash address of the block and of the NVM sector the station erases.
    [[nodiscard]] virtual std::uint32_t blockAddress() const = 0;
    [[nodiscard]] virtual std::uint32_t nvmAddress() const = 0;
};

}  // namespace tte::station
