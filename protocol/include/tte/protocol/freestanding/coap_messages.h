// The CBOR documents of CoAP (RFC 8949) as the device reads and writes them: the MotherShip's
// answer {"cip", "cport", "cfingerprint"} (message 10, docs/PROTOCOL.md §7) and the check-in
// request {"urn"} (message 11, §8). A tiny bounds-checked reader and writer; no heap, no
// recursion beyond a fixed depth when skipping unknown values. Freestanding: the firmware and
// the host library (ControllerInfo::fromCbor, Checkin::toCbor) share this one codec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tte/protocol/freestanding/block.h"
#include "tte/protocol/freestanding/controller_record.h"

namespace tte::protocol {

enum class ControllerAnswerError : std::uint8_t {
    ok,
    malformed,       ///< not well-formed CBOR: truncated, reserved or indefinite length, too deep
    notMap,          ///< the top item is not a map
    keyNotText,      ///< a map key is not a text string
    duplicateKey,    ///< cip, cport or cfingerprint appears twice
    missingKey,      ///< cip, cport or cfingerprint is absent
    badIp,           ///< cip is not an IPv4 or IPv6 literal of at most 47 characters
    badPort,         ///< cport is not an unsigned integer 1..65535
    badFingerprint,  ///< cfingerprint is not a text of 64 hex digits
    trailingBytes,   ///< bytes after the map
    badPsk,          ///< cpsk is not a text of 64 hex digits, or not 32 bytes that are not all zero
};

/// "ok", "malformed", "not-map", "key-not-text", "duplicate-key", "missing-key", "bad-ip",
/// "bad-port", "bad-fingerprint", "trailing-bytes", "bad-psk".
const char* controllerAnswerErrorName(ControllerAnswerError error);

/// Parses the MotherShip's 2.05 payload into `out` (address, port, fingerprint, and for a
/// DTLS-PSK device the optional `cpsk` – the device–Controller PSK, §11 – into psk with
/// kControllerFlagPsk; sequence untouched). Unknown keys are skipped. `out` is written only on ok.
ControllerAnswerError parseControllerAnswer(std::span<const std::uint8_t> cbor, ControllerRecord& out);

/// Writes the check-in request {"urn": urn} and returns its size, or 0 when `urn` is longer
/// than 127 bytes or `out` is too small (162 bytes always suffice).
std::size_t encodeCheckin(const char* urn, std::span<std::uint8_t> out);

}  // namespace tte::protocol
