// The per-device provisioning pipeline: one state machine per slot, every step journalled
// before the next starts (DESIGN: "One device through the station"):
//   allocate Dev ID → OTP + device key → block → flash + read-back → label + scan-back →
//   sign record → journal commit (+ queue) → upload (the Uploader).
// A board's failure journals `failed` with the step and reason; the Dev ID stays burned. A
// fault of the line (the printer) holds the line instead (line_hold.h): no new board starts,
// the boards inside wait, nothing is failed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tte/base/clock.h"
#include "tte/station/config.h"
#include "tte/station/journal.h"
#include "tte/station/line_hold.h"
#include "tte/station/ports.h"

namespace tte::station {

/// Size of the NVM sector the station erases (PROTOCOL.md §9, sector 3).
inline constexpr std::size_t kNvmSize = 16 * 1024;

/// Points at which the pipeline's fault hook is called, in pipeline order: after each
/// journalled step ("printing": the label job was submitted), after the label job completed
/// ("printed", before its scan-back) and after the record is signed and its items sealed
/// ("signed", inside the uncommitted transaction); "held" once the line began to hold
/// while a board waits for its label. The Uploader adds "uploaded" and "delivered"
/// (kUploadFaultPoints).
inline constexpr const char* kFaultPoints[] = {"allocated", "keyed", "flashed", "printing", "printed",
                                               "labelled",  "signed", "committed", "held"};

/// Progress of one slot, for the CLI and the GUI.
struct SlotEvent {
    std::string port;
    std::uint32_t devId = 0;
    std::string step;     ///< "allocated", "keyed", "flashed", "locked", "printing", "labelled", "committed",
                          ///< "failed"; "reprint" (a lost label job is printed again), "waiting" (for the
                          ///< printer); "refused" (a board provisioned before: devId 0); the fixture's
                          ///< "empty", "done", "ignored" and "waiting" (a new board that waits for a
                          ///< held line to start) with devId 0; and, not journalled (transient()),
                          ///< "flashing" and "verifying" with bytes (0 of N first, then as it goes)
                          ///< and "locking" (setting read-out protection)
    std::string message;  ///< the failure reason for "failed", the reason for "reprint" and "waiting"
    std::string seat;     ///< the fixture seat's name (the port without seats)
    std::uint64_t bytesDone = 0;   ///< "flashing", "verifying": bytes written / read back so far
    std::uint64_t bytesTotal = 0;  ///< … of this many
    std::string label;    ///< "labelled": the rendered label image that was scanned back (PrintedLabel::artefact)
    std::string hold;     ///< "waiting": what the line holds for (holdReasonName: "printer", "token", ...)

    /// A step that is not journalled: the flash's byte progress and the lock in progress. A
    /// log that wants one line per journalled step skips these.
    [[nodiscard]] bool transient() const { return step == "flashing" || step == "verifying" || step == "locking"; }
};

struct RunSummary {
    int committed = 0;
    int failed = 0;
    int refused = 0;  ///< boards provisioned before, not taken (no Dev ID burned)
    std::vector<std::string> failures;  ///< "<port> <devid>: <step>: <reason>"
};

/// What the pipeline needs from outside.
struct PipelinePorts {
    PipelinePorts(StationKeys& k, DeviceFlasher& f, LabelPrinter& p, BlockEncoder& e, Clock& c,
                  MotherShipClient* ms = nullptr)
        : keys(k), flasher(f), printer(p), encoder(e), clock(c), mothership(ms) {}
    StationKeys& keys;
    DeviceFlasher& flasher;
    LabelPrinter& printer;
    BlockEncoder& encoder;
    Clock& clock;
    /// Asked for the lot's quota again while a used-up quota holds the line; without it a
    /// used-up quota ends the run.
    MotherShipClient* mothership = nullptr;
};

/// True for an error of the HSM token itself, not of a request: the token absent or removed,
/// its session lost, the login refused (wrong, expired or locked PIN). The line holds on it.
bool isTokenFault(const Error& e);

class Pipeline {
public:
    using Observer = std::function<void(const SlotEvent&)>;
    using FaultHook = std::function<void(std::string_view point, std::uint32_t devId)>;

    Pipeline(const StationConfig& config, Journal& journal, PipelinePorts ports);

    [[nodiscard]] const StationConfig& config() const { return m_config; }

    /// Checks the lot before anything is provisioned: firmware loads (and matches its pinned
    /// SHA-256), the MS fingerprint is well-formed and not all zero, the Dev ID range lies in
    /// the MotherShip's quota (`quota`, or the one journalled at an earlier opening when the
    /// MotherShip is unreachable). Journals `lot-opened` once per lot.
    /// Errors: invalidArgument / corrupt / outOfRange / resourceExhausted with the reason.
    Status openLot(const std::optional<protocol::LotQuota>& quota);

    /// Marks every device whose pipeline was interrupted (crash) as failed and cancels the
    /// label job it was waiting for, if any (no label of a failed board comes out once the
    /// printer is back); returns how many.
    Result<int> recover();

    /// Provisions up to `count` devices among `ports` (all present if empty) on `slots`
    /// parallel workers. Devices with journal history (other than after rework) are skipped.
    /// Once `*stop` is true the workers finish the devices they hold and take no new ones.
    /// While the line holds, no worker takes a new device; a stop while the line holds leaves
    /// the boards waiting for their labels where they are (not failed: the next start's
    /// recover() marks them for rework and cancels their jobs, as after a crash).
    Result<RunSummary> run(int count, int slots, const std::vector<std::string>& ports,
                           const std::atomic<bool>* stop = nullptr);

    /// The fixture served continuously (config.seats, docs/STATION.md "Fixture seats"): one
    /// worker per seat watches its port every `watch` interval; a new board in an empty seat
    /// (or a board whose USB serial changed) is provisioned by itself; a done board stays
    /// "done" until it is taken out; boards on ports without a seat are ignored with one
    /// "ignored" event each. Ends once `count` boards were taken (0: no limit) and finished,
    /// or when `*stop` becomes true (the boards in flight are finished first).
    Result<RunSummary> serve(int count, std::chrono::milliseconds watch, const std::atomic<bool>* stop);

    /// The state of the last device the journal made of this board (by its unique ID, or its
    /// USB serial while it is read-protected), or nothing for a board never seen.
    Result<std::optional<std::string>> knownBoard(const BoardIdentity& board);

    /// One device in `port`: the whole state machine. Returns the Dev ID on success.
    /// `reworkedFrom`: the board is a reworked one whose old identity was revoked; the new
    /// device's `allocated` entry and its record name the old Dev ID (`reworked_from`).
    Result<std::uint32_t> provision(const std::string& port, std::optional<std::uint32_t> reworkedFrom = std::nullopt);

    void setObserver(Observer o) { m_observer = std::move(o); }
    /// The line's hold: its state, its observer, the operator's Resume.
    LineHold& lineHold() { return m_hold; }
    void setFaultHook(FaultHook h) { m_fault = std::move(h); }

    /// Ports ready to provision: no history, latest device `reworked`, or latest device
    /// committed and a blank device (erased block) in the slot now (the next one of the line).
    Result<std::vector<std::string>> freshPorts(const std::vector<std::string>& ports);

private:
    Result<std::uint32_t> allocate(const std::string& port, const BoardIdentity& board,
                                   std::optional<std::uint32_t> reworkedFrom);
    /// The lot's Dev IDs are used up: holds the line (reason quota) and asks the MotherShip
    /// every station.quota_poll_s until its quota for the lot reaches past the last Dev ID
    /// (then journals `quota-extended` and runs again). Called under m_allocMutex.
    /// Errors: resourceExhausted (no MotherShip to ask), cancelled (stopped while held).
    Status waitForQuota();
    /// The token failed with `cause` while device `devId` needed it: holds the line (reason
    /// token) and tries the token every hsm.poll_ms until it answers. The board waits with
    /// its Dev ID. Errors: cancelled (stopped while held), the journal's.
    Status waitForToken(std::uint32_t devId, const std::string& port, const Error& cause);
    /// Runs `op` (a call into the token) until it succeeds or fails for a reason other than
    /// the token itself, holding the line while the token is away.
    template <class T>
    Result<T> withToken(std::uint32_t devId, const std::string& port, const std::function<Result<T>()>& op);
    /// Sleeps `d` of clock time in slices, returning early when the run is stopped.
    void sleepUnlessStopped(Clock::Duration d);
    [[nodiscard]] bool stopping() const { return m_stop != nullptr && m_stop->load(); }
    bool blankDeviceIn(const std::string& port);
    /// The label step: submits the label, waits for its job, holds the line while the
    /// printer cannot print, prints a lost job once more. Errors: only a fault of this board
    /// (its label cannot be made, the printed label does not scan) or of the journal.
    Result<PrintedLabel> printLabel(std::uint32_t devId, const std::string& port, const DeviceLabel& label);
    /// Journals the step and reports it; `label`: the label image of a "labelled" step.
    Status step(const std::string& name, std::uint32_t devId, const std::string& port, nlohmann::json body,
                const std::string& label = {});
    std::unexpected<Error> failDevice(std::uint32_t devId, const std::string& port, const std::string& step, const Error& e);
    /// The signed record and its queue items; `otpBytes` and `otp` are the same OTP (8 bytes
    /// as the token gave them, to seal; the value, for the documents). `psk`: a DTLS-PSK
    /// device's PSK (§11), signed in the record and sealed in its queue item after the OTP.
    Result<JournalEntry> commitRecord(const protocol::DevUrn& urn, const protocol::Fingerprint& fingerprint,
                                      const std::optional<protocol::Psk>& psk, const Secret& otpBytes,
                                      const protocol::Otp& otp, const std::optional<std::string>& mcuUid,
                                      std::optional<std::uint32_t> reworkedFrom, const std::string& port);
    /// Reads who the board at `port` is and refuses one that must not be provisioned: a
    /// read-protected board, or a unique ID the journal provisioned before (unless its last
    /// device was reworked). A refusal is journalled as `refused` (no Dev ID is taken).
    /// Errors: alreadyExists / permissionDenied (refused), the flasher's (no board).
    Result<BoardIdentity> admit(const std::string& port);
    void emit(const std::string& port, std::uint32_t devId, const std::string& step, const std::string& message = {});
    void emit(SlotEvent event);
    /// A "waiting" event: the board (devId 0: a new board not started) waits for a line held for `reason`.
    void emitWaiting(const std::string& port, std::uint32_t devId, HoldReason reason, const std::string& message);
    /// Writes and verifies `segments`, reporting "flashing"/"verifying" with bytes to the
    /// observer (the start of each stage, then at most every kProgressStep of it).
    Status flashWithProgress(const std::string& port, std::uint32_t devId, std::span<const FlashSegment> segments);
    void fault(std::string_view point, std::uint32_t devId) {
        if (m_fault) m_fault(point, devId);
    }

    const StationConfig& m_config;
    Journal& m_journal;
    PipelinePorts m_ports;
    FirmwareImage m_firmware;
    bool m_opened = false;
    std::uint32_t m_first = 0;
    std::uint32_t m_last = 0;
    std::mutex m_allocMutex;
    LineHold m_hold;
    const std::atomic<bool>* m_stop = nullptr;  // the current run's stop flag
    Observer m_observer;
    FaultHook m_fault;
};

}  // namespace tte::station
