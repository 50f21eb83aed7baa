// The provisioning block through tte::protocol (the same code the firmware parses with).
#include "tte/station/adapters/protocol_block.h"

#include <cstring>

#include "tte/base/hex.h"
#include "tte/protocol/freestanding/block.h"

namespace tte::station {

Result<Secret> ProtocolBlockEncoder::encode(const BlockFields& f) {
    protocol::ProvisioningBlock b;
    b.msId = f.msId;
    b.devId = f.devId;
    b.msPort = f.msPort;
    b.flags = f.ledEnrollment ? protocol::kBlockFlagLed : 0;
    if ((f.key == nullptr) == (f.psk == nullptr))
        return fail(Errc::invalidArgument, "provisioning block: exactly one of a device key and a PSK is needed");
    if (f.msAddress.size() >= sizeof b.msAddress)
        return fail(Errc::invalidArgument, "provisioning block: field msAddress does not fit");
    std::memcpy(b.msAddress, f.msAddress.data(), f.msAddress.size());
    auto fp = fromHex(f.msFingerprint, "ms fingerprint");
    if (!fp || fp->size() != 32) return fail(Errc::invalidArgument, "provisioning block: field msFingerprint does not fit");
    std::memcpy(b.msFingerprint, fp->data(), 32);
    if (f.urn.size() >= sizeof b.devUrn) return fail(Errc::invalidArgument, "provisioning block: field devUrn does not fit");
    std::memcpy(b.devUrn, f.urn.data(), f.urn.size());
    for (auto byte : f.otp->bytes()) b.otp = (b.otp << 8) | byte;
    if (f.psk != nullptr) {
        // Version 2 (PROTOCOL.md §11): the PSK flag, no private key, no certificate.
        if (f.psk->size() != sizeof b.psk) return fail(Errc::invalidArgument, "provisioning block: field psk does not fit");
        b.flags = static_cast<std::uint16_t>(b.flags | protocol::kBlockFlagPsk);
        std::memcpy(b.psk, f.psk->bytes().data(), sizeof b.psk);
    } else {
        if (f.key->privateScalar.size() != 32) return fail(Errc::invalidArgument, "provisioning block: field privateKey does not fit");
        std::memcpy(b.privateKey, f.key->privateScalar.bytes().data(), 32);
        if (f.key->certificateDer.empty() || f.key->certificateDer.size() > protocol::kMaxCertLength)
            return fail(Errc::invalidArgument, "provisioning block: field cert does not fit");
        b.certLength = static_cast<std::uint16_t>(f.key->certificateDer.size());
        std::memcpy(b.cert, f.key->certificateDer.data(), f.key->certificateDer.size());
    }

    Secret out(protocol::kBlockSize);
    protocol::BlockFault fault;
    const auto err = protocol::encodeBlock(b, std::span<std::uint8_t, protocol::kBlockSize>(out.mutableBytes().data(),
                                                                                            protocol::kBlockSize),
                                           fault);
    protocol::wipeBlock(b);
    if (err != protocol::BlockError::ok)
        return fail(Errc::invalidArgument, std::string("provisioning block: field ") + fault.field + " does not fit");
    return out;
}

std::uint32_t ProtocolBlockEncoder::blockAddress() const { return protocol::kBlockAddress; }
std::uint32_t ProtocolBlockEncoder::nvmAddress() const { return protocol::kNvmAddress; }

}  // namespace tte::station
