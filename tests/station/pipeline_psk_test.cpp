// A DTLS-PSK lot (PROTOCOL.md §11) through the pipeline over the fakes, with protocol/'s real
// block encoder: version-2 blocks with the PSK and no key pair, records that carry the PSK and
// its fingerprint to the MotherShip, and no PSK in the journal.
#include <algorithm>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "support/fakes/station_site.h"
#include "tte/base/hex.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/freestanding/block.h"
#include "tte/station/adapters/protocol_block.h"

namespace tte::station {
namespace {

std::string fileText(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(PipelinePsk, APskLotWritesVersion2BlocksAndUploadsThePskSealed) {
    testing::Site site("dtls = \"psk\"", "", 3);
    ASSERT_EQ(site.config.lot.dtls, LotDtls::psk);
    ProtocolBlockEncoder encoder;
    site.uploader.reset();
    site.pipeline = std::make_unique<Pipeline>(site.config, *site.journal,
                                               PipelinePorts{site.keys, *site.flasher, site.printer, encoder, site.clock});
    site.uploader = std::make_unique<Uploader>(site.config, *site.journal, site.keys, *site.ms, &site.controller, site.clock);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    auto r = site.pipeline->run(0, 1, {});
    ASSERT_TRUE(r) << r.error().toString();
    ASSERT_EQ(r->committed, 3) << (r->failures.empty() ? "" : r->failures.front());

    // Each flashed block is a version-2 DTLS-PSK block: the flag, the PSK, no key, no certificate.
    std::map<std::uint32_t, std::string> pskByDevId;
    for (const auto& [port, mem] : site.flasher->flash) {
        ASSERT_TRUE(mem.contains(encoder.blockAddress())) << port;
        const auto& bytes = mem.at(encoder.blockAddress());
        ASSERT_GE(bytes.size(), protocol::kBlockSize);
        EXPECT_EQ(bytes[4] | (bytes[5] << 8), 2) << "block version (u16 LE at offset 4)";
        protocol::ProvisioningBlock b;
        protocol::BlockFault fault;
        ASSERT_EQ(protocol::decodeBlock(std::span<const std::uint8_t>(bytes.data(), protocol::kBlockSize), b, fault),
                  protocol::BlockError::ok);
        EXPECT_TRUE(protocol::isPskBlock(b));
        EXPECT_EQ(b.certLength, 0);
        EXPECT_TRUE(std::all_of(std::begin(b.privateKey), std::end(b.privateKey), [](std::uint8_t x) { return x == 0; }));
        EXPECT_FALSE(std::all_of(std::begin(b.psk), std::end(b.psk), [](std::uint8_t x) { return x == 0; }));
        pskByDevId[b.devId] = toHex(std::span<const std::uint8_t>(b.psk, sizeof b.psk));
        protocol::wipeBlock(b);
    }
    ASSERT_EQ(pskByDevId.size(), 3u);

    // The journal's records carry the PSK fingerprint and neither the PSK nor the OTP.
    auto entries = site.journal->entries();
    ASSERT_TRUE(entries);
    int committed = 0;
    for (const auto& e : *entries) {
        if (e.kind == "keyed") {
            EXPECT_EQ(e.body.value("dtls", ""), "psk");
        }
        if (e.kind != "committed") continue;
        ++committed;
        const auto& rec = e.body["record"];
        EXPECT_FALSE(rec.contains("psk"));
        EXPECT_FALSE(rec.contains("otp"));
        const auto psk = *fromHex(pskByDevId.at(*e.devId), "psk");
        EXPECT_EQ(rec["fingerprint"], protocol::pskFingerprint(std::span<const std::uint8_t, 32>(psk.data(), 32)).hex());
    }
    EXPECT_EQ(committed, 3);

    // The MotherShip receives each signed record with its PSK (unsealed from the queue).
    ASSERT_TRUE(site.uploader->drain(std::chrono::seconds(1)));
    ASSERT_EQ(site.ms->records.size(), 3u);
    for (const auto& [id, rec] : site.ms->records) {
        ASSERT_TRUE(rec.psk) << id;
        EXPECT_EQ(rec.psk->hex(), pskByDevId.at(rec.devId.value));
        EXPECT_EQ(rec.fingerprint, protocol::pskFingerprint(rec.psk->bytes()));
    }

    // Neither the PSKs nor the OTPs are in the journal's file (queue included).
    site.uploader.reset();
    site.pipeline.reset();
    site.journal.reset();  // checkpoint and close
    const std::string db = fileText(site.config.database) + fileText(site.config.database + "-wal");
    for (const auto& [devId, hex] : pskByDevId) {
        EXPECT_EQ(db.find(hex), std::string::npos);
        auto raw = *fromHex(hex, "psk");
        EXPECT_EQ(db.find(std::string(raw.begin(), raw.end())), std::string::npos);
    }
}

TEST(PipelinePsk, TheBlockEncoderWantsExactlyOneOfKeyAndPsk) {
    ProtocolBlockEncoder encoder;
    Secret otp(8);
    otp.mutableBytes()[7] = 1;
    BlockFields none{1, 0x100, 5684, false, "127.0.0.1", testing::kMsFingerprint, "urn:dev:ops:32473-sensor-00000100", &otp,
                     nullptr, nullptr};
    auto r = encoder.encode(none);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "provisioning block: exactly one of a device key and a PSK is needed");
    Secret shortPsk(16);
    BlockFields bad = none;
    bad.psk = &shortPsk;
    auto r2 = encoder.encode(bad);
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error().message, "provisioning block: field psk does not fit");
}

}  // namespace
}  // namespace tte::station
