// The station's DeviceFlasher through tte::flasher (see flasher_devices.h).
#include "tte/station/adapters/flasher_devices.h"

#include <algorithm>

#include "tte/base/hex.h"
#include "tte/flasher/dfu_file.h"
#include "tte/flasher/flasher.h"
#include "tte/flasher/transport.h"
#include "tte/protocol/crypto.h"

namespace tte::station {

Result<FirmwareImage> FlasherDevices::loadFirmware(const std::string& path) { return loadFirmwareFile(path); }

Result<FirmwareImage> loadFirmwareFile(const std::string& path) {
    auto bytes = flasher::readFileBytes(path);
    if (!bytes) return std::unexpected(bytes.error());
    auto file = flasher::parseDfuFile(*bytes);
    if (!file) return std::unexpected(file.error());
    FirmwareImage img;
    img.sha256 = protocol::sha256Hex(*bytes);
    for (const auto& t : file->targets) {
        if (t.altSetting != 0) continue;
        for (const auto& e : t.elements) img.segments.push_back({e.address, e.bytes});
    }
    if (img.segments.empty()) return fail(Errc::invalidArgument, "no target for alternate setting 0 (Internal Flash)");
    return img;
}

Result<std::vector<std::string>> FlasherDevices::slots() {
    auto list = m_source.list();
    if (!list) return std::unexpected(list.error());
    std::vector<std::string> out;
    for (const auto& d : *list) out.push_back(d.portPath);
    return out;
}

Status FlasherDevices::writeAndVerify(const std::string& slot, std::span<const FlashSegment> segments,
                                      const FlashProgressFn& progress) {
    std::vector<flasher::Segment> writes;
    flasher::WriteOptions options;
    options.verify = true;
    std::uint64_t erasedBytes = 0;
    for (const auto& s : segments) {
        if (std::all_of(s.data.begin(), s.data.end(), [](std::uint8_t b) { return b == 0xff; })) {
            options.alsoErase.emplace_back(s.address, static_cast<std::uint32_t>(s.data.size()));
            erasedBytes += s.data.size();
        } else {
            writes.push_back({s.address, s.data});
        }
    }
    // The seat's bar: bytes downloaded of the written ones, then bytes read back of all of
    // them (the written segments, then the ranges that must read erased).
    std::uint64_t verifyTotal = erasedBytes;
    for (const auto& w : writes) verifyTotal += w.bytes.size();
    std::uint64_t verifiedBefore = 0;  // the written segments' bytes, once their verify is done
    const auto report = [&](const flasher::Progress& p) {
        if (!progress) return;
        if (p.phase == flasher::Phase::download) progress({FlashProgress::Stage::writing, p.done, p.total});
        else if (p.phase == flasher::Phase::verify) progress({FlashProgress::Stage::verifying, p.done, verifyTotal});
        else if (p.phase == flasher::Phase::read)
            progress({FlashProgress::Stage::verifying, verifiedBefore + p.done, verifyTotal});
    };
    auto transport = m_source.open(slot);
    if (!transport) return std::unexpected(transport.error());
    flasher::Flasher f(m_clock);
    const auto start = m_clock.now();
    auto written = f.write(**transport, writes, options, report);
    for (auto& w : writes) secureZero(w.bytes.data(), w.bytes.size());  // the block holds the device key
    if (!written) return std::unexpected(written.error());
    verifiedBefore = verifyTotal - erasedBytes;
    for (const auto& [address, length] : options.alsoErase) {
        auto back = f.read(**transport, address, length, report);
        if (!back) return std::unexpected(back.error());
        auto it = std::find_if(back->begin(), back->end(), [](std::uint8_t b) { return b != 0xff; });
        if (it != back->end())
            return fail(Errc::corrupt, "read-back: 0x" + toHex(address + static_cast<std::uint32_t>(it - back->begin()), 8) +
                                           " is not erased");
        verifiedBefore += length;
    }
    m_flashNs += (m_clock.now() - start).count();
    return {};
}

namespace {

ReadProtection protectionOf(flasher::RdpLevel level) {
    switch (level) {
    case flasher::RdpLevel::level0: return ReadProtection::level0;
    case flasher::RdpLevel::level1: return ReadProtection::level1;
    case flasher::RdpLevel::level2: return ReadProtection::level2;
    }
    return ReadProtection::level1;
}

BoardIdentity identityOf(const flasher::BoardInfo& info) {
    BoardIdentity id;
    id.usbSerial = info.usb.serial;
    if (info.uid) id.mcuUid = info.uid->hex();
    id.protection = protectionOf(info.rdp);
    return id;
}

}  // namespace

Result<BoardIdentity> FlasherDevices::identify(const std::string& slot) {
    auto info = m_boards.identify(slot);
    if (!info) return std::unexpected(info.error());
    return identityOf(*info);
}

Status FlasherDevices::protect(const std::string& slot, ReadProtection level) {
    flasher::RdpLevel rdp = flasher::RdpLevel::level1;
    if (level == ReadProtection::level0) rdp = flasher::RdpLevel::level0;  // refused by protect() with the reason
    if (level == ReadProtection::level2) rdp = flasher::RdpLevel::level2;
    // The port's caller passing level2 is the lot asking for it explicitly.
    auto r = m_boards.protect(slot, rdp, flasher::Level2::permanentlyAllow);
    if (!r) return std::unexpected(r.error());
    m_flashNs += r->elapsed.count();
    return {};
}

Result<BoardIdentity> FlasherDevices::unprotect(const std::string& slot) {
    auto r = m_boards.unprotect(slot);
    if (!r) return std::unexpected(r.error());
    m_flashNs += r->elapsed.count();
    return identityOf(r->after);
}

Result<std::vector<std::uint8_t>> FlasherDevices::read(const std::string& slot, std::uint32_t address, std::size_t length) {
    auto transport = m_source.open(slot);
    if (!transport) return std::unexpected(transport.error());
    flasher::Flasher f(m_clock);
    return f.read(**transport, address, static_cast<std::uint32_t>(length));
}

namespace {
/// The flasher's bus watch, held as the station's subscription.
class SourceSubscription final : public BusSubscription {
public:
    explicit SourceSubscription(std::unique_ptr<flasher::BusWatch> watch) : m_watch(std::move(watch)) {}

private:
    std::unique_ptr<flasher::BusWatch> m_watch;
};
}  // namespace

Result<std::unique_ptr<BusSubscription>> FlasherDevices::watchBus(std::function<void()> changed) {
    auto w = m_source.watch(std::move(changed));
    if (!w) return std::unexpected(w.error());
    return std::unique_ptr<BusSubscription>(std::make_unique<SourceSubscription>(std::move(*w)));
}

}  // namespace tte::station
