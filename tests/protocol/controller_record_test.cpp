// Controller record encode/decode and the newest-valid-record scan with torn writes (§9).
#include "tte/protocol/freestanding/controller_record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "tte/protocol/freestanding/block.h"

namespace tte::protocol {
namespace {

ControllerRecord record(std::uint32_t seq, const char* address, std::uint16_t port) {
    ControllerRecord r;
    r.sequence = seq;
    r.port = port;
    std::strncpy(r.address, address, sizeof r.address - 1);
    for (std::size_t i = 0; i < 32; ++i) r.fingerprint[i] = static_cast<std::uint8_t>(0xA0 + i);
    return r;
}

std::vector<std::uint8_t> erasedSector() { return std::vector<std::uint8_t>(kNvmSize, 0xFF); }

void append(std::vector<std::uint8_t>& sector, std::size_t slot, const ControllerRecord& r) {
    const char* field = nullptr;
    ASSERT_EQ(encodeControllerRecord(r, std::span<std::uint8_t, kControllerRecordSize>(
                                            sector.data() + slot * kControllerRecordSize, kControllerRecordSize),
                                     field),
              RecordError::ok);
}

TEST(ControllerRecord, RoundTripsWithLayout) {
    std::array<std::uint8_t, kControllerRecordSize> raw{};
    const char* field = nullptr;
    ASSERT_EQ(encodeControllerRecord(record(7, "192.0.2.10", 5684), raw, field), RecordError::ok);
    EXPECT_EQ(raw[0], 'T');
    EXPECT_EQ(raw[3], 'C');
    EXPECT_EQ(raw[4], 7);
    EXPECT_EQ(raw[8], 0x34);
    EXPECT_EQ(raw[12], '1');
    EXPECT_EQ(raw[60], 0xA0);
    ControllerRecord out;
    ASSERT_EQ(decodeControllerRecord(raw, out, field), RecordError::ok);
    EXPECT_EQ(out.sequence, 7U);
    EXPECT_EQ(out.port, 5684);
    EXPECT_STREQ(out.address, "192.0.2.10");
    EXPECT_EQ(out.fingerprint[31], 0xA0 + 31);
}

TEST(ControllerRecord, RejectsBadSlots) {
    std::array<std::uint8_t, kControllerRecordSize> raw{};
    const char* field = nullptr;
    ControllerRecord out;
    EXPECT_EQ(encodeControllerRecord(record(1, "", 1), raw, field), RecordError::field);
    EXPECT_STREQ(field, "address");
    EXPECT_EQ(encodeControllerRecord(record(1, "a", 0), raw, field), RecordError::field);
    EXPECT_STREQ(field, "port");
    ASSERT_EQ(encodeControllerRecord(record(1, "host", 9), raw, field), RecordError::ok);
    EXPECT_EQ(decodeControllerRecord(std::span(raw).first(127), out, field), RecordError::size);
    auto bad = raw;
    bad[100] = 1;  // reserved byte; CRC now wrong too, so CRC is reported first
    EXPECT_EQ(decodeControllerRecord(bad, out, field), RecordError::crc);
    bad = raw;
    bad[0] = 'X';
    EXPECT_EQ(decodeControllerRecord(bad, out, field), RecordError::magic);
    bad.fill(0xFF);
    EXPECT_EQ(decodeControllerRecord(bad, out, field), RecordError::erased);
}

TEST(ControllerLog, EmptySectorHasNoRecordAndFreeSlotZero) {
    const auto sector = erasedSector();
    ControllerRecord out;
    std::size_t next = 99;
    EXPECT_FALSE(findNewestControllerRecord(sector, out, next));
    EXPECT_EQ(next, 0U);
}

TEST(ControllerLog, HighestSequenceWins) {
    auto sector = erasedSector();
    append(sector, 0, record(1, "10.0.0.1", 1000));
    append(sector, 1, record(3, "10.0.0.3", 3000));
    append(sector, 2, record(2, "10.0.0.2", 2000));
    ControllerRecord out;
    std::size_t next = 0;
    ASSERT_TRUE(findNewestControllerRecord(sector, out, next));
    EXPECT_STREQ(out.address, "10.0.0.3");
    EXPECT_EQ(next, 3 * kControllerRecordSize);
}

// A power cut at any byte of the second record's write leaves the first one in force.
TEST(ControllerLog, TornWriteAtAnyByteKeepsThePreviousRecord) {
    auto base = erasedSector();
    append(base, 0, record(1, "10.0.0.1", 1000));
    std::array<std::uint8_t, kControllerRecordSize> second{};
    const char* field = nullptr;
    ASSERT_EQ(encodeControllerRecord(record(2, "10.0.0.2", 2000), second, field), RecordError::ok);
    for (std::size_t cut = 0; cut <= kControllerRecordSize; ++cut) {
        auto sector = base;
        std::memcpy(sector.data() + kControllerRecordSize, second.data(), cut);
        ControllerRecord out;
        std::size_t next = 0;
        ASSERT_TRUE(findNewestControllerRecord(sector, out, next));
        const bool complete = cut == kControllerRecordSize;
        EXPECT_STREQ(out.address, complete ? "10.0.0.2" : "10.0.0.1") << "cut at " << cut;
        // A partly written slot is used up (it cannot be rewritten without an erase).
        const bool touched = cut > 0 && !std::all_of(second.begin(), second.begin() + static_cast<long>(cut),
                                                      [](std::uint8_t b) { return b == 0xFF; });
        EXPECT_EQ(next, (touched ? 2 : 1) * kControllerRecordSize) << "cut at " << cut;
    }
}

TEST(ControllerLog, FullSectorReportsEnd) {
    auto sector = erasedSector();
    for (std::size_t i = 0; i < kMaxControllerRecords; ++i) append(sector, i, record(static_cast<std::uint32_t>(i), "h", 1));
    ControllerRecord out;
    std::size_t next = 0;
    ASSERT_TRUE(findNewestControllerRecord(sector, out, next));
    EXPECT_EQ(out.sequence, kMaxControllerRecords - 1);
    EXPECT_EQ(next, kNvmSize);
}

}  // namespace
}  // namespace tte::protocol
