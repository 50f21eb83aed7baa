#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (corpus/<target>/). Run from tests/fuzz/;
the output is committed, so the fuzz tests need nothing but the build."""
import json
import os
import struct
import zlib

URN = "urn:dev:ops:32473-Sensor-00000000abcdef01"
FP = "a" * 62 + "01"


def write(target, name, data):
    os.makedirs(f"corpus/{target}", exist_ok=True)
    with open(f"corpus/{target}/{name}", "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def block():
    b = bytearray(2048)
    b[0:4] = b"TTEB"
    struct.pack_into("<HHIIHH", b, 4, 1, 2048, 1, 0xABCDEF01, 5684, 1)
    b[20:29] = b"127.0.0.1"
    b[84:116] = bytes(range(1, 33))
    b[116:116 + len(URN)] = URN.encode()
    b[244:252] = bytes.fromhex("123456789abcdef0")
    b[287] = 7
    struct.pack_into("<H", b, 288, 3)
    b[290:293] = b"\x30\x01\x00"
    struct.pack_into("<I", b, 2044, zlib.crc32(bytes(b[:2044])))
    return bytes(b)


def psk_block():
    """A DTLS-PSK block (version 2, PROTOCOL §11): no key pair, the PSK at 1314."""
    b = bytearray(2048)
    b[0:4] = b"TTEB"
    struct.pack_into("<HHIIHH", b, 4, 2, 2048, 1, 0xABCDEF01, 5684, 3)
    b[20:29] = b"127.0.0.1"
    b[84:116] = bytes(range(1, 33))
    b[116:116 + len(URN)] = URN.encode()
    b[244:252] = bytes.fromhex("123456789abcdef0")
    b[1314:1346] = bytes(range(0xA0, 0xC0))
    struct.pack_into("<I", b, 2044, zlib.crc32(bytes(b[:2044])))
    return bytes(b)


def record(seq, address, port):
    r = bytearray(128)
    r[0:4] = b"TTEC"
    struct.pack_into("<IH", r, 4, seq, port)
    r[12:12 + len(address)] = address.encode()
    r[60:92] = bytes(range(0xA0, 0xC0))
    struct.pack_into("<I", r, 124, zlib.crc32(bytes(r[:124])))
    return bytes(r)


def led_levels(ms, dev, otp, checksum_error=0):
    """One transmission: 16 bit times of gap, then the NRZI frame with bit stuffing."""
    frame = bytearray(struct.pack(">HIIQ", 1, ms, dev, otp))
    frame.append(((-sum(frame)) & 0xFF) ^ checksum_error)
    levels, level, ones = [0] * 16, 0, 0
    bits = [(byte >> (7 - i)) & 1 for byte in frame for i in range(8)]
    for i, bit in enumerate(bits):
        if bit:
            ones += 1
        else:
            level ^= 1
            ones = 0
        levels.append(level)
        if ones == 6 and i + 1 < len(bits):
            level ^= 1
            levels.append(level)
            ones = 0
    return levels


def led_trace(ms, dev, otp):
    samples = [30 + 180 * l for l in led_levels(ms, dev, otp) * 2 for _ in range(2)]  # 30 fps: two per bit
    return bytes([10]) + bytes(samples)  # fps byte: 20 + 10


def led_video(levels, width=2, height=2):
    """A YUV4MPEG2 video at 30 frames/s (two frames per bit) of a grey scene whose top-left
    pixel is the LED: small enough that two transmissions fit the fuzzers' 8 KiB."""
    out = bytearray(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 Cmono\n".encode())
    for level in levels * 2:
        for _ in range(2):
            pixels = bytearray([90] * (width * height))
            pixels[0] = 230 if level else 40
            out += b"FRAME\n" + pixels
    return bytes(out)


def main():
    write("enrollment_url", "draft", "https://tte-000000.net/.well-known/tte?otp=123456789abcdef0,DevID=abcdef01")
    write("enrollment_url", "built", "https://tte-000001.net/.well-known/tte?otp=123456789abcdef0,devid=abcdef01")
    write("enrollment_url", "amp", "HTTPS://TTE-00000a.NET:443/.well-known/tte?devid=ABCDEF01&OTP=123456789ABCDEF0")
    write("box_url", "box", "https://tte-000001.net/.well-known/tte-box?secret=" + "0123456789abcdef" * 4 +
          ",first=00000100,last=000001ff")
    write("dev_urn", "urn", URN)
    write("dev_urn", "short", "urn:dev:ops:1-a-ABCDEF01")
    write("host_name", "host", "tte-00000A.net")
    write("host_name", "devid", "abcdef01")
    write("host_name", "otp", "123456789abcdef0")
    write("host_name", "fingerprint", FP)
    write("block", "valid", block())
    write("block", "blank", b"\xff" * 2048)
    write("block", "psk", psk_block())
    write("controller_record", "one", record(1, "192.0.2.1", 5684))
    write("controller_record", "sector", record(1, "10.0.0.1", 1000) + record(2, "2001:db8::1", 5684) +
          record(3, "host", 9)[:60] + b"\xff" * 68 + b"\xff" * 128)
    write("led_trace", "frame", led_trace(1, 0xABCDEF01, 0x123456789ABCDEF0))
    write("led_trace", "ones", led_trace(0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF))
    write("led_video", "frame.y4m", led_video(led_levels(1, 0xABCDEF01, 0x123456789ABCDEF0)))
    write("led_video", "checksum.y4m", led_video(led_levels(1, 0x100, 0x42, checksum_error=0x10)))
    write("led_video", "short.y4m", led_video(led_levels(1, 0x100, 0x42)[:12], 16, 8))
    write("query", "enroll", "otp=123456789abcdef0,devid=abcdef01,cip=192.0.2.1,cport=5684,cfingerprint=" + FP)
    write("query", "form", "cip=2001%3Adb8%3A%3A1&cport=5684&cfingerprint=" + FP + "&description=Hall+light%2C+2nd")
    write("query", "page-form", "otp=123456789abcdef0&devid=abcdef01|cip=192.0.2.1&cport=5684&cfingerprint=" + FP)
    write("host_name", "listen", "[2001:db8::1]:5684")
    write("host_name", "base64", "MEUCIQ==")
    ctl = {"cip": "192.0.2.1", "cport": 5684, "cfingerprint": FP}
    dev = {"urn": URN, "devid": "abcdef01", "fingerprint": FP, "description": "", "state": "introduced",
           "ms_state": "unknown", "ms": "tte-000001.net", "introduced": True, "expires_at": 1800000000, "last_seen": None}
    rec = {"record_id": "st1-42", "station": "st1", "seq": 42, "devid": "abcdef01", "urn": URN,
           "fingerprint": FP, "otp": "123456789abcdef0", "lot": "lot-1", "box": "00000007",
           "firmware_sha256": "1" * 64, "created": "2026-11-23T07:00:00Z", "prev": "2" * 64,
           "signature": "MEUCIQ=="}
    docs = [
        {"urn": URN, "fingerprint": FP},
        {"urn": URN, "fingerprint": FP, "state": "mapped"},
        {"error": "conflict", "message": "the OTP was already used"},
        ctl,
        {"urn": URN, "fingerprint": FP, "otp": "123456789abcdef0", "devid": "abcdef01", "ms": "tte-000001.net",
         "description": "Hall light"},
        {"urn": URN},
        {"results": [{"record_id": "st1-42", "status": "stored"}, {"record_id": "x", "status": "rejected",
                                                                     "message": "bad"}]},
        {"lot": "lot-1", "first": "00000100", "last": "000001ff", "used": 3},
        {"box": "00000007", "lot": "lot-1", "first": "00000100", "last": "000001ff"},
        {"reason": "stolen"},
        rec,
        {"devid": "0000002a", "state": "revoked"},
        {"devid": "abcdef01", "urn": URN, "fingerprint": FP, "lot": "lot-1", "box": None, "station": "st1",
         "record_id": "st1-42", "firmware_sha256": "1" * 64, "created": "2026-11-23T07:00:00Z", "signature": "MEUCIQ==",
         "state": "mapped", "description": "Hall light", "failures": 0, "controller": ctl},
        dev,
        {"devices": [dev, dict(dev, devid="", ms="", introduced=False, state="registered", last_seen=1700000000)]},
        dict(ctl, description="lot lot-1"),
        {"devid": "abcdef01", "state": "pre-enrolled", "cfingerprint": FP},
    ]
    for i, doc in enumerate(docs):
        write("json_messages", f"doc{i}", bytes([i]) + json.dumps(doc).encode())
    write("json_messages", "status-pre-enrolled",
          bytes([1]) + json.dumps({"urn": URN, "fingerprint": FP, "state": "pre-enrolled", "cfingerprint": FP}).encode())
    write("cbor_messages", "controller", bytes([0, 0xA3, 0x63]) + b"cip" + bytes([0x69]) + b"192.0.2.1" +
          bytes([0x65]) + b"cport" + bytes([0x19, 0x16, 0x34]) + bytes([0x6C]) + b"cfingerprint" +
          bytes([0x78, 0x40]) + FP.encode())
    write("cbor_messages", "checkin", bytes([1, 0xA1, 0x63]) + b"urn" + bytes([0x78, len(URN)]) + URN.encode())
    write("record_batch", "two", json.dumps({"records": [rec, dict(rec, record_id="st1-43", seq=43)]}))
    write("fingerprint_pem", "pubkey", "-----BEGIN PUBLIC KEY-----\n"
          "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEcsJa9HEctgcBWgjWZjhKgc7OXJCg\n"
          "ayom1aj/ujFl8qGa0d57Xdl0f1RAgh1u6g6Al7gCusI45zUYsDQLT/DwCw==\n-----END PUBLIC KEY-----\n")

    dtls_hello()


def dtls_hello():
    """DTLS ClientHellos as the MotherShip's cookie gate reads them: without and with a cookie,
    fragmented, in epoch 1, and not a ClientHello at all."""
    def hello(cookie=b"", seq=0, epoch=0, frag_len_delta=0):
        body = bytes([254, 253]) + bytes(range(32)) + bytes([2, 0xAA, 0xBB, len(cookie)]) + cookie + \
            bytes([0, 2, 0xC0, 0x2B, 1, 0])
        n = len(body)
        hs = bytes([1]) + n.to_bytes(3, "big") + seq.to_bytes(2, "big") + bytes(3) + \
            (n - frag_len_delta).to_bytes(3, "big") + body
        return bytes([22, 254, 253]) + epoch.to_bytes(2, "big") + bytes([0, 0, 0, 0, 0, seq]) + \
            len(hs).to_bytes(2, "big") + hs
    write("dtls_hello", "no-cookie", hello())
    write("dtls_hello", "cookie", hello(bytes(range(32)), 1))
    write("dtls_hello", "fragment", hello(frag_len_delta=4))
    write("dtls_hello", "epoch1", hello(epoch=1))
    write("dtls_hello", "app-data", bytes([23, 254, 253, 0, 1, 0, 0, 0, 0, 0, 9, 0, 1, 0xFF]))


if __name__ == "__main__":
    main()
