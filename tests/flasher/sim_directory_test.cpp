// Simulated devices in a directory: creation, listing by port path with colliding serials,
// locking, persistence, leave, the device watcher, and gang flashing with failing slots.
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <mutex>
#include <set>

#include "sim_fixture.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/flasher/board_control.h"
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

TEST(SimDirectory, CreatesBoardsWithTheirOwnUniqueIdsAndDerivedSerials) {
    TempDir dir;
    ASSERT_TRUE(SimDirectory::create(dir.path(), count(16)));
    ManualClock clock;
    SimDirectory sims(dir.path(), clock);
    auto list = sims.list();
    ASSERT_TRUE(list) << list.error().message;
    ASSERT_EQ(list->size(), 16U);
    EXPECT_EQ((*list)[0].portPath, "1-1.1");
    EXPECT_EQ((*list)[2].portPath, "1-1.11");  // sorted as text, as port paths are names
    std::set<std::string> uids;
    std::set<std::string> serials;
    for (const auto& id : *list) {
        auto rec = sims.record(id.portPath);
        ASSERT_TRUE(rec) << rec.error().message;
        uids.insert(rec->uid.hex());
        serials.insert(id.serial);
        EXPECT_EQ(id.serial, dfuSerialOf(rec->uid)) << id.portPath;
        EXPECT_EQ(rec->options, OptionBytes::factoryDefault());
        // Shaped as ST's: wafer number 1-25, lot characters printable.
        EXPECT_GE(rec->uid.words[1] & 0xFF, 1U);
        EXPECT_LE(rec->uid.words[1] & 0xFF, 25U);
        EXPECT_TRUE(std::isalnum(static_cast<int>(rec->uid.words[2] >> 24)));
    }
    EXPECT_EQ(uids.size(), 16U);
    EXPECT_EQ(serials.size(), 16U);
    EXPECT_EQ((*list)[0].vendorId, 0x0483);
    EXPECT_EQ((*list)[0].productId, 0xDF11);
    EXPECT_EQ(std::filesystem::file_size(sims.flashPath("1-1.2")), 1024U * 1024U);
    auto again = SimDirectory::create(dir.path(), count(1));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::alreadyExists);
    EXPECT_EQ(SimDirectory::create(dir.path() / "x", count(0)).error().message, "device count 0 is outside 1..127");
}

TEST(SimDirectory, AllOnesSerialsCollideWhateverTheUniqueId) {
    TempDir dir;
    SimCreateOptions o = count(3);
    o.allOnesSerials = true;
    ASSERT_TRUE(SimDirectory::create(dir.path(), o));
    ManualClock clock;
    SimDirectory sims(dir.path(), clock);
    auto list = sims.list();
    ASSERT_TRUE(list);
    for (const auto& id : *list) EXPECT_EQ(id.serial, "FFFFFFFEFFFF");
    EXPECT_NE(sims.record("1-1.1")->uid, sims.record("1-1.2")->uid);
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
    rec->options.setRdp(RdpLevel::level1);
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
    EXPECT_EQ(after->status, DfuStatus::errVendor);
    EXPECT_EQ(after->options.rdp(), RdpLevel::level1);
}

bool blank(const std::vector<std::uint8_t>& bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0xFF; });
}

TEST(SimDirectory, ReplaceAndRemoveSwapBoardsAsAnOperatorDoes) {
    TempDir dir;
    ASSERT_TRUE(SimDirectory::create(dir.path(), count(2)));
    ManualClock clock;
    SimDirectory sims(dir.path(), clock);
    DeviceWatcher watcher(sims);
    ASSERT_TRUE(watcher.poll());
    const auto old = sims.record("1-1.2");
    ASSERT_TRUE(old);
    {
        auto dev = sims.open("1-1.2");
        ASSERT_TRUE(dev);
        ASSERT_TRUE(Flasher(clock).write(**dev, smallImage(3), opts(true)));
    }
    ASSERT_TRUE(BoardControl(sims, clock).protect("1-1.2", RdpLevel::level1));
    ASSERT_EQ(sims.record("1-1.2")->options.rdp(), RdpLevel::level1);

    // A new blank board: new UID and serial, erased flash, factory option bytes, DFU mode.
    auto fresh = sims.replace("1-1.2");
    ASSERT_TRUE(fresh) << fresh.error().toString();
    EXPECT_NE(fresh->uid, old->uid);
    EXPECT_EQ(fresh->identity.serial, dfuSerialOf(fresh->uid));
    const auto now = sims.record("1-1.2");
    ASSERT_TRUE(now);
    EXPECT_EQ(now->uid, fresh->uid);
    EXPECT_EQ(now->options, OptionBytes::factoryDefault());
    EXPECT_TRUE(now->dfuMode);
    EXPECT_TRUE(blank(*readFileBytes(sims.flashPath("1-1.2"))));
    auto info = BoardControl(sims, clock).identify("1-1.2");
    ASSERT_TRUE(info) << info.error().toString();
    EXPECT_EQ(info->uid, fresh->uid);
    // The watcher sees the swap even though the seat was never seen empty (the serial changed).
    auto swapped = watcher.poll();
    ASSERT_TRUE(swapped);
    ASSERT_EQ(swapped->left.size(), 1U);
    ASSERT_EQ(swapped->arrived.size(), 1U);
    EXPECT_EQ(swapped->arrived[0].serial, fresh->identity.serial);

    // Emptied, the seat is not listed and cannot be opened; a board can go into it again.
    ASSERT_TRUE(sims.remove("1-1.2"));
    auto list = sims.list();
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 1U);
    EXPECT_EQ((*list)[0].portPath, "1-1.1");
    EXPECT_EQ(sims.open("1-1.2").error().code, Errc::notFound);
    EXPECT_EQ(sims.remove("1-1.2").error().message, "seat 1-1.2 in " + dir.path().string() + " is empty");
    EXPECT_EQ(sims.replace("../x").error().message, "\"../x\" is not a port path");
    ASSERT_TRUE(sims.replace("1-1.2"));
    ASSERT_TRUE(sims.replace("1-1.7"));  // a seat of its own
    EXPECT_EQ(sims.list()->size(), 3U);
}

TEST(SimDirectory, ABoardTakenOutWhileOpenIsUnpluggedForItsHolder) {
    TempDir dir;
    ASSERT_TRUE(SimDirectory::create(dir.path(), count(2)));
    ManualClock clock;
    SimDirectory sims(dir.path(), clock);
    std::uint8_t status[6];
    const ControlSetup getStatus{dfu_request::kTypeIn, dfu_request::kGetStatus, 0, 0};
    const auto t = std::chrono::milliseconds(100);

    auto held = sims.open("1-1.1");
    ASSERT_TRUE(held);
    ASSERT_TRUE((*held)->claim(0, 0));
    ASSERT_TRUE((*held)->controlIn(getStatus, status, t));
    ASSERT_TRUE(sims.remove("1-1.1"));
    auto r = (*held)->controlIn(getStatus, status, t);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_EQ(r.error().nativeName, "LIBUSB_ERROR_NO_DEVICE");
    held->reset();  // the holder lets go: nothing of the pulled board comes back into the seat
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "1-1.1.state"));
    EXPECT_FALSE(std::filesystem::exists(sims.flashPath("1-1.1")));

    // Replaced while a write is under way: the writer fails as on an unplug, the new board is
    // free at once and stays blank when the old handle goes.
    auto writer = sims.open("1-1.2");
    ASSERT_TRUE(writer);
    auto fresh = sims.replace("1-1.2");
    ASSERT_TRUE(fresh);
    auto w = Flasher(clock).write(**writer, smallImage(4), opts(true));
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().code, Errc::unavailable);
    auto other = sims.open("1-1.2");
    ASSERT_TRUE(other) << other.error().toString();
    other->reset();
    writer->reset();
    EXPECT_EQ(sims.record("1-1.2")->uid, fresh->uid);
    EXPECT_TRUE(blank(*readFileBytes(sims.flashPath("1-1.2"))));
}

TEST(SimDirectory, ProtectionAndItsRegressionPersistAcrossOpens) {
    TempDir dir;
    ASSERT_TRUE(SimDirectory::create(dir.path(), count(1)));
    ManualClock clock;
    SimDirectory sims(dir.path(), clock);
    {
        auto dev = sims.open("1-1.1");
        ASSERT_TRUE(dev);
        ASSERT_TRUE(Flasher(clock).write(**dev, smallImage(6), opts(true)));
    }
    BoardControl boards(sims, clock);
    ASSERT_TRUE(boards.protect("1-1.1", RdpLevel::level1));
    {
        auto dev = sims.open("1-1.1");
        ASSERT_TRUE(dev);
        auto read = Flasher(clock).read(**dev, 0x08000000, 16);
        ASSERT_FALSE(read);
        EXPECT_EQ(read.error().nativeName, "errVENDOR");
    }
    EXPECT_FALSE(blank(*readFileBytes(sims.flashPath("1-1.1"))));  // the data is there, unreadable
    auto r = boards.unprotect("1-1.1");
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_TRUE(r->erased);
    EXPECT_TRUE(blank(*readFileBytes(sims.flashPath("1-1.1"))));
    EXPECT_EQ(sims.record("1-1.1")->options.rdp(), RdpLevel::level0);

    // Level 2: the board leaves DFU mode for good, and nothing puts it back.
    ASSERT_TRUE(boards.protect("1-1.1", RdpLevel::level2, Level2::permanentlyAllow));
    EXPECT_TRUE(sims.list()->empty());
    EXPECT_FALSE(sims.record("1-1.1")->dfuMode);
}

// dfu-util's way with read unprotect: send it, see dfuDNBUSY, exit ("device disconnects, erases
// flash and resets now"). The board still does it all.
TEST(SimDirectory, ReadUnprotectCompletesWhenTheHostLeavesAtOnce) {
    TempDir dir;
    ASSERT_TRUE(SimDirectory::create(dir.path(), count(1)));
    ManualClock clock;
    SimDirectory sims(dir.path(), clock);
    {
        auto dev = sims.open("1-1.1");
        ASSERT_TRUE(dev);
        ASSERT_TRUE(Flasher(clock).write(**dev, smallImage(8), opts(true)));
    }
    ASSERT_TRUE(BoardControl(sims, clock).protect("1-1.1", RdpLevel::level1));
    {
        auto dev = sims.open("1-1.1");
        ASSERT_TRUE(dev);
        ASSERT_TRUE((*dev)->claim(0, 0));
        const std::uint8_t cmd[] = {0x92};
        ASSERT_TRUE((*dev)->controlOut({dfu_request::kTypeOut, dfu_request::kDnload, 0, 0}, cmd,
                                       std::chrono::milliseconds(100)));
        std::uint8_t status[6];
        ASSERT_TRUE((*dev)->controlIn({dfu_request::kTypeIn, dfu_request::kGetStatus, 0, 0}, status,
                                      std::chrono::milliseconds(100)));
        EXPECT_EQ(status[4], static_cast<std::uint8_t>(DfuState::dfuDnbusy));
    }
    const auto rec = sims.record("1-1.1");
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->options.rdp(), RdpLevel::level0);
    EXPECT_EQ(rec->state, DfuState::dfuIdle);
    EXPECT_TRUE(rec->dfuMode);
    EXPECT_TRUE(blank(*readFileBytes(sims.flashPath("1-1.1"))));
    auto info = BoardControl(sims, clock).identify("1-1.1");
    ASSERT_TRUE(info) << info.error().toString();
    EXPECT_EQ(info->rdp, RdpLevel::level0);
}

TEST(GangFlasher, SlotsRunInParallelAndFailAlone) {
    TempDir dir;
    ASSERT_TRUE(SimDirectory::create(dir.path(), count(4)));
    ManualClock clock;
    SimDirectory sims(dir.path(), clock);
    auto rec = sims.record("1-1.3");
    ASSERT_TRUE(rec);
    rec->options.setWriteProtectMask(1U << 2);  // the provisioning block's sector
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
