// Simulated devices in a directory, shared between processes under flock(2).
#include "tte/flasher/sim_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "tte/base/hex.h"
#include "tte/flasher/dfu_file.h"

namespace tte::flasher {
namespace {

constexpr std::string_view kCollidingSerial = "FFFFFFFEFFFF";

/// An exclusive flock(2) on a lock file, released (and the fd closed) on destruction.
class FileLock {
public:
    static Result<FileLock> acquire(const std::filesystem::path& path) {
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return fail(Errc::io, "cannot open " + path.string() + ": " + std::strerror(errno));
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int err = errno;
            ::close(fd);
            if (err == EWOULDBLOCK) {
                return failNative(Errc::unavailable, "device busy: another process has it open", "libusb", -6,
                                  "LIBUSB_ERROR_BUSY");
            }
            return fail(Errc::io, "cannot lock " + path.string() + ": " + std::strerror(err));
        }
        return FileLock(fd);
    }
    FileLock(FileLock&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
    FileLock& operator=(FileLock&&) = delete;
    ~FileLock() {
        if (m_fd >= 0) ::close(m_fd);  // closing releases the flock
    }

private:
    explicit FileLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

// "BUS-PORT[.PORT]..." as Linux names USB ports: numbers of 1-3 digits, at most 7 ports deep.
bool validPortPath(std::string_view p) {
    std::size_t digits = 0;
    int dashes = 0;
    int dots = 0;
    for (char c : p) {
        if (c >= '0' && c <= '9') {
            if (++digits > 3) return false;
            continue;
        }
        if (digits == 0) return false;
        if (c == '-' && dashes == 0 && dots == 0) {
            ++dashes;
        } else if (c == '.' && dashes == 1 && dots < 6) {
            ++dots;
        } else {
            return false;
        }
        digits = 0;
    }
    return dashes == 1 && digits > 0;
}

UsbIdentity identityFor(std::string portPath, std::string serial) {
    return UsbIdentity{kStVendorId, kStDfuProductId, 0x2200, std::move(portPath), std::move(serial),
                       "STM32  BOOTLOADER"};
}

std::string formatRecord(const SimDeviceRecord& r) {
    std::ostringstream out;
    out << "# simulated STM32F405 in its ROM DfuSe bootloader (tte-flash sim)\n"
        << "serial=" << r.identity.serial << "\nmode=" << (r.dfuMode ? "dfu" : "firmware") << "\nrdp=" << r.rdpLevel
        << "\nwrp=0x" << toHex(r.wrpMask, 4) << "\nstate=" << static_cast<int>(r.state)
        << "\nstatus=" << static_cast<int>(r.status) << "\n";
    return out.str();
}

Result<SimDeviceRecord> parseRecord(const std::string& text, const std::string& portPath, const std::string& file) {
    SimDeviceRecord r;
    r.identity = identityFor(portPath, "");
    std::istringstream in(text);
    std::string line;
    auto bad = [&](const std::string& why) { return fail(Errc::corrupt, file + ": " + why); };
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto eq = line.find('=');
        if (eq == std::string::npos) return bad("line \"" + line + "\" is not key=value");
        const std::string key = line.substr(0, eq);
        const std::string value = line.substr(eq + 1);
        try {
            if (key == "serial") r.identity.serial = value;
            else if (key == "mode") r.dfuMode = value == "dfu";
            else if (key == "rdp") r.rdpLevel = std::stoi(value);
            else if (key == "wrp") r.wrpMask = static_cast<std::uint16_t>(std::stoul(value, nullptr, 16));
            else if (key == "state") r.state = static_cast<DfuState>(std::stoi(value));
            else if (key == "status") r.status = static_cast<DfuStatus>(std::stoi(value));
            else return bad("unknown key \"" + key + "\"");
        } catch (const std::exception&) {
            return bad("bad value in \"" + line + "\"");
        }
    }
    return r;
}

Status writeText(const std::filesystem::path& path, const std::string& text) {
    return writeFileBytes(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

/// An open simulated device: the bootloader plus the lock; saved back on destruction.
class SimSession final : public DfuTransport {
public:
    SimSession(FileLock lock, Clock& clock, SimBehaviour behaviour, SimDeviceRecord record,
               std::filesystem::path statePath, std::filesystem::path flashPath)
        : m_lock(std::move(lock)),
          m_sim(clock, record.identity, behaviour),
          m_record(std::move(record)),
          m_statePath(std::move(statePath)),
          m_flashPath(std::move(flashPath)) {}
    ~SimSession() override {
        if (m_loaded) (void)save();  // a destructor cannot report; the next open sees the files
    }
    SimSession(const SimSession&) = delete;
    SimSession& operator=(const SimSession&) = delete;

    Status load() {
        if (auto st = m_sim.flash().loadImage(m_flashPath); !st) return st;
        m_sim.flash().setReadProtection(m_record.rdpLevel);
        m_sim.flash().setWriteProtectMask(m_record.wrpMask);
        m_sim.restoreState(m_record.state, m_record.status);
        m_loaded = true;
        return {};
    }
    Status save() {
        if (auto st = m_sim.flash().saveImage(m_flashPath); !st) return st;
        m_record.dfuMode = !m_sim.runningFirmware();
        m_record.state = m_sim.runningFirmware() ? DfuState::dfuIdle : m_sim.state();
        m_record.status = m_sim.runningFirmware() ? DfuStatus::ok : m_sim.status();
        return writeText(m_statePath, formatRecord(m_record));
    }

    [[nodiscard]] const UsbIdentity& identity() const override { return m_sim.identity(); }
    Result<std::vector<DfuAltSetting>> altSettings() override { return m_sim.altSettings(); }
    Result<DfuFunctional> functional() override { return m_sim.functional(); }
    Status claim(std::uint8_t i, std::uint8_t alt) override { return m_sim.claim(i, alt); }
    Result<std::size_t> controlOut(const ControlSetup& s, std::span<const std::uint8_t> d,
                                   std::chrono::milliseconds t) override {
        return m_sim.controlOut(s, d, t);
    }
    Result<std::size_t> controlIn(const ControlSetup& s, std::span<std::uint8_t> d,
                                  std::chrono::milliseconds t) override {
        return m_sim.controlIn(s, d, t);
    }

private:
    FileLock m_lock;  // declared first: released last, after the save
    SimulatedStm32 m_sim;
    SimDeviceRecord m_record;
    std::filesystem::path m_statePath;
    std::filesystem::path m_flashPath;
    bool m_loaded = false;
};

}  // namespace

SimDirectory::SimDirectory(std::filesystem::path dir, Clock& clock, SimBehaviour behaviour)
    : m_dir(std::move(dir)), m_clock(clock), m_behaviour(behaviour) {}

std::filesystem::path SimDirectory::flashPath(std::string_view portPath) const {
    return m_dir / (std::string(portPath) + ".flash");
}

Status SimDirectory::create(const std::filesystem::path& dir, const SimCreateOptions& options) {
    if (options.count < 1 || options.count > 127) {
        return fail(Errc::invalidArgument, "device count " + std::to_string(options.count) + " is outside 1..127");
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(Errc::io, "cannot create " + dir.string() + ": " + ec.message());
    const Stm32Flash erased;
    for (int i = 1; i <= options.count; ++i) {
        const std::string port = "1-1." + std::to_string(i);
        const auto state = dir / (port + ".state");
        if (std::filesystem::exists(state)) return fail(Errc::alreadyExists, state.string() + " already exists");
        SimDeviceRecord r;
        r.identity = identityFor(port, options.distinctSerials ? "3276384C" + toHex(static_cast<std::uint64_t>(i), 4)
                                                               : std::string(kCollidingSerial));
        if (auto st = erased.saveImage(dir / (port + ".flash")); !st) return st;
        if (auto st = writeText(state, formatRecord(r)); !st) return st;
    }
    return {};
}

Result<std::vector<UsbIdentity>> SimDirectory::list() {
    std::error_code ec;
    if (!std::filesystem::is_directory(m_dir, ec)) {
        return fail(Errc::notFound, m_dir.string() + " is not a simulator directory (make one with tte-flash sim create)");
    }
    std::vector<UsbIdentity> out;
    for (const auto& entry : std::filesystem::directory_iterator(m_dir, ec)) {
        if (entry.path().extension() != ".state") continue;
        const std::string port = entry.path().stem().string();
        if (!validPortPath(port)) continue;
        auto text = readFileBytes(entry.path());
        if (!text) continue;  // removed meanwhile: unplugged
        auto r = parseRecord(std::string(text->begin(), text->end()), port, entry.path().string());
        if (!r) return std::unexpected(r.error());
        if (r->dfuMode) out.push_back(r->identity);
    }
    if (ec) return fail(Errc::io, "cannot read " + m_dir.string() + ": " + ec.message());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.portPath < b.portPath; });
    return out;
}

Result<SimDeviceRecord> SimDirectory::record(std::string_view portPath) {
    if (!validPortPath(portPath)) return fail(Errc::invalidArgument, "\"" + std::string(portPath) + "\" is not a port path");
    const auto statePath = m_dir / (std::string(portPath) + ".state");
    auto text = readFileBytes(statePath);
    if (!text) return fail(Errc::notFound, "no simulated device at port " + std::string(portPath) + " in " + m_dir.string());
    return parseRecord(std::string(text->begin(), text->end()), std::string(portPath), statePath.string());
}

Status SimDirectory::update(std::string_view portPath, const SimDeviceRecord& record) {
    auto old = this->record(portPath);
    if (!old) return std::unexpected(old.error());
    auto lock = FileLock::acquire(m_dir / (std::string(portPath) + ".lock"));
    if (!lock) return std::unexpected(lock.error());
    return writeText(m_dir / (std::string(portPath) + ".state"), formatRecord(record));
}

Result<std::unique_ptr<DfuTransport>> SimDirectory::open(std::string_view portPath) {
    // Validate the port path and see that the device exists before a lock file is made.
    if (auto exists = record(portPath); !exists) return std::unexpected(exists.error());
    auto lock = FileLock::acquire(m_dir / (std::string(portPath) + ".lock"));
    if (!lock) return std::unexpected(lock.error());
    auto r = record(portPath);  // again under the lock: another process may have changed it
    if (!r) return std::unexpected(r.error());
    if (!r->dfuMode) {
        return fail(Errc::notFound, "the device at port " + std::string(portPath) + " runs its firmware, not DFU mode");
    }
    auto session = std::make_unique<SimSession>(std::move(*lock), m_clock, m_behaviour, *r,
                                                m_dir / (std::string(portPath) + ".state"), flashPath(portPath));
    if (auto st = session->load(); !st) return std::unexpected(st.error());
    return std::unique_ptr<DfuTransport>(std::move(session));
}

}  // namespace tte::flasher
