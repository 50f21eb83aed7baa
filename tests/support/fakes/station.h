// In-memory fakes of the station's ports for unit tests: keys backed by OpenSSL in memory,
// a flasher with RAM devices, a printer that remembers what it printed, and a MotherShip
// that checks record signatures and answers idempotently like PROTOCOL.md §10.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <optional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tte/station/ports.h"

namespace tte::station::fakes {

class FakeKeys final : public StationKeys {
public:
    FakeKeys();
    /// Keys kept in `dir` (made on first use), so that a restarted process has the same station.
    explicit FakeKeys(const std::string& dir);
    ~FakeKeys() override;
    Result<Secret> newOtp() override;
    Result<Secret> bulkOtp(std::uint32_t box, std::uint32_t devId) override;
    Result<Secret> boxSecret(std::uint32_t box) override;
    Result<DeviceKey> newDeviceKey(std::string_view urn) override;
    Result<Secret> newPsk() override;
    Result<std::vector<std::uint8_t>> sign(std::span<const std::uint8_t> data) override;
    Result<std::vector<std::uint8_t>> stationPublicKey() override;
    Result<Secret> queueMask(std::string_view itemId, std::size_t size) override;
    Status check() override;

    /// The token fails every call with `e` (a PKCS#11 error, e.g. CKR_DEVICE_REMOVED) until
    /// cleared with nullopt, as a token pulled out and put back.
    void setTokenFault(std::optional<Error> e);
    /// How often check() was called.
    int checks();

    std::vector<std::string> issuedOtps;  ///< hex of every OTP handed out
    bool failOtp = false;

private:
    std::mutex m_mutex;
    void* m_stationKey;  // EVP_PKEY*
    std::vector<std::uint8_t> m_lotKey;
    std::vector<std::uint8_t> m_queueKey;
    std::optional<Error> m_tokenFault;
    int m_checks = 0;
    /// The token's fault, if any (locks m_mutex).
    std::optional<Error> tokenFault();
};

class FakeFlasher final : public DeviceFlasher {
public:
    /// Each port holds a board with its own unique ID (see uids), at RDP level 0.
    explicit FakeFlasher(std::vector<std::string> ports);
    Result<FirmwareImage> loadFirmware(const std::string& path) override;
    /// The ports that hold a board now (see replace/remove).
    Result<std::vector<std::string>> slots() override;
    /// A new blank board (new unique ID, level 0, erased) in `port`, as `sim replace` does.
    void replace(const std::string& port);
    /// Takes the board out of `port`, as `sim remove` does.
    void remove(const std::string& port);
    /// Reports its progress in two steps per stage (half, all), as a real write would in chunks.
    Status writeAndVerify(const std::string& slot, std::span<const FlashSegment> segments,
                          const FlashProgressFn& progress = {}) override;
    Result<std::vector<std::uint8_t>> read(const std::string& slot, std::uint32_t address, std::size_t length) override;
    /// As the adapter: no mcuUid while protected; protect level0 invalidArgument, level2
    /// from level1 permissionDenied; unprotect erases the port's flash.
    Result<BoardIdentity> identify(const std::string& slot) override;
    Status protect(const std::string& slot, ReadProtection level) override;
    Result<BoardIdentity> unprotect(const std::string& slot) override;
    /// With `hotplug`, replace() and remove() are reported as libusb's hotplug events would be.
    Result<std::unique_ptr<BusSubscription>> watchBus(std::function<void()> changed) override;
    /// How often identify() was called (a board asked who it is: USB traffic on the real bus).
    int identifies();

    bool hotplug = false;  ///< the bus has hotplug events (watchBus); set before a run

    std::set<std::string> failPorts;  ///< writeAndVerify fails (read-back mismatch) on these
    std::set<std::string> failLock;   ///< protect fails (the option-byte write did not take) on these
    std::map<std::string, std::map<std::uint32_t, std::vector<std::uint8_t>>> flash;  ///< port → address → bytes
    std::map<std::string, std::string> uids;                  ///< port → mcuUid (24 hex); change one to swap boards
    std::map<std::string, ReadProtection> protection;         ///< port → level

private:
    void busChanged();
    std::mutex m_mutex;
    std::vector<std::string> m_ports;
    std::uint32_t m_boards = 0;
    std::function<void()> m_onBus;
    int m_identifies = 0;
};

/// A printer whose jobs and condition follow a script, as a CUPS queue would: each job
/// submitted takes the next JobScript (printed at once when none is left); each
/// printerCondition() call takes the next condition (ready when none is left).
class FakePrinter final : public LabelPrinter {
public:
    enum class Fate { printed, cancelled, aborted };
    struct JobScript {
        Fate fate = Fate::printed;
        int waitPolls = 0;  ///< jobState() answers `waiting` this many times first
    };

    Result<PrintedLabel> print(const DeviceLabel& label) override;
    Result<Secret> scanBack(const PrintedLabel& printed) override;
    Result<int> submit(const DeviceLabel& label) override;
    Result<LabelJobState> jobState(int job) override;
    PrinterCondition printerCondition() override;
    Result<PrintedLabel> collect(const DeviceLabel& label, int job) override;
    Status cancel(int job) override;

    std::map<std::string, std::string> printed;  ///< job → URL text
    bool smudge = false;                          ///< scan-back reads a different URL
    std::deque<JobScript> jobScripts;
    std::deque<PrinterCondition> conditions;
    std::vector<std::string> submitted;  ///< the URL of every job submitted, in order
    std::vector<int> cancelled;
    /// The largest number of jobs of one URL that were waiting at once (2 = a duplicate).
    int mostOpenJobsOfOneLabel = 0;

    /// A fault the printer keeps until cleared (after `conditions` ran out), for tests that
    /// look at a held line; while it lasts each printerCondition() waits up to 10 ms for it
    /// to clear, so that a line on a manual clock does not spin.
    void setFault(std::optional<PrinterCondition> fault);

private:
    std::condition_variable m_faultChanged;
    std::optional<PrinterCondition> m_fault;
    struct Job {
        std::string url;
        JobScript script;
        bool done = false;
    };
    std::mutex m_mutex;
    int m_next = 0;
    std::map<int, Job> m_jobs;
};

class FakeEncoder final : public BlockEncoder {
public:
    Result<Secret> encode(const BlockFields& f) override;
    std::uint32_t blockAddress() const override { return 0x08008000; }
    std::uint32_t nvmAddress() const override { return 0x0800C000; }
};

class FakeMotherShip final : public MotherShipClient {
public:
    explicit FakeMotherShip(StationKeys& keys, protocol::LotQuota quota) : m_keys(keys), quota(std::move(quota)) {}
    /// As above, keeping every stored record in `file` (one JSON line each) across restarts.
    FakeMotherShip(StationKeys& keys, protocol::LotQuota quota, std::string file);
    Result<std::vector<protocol::RecordResult>> uploadRecords(const protocol::RecordBatch& batch) override;
    Result<protocol::LotQuota> lotQuota(std::string_view lot) override;
    Status registerBox(const protocol::BoxRegistration& box) override;
    Result<protocol::DeviceInfo> device(std::uint32_t devId) override;
    /// Maps a stored device (notFound otherwise) to the Controller, as its station's.
    Result<protocol::PreEnrollResponse> preEnroll(std::uint32_t devId, const protocol::PreEnrollRequest& request) override;
    /// Revokes a stored device (notFound otherwise); `revokeFails` answers instead when set.
    Result<protocol::RevokeResponse> revokeDevice(std::uint32_t devId, const protocol::RevokeRequest& request) override;
    /// The state of a stored device whose OTP matches; notFound otherwise.
    Result<protocol::StatusResponse> status(const protocol::EnrollmentCredentials& credentials) override;

    std::mutex mutex;
    std::optional<Error> revokeFails;
    std::map<std::uint32_t, std::string> revoked;            ///< devid → reason
    bool down = false;
    int uploadCalls = 0;
    std::map<std::string, protocol::StationRecord> records;  ///< record_id → record (with OTP and signature)
    std::map<std::uint32_t, std::string> otpByDevId;         ///< devid → OTP hex
    std::map<std::uint32_t, std::string> mapped;             ///< devid → controller fingerprint (pre-enrolled)
    std::vector<std::string> boxes;
    int stored = 0;  ///< records stored (not duplicates), over all restarts

private:
    std::string m_file;
    StationKeys& m_keys;

public:
    protocol::LotQuota quota;
};

class FakeController final : public ControllerClient {
public:
    Status introduce(const ControllerTarget& controller, const protocol::Introduction& introduction) override;
    std::mutex mutex;
    bool down = false;
    std::vector<std::string> introductions;  ///< each message 6 as sent (JSON, with the OTP)
};

}  // namespace tte::station::fakes
