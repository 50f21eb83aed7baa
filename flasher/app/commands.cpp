// tte-flash subcommands: wiring of the flasher library to files, devices and stderr.
#include "commands.h"

#include <charconv>
#include <cstdio>
#include <memory>

#include "progress_line.h"
#include "tte/base/hex.h"
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
    if (!data) return failWith(data.error());
    if (auto st = writeFileBytes(a.output, *data); !st) return failWith(st.error());
    return 0;
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
        record->dfuMode = true;
        record->state = DfuState::dfuIdle;
        record->status = DfuStatus::ok;
    }
    if (auto st = sims.update(a.device, *record); !st) return failWith(st.error());
    return 0;
}

}  // namespace tte::flasher::app
