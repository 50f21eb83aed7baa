// BoardControl: identify, protect and unprotect an STM32F405 through its ROM DfuSe bootloader.
#include "tte/flasher/board_control.h"

#include <algorithm>
#include <vector>

#include "tte/base/hex.h"

namespace tte::flasher {
namespace {

constexpr auto kReopenPoll = std::chrono::milliseconds(100);
/// The UID read starts at the OTP lock bytes (the start must lie in the "OTP Memory") and
/// runs on into the signature: lock bytes, unique ID at +16, flash size at +34.
constexpr std::uint32_t kSignatureReadLength = 48;

bool isReadProtection(const Error& e) { return e.code == Errc::permissionDenied && e.nativeName == "errVENDOR"; }

void report(const ProgressCallback& cb, Phase phase, std::uint64_t done, std::uint64_t total) {
    if (cb) cb(Progress{phase, done, total});
}

/// One read of `length` (at most wTransferSize) bytes at `address` from the claimed memory,
/// leaving the device in dfuIDLE.
Result<std::vector<std::uint8_t>> readBlock(DfuseSession& session, std::uint32_t address, std::uint32_t length) {
    if (auto st = session.setAddress(address); !st) return std::unexpected(st.error());
    if (auto st = session.abort(); !st) return std::unexpected(st.error());  // upload starts from dfuIDLE
    std::vector<std::uint8_t> bytes(length);
    auto n = session.upload(2, bytes);
    if (!n) {
        (void)session.ensureIdle();  // a refused read leaves dfuERROR behind
        return withContext(n.error(), "reading 0x" + toHex(address, 8));
    }
    if (*n != length) {
        return fail(Errc::io, "reading 0x" + toHex(address, 8) + ": device sent " + std::to_string(*n) + " of " +
                                  std::to_string(length) + " bytes");
    }
    if (auto st = session.ensureIdle(); !st) return std::unexpected(st.error());
    return bytes;
}

Result<DfuseSession> sessionOn(DfuTransport& transport, Clock& clock, std::string_view memory,
                               const DfuseTimeouts& timeouts) {
    auto target = openMemory(transport, memory);
    if (!target) return std::unexpected(target.error());
    DfuseSession session(transport, clock, target->alt.interfaceNumber, target->transferSize, timeouts);
    if (auto st = session.ensureIdle(); !st) return withContext(st.error(), "preparing the device");
    return session;
}

}  // namespace

Result<std::unique_ptr<DfuTransport>> BoardControl::open(std::string_view portPath) {
    auto t = m_source.open(portPath);
    if (!t) return withContext(t.error(), "port " + std::string(portPath));
    return t;
}

Result<BoardInfo> BoardControl::identify(std::string_view portPath) {
    auto t = open(portPath);
    if (!t) return std::unexpected(t.error());
    return identify(**t);
}

Result<BoardInfo> BoardControl::identify(DfuTransport& transport) {
    BoardInfo info;
    info.usb = transport.identity();
    {
        auto session = sessionOn(transport, m_clock, "Option Bytes", m_timeouts);
        if (!session) return std::unexpected(session.error());
        auto ob = readBlock(*session, kOptionBytesAddress, kOptionBytesSize);
        if (!ob && !isReadProtection(ob.error())) return withContext(ob.error(), "option bytes");
        if (!ob) {
            // A bootloader that refuses reads is at level 1: at level 2 it would not run at all.
            info.rdp = RdpLevel::level1;
            return info;
        }
        OptionBytes options;
        std::copy(ob->begin(), ob->end(), options.raw.begin());
        info.options = options;
        info.rdp = options.rdp();
    }
    auto session = sessionOn(transport, m_clock, "OTP Memory", m_timeouts);
    if (!session) return std::unexpected(session.error());
    auto sig = readBlock(*session, kOtpLockAddress, kSignatureReadLength);
    if (!sig) return withContext(sig.error(), "unique ID");
    const auto uidAt = sig->begin() + (kUidAddress - kOtpLockAddress);
    std::array<std::uint8_t, 12> uidBytes{};
    std::copy(uidAt, uidAt + 12, uidBytes.begin());
    info.uid = McuUid::fromBytes(uidBytes);
    const std::size_t sizeAt = kFlashSizeAddress - kOtpLockAddress;
    info.flashSizeKiB = static_cast<std::uint16_t>((*sig)[sizeAt] | ((*sig)[sizeAt + 1] << 8));
    if (!info.usb.serial.empty() && info.usb.serial != kAllOnesUidSerial) {
        const std::string derived = dfuSerialOf(*info.uid);
        if (derived != info.usb.serial) {
            return fail(Errc::corrupt, "the unique ID read at 0x1fff7a10 (" + info.uid->hex() + ") gives serial " +
                                           derived + ", but the bootloader reports " + info.usb.serial +
                                           ": it is not this chip's ID");
        }
        info.serialChecked = true;
    }
    return info;
}

Result<bool> BoardControl::writeOptionBytes(DfuTransport& transport, const OptionBytes& options) {
    auto session = sessionOn(transport, m_clock, "Option Bytes", m_timeouts);
    if (!session) return std::unexpected(session.error());
    if (auto st = session->setAddress(kOptionBytesAddress); !st) return std::unexpected(st.error());
    return session->downloadThenReset(2, options.raw, "writing the option bytes");
}

Result<std::unique_ptr<DfuTransport>> reopenAfterReset(DeviceSource& source, std::string_view portPath,
                                                       const UsbIdentity& before, Clock& clock,
                                                       std::chrono::milliseconds within) {
    const auto deadline = clock.now() + within;
    for (;;) {
        auto t = source.open(portPath);
        if (t) {
            const std::string& serial = (*t)->identity().serial;
            if (before.serial != kAllOnesUidSerial && serial != before.serial) {
                return fail(Errc::conflict, "port " + std::string(portPath) + ": a different board (serial " + serial +
                                                ") came back after the reset of board " + before.serial);
            }
            return t;
        }
        if (t.error().code != Errc::notFound && t.error().code != Errc::unavailable) {
            return withContext(t.error(), "port " + std::string(portPath) + " after the reset");
        }
        if (clock.now() >= deadline) {
            return fail(Errc::unavailable, "port " + std::string(portPath) + ": the board did not come back in DFU mode "
                                           "within " + std::to_string(within.count()) + " ms of its reset (" +
                                               t.error().message + ")");
        }
        clock.sleepFor(kReopenPoll);
    }
}

Result<ProtectReport> BoardControl::protect(std::string_view portPath, RdpLevel level, Level2 level2,
                                            const ProgressCallback& progress) {
    if (level == RdpLevel::level0) {
        return fail(Errc::invalidArgument, "read protection goes back to level 0 only by read unprotect, which "
                                           "erases the flash (unprotect)");
    }
    if (level == RdpLevel::level2 && level2 != Level2::permanentlyAllow) {
        return fail(Errc::permissionDenied, "RDP level 2 is permanent (no bootloader, no debug port, no rework "
                                            "ever again) and is refused unless explicitly allowed");
    }
    const auto start = m_clock.now();
    auto t = open(portPath);
    if (!t) return std::unexpected(t.error());
    auto info = identify(**t);
    if (!info) return std::unexpected(info.error());
    ProtectReport out;
    out.before = info->rdp;
    out.after = info->rdp;
    if (info->rdp == level) return out;
    if (!info->options) {
        return fail(Errc::permissionDenied, "port " + std::string(portPath) + ": the board is at RDP level 1; its "
                                            "bootloader refuses option-byte writes (errVENDOR), so level 2 can only be "
                                            "set from level 0");
    }
    report(progress, Phase::lock, 0, 1);
    OptionBytes options = *info->options;
    options.setRdp(level);
    auto reset = writeOptionBytes(**t, options);
    if (!reset) return withContext(reset.error(), "port " + std::string(portPath));
    t->reset();  // the old USB session ended with the reset
    out.changed = true;
    out.after = level;
    if (level == RdpLevel::level2) {
        // The bootloader no longer starts: nothing comes back to confirm with.
        report(progress, Phase::lock, 1, 1);
        out.elapsed = m_clock.now() - start;
        return out;
    }
    auto back = reopenAfterReset(m_source, portPath, info->usb, m_clock, m_timeouts.reenumerate);
    if (!back) return std::unexpected(back.error());
    auto after = identify(**back);
    if (!after) return withContext(after.error(), "port " + std::string(portPath) + " after the option-byte write");
    if (after->rdp != RdpLevel::level1) {
        return fail(Errc::io, "port " + std::string(portPath) + ": the option-byte write did not take: the board "
                                                              "still reads as RDP " +
                                  std::string(rdpLevelName(after->rdp)));
    }
    report(progress, Phase::lock, 1, 1);
    out.elapsed = m_clock.now() - start;
    return out;
}

Result<UnprotectReport> BoardControl::unprotect(std::string_view portPath, const ProgressCallback& progress) {
    const auto start = m_clock.now();
    auto t = open(portPath);
    if (!t) return std::unexpected(t.error());
    auto info = identify(**t);
    if (!info) return std::unexpected(info.error());
    UnprotectReport out;
    out.before = info->rdp;
    if (info->rdp == RdpLevel::level0) {
        out.after = *info;
        return out;
    }
    const std::string where = "port " + std::string(portPath);
    auto target = openFlashTarget(**t);
    if (!target) return withContext(target.error(), where);
    const auto sectors = target->layout.sectors.size();
    {
        DfuseSession session(**t, m_clock, target->alt.interfaceNumber, target->transferSize, m_timeouts);
        if (auto st = session.ensureIdle(); !st) return withContext(st.error(), where + ": preparing the device");
        report(progress, Phase::erase, 0, sectors);
        auto reset = session.readUnprotect();
        if (!reset) return withContext(reset.error(), where);
        if (!*reset) return fail(Errc::io, where + ": the device did not reset after read unprotect");
    }
    t->reset();
    auto back = reopenAfterReset(m_source, portPath, info->usb, m_clock, m_timeouts.reenumerate);
    if (!back) return std::unexpected(back.error());
    report(progress, Phase::erase, sectors, sectors);
    auto after = identify(**back);
    if (!after) return withContext(after.error(), where + " after read unprotect");
    if (after->rdp != RdpLevel::level0) {
        return fail(Errc::io, where + ": still at RDP " + std::string(rdpLevelName(after->rdp)) + " after read unprotect");
    }
    // The erase is the whole point: read every byte back.
    auto flash = openFlashTarget(**back);
    if (!flash) return withContext(flash.error(), where);
    const std::uint32_t begin = flash->layout.sectors.front().address;
    const auto length = static_cast<std::uint32_t>(flash->layout.sectors.back().end() - begin);
    Flasher reader(m_clock, m_timeouts);
    auto bytes = reader.read(**back, begin, length, [&](const Progress& p) {
        report(progress, Phase::verify, p.done, p.total);
    });
    if (!bytes) return withContext(bytes.error(), where + ": reading the flash back");
    const auto dirty = std::find_if(bytes->begin(), bytes->end(), [](std::uint8_t b) { return b != 0xFF; });
    if (dirty != bytes->end()) {
        return fail(Errc::corrupt, where + ": read unprotect left the flash not blank (0x" +
                                       toHex(begin + static_cast<std::uint32_t>(dirty - bytes->begin()), 8) + ")");
    }
    out.erased = true;
    out.after = *after;
    out.elapsed = m_clock.now() - start;
    return out;
}

}  // namespace tte::flasher
