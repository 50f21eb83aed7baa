// Simulated boards in a directory (a fixture of seats), shared between processes under flock(2).
#include "tte/flasher/sim_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <utility>

#include "tte/base/hex.h"
#include "tte/flasher/dfu_file.h"

namespace tte::flasher {
namespace {

/// An exclusive flock(2) on a lock file, released (and the fd closed) on destruction.
class FileLock {
public:
    /// Non-blocking: another holder gives "device busy" (as LIBUSB_ERROR_BUSY). Blocking:
    /// waits (used for the short seat changes only).
    static Result<FileLock> acquire(const std::filesystem::path& path, bool wait = false) {
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return fail(Errc::io, "cannot open " + path.string() + ": " + std::strerror(errno));
        int rc = 0;
        do {
            rc = ::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
        } while (rc != 0 && errno == EINTR);
        if (rc != 0) {
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

Status checkPortPath(std::string_view p) {
    if (!validPortPath(p)) return fail(Errc::invalidArgument, "\"" + std::string(p) + "\" is not a port path");
    return {};
}

std::string formatRecord(const SimDeviceRecord& r) {
    std::ostringstream out;
    out << "# simulated STM32F405 in its ROM DfuSe bootloader (tte-flash sim)\n"
        << "uid=" << r.uid.hex() << "\nserial=" << r.identity.serial << "\nmode=" << (r.dfuMode ? "dfu" : "firmware")
        << "\noptions=" << toHex(r.options.raw) << "\nstate=" << static_cast<int>(r.state)
        << "\nstatus=" << static_cast<int>(r.status) << "\n";
    return out.str();
}

Result<SimDeviceRecord> parseRecord(const std::string& text, const std::string& portPath, const std::string& file) {
    SimDeviceRecord r;
    bool haveUid = false;
    std::string serial;
    std::istringstream in(text);
    std::string line;
    auto bad = [&](const std::string& why) {
        return fail(Errc::corrupt, file + ": " + why + " (make the board again with tte-flash sim replace)");
    };
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto eq = line.find('=');
        if (eq == std::string::npos) return bad("line \"" + line + "\" is not key=value");
        const std::string key = line.substr(0, eq);
        const std::string value = line.substr(eq + 1);
        try {
            if (key == "uid") {
                auto uid = McuUid::parse(value);
                if (!uid) return bad(uid.error().message);
                r.uid = *uid;
                haveUid = true;
            } else if (key == "serial") {
                serial = value;
            } else if (key == "mode") {
                r.dfuMode = value == "dfu";
            } else if (key == "options") {
                auto bytes = fromHex(value, "option bytes");
                if (!bytes || bytes->size() != kOptionBytesSize) return bad("options=" + value + " is not 16 bytes of hex");
                std::copy(bytes->begin(), bytes->end(), r.options.raw.begin());
            } else if (key == "state") {
                r.state = static_cast<DfuState>(std::stoi(value));
            } else if (key == "status") {
                r.status = static_cast<DfuStatus>(std::stoi(value));
            } else {
                return bad("unknown key \"" + key + "\"");
            }
        } catch (const std::exception&) {
            return bad("bad value in \"" + line + "\"");
        }
    }
    if (!haveUid) return bad("no uid= line");
    r.identity = bootloaderIdentity(portPath, r.uid);
    if (!serial.empty()) r.identity.serial = serial;
    return r;
}

Status writeText(const std::filesystem::path& path, const std::string& text) {
    return writeFileBytes(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

/// Inode of a seat's state file: a board put into the seat gets a new one (files are
/// replaced by rename), an empty seat has none.
std::optional<ino_t> inodeOf(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return st.st_ino;
}

/// The files of one seat of the directory.
struct SeatFiles {
    std::filesystem::path state;
    std::filesystem::path flash;
    std::filesystem::path seats;  ///< the directory's seats.lock

    std::filesystem::path lock(const McuUid& uid) const {
        return state.parent_path() / (state.stem().string() + "." + uid.hex() + ".lock");
    }
};

/// An open simulated board: the bootloader plus the board's lock. Saved back when the board
/// resets (a new USB session follows, for another handle) or when the transport goes away;
/// never once the board was taken out of its seat.
class SimSession final : public DfuTransport {
public:
    SimSession(FileLock lock, Clock& clock, SimBehaviour behaviour, SimDeviceRecord record, SeatFiles files, ino_t inode)
        : m_lock(std::move(lock)),
          m_sim(clock, record.identity, behaviour),
          m_record(std::move(record)),
          m_files(std::move(files)),
          m_inode(inode) {}
    ~SimSession() override {
        if (m_loaded && !m_done) (void)save();  // a destructor cannot report; the next open sees the files
    }
    SimSession(const SimSession&) = delete;
    SimSession& operator=(const SimSession&) = delete;

    Status load() {
        if (auto st = m_sim.flash().loadImage(m_files.flash); !st) return st;
        m_sim.flash().setOptions(m_record.options);
        m_sim.flash().setUid(m_record.uid);
        m_sim.restoreState(m_record.state, m_record.status);
        m_loaded = true;
        return {};
    }

    [[nodiscard]] const UsbIdentity& identity() const override { return m_sim.identity(); }
    Result<std::vector<DfuAltSetting>> altSettings() override {
        checkSeated();
        return m_sim.altSettings();
    }
    Result<DfuFunctional> functional() override {
        checkSeated();
        return m_sim.functional();
    }
    Status claim(std::uint8_t i, std::uint8_t alt) override {
        checkSeated();
        return m_sim.claim(i, alt);
    }
    Result<std::size_t> controlOut(const ControlSetup& s, std::span<const std::uint8_t> d,
                                   std::chrono::milliseconds t) override {
        checkSeated();
        auto r = m_sim.controlOut(s, d, t);
        afterTransfer();
        return r;
    }
    Result<std::size_t> controlIn(const ControlSetup& s, std::span<std::uint8_t> d,
                                  std::chrono::milliseconds t) override {
        checkSeated();
        auto r = m_sim.controlIn(s, d, t);
        afterTransfer();
        return r;
    }

private:
    // The operator may pull the board at any moment (sim remove / replace): from then on the
    // handle talks to nothing, and what this process still holds of the board is lost with it.
    void checkSeated() {
        if (m_done || inodeOf(m_files.state) == m_inode) return;
        m_sim.unplug();
        m_done = true;
        m_lock.reset();
    }

    // A board that reset (option bytes, read unprotect) or left DFU mode comes back as a new
    // USB device: save it now and free it for the next open, as the old handle is dead.
    void afterTransfer() {
        if (m_done || m_sim.present()) return;
        (void)save();
        m_done = true;
        m_lock.reset();
    }

    Status save() {
        auto seats = FileLock::acquire(m_files.seats, true);
        if (!seats) return std::unexpected(seats.error());
        if (inodeOf(m_files.state) != m_inode) return {};  // taken out meanwhile
        if (auto st = m_sim.flash().saveImage(m_files.flash); !st) return st;
        m_record.options = m_sim.flash().options();
        // Level 2 disables the bootloader: such a board only ever runs its firmware again.
        m_record.dfuMode = !m_sim.runningFirmware() && m_record.options.rdp() != RdpLevel::level2;
        // A board that went away (reset, unplug, leave) – or is resetting as the handle closes –
        // starts a fresh DFU session next time.
        const bool away = !m_sim.present() || m_sim.resetPending();
        m_record.state = away ? DfuState::dfuIdle : m_sim.state();
        m_record.status = away ? DfuStatus::ok : m_sim.status();
        return writeText(m_files.state, formatRecord(m_record));
    }

    std::optional<FileLock> m_lock;
    SimulatedStm32 m_sim;
    SimDeviceRecord m_record;
    SeatFiles m_files;
    ino_t m_inode;
    bool m_loaded = false;
    bool m_done = false;  ///< saved after a reset, or taken out of its seat: nothing more to save
};

/// Unique IDs of every board in the directory (to keep new ones unique within it).
std::set<std::string> uidsIn(const std::filesystem::path& dir) {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() != ".state") continue;
        auto text = readFileBytes(entry.path());
        if (!text) continue;
        auto r = parseRecord(std::string(text->begin(), text->end()), entry.path().stem().string(), entry.path().string());
        if (r) out.insert(r->uid.hex());
    }
    return out;
}

SimDeviceRecord newBoard(std::string_view portPath, const std::set<std::string>& taken, bool allOnesSerial) {
    SimDeviceRecord r;
    do {
        r.uid = randomMcuUid();
    } while (taken.contains(r.uid.hex()));
    r.identity = bootloaderIdentity(std::string(portPath), r.uid, allOnesSerial);
    return r;
}

}  // namespace

McuUid randomMcuUid() {
    std::random_device rd;
    auto pick = [&rd](std::uint32_t n) { return static_cast<std::uint32_t>(rd() % n); };
    static constexpr std::string_view kLotChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    auto lotChar = [&] { return static_cast<std::uint32_t>(static_cast<unsigned char>(kLotChars[pick(36)])); };
    McuUid uid;
    uid.words[0] = (pick(0x60) << 16) | pick(0x60);                                     // wafer Y, X
    uid.words[1] = (lotChar() << 24) | (lotChar() << 16) | (lotChar() << 8) | (1 + pick(25));  // lot[2..0], wafer
    uid.words[2] = (lotChar() << 24) | (lotChar() << 16) | (lotChar() << 8) | lotChar();      // lot[6..3]
    return uid;
}

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
    for (int i = 1; i <= options.count; ++i) {
        const auto state = dir / ("1-1." + std::to_string(i) + ".state");
        if (std::filesystem::exists(state)) return fail(Errc::alreadyExists, state.string() + " already exists");
    }
    const Stm32Flash erased;
    std::set<std::string> taken;
    for (int i = 1; i <= options.count; ++i) {
        const std::string port = "1-1." + std::to_string(i);
        const SimDeviceRecord r = newBoard(port, taken, options.allOnesSerials);
        taken.insert(r.uid.hex());
        if (auto st = erased.saveImage(dir / (port + ".flash")); !st) return st;
        if (auto st = writeText(dir / (port + ".state"), formatRecord(r)); !st) return st;
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
        if (!text) continue;  // taken out meanwhile
        auto r = parseRecord(std::string(text->begin(), text->end()), port, entry.path().string());
        if (!r) return std::unexpected(r.error());
        if (r->dfuMode) out.push_back(r->identity);
    }
    if (ec) return fail(Errc::io, "cannot read " + m_dir.string() + ": " + ec.message());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.portPath < b.portPath; });
    return out;
}

Result<SimDeviceRecord> SimDirectory::record(std::string_view portPath) {
    if (auto st = checkPortPath(portPath); !st) return std::unexpected(st.error());
    const auto statePath = m_dir / (std::string(portPath) + ".state");
    auto text = readFileBytes(statePath);
    if (!text) return fail(Errc::notFound, "no simulated device at port " + std::string(portPath) + " in " + m_dir.string());
    return parseRecord(std::string(text->begin(), text->end()), std::string(portPath), statePath.string());
}

Status SimDirectory::update(std::string_view portPath, const SimDeviceRecord& record) {
    auto old = this->record(portPath);
    if (!old) return std::unexpected(old.error());
    const SeatFiles files{m_dir / (std::string(portPath) + ".state"), flashPath(portPath), m_dir / "seats.lock"};
    auto lock = FileLock::acquire(files.lock(old->uid));
    if (!lock) return std::unexpected(lock.error());
    auto seats = FileLock::acquire(files.seats, true);
    if (!seats) return std::unexpected(seats.error());
    return writeText(files.state, formatRecord(record));
}

Result<std::unique_ptr<DfuTransport>> SimDirectory::open(std::string_view portPath) {
    // Validate the port path and see that a board is there before any lock file is made.
    if (auto exists = record(portPath); !exists) return std::unexpected(exists.error());
    const SeatFiles files{m_dir / (std::string(portPath) + ".state"), flashPath(portPath), m_dir / "seats.lock"};
    // Under the seats lock no board enters or leaves: record, lock, inode and flash agree.
    auto seats = FileLock::acquire(files.seats, true);
    if (!seats) return std::unexpected(seats.error());
    auto r = record(portPath);
    if (!r) return std::unexpected(r.error());
    auto lock = FileLock::acquire(files.lock(r->uid));
    if (!lock) return std::unexpected(lock.error());
    if (!r->dfuMode) {
        return fail(Errc::notFound, "the device at port " + std::string(portPath) + " runs its firmware, not DFU mode");
    }
    const auto inode = inodeOf(files.state);
    if (!inode) return fail(Errc::notFound, "no simulated device at port " + std::string(portPath) + " in " + m_dir.string());
    auto session = std::make_unique<SimSession>(std::move(*lock), m_clock, m_behaviour, *r, files, *inode);
    if (auto st = session->load(); !st) return std::unexpected(st.error());
    return std::unique_ptr<DfuTransport>(std::move(session));
}

Result<SimDeviceRecord> SimDirectory::replace(std::string_view portPath, bool allOnesSerial) {
    if (auto st = checkPortPath(portPath); !st) return std::unexpected(st.error());
    std::error_code ec;
    if (!std::filesystem::is_directory(m_dir, ec)) {
        return fail(Errc::notFound, m_dir.string() + " is not a simulator directory (make one with tte-flash sim create)");
    }
    const SeatFiles files{m_dir / (std::string(portPath) + ".state"), flashPath(portPath), m_dir / "seats.lock"};
    auto seats = FileLock::acquire(files.seats, true);
    if (!seats) return std::unexpected(seats.error());
    if (auto old = record(portPath)) std::filesystem::remove(files.lock(old->uid), ec);
    const SimDeviceRecord r = newBoard(portPath, uidsIn(m_dir), allOnesSerial);
    if (auto st = Stm32Flash().saveImage(files.flash); !st) return std::unexpected(st.error());
    if (auto st = writeText(files.state, formatRecord(r)); !st) return std::unexpected(st.error());
    return r;
}

Status SimDirectory::remove(std::string_view portPath) {
    if (auto st = checkPortPath(portPath); !st) return st;
    const SeatFiles files{m_dir / (std::string(portPath) + ".state"), flashPath(portPath), m_dir / "seats.lock"};
    auto seats = FileLock::acquire(files.seats, true);
    if (!seats) return std::unexpected(seats.error());
    auto old = record(portPath);
    if (!old) return fail(Errc::notFound, "seat " + std::string(portPath) + " in " + m_dir.string() + " is empty");
    std::error_code ec;
    std::filesystem::remove(files.state, ec);
    if (ec) return fail(Errc::io, "cannot remove " + files.state.string() + ": " + ec.message());
    std::filesystem::remove(files.flash, ec);
    std::filesystem::remove(files.lock(old->uid), ec);
    return {};
}

}  // namespace tte::flasher
