// The device's registration request for QA verify, made by the device's own host transport
// (device/src/coap_transport.cpp) exactly as the firmware core's Enrollment asks the MotherShip.
#include "tte/station/adapters/device_probe.h"

#include <array>
#include <cstring>

#include "tte/device_host/coap_transport.h"
#include "tte/device_host/runner.h"
#include "tte/protocol/freestanding/coap_messages.h"

namespace tte::station {
namespace {

class DeviceRegistrationProbe final : public RegistrationProbe {
public:
    explicit DeviceRegistrationProbe(std::chrono::milliseconds timeout) : m_transport({timeout, {}, {}}) {}

    RegistrationAnswer ask(const protocol::ProvisioningBlock& b) override {
        device::Credentials self{std::span<const std::uint8_t, 32>(b.privateKey),
                                 std::span<const std::uint8_t>(b.cert, b.certLength)};
        if (protocol::isPskBlock(b)) {  // PROTOCOL.md §11: DTLS-PSK, identity = the Dev URN
            self.psk = std::span<const std::uint8_t>(b.psk);
            self.pskIdentity = b.devUrn;
        }
        const device::Endpoint server{b.msAddress, b.msPort};
        device::Fingerprint pinned;
        std::memcpy(pinned.data(), b.msFingerprint, pinned.size());
        const std::string query = std::string("urn=") + b.devUrn;
        std::array<std::uint8_t, 512> storage{};
        device::Buffer response{storage, 0};
        const auto r = m_transport.get(self, server, pinned, device::kMotherShipPath, query.c_str(),
                                       device::kContentFormatCbor, response);
        using K = RegistrationAnswer::Kind;
        switch (r.status) {
        case device::TransportStatus::noAnswer:
            return {K::noAnswer, std::string(b.msAddress) + ":" + std::to_string(b.msPort) + " (no answer or handshake failed)"};
        case device::TransportStatus::peerMismatch: return {K::peerMismatch, ""};
        case device::TransportStatus::tooLarge: return {K::other, "a 2.05 too large for the device"};
        case device::TransportStatus::answered: break;
        }
        const std::string code = devicehost::coapCodeText(r.code);
        if (r.code == device::kCoapNotFound) return {K::notMapped, code};
        if (r.code == device::kCoapForbidden) return {K::forbidden, code};
        if (r.code != device::kCoapContent) return {K::other, code};
        protocol::ControllerRecord controller;
        const auto error = protocol::parseControllerAnswer({storage.data(), response.size}, controller);
        if (error != protocol::ControllerAnswerError::ok)
            return {K::other, "2.05 that is not a controller map (" + std::string(protocol::controllerAnswerErrorName(error)) + ")"};
        return {K::mapped, std::string("controller ") + controller.address + ":" + std::to_string(controller.port)};
    }

private:
    devicehost::CoapTransport m_transport;
};

}  // namespace

std::unique_ptr<RegistrationProbe> makeDeviceRegistrationProbe(std::chrono::milliseconds timeout) {
    return std::make_unique<DeviceRegistrationProbe>(timeout);
}

}  // namespace tte::station
