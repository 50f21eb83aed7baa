// tte-device's work (runner.h).
#include "tte/device_host/runner.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include "tte/base/atomic_file.h"
#include "tte/base/hex.h"
#include "tte/device_host/credentials.h"
#include "tte/device_host/flash_image.h"
#include "tte/protocol/block.h"
#include "tte/protocol/fingerprint.h"

namespace tte::devicehost {

std::uint64_t HostClock::nowMs() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

void HostClock::sleepUntilMs(std::uint64_t deadlineMs) {
    const auto now = nowMs();
    if (deadlineMs > now) std::this_thread::sleep_for(std::chrono::milliseconds(deadlineMs - now));
}

const char* stepName(device::Step s) {
    switch (s) {
        case device::Step::blockVerified: return "block-verified";
        case device::Step::controllerFromNvm: return "controller-from-nvm";
        case device::Step::queryMotherShip: return "query-mothership";
        case device::Step::motherShipAnswer: return "mothership-answer";
        case device::Step::badAnswer: return "bad-answer";
        case device::Step::retryWait: return "retry-wait";
        case device::Step::controllerStored: return "controller-stored";
        case device::Step::checkin: return "checkin";
        case device::Step::checkinAnswer: return "checkin-answer";
    }
    return "?";
}

const char* transportName(device::TransportStatus t) {
    switch (t) {
        case device::TransportStatus::answered: return "answered";
        case device::TransportStatus::noAnswer: return "no-answer";
        case device::TransportStatus::peerMismatch: return "peer-fingerprint-mismatch";
        case device::TransportStatus::tooLarge: return "too-large";
    }
    return "?";
}

std::string coapCodeText(std::uint8_t code) {
    return std::to_string(code >> 5) + "." + (((code & 0x1f) < 10) ? "0" : "") + std::to_string(code & 0x1f);
}

std::string progressLine(int boot, const device::Progress& p) {
    std::string line = "boot " + std::to_string(boot) + ": " + stepName(p.step);
    if (p.attempt) line += " attempt=" + std::to_string(p.attempt);
    if (p.step == device::Step::motherShipAnswer || p.step == device::Step::checkinAnswer) {
        line += std::string(" transport=") + transportName(p.transport);
        if (p.transport == device::TransportStatus::answered) line += " code=" + coapCodeText(p.code);
    }
    if (p.step == device::Step::retryWait) line += " wait-ms=" + std::to_string(p.waitMs);
    if (p.detail && *p.detail) line += std::string(" detail=") + p.detail;
    return line;
}

std::string outcomeLine(int boot, const device::EnrollmentResult& r) {
    std::string line = "boot " + std::to_string(boot) + ": outcome=" + device::outcomeName(r.outcome);
    if (r.outcome == device::Outcome::blockInvalid) line += std::string(" block-error=") + protocol::blockErrorName(r.blockError);
    if (r.detail && *r.detail) line += std::string(" detail=") + r.detail;
    if (r.outcome == device::Outcome::checkedIn || r.controller.port != 0) {
        line += std::string(" controller=") + r.controller.address + ":" + std::to_string(r.controller.port) +
                " controller-fingerprint=" + toHex(std::span<const std::uint8_t>(r.controller.fingerprint, 32));
    }
    line += std::string(" from=") + (r.controllerFromNvm ? "nvm" : "mothership") +
            " mothership-queries=" + std::to_string(r.motherShipQueries) +
            " checkin-attempts=" + std::to_string(r.checkinAttempts);
    return line;
}

namespace {

class LineObserver final : public device::Observer {
public:
    LineObserver(int boot, std::ostream& out) : m_boot(boot), m_out(out) {}
    void onProgress(const device::Progress& p) override { m_out << progressLine(m_boot, p) << std::endl; }

private:
    int m_boot;
    std::ostream& m_out;
};

}  // namespace

Result<device::EnrollmentResult> runBoots(const BootOptions& o, device::Transport& transport, device::Clock& clock,
                                device::Random& random, std::ostream& out) {
    device::EnrollmentResult last{};
    for (int n = 1; n <= o.boots; ++n) {
        auto image = FlashImage::open(o.flash);  // a reboot reads the flash afresh
        if (!image) return std::unexpected(image.error());
        LineObserver observer(n, out);
        device::Seams seams{transport, *image, clock, random, &observer};
        const device::RetryPolicy policy{o.retryBaseMs, o.retryCapMs, o.maxAttempts};
        auto enrollment = std::make_unique<device::Enrollment>(seams, device::EnrollmentConfig{policy, policy});
        last = enrollment->run(image->block());
        out << outcomeLine(n, last) << std::endl;
        if (last.outcome != device::Outcome::checkedIn) break;
    }
    return last;
}

Result<std::pair<std::string, std::uint16_t>> blockMotherShip(const std::filesystem::path& flash) {
    auto image = FlashImage::open(flash);
    if (!image) return std::unexpected(image.error());
    auto block = protocol::parseBlock(image->block());
    if (!block) return std::unexpected(block.error());
    auto out = std::make_pair(std::string(block->msAddress), block->msPort);
    protocol::wipeBlock(*block);
    return out;
}

Status showFlash(const std::filesystem::path& flash, std::ostream& out) {
    auto image = FlashImage::open(flash);
    if (!image) return std::unexpected(image.error());
    auto block = protocol::parseBlock(image->block());
    if (!block) return std::unexpected(block.error());
    out << "ms-id: " << block->msId << "\ndev-id: " << toHex(block->devId, 8) << "\ndev-urn: " << block->devUrn
        << "\nms-address: " << block->msAddress << ":" << block->msPort
        << "\nms-fingerprint: " << toHex(std::span<const std::uint8_t>(block->msFingerprint, 32))
        << "\nled-enrollment: " << ((block->flags & protocol::kBlockFlagLed) ? "on" : "off") << "\n";
    protocol::wipeBlock(*block);
    protocol::ControllerRecord rec;
    std::size_t next = 0;
    if (protocol::findNewestControllerRecord(image->contents(), rec, next)) {
        out << "controller: " << rec.address << ":" << rec.port
            << "\ncontroller-fingerprint: " << toHex(std::span<const std::uint8_t>(rec.fingerprint, 32))
            << "\ncontroller-record-sequence: " << rec.sequence << "\n";
    } else {
        out << "controller: none (not enrolled yet)\n";
    }
    out << "nvm-records-free: " << (protocol::kNvmSize - next) / protocol::kControllerRecordSize << "\n";
    return {};
}

Status exportCredentials(const std::filesystem::path& flash, const std::filesystem::path& dir) {
    auto image = FlashImage::open(flash);
    if (!image) return std::unexpected(image.error());
    auto block = protocol::parseBlock(image->block());
    if (!block) return std::unexpected(block.error());
    auto key = ecPrivateKeyPem(std::span<const std::uint8_t, 32>(block->privateKey, 32));
    auto cert = protocol::certificatePem(std::span<const std::uint8_t>(block->cert, block->certLength));
    const std::string msFp = toHex(std::span<const std::uint8_t>(block->msFingerprint, 32));
    protocol::wipeBlock(*block);
    if (!key) return std::unexpected(key.error());
    if (!cert) return std::unexpected(cert.error());
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return failNative(Errc::io, "cannot create " + dir.string(), "errno", ec.value());
    if (auto s = writeFileAtomic(dir / "device.key.pem", key->view(), 0600); !s) return s;
    if (auto s = writeFileAtomic(dir / "device.crt.pem", *cert, 0644); !s) return s;
    return writeFileAtomic(dir / "mothership.fingerprint", msFp + "\n", 0644);
}

}  // namespace tte::devicehost
