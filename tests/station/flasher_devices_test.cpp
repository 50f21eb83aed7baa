// The station's DeviceFlasher port: the adapter (tte::flasher over simulated STM32F405 boards)
// and the unit-test fake held to one contract – unique ID before writing, read protection
// after verify, regression for rework – plus what only real boards (simulated) can show.
#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <memory>

#include "support/fakes/station.h"
#include "support/temp_dir.h"
#include "tte/base/clock.h"
#include "tte/flasher/sim_directory.h"
#include "tte/flasher/stm32_device.h"
#include "tte/station/adapters/flasher_devices.h"

namespace tte::station {
namespace {

const std::vector<FlashSegment> kImage = {{0x08000000, std::vector<std::uint8_t>(3000, 0x5A)},
                                          {0x08008000, std::vector<std::uint8_t>(2048, 0xC3)}};

/// A DeviceFlasher with boards in ports 1-1.1 and 1-1.2.
struct Subject {
    std::unique_ptr<test::TempDir> tmp;
    std::string dir;
    ManualClock clock;
    std::unique_ptr<flasher::SimDirectory> sims;
    std::unique_ptr<DeviceFlasher> flasher;
};

std::unique_ptr<Subject> makeSubject(const std::string& kind) {
    auto s = std::make_unique<Subject>();
    if (kind == "fake") {
        s->flasher = std::make_unique<fakes::FakeFlasher>(std::vector<std::string>{"1-1.1", "1-1.2"});
        return s;
    }
    s->tmp = std::make_unique<test::TempDir>("station-flasher");
    s->dir = s->tmp->path().string();
    flasher::SimCreateOptions o;
    o.count = 2;
    EXPECT_TRUE(flasher::SimDirectory::create(s->dir, o));
    s->sims = std::make_unique<flasher::SimDirectory>(s->dir, s->clock);
    s->flasher = std::make_unique<FlasherDevices>(*s->sims, s->clock);
    return s;
}

class DeviceFlasherContract : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override { m_s = makeSubject(GetParam()); }
    void TearDown() override {
        if (!m_s->dir.empty()) std::filesystem::remove_all(m_s->dir);
    }
    DeviceFlasher& flasher() { return *m_s->flasher; }
    std::unique_ptr<Subject> m_s;
};

bool lowerHex(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(c) || (c >= 'a' && c <= 'f'); });
}

TEST_P(DeviceFlasherContract, IdentifiesEachBoardBeforeAnythingIsWritten) {
    auto a = flasher().identify("1-1.1");
    auto b = flasher().identify("1-1.2");
    ASSERT_TRUE(a) << a.error().toString();
    ASSERT_TRUE(b) << b.error().toString();
    ASSERT_TRUE(a->mcuUid);
    EXPECT_EQ(a->mcuUid->size(), 24U);
    EXPECT_TRUE(lowerHex(*a->mcuUid)) << *a->mcuUid;
    EXPECT_NE(a->mcuUid, b->mcuUid);
    EXPECT_EQ(a->protection, ReadProtection::level0);
    // The serial is the bootloader's derivation of the ID: a locked board can still be matched.
    EXPECT_EQ(a->usbSerial, flasher::dfuSerialOf(*flasher::McuUid::parse(*a->mcuUid)));
    EXPECT_EQ(flasher().identify("1-1.9").error().code, Errc::notFound);
}

// The seat's byte progress bar: writing counts up to the bytes written, then verifying to the
// bytes read back; both end at their total, neither goes backwards.
TEST_P(DeviceFlasherContract, WriteReportsBytesWrittenThenVerified) {
    std::vector<FlashSegment> image = kImage;
    image.push_back({0x0800C000, std::vector<std::uint8_t>(1024, 0xff)});  // an erased range, read back too
    std::vector<FlashProgress> seen;
    ASSERT_TRUE(flasher().writeAndVerify("1-1.1", image, [&](const FlashProgress& p) { seen.push_back(p); }));
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.front().stage, FlashProgress::Stage::writing);
    EXPECT_EQ(seen.back().stage, FlashProgress::Stage::verifying);
    EXPECT_EQ(seen.back().done, seen.back().total);
    EXPECT_GE(seen.back().total, 3000u + 2048u);
    bool verifying = false;
    std::uint64_t last = 0;
    std::uint64_t writtenTotal = 0;
    for (const auto& p : seen) {
        if (p.stage == FlashProgress::Stage::verifying && !verifying) {
            verifying = true;
            last = 0;
        }
        EXPECT_FALSE(verifying && p.stage == FlashProgress::Stage::writing) << "writing after verifying";
        EXPECT_GE(p.done, last);
        EXPECT_LE(p.done, p.total);
        last = p.done;
        if (p.stage == FlashProgress::Stage::writing) writtenTotal = p.total;
    }
    EXPECT_GE(writtenTotal, 3000u + 2048u);
    EXPECT_TRUE(verifying);
}

TEST_P(DeviceFlasherContract, ProtectAfterVerifyLocksTheBoard) {
    const auto before = flasher().identify("1-1.1");
    ASSERT_TRUE(before);
    ASSERT_TRUE(flasher().writeAndVerify("1-1.1", kImage));
    ASSERT_TRUE(flasher().protect("1-1.1", ReadProtection::level1));
    auto locked = flasher().identify("1-1.1");
    ASSERT_TRUE(locked) << locked.error().toString();
    EXPECT_EQ(locked->protection, ReadProtection::level1);
    EXPECT_FALSE(locked->mcuUid);
    EXPECT_EQ(locked->usbSerial, before->usbSerial);
    auto read = flasher().read("1-1.1", 0x08008000, 16);
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().code, Errc::permissionDenied);
    EXPECT_NE(read.error().message.find("read-protected (RDP level 1)"), std::string::npos) << read.error().message;
    EXPECT_EQ(flasher().writeAndVerify("1-1.1", kImage).error().code, Errc::permissionDenied);
    EXPECT_TRUE(flasher().protect("1-1.1", ReadProtection::level1));  // already: nothing to do
    EXPECT_EQ(flasher().protect("1-1.1", ReadProtection::level2).error().code, Errc::permissionDenied);
    EXPECT_EQ(flasher().protect("1-1.2", ReadProtection::level0).error().code, Errc::invalidArgument);
    // The other board is untouched.
    EXPECT_EQ(flasher().identify("1-1.2")->protection, ReadProtection::level0);
}

TEST_P(DeviceFlasherContract, UnprotectForReworkErasesAndGivesTheUniqueIdBack) {
    const auto before = flasher().identify("1-1.1");
    ASSERT_TRUE(before);
    ASSERT_TRUE(flasher().writeAndVerify("1-1.1", kImage));
    ASSERT_TRUE(flasher().protect("1-1.1", ReadProtection::level1));
    auto after = flasher().unprotect("1-1.1");
    ASSERT_TRUE(after) << after.error().toString();
    EXPECT_EQ(after->protection, ReadProtection::level0);
    EXPECT_EQ(after->mcuUid, before->mcuUid);
    auto block = flasher().read("1-1.1", 0x08008000, 64);
    ASSERT_TRUE(block) << block.error().toString();
    EXPECT_EQ(*block, std::vector<std::uint8_t>(64, 0xFF));
    // A board at level 0 keeps what it has.
    ASSERT_TRUE(flasher().writeAndVerify("1-1.2", kImage));
    auto open = flasher().unprotect("1-1.2");
    ASSERT_TRUE(open);
    EXPECT_EQ((*flasher().read("1-1.2", 0x08008000, 1))[0], 0xC3);
}

INSTANTIATE_TEST_SUITE_P(AdapterAndFake, DeviceFlasherContract, ::testing::Values("simulated-boards", "fake"));

// What only the adapter over (simulated) boards shows: a swapped board is seen by its unique
// ID, and level 2 takes a board out of DFU mode for good.
TEST(FlasherDevices, ASwappedBoardIsSeenByItsUniqueIdAndLevel2IsFinal) {
    auto s = makeSubject("simulated-boards");
    auto first = s->flasher->identify("1-1.2");
    ASSERT_TRUE(first);
    ASSERT_TRUE(s->sims->replace("1-1.2"));
    auto second = s->flasher->identify("1-1.2");
    ASSERT_TRUE(second);
    EXPECT_NE(first->mcuUid, second->mcuUid);
    ASSERT_TRUE(s->sims->remove("1-1.2"));
    EXPECT_EQ(s->flasher->identify("1-1.2").error().code, Errc::notFound);
    EXPECT_EQ(*s->flasher->slots(), std::vector<std::string>{"1-1.1"});

    ASSERT_TRUE(s->flasher->protect("1-1.1", ReadProtection::level2));
    EXPECT_TRUE(s->flasher->slots()->empty());
    auto* devices = dynamic_cast<FlasherDevices*>(s->flasher.get());
    ASSERT_NE(devices, nullptr);
    EXPECT_GE(devices->flashTime(), std::chrono::milliseconds(250));  // the option-byte write
    std::filesystem::remove_all(s->dir);
}

}  // namespace
}  // namespace tte::station
