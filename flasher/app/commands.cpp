// tte-flash subcommands: wiring of the flasher library to files, devices and stderr.
#include "commands.h"

#include <charconv>
#include <cstdio>
#include <memory>

#include "progress_line.h"
#include "tte/base/hex.h"
#include "tte/flasher/board_control.h"
#include "tte/flasher/dfu_file.h"
#include "tte/flasher/gang.h"
#include "tte/flasher/sim_directory.h"
#include "tte/flasher/usb_transport.h"

namespace tte::flasher::app {
namespace {

int failWith(const std::string& message) {
    std::fprintf(stderr, "tte-flash: %s\n", message.c_str());
    return 1;
}
int failWith(const Error& e) { return failWith(e.toString()); }

/// An error for the person at the station, with what to do about read protection.
std::string explain(const Error& e) {
    std::string text = e.toString();
    if (e.code == Errc::permissionDenied && e.nativeName == "errVENDOR") {
        text += "; `tte-flash unprotect --force` takes it back to level 0 and erases the flash";
    }
    return text;
}

/// "0x08000000" or "4096": the whole text must be the number.
Result<std::uint32_t> parseNumber(const std::string& text, const std::string& what) {
    std::string_view s = text;
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    }
    std::uint32_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) {
        return fail(Errc::invalidArgument, what + " \"" + text + "\" is not a 32-bit number (decimal or 0x-hex)");
    }
    return v;
}

/// The device source and the clock its simulated devices (if any) run on.
struct Devices {
    std::unique_ptr<Clock> clock;
    std::unique_ptr<DeviceSource> source;
};

Result<Devices> openDevices(const Globals& g) {
    Devices d;
    if (g.simDir.empty()) {
        d.clock = std::make_unique<SystemClock>();
        auto usb = UsbDeviceSource::create();
        if (!usb) return std::unexpected(usb.error());
        d.source = std::move(*usb);
    } else {
        if (g.realTime) {
            d.clock = std::make_unique<SystemClock>();
        } else {
            d.clock = std::make_unique<ManualClock>();
        }
        d.source = std::make_unique<SimDirectory>(g.simDir, *d.clock);
    }
    return d;
}

Result<std::string> onlyDevice(DeviceSource& source, const std::string& wanted) {
    if (!wanted.empty()) return wanted;
    auto list = source.list();
    if (!list) return std::unexpected(list.error());
    if (list->size() != 1) {
        return fail(Errc::invalidArgument, std::to_string(list->size()) + " devices in DFU mode; name one with --device");
    }
    return list->front().portPath;
}

/// The port paths named, or every device in DFU mode. Errors: notFound when there is none.
Result<std::vector<std::string>> portsOrAll(DeviceSource& source, const std::vector<std::string>& wanted) {
    if (!wanted.empty()) return wanted;
    auto list = source.list();
    if (!list) return std::unexpected(list.error());
    std::vector<std::string> ports;
    for (const auto& id : *list) ports.push_back(id.portPath);
    if (ports.empty()) return fail(Errc::notFound, "no device in DFU mode (0483:df11)");
    return ports;
}

std::string describeInfo(const BoardInfo& info) {
    std::string out = "port " + info.usb.portPath + "\n";
    std::string serial = info.usb.serial.empty() ? "-" : info.usb.serial;
    if (info.serialChecked) {
        serial += " (the bootloader's derivation of the unique ID: matches)";
    } else if (info.usb.serial == kAllOnesUidSerial) {
        serial += " (this bootloader reports it whatever the chip: seats are told apart by port path)";
    } else if (!info.uid) {
        serial += " (the bootloader's derivation of the unique ID, which is unreadable now)";
    }
    out += "  serial       " + serial + "\n";
    if (info.uid) {
        out += "  unique ID    " + info.uid->hex() + "\n";
    } else {
        out += "  unique ID    unreadable: the bootloader refuses every read under read protection\n";
    }
    if (info.flashSizeKiB) out += "  flash size   " + std::to_string(*info.flashSizeKiB) + " KiB\n";
    out += "  protection   RDP " + std::string(rdpLevelName(info.rdp));
    out += info.rdp == RdpLevel::level0 ? " (none: flash readable over DFU)\n"
                                        : " (flash, option bytes and unique ID refused: errVENDOR)\n";
    if (info.options) out += "  option bytes " + info.options->describe() + "\n";
    return out;
}

/// Opens the devices, takes the boards named (or every one) and runs `job(boards, port,
/// progress)` on all of them at once (one thread each, progress line on stderr). Prints each
/// board's line in port order, each failure on stderr; returns the exit code.
template <class Job>
int onBoards(const Globals& g, const std::vector<std::string>& devices, Job job) {
    auto d = openDevices(g);
    if (!d) return failWith(d.error());
    auto ports = portsOrAll(*d->source, devices);
    if (!ports) return failWith(ports.error());
    BoardControl boards(*d->source, *d->clock);
    ProgressLine progress(stderr);
    auto results = onEverySlot(*ports, [&](const std::string& port) -> Result<std::string> {
        try {
            return job(boards, port, [&](const Progress& p) { progress.update(port, p); });
        } catch (const std::exception& e) {
            return fail(Errc::internal, "port " + port + ": " + e.what());
        }
    });
    progress.finish();
    int failed = 0;
    for (const auto& r : results) {
        if (r) {
            std::fputs(r->c_str(), stdout);
        } else {
            ++failed;
            std::fprintf(stderr, "tte-flash: %s\n", explain(r.error()).c_str());
        }
    }
    return failed == 0 ? 0 : 1;
}

/// The segments of a DfuSe file for the internal flash; other targets are refused.
Result<std::vector<Segment>> segmentsOf(const DfuFile& file) {
    if (file.vendorId != 0xFFFF && (file.vendorId != kStVendorId || file.productId != kStDfuProductId)) {
        return fail(Errc::invalidArgument, "the file is for USB device " + toHex(file.vendorId, 4) + ":" +
                                               toHex(file.productId, 4) + ", not an STM32 bootloader (0483:df11)");
    }
    std::vector<Segment> out;
    for (const auto& t : file.targets) {
        if (t.altSetting != 0) {
            return fail(Errc::permissionDenied, "the file has a target for alternate setting " +
                                                    std::to_string(t.altSetting) + " (\"" + t.name +
                                                    "\"): only the internal flash (0) is written, never option "
                                                    "bytes or OTP");
        }
        out.insert(out.end(), t.elements.begin(), t.elements.end());
    }
    return out;
}

}  // namespace

int listCommand(const Globals& g) {
    auto d = openDevices(g);
    if (!d) return failWith(d.error());
    auto list = d->source->list();
    if (!list) return failWith(list.error());
    for (const auto& id : *list) {
        std::printf("%-12s %04x:%04x  serial %-16s %s\n", id.portPath.c_str(), id.vendorId, id.productId,
                    id.serial.empty() ? "-" : id.serial.c_str(), id.product.c_str());
    }
    if (list->empty()) std::fprintf(stderr, "tte-flash: no device in DFU mode (0483:df11)\n");
    return 0;
}

int writeCommand(const Globals& g, const WriteArgs& a) {
    auto bytes = readFileBytes(a.file);
    if (!bytes) return failWith(bytes.error());
    auto file = parseDfuFile(*bytes);
    if (!file) return failWith(withContext(file.error(), a.file).error());
    auto segments = segmentsOf(*file);
    if (!segments) return failWith(segments.error());
    auto d = openDevices(g);
    if (!d) return failWith(d.error());
    std::vector<std::string> ports = a.devices;
    if (ports.empty()) {
        auto list = d->source->list();
        if (!list) return failWith(list.error());
        for (const auto& id : *list) ports.push_back(id.portPath);
        if (ports.empty()) return failWith("no device in DFU mode (0483:df11)");
    }
    WriteOptions options;
    options.verify = a.verify;
    options.leave = a.leave;
    ProgressLine progress(stderr);
    GangFlasher gang(*d->source, *d->clock);
    auto results = gang.write(ports, *segments, options,
                              [&](const std::string& port, const Progress& p) { progress.update(port, p); });
    progress.finish();
    int failed = 0;
    for (const auto& r : results) {
        if (r.result) {
            std::printf("%s: ok, %llu bytes, sectors erased %zu%s%s\n", r.portPath.c_str(),
                        static_cast<unsigned long long>(r.result->bytesWritten), r.result->erasedSectors.size(),
                        r.result->verified.empty() ? "" : ", verified", r.result->left ? ", started" : "");
        } else {
            ++failed;
            std::fprintf(stderr, "tte-flash: %s\n", r.result.error().toString().c_str());
        }
    }
    return failed == 0 ? 0 : 1;
}

int readCommand(const Globals& g, const ReadArgs& a) {
    auto address = parseNumber(a.address, "--address");
    if (!address) return failWith(address.error());
    auto length = parseNumber(a.length, "--length");
    if (!length) return failWith(length.error());
    auto d = openDevices(g);
    if (!d) return failWith(d.error());
    auto port = onlyDevice(*d->source, a.device);
    if (!port) return failWith(port.error());
    auto dev = d->source->open(*port);
    if (!dev) return failWith(dev.error());
    ProgressLine progress(stderr);
    Flasher flasher(*d->clock);
    auto data = flasher.read(**dev, *address, *length, [&](const Progress& p) { progress.update(*port, p); });
    progress.finish();
    if (!data) return failWith(explain(data.error()));
    if (auto st = writeFileBytes(a.output, *data); !st) return failWith(st.error());
    return 0;
}

int infoCommand(const Globals& g, const BoardsArgs& a) {
    return onBoards(g, a.devices, [](BoardControl& boards, const std::string& port, const ProgressCallback&)
                                      -> Result<std::string> {
        auto info = boards.identify(port);
        if (!info) return std::unexpected(info.error());
        return describeInfo(*info);
    });
}

int uidCommand(const Globals& g, const BoardsArgs& a) {
    return onBoards(g, a.devices, [](BoardControl& boards, const std::string& port, const ProgressCallback&)
                                      -> Result<std::string> {
        auto info = boards.identify(port);
        if (!info) return std::unexpected(info.error());
        if (!info->uid) {
            return failNative(Errc::permissionDenied,
                              "port " + port + ": unique ID unreadable: the board is read-protected (RDP level 1) "
                              "and its bootloader refuses every read",
                              "DFU", 11, "errVENDOR");
        }
        return port + " " + info->uid->hex() + "\n";
    });
}

int protectCommand(const Globals& g, const ProtectArgs& a) {
    const RdpLevel level = a.level == 2 ? RdpLevel::level2 : RdpLevel::level1;
    if (level == RdpLevel::level2 && !a.irreversible) {
        std::fprintf(stderr, "tte-flash: RDP level 2 is permanent: the bootloader, the debug port and every later "
                             "rework are gone for good; add --irreversible only if the lot really asks for it\n");
        return 2;
    }
    const Level2 level2 = a.irreversible ? Level2::permanentlyAllow : Level2::refuse;
    return onBoards(g, a.devices, [&](BoardControl& boards, const std::string& port, const ProgressCallback& progress)
                                      -> Result<std::string> {
        auto r = boards.protect(port, level, level2, progress);
        if (!r) return std::unexpected(r.error());
        if (!r->changed) return port + ": already at RDP " + std::string(rdpLevelName(r->after)) + "\n";
        return port + ": RDP " + std::string(rdpLevelName(r->before)) + " -> " + std::string(rdpLevelName(r->after)) +
               (r->after == RdpLevel::level2 ? " (permanent; the bootloader no longer starts)\n"
                                             : " (confirmed: the bootloader now refuses reads)\n");
    });
}

int unprotectCommand(const Globals& g, const UnprotectArgs& a) {
    if (!a.force) {
        std::fprintf(stderr, "tte-flash: unprotect (read unprotect, RDP level 1 -> 0) erases the whole flash of every "
                             "board it acts on; add --force\n");
        return 2;
    }
    return onBoards(g, a.devices, [](BoardControl& boards, const std::string& port, const ProgressCallback& progress)
                                      -> Result<std::string> {
        auto r = boards.unprotect(port, progress);
        if (!r) return std::unexpected(r.error());
        const std::string uid = r->after.uid ? ", unique ID " + r->after.uid->hex() : "";
        if (!r->erased) return port + ": already at RDP level 0, nothing erased" + uid + "\n";
        return port + ": RDP " + std::string(rdpLevelName(r->before)) + " -> level 0, flash erased and read back blank" +
               uid + "\n";
    });
}

int packCommand(const PackArgs& a) {
    auto address = parseNumber(a.address, "--address");
    if (!address) return failWith(address.error());
    auto bin = readFileBytes(a.input);
    if (!bin) return failWith(bin.error());
    if (bin->empty()) return failWith(a.input + " is empty");
    auto bytes = serializeDfuFile(dfuFileForImage(*address, std::move(*bin)));
    if (!bytes) return failWith(bytes.error());
    if (auto st = writeFileBytes(a.output, *bytes); !st) return failWith(st.error());
    return 0;
}

int simCreateCommand(const SimCreateArgs& a) {
    SimCreateOptions o;
    o.count = a.count;
    o.allOnesSerials = a.allOnesSerials;
    if (auto st = SimDirectory::create(a.dir, o); !st) return failWith(st.error());
    return 0;
}

int simReplaceCommand(const Globals& g, const SimSeatArgs& a) {
    if (g.simDir.empty()) return failWith("sim replace needs the simulator directory: tte-flash --sim DIR sim replace PORT");
    ManualClock clock;
    SimDirectory sims(g.simDir, clock);
    auto r = sims.replace(a.port, a.allOnesSerial);
    if (!r) return failWith(r.error());
    std::printf("%s: new blank board, unique ID %s, serial %s\n", a.port.c_str(), r->uid.hex().c_str(),
                r->identity.serial.c_str());
    return 0;
}

int simRemoveCommand(const Globals& g, const SimSeatArgs& a) {
    if (g.simDir.empty()) return failWith("sim remove needs the simulator directory: tte-flash --sim DIR sim remove PORT");
    ManualClock clock;
    SimDirectory sims(g.simDir, clock);
    if (auto st = sims.remove(a.port); !st) return failWith(st.error());
    return 0;
}

int simSetCommand(const SimSetArgs& a) {
    ManualClock clock;
    SimDirectory sims(a.dir, clock);
    auto record = sims.record(a.device);
    if (!record) return failWith(record.error());
    if (a.rdp >= 0) record->options.setRdp(static_cast<RdpLevel>(a.rdp));
    if (!a.wrp.empty()) {
        auto mask = parseNumber(a.wrp, "--wrp");
        if (!mask) return failWith(mask.error());
        if (*mask > 0x0FFF) return failWith("--wrp " + a.wrp + " names sectors beyond 11");
        record->options.setWriteProtectMask(static_cast<std::uint16_t>(*mask));
    }
    if (a.dfu) {
        if (record->options.rdp() == RdpLevel::level2) {
            return failWith("the board at " + a.device + " is at RDP level 2: its bootloader never starts again");
        }
        record->dfuMode = true;
        record->state = DfuState::dfuIdle;
        record->status = DfuStatus::ok;
    }
    if (auto st = sims.update(a.device, *record); !st) return failWith(st.error());
    return 0;
}

}  // namespace tte::flasher::app
