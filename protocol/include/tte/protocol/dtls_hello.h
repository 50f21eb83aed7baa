// The first flight of a DTLS 1.2 handshake as a stateless cookie gate sees it (RFC 6347
// §4.2.1): the ClientHello's record sequence number, message_seq and cookie, read from a
// datagram without trusting a single length in it, and the HelloVerifyRequest that answers it.
// Pure computation: the MotherShip's CoAP loop (server/src/dtls_gate.h) keeps the state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tte::protocol {

/// DTLS record header: type(1) version(2) epoch(2) sequence_number(6) length(2).
inline constexpr std::size_t kDtlsRecordHeader = 13;
/// DTLS handshake header: type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3).
inline constexpr std::size_t kDtlsHandshakeHeader = 12;
inline constexpr std::size_t kDtlsMaxCookie = 255;  ///< opaque cookie<0..2^8-1>

enum class DtlsHelloKind {
    /// Not a ClientHello to libcoap 4.3.1's eyes: shorter than 14 bytes, or its first byte is
    /// not 22 (handshake) or its 14th not 1 (ClientHello). libcoap makes no session for it.
    other,
    /// Looks like a ClientHello to libcoap (record type 22, byte 13 = 1), but is not a whole
    /// DTLS ClientHello in epoch 0 in one record, or its lengths do not add up: an encrypted
    /// handshake record of a session, a fragment, or garbage.
    malformed,
    /// A whole ClientHello in epoch 0, unfragmented, its session_id and cookie in bounds.
    clientHello,
};

struct DtlsClientHello {
    std::array<std::uint8_t, 6> recordSequence{};  ///< echoed in the HelloVerifyRequest's record
    std::uint16_t messageSequence = 0;             ///< echoed as the HelloVerifyRequest's message_seq
    std::span<const std::uint8_t> cookie;          ///< into the datagram; empty: no cookie
};

struct DtlsHelloParse {
    DtlsHelloKind kind = DtlsHelloKind::other;
    DtlsClientHello hello;  ///< set for clientHello only
};

/// Reads the first record of `datagram`. Never reads outside it; any length that does not add
/// up makes the datagram `malformed` (if it looked like a ClientHello) rather than an error.
/// Checked: record version major 254 (DTLS), epoch 0, the record within the datagram, exactly
/// one handshake message filling the record, fragment_offset 0 and fragment_length = length
/// (not fragmented), client_version major 254, session_id at most 32 bytes, the cookie within
/// the message. The rest (cipher suites, extensions) is OpenSSL's to check.
DtlsHelloParse parseDtlsClientHello(std::span<const std::uint8_t> datagram);

/// The HelloVerifyRequest answering `hello` with `cookie` (RFC 6347 §4.2.1, §4.3.2): one record
/// of version {254,255} (DTLS 1.0, as RFC 6347 recommends for it), epoch 0, the ClientHello's
/// record sequence number; handshake type 3 with the ClientHello's message_seq, unfragmented;
/// body server_version {254,255} and the cookie. `cookie` must be at most 255 bytes
/// (std::invalid_argument otherwise: a programming error).
std::vector<std::uint8_t> dtlsHelloVerifyRequest(const DtlsClientHello& hello, std::span<const std::uint8_t> cookie);

}  // namespace tte::protocol
