// The fakes of station.h for what a board goes through on the line: the flasher with RAM
// boards, the encoder of the provisioning block it writes, and the label printer. The token
// and the servers are in station.cpp.
#include "support/fakes/station.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <iterator>

#include "tte/base/hex.h"
#include "tte/protocol/crypto.h"

namespace tte::station::fakes {

FakeFlasher::FakeFlasher(std::vector<std::string> ports) : m_ports(std::move(ports)) {
    for (std::size_t i = 0; i < m_ports.size(); ++i) {
        uids[m_ports[i]] = toHex(0x00100010 + i, 8) + "3334510b32313533";
        protection[m_ports[i]] = ReadProtection::level0;
    }
}

Result<std::vector<std::string>> FakeFlasher::slots() {
    std::lock_guard lock(m_mutex);
    std::vector<std::string> out;
    for (const auto& p : m_ports)
        if (uids.contains(p)) out.push_back(p);
    for (const auto& [p, uid] : uids)
        if (std::find(m_ports.begin(), m_ports.end(), p) == m_ports.end()) out.push_back(p);
    return out;
}

void FakeFlasher::replace(const std::string& port) {
    {
        std::lock_guard lock(m_mutex);
        uids[port] = toHex(0x00200000 + m_boards++, 8) + "3334510b32313533";
        protection[port] = ReadProtection::level0;
        flash.erase(port);
    }
    busChanged();
}

void FakeFlasher::remove(const std::string& port) {
    {
        std::lock_guard lock(m_mutex);
        uids.erase(port);
        protection.erase(port);
        flash.erase(port);
    }
    busChanged();
}

void FakeFlasher::busChanged() {
    std::function<void()> f;
    {
        std::lock_guard lock(m_mutex);
        f = m_onBus;
    }
    if (f) f();
}

namespace {
class FakeSubscription final : public BusSubscription {
public:
    explicit FakeSubscription(std::function<void()> end) : m_end(std::move(end)) {}
    ~FakeSubscription() override { m_end(); }

private:
    std::function<void()> m_end;
};
}  // namespace

Result<std::unique_ptr<BusSubscription>> FakeFlasher::watchBus(std::function<void()> changed) {
    std::lock_guard lock(m_mutex);
    if (!hotplug) return fail(Errc::unsupported, "no hotplug events: the seats are polled");
    m_onBus = std::move(changed);
    return std::unique_ptr<BusSubscription>(std::make_unique<FakeSubscription>([this] {
        std::lock_guard l(m_mutex);
        m_onBus = nullptr;
    }));
}

int FakeFlasher::identifies() {
    std::lock_guard lock(m_mutex);
    return m_identifies;
}

Result<FirmwareImage> FakeFlasher::loadFirmware(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Errc::io, "cannot read " + path);
    std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (data.empty()) return fail(Errc::corrupt, path + " is empty");
    FirmwareImage img;
    img.sha256 = protocol::sha256Hex(data);
    img.segments.push_back({0x08000000, std::move(data)});
    return img;
}

namespace {

Error readProtected(const std::string& slot) {
    return Error{Errc::permissionDenied, "port " + slot + ": the device is read-protected (RDP level 1)", "DFU", 11,
                 "errVENDOR"};
}

}  // namespace

Status FakeFlasher::writeAndVerify(const std::string& slot, std::span<const FlashSegment> segments,
                                   const FlashProgressFn& progress) {
    std::uint64_t total = 0;
    for (const auto& s : segments) total += s.data.size();
    const auto report = [&](FlashProgress::Stage stage, std::uint64_t done) {
        if (progress) progress({stage, done, total});
    };
    {
        std::lock_guard lock(m_mutex);
        if (protection[slot] != ReadProtection::level0) return std::unexpected(readProtected(slot));
    }
    report(FlashProgress::Stage::writing, total / 2);
    report(FlashProgress::Stage::writing, total);
    report(FlashProgress::Stage::verifying, total / 2);
    {
        std::lock_guard lock(m_mutex);
        if (failPorts.contains(slot)) return fail(Errc::corrupt, "read-back differs at 0x08008010");
        for (const auto& s : segments) flash[slot][s.address] = s.data;
    }
    report(FlashProgress::Stage::verifying, total);
    return {};
}

Result<std::vector<std::uint8_t>> FakeFlasher::read(const std::string& slot, std::uint32_t address, std::size_t length) {
    std::lock_guard lock(m_mutex);
    if (protection[slot] != ReadProtection::level0) return std::unexpected(readProtected(slot));
    auto& dev = flash[slot];
    auto it = dev.find(address);
    if (it == dev.end()) return std::vector<std::uint8_t>(length, 0xff);
    auto out = it->second;
    out.resize(length, 0xff);
    return out;
}

Result<BoardIdentity> FakeFlasher::identify(const std::string& slot) {
    std::lock_guard lock(m_mutex);
    ++m_identifies;
    if (!uids.contains(slot)) return fail(Errc::notFound, "port " + slot + ": no board");
    BoardIdentity id;
    id.protection = protection[slot];
    // The bootloader's derivation (word 0 + word 2, then word 1's upper half) of the fake UID.
    const auto word = [&](int i) {
        return static_cast<std::uint32_t>(std::stoul(uids[slot].substr(static_cast<std::size_t>(i) * 8, 8), nullptr, 16));
    };
    std::string serial = toHex(static_cast<std::uint32_t>(word(0) + word(2)), 8) + toHex(word(1) >> 16, 4);
    for (char& c : serial) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    id.usbSerial = serial;
    if (id.protection == ReadProtection::level0) id.mcuUid = uids[slot];
    return id;
}

Status FakeFlasher::protect(const std::string& slot, ReadProtection level) {
    std::lock_guard lock(m_mutex);
    if (!uids.contains(slot)) return fail(Errc::notFound, "port " + slot + ": no board");
    if (level == ReadProtection::level0) return fail(Errc::invalidArgument, "level 0 is unprotect's");
    if (protection[slot] == level) return {};
    if (protection[slot] != ReadProtection::level0) {
        return fail(Errc::permissionDenied, "port " + slot + ": the board is at RDP level 1; its bootloader refuses "
                                            "option-byte writes (errVENDOR)");
    }
    if (failLock.contains(slot)) return fail(Errc::io, "port " + slot + ": the option-byte write did not take");
    protection[slot] = level;
    return {};
}

Result<BoardIdentity> FakeFlasher::unprotect(const std::string& slot) {
    {
        std::lock_guard lock(m_mutex);
        if (!uids.contains(slot)) return fail(Errc::notFound, "port " + slot + ": no board");
        if (protection[slot] == ReadProtection::level2) {
            return fail(Errc::notFound, "port " + slot + ": no board in DFU mode (RDP level 2)");
        }
        if (protection[slot] == ReadProtection::level1) {
            flash.erase(slot);  // read unprotect mass-erases
            protection[slot] = ReadProtection::level0;
        }
    }
    return identify(slot);
}

Result<PrintedLabel> FakePrinter::print(const DeviceLabel& label) {
    std::lock_guard lock(m_mutex);
    const std::string job = "job-" + std::to_string(++m_next);
    printed[job] = std::string(label.url.view());
    return PrintedLabel{job, "mem:" + job, "rendering"};
}

Result<int> FakePrinter::submit(const DeviceLabel& label) {
    std::lock_guard lock(m_mutex);
    const std::string url(label.url.view());
    int open = 1;
    for (const auto& [id, j] : m_jobs) open += j.url == url && !j.done ? 1 : 0;
    mostOpenJobsOfOneLabel = std::max(mostOpenJobsOfOneLabel, open);
    JobScript script;
    if (!jobScripts.empty()) {
        script = jobScripts.front();
        jobScripts.pop_front();
    }
    m_jobs[++m_next] = Job{url, script, false};
    submitted.push_back(url);
    return m_next;
}

Result<LabelJobState> FakePrinter::jobState(int id) {
    std::lock_guard lock(m_mutex);
    auto it = m_jobs.find(id);
    if (it == m_jobs.end()) return fail(Errc::notFound, "job " + std::to_string(id) + " unknown");
    Job& j = it->second;
    const std::string name = "job " + std::to_string(id) + " on fake";
    if (m_fault) return LabelJobState{LabelJobState::Kind::waiting, name + " is processing (" + m_fault->problem + ")", {}};
    if (j.script.waitPolls > 0) {
        --j.script.waitPolls;
        return LabelJobState{LabelJobState::Kind::waiting, name + " is pending", {}};
    }
    j.done = true;
    switch (j.script.fate) {
        case Fate::printed: return LabelJobState{LabelJobState::Kind::printed, name + " is completed", {}};
        case Fate::cancelled: return LabelJobState{LabelJobState::Kind::lost, name + " is cancelled: the label was not printed", {}};
        case Fate::aborted: return LabelJobState{LabelJobState::Kind::lost, name + " is aborted: the label was not printed", {}};
    }
    return fail(Errc::internal, "bad fate");
}

void FakePrinter::setFault(std::optional<PrinterCondition> fault) {
    std::lock_guard lock(m_mutex);
    m_fault = std::move(fault);
    m_faultChanged.notify_all();
}

PrinterCondition FakePrinter::printerCondition() {
    std::unique_lock lock(m_mutex);
    if (conditions.empty() && m_fault) m_faultChanged.wait_for(lock, std::chrono::milliseconds(10), [&] { return !m_fault; });
    if (conditions.empty()) return m_fault.value_or(PrinterCondition{});
    PrinterCondition c = conditions.front();
    conditions.pop_front();
    return c;
}

Result<PrintedLabel> FakePrinter::collect(const DeviceLabel& label, int id) {
    std::lock_guard lock(m_mutex);
    auto it = m_jobs.find(id);
    if (it == m_jobs.end() || it->second.url != label.url.view()) return fail(Errc::internal, "collect of a job of another label");
    const std::string job = "job-" + std::to_string(id);
    printed[job] = it->second.url;
    return PrintedLabel{job, "mem:" + job, "rendering"};
}

Status FakePrinter::cancel(int id) {
    std::lock_guard lock(m_mutex);
    auto it = m_jobs.find(id);
    if (it == m_jobs.end()) return fail(Errc::notFound, "job " + std::to_string(id) + " unknown");
    if (it->second.done) return fail(Errc::conflict, "job " + std::to_string(id) + " is finished");
    it->second.done = true;
    cancelled.push_back(id);
    return {};
}

Result<Secret> FakePrinter::scanBack(const PrintedLabel& p) {
    std::lock_guard lock(m_mutex);
    auto it = printed.find(p.job);
    if (it == printed.end()) return fail(Errc::corrupt, "no QR code found");
    std::string text = it->second;
    if (smudge) text.back() = text.back() == '0' ? '1' : '0';
    return Secret(std::string_view(text));
}

Result<Secret> FakeEncoder::encode(const BlockFields& f) {
    if (f.urn.size() > 127) return fail(Errc::invalidArgument, "block: URN longer than 127 bytes");
    std::string text = "FAKEBLOCK|" + toHex(f.devId, 8) + "|" + f.urn + "|" + toHex(f.otp->bytes()) + "|" +
                       (f.psk != nullptr ? "PSK:" + toHex(f.psk->bytes()) : toHex(f.key->privateScalar.bytes()));
    text.resize(2048, '\0');
    return Secret(std::string_view(text));
}

}  // namespace tte::station::fakes
