// Simulated devices in a directory: creation, listing by port path with colliding serials,
// locking, persistence, leave, the device watcher, and gang flashing with failing slots.
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "sim_fixture.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/flasher/dfu_file.h"
#include "tte/flasher/gang.h"
#include "tte/flasher/sim_directory.h"

namespace tte::flasher {
namespace {

using testing::opts;
using testing::smallImage;
using test::TempDir;

SimCreateOptions count(int n) {
    SimCreateOptions o;
    o.count = n;
    return o;
}

TEST(SimDirectory, CreatesDevicesWithPortPathsAndCollidingSerials) {
    TempDir dir;
    ASSERT_TRUE(SimDirectory::create(dir.path(), count(3)));
    ManualClock clock;
    SimDirectory sims(dir.path(), clock);
    auto list = sims.list();
    ASSERT_TRUE(list) << list.error().message;
    ASSERT_EQ(list->size(), 3U);
    EXPECT_EQ((*list)[0].portPath, "1-1.1");
    EXPECT_EQ((*list)[2].portPath, "1-1.3");
    EXPECT_EQ((*list)[0].serial, (*list)[1].serial);
    EXPECT_EQ((*list)[0].vendorId, 0x0483);
    EXPECT_EQ((*list)[0].productId, 0xDF11);
    EXPECT_EQ(std::filesystem::file_size(sims.flashPath("1-1.2")), 1024U * 1024U);
    auto again = SimDirectory::create(dir.path(), count(1));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::alreadyExists);
    EXPECT_EQ(SimDirectory::create(dir.path() / "x", count(0)).error().message, "device count 0 is outside 1..127");
}

TEST(SimDirectory, OpenIsExclusiveAndRefusesBadPortPaths) {
    TempDir dir;
    ASSERT_TRUE(SimDirectory::create(dir.path(), count(1)));
    ManualClock clock;
    SimDirectory sims(dir.path(), clock);
    auto first = sims.open("1-1.1");
    ASSERT_TRUE(first) << first.error().message;
    auto second = sims.open("1-1.1");
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Errc::unavailable);
    EXPECT_EQ(second.error().toString(), "device busy: another process has it open (libusb LIBUSB_ERROR_BUSY)");
    first->reset();
    EXPECT_TRUE(sims.open("1-1.1"));
    EXPECT_EQ(sims.open("../../etc").error().message, "\"../../etc\" is not a port path");
    EXPECT_EQ(sims.open("1-1.9").error().code, Errc::notFound);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "1-1.9.lock"));
}

TEST(SimDirectory, FlashPersistsAndLeaveTakesTheDeviceOutOfDfuMode) {
    TempDir dir;
    ASSERT_TRUE(SimDirectory::create(dir.path(), count(2)));
    ManualClock clock;
    SimDirectory sims(dir.path(), clock);
    DeviceWatcher watcher(sims);
    auto first = watcher.poll();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->arrived.size(), 2U);
    const auto image = smallImage(9);
    {
        auto dev = sims.open("1-1.2");
        ASSERT_TRUE(dev);
        Flasher flasher(clock);
        auto r = flasher.write(**dev, image, opts(true, true));
        ASSERT_TRUE(r) << r.error().toString();
    }
    auto flash = readFileBytes(sims.flashPath("1-1.2"));
    ASSERT_TRUE(flash);
    EXPECT_TRUE(std::equal(image[1].bytes.begin(), image[1].bytes.end(), flash->begin() + 0x8000));
    auto changes = watcher.poll();
    ASSERT_TRUE(changes);
    EXPECT_TRUE(changes->arrived.empty());
    ASSERT_EQ(changes->left.size(), 1U);
    EXPECT_EQ(changes->left[0].portPath, "1-1.2");
    EXPECT_EQ(sims.open("1-1.2").error().message, "the device at port 1-1.2 runs its firmware, not DFU mode");
    // Back into DFU mode (BOOT0 + reset), as rework would do.
    auto rec = sims.record("1-1.2");
    ASSERT_TRUE(rec);
    rec->dfuMode = true;
    ASSERT_TRUE(sims.update("1-1.2", *rec));
    auto back = watcher.poll();
    ASSERT_TRUE(back);
    ASSERT_EQ(back->arrived.size(), 1U);
}

TEST(SimDirectory, ProtectionIsStoredAndErrorStateSurvivesTheProcess) {
    TempDir dir;
    ASSERT_TRUE(SimDirectory::create(dir.path(), count(1)));
    ManualClock clock;
    SimDirectory sims(dir.path(), clock);
    auto rec = sims.record("1-1.1");
    ASSERT_TRUE(rec);
    rec->rdpLevel = 1;
    ASSERT_TRUE(sims.update("1-1.1", *rec));
    {
        auto dev = sims.open("1-1.1");
        ASSERT_TRUE(dev);
        auto r = Flasher(clock).read(**dev, 0x08000000, 16);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, Errc::permissionDenied);
    }
    auto after = sims.record("1-1.1");
    ASSERT_TRUE(after);
    EXPECT_EQ(after->state, DfuState::dfuError);
    EXPECT_EQ(after->status, DfuStatus::errTarget);
    EXPECT_EQ(after->rdpLevel, 1);
}

TEST(GangFlasher, SlotsRunInParallelAndFailAlone) {
    TempDir dir;
    ASSERT_TRUE(SimDirectory::create(dir.path(), count(4)));
    ManualClock clock;
    SimDirectory sims(dir.path(), clock);
    auto rec = sims.record("1-1.3");
    ASSERT_TRUE(rec);
    rec->wrpMask = 1U << 2;  // the provisioning block's sector
    ASSERT_TRUE(sims.update("1-1.3", *rec));
    GangFlasher gang(sims, clock);
    std::mutex mutex;
    std::map<std::string, Progress> last;
    const std::vector<std::string> ports = {"1-1.1", "1-1.2", "1-1.3", "1-1.4", "1-1.7"};
    const auto image = smallImage(5);
    auto results = gang.write(ports, image, opts(true), [&](const std::string& port, const Progress& p) {
        std::lock_guard lock(mutex);
        last[port] = p;
    });
    ASSERT_EQ(results.size(), 5U);
    for (int i : {0, 1, 3}) {
        EXPECT_TRUE(results[static_cast<std::size_t>(i)].result) << results[static_cast<std::size_t>(i)].result.error().toString();
        EXPECT_EQ(results[static_cast<std::size_t>(i)].portPath, ports[static_cast<std::size_t>(i)]);
        EXPECT_EQ(last[ports[static_cast<std::size_t>(i)]].phase, Phase::verify);
    }
    ASSERT_FALSE(results[2].result);
    EXPECT_EQ(results[2].result.error().code, Errc::corrupt);
    EXPECT_EQ(results[2].result.error().message.substr(0, 28), "slot 1-1.3: verify failed: r");
    ASSERT_FALSE(results[4].result);
    EXPECT_EQ(results[4].result.error().message, "slot 1-1.7: no simulated device at port 1-1.7 in " + dir.path().string());
}

}  // namespace
}  // namespace tte::flasher
