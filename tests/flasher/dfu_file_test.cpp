// DfuSe files: round trip, interoperation with Debian's dfu-util tools (dfu-suffix,
// dfu-prefix, dfuse-pack), and malformed files rejected with the reason.
#include <gtest/gtest.h>

#include <string>

#include "sim_fixture.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/base/hex.h"
#include "tte/flasher/dfu_file.h"

namespace tte::flasher {
namespace {

using testing::pattern;
using test::runShell;
using test::ShellResult;
using test::TempDir;

// Recomputes the suffix CRC after a test tampered with the content.
void refixCrc(std::vector<std::uint8_t>& b) {
    const auto crc = dfuSuffixCrc(std::span(b).first(b.size() - 4));
    for (int i = 0; i < 4; ++i) b[b.size() - 4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));
}

DfuFile twoElements() {
    DfuFile f;
    f.targets.push_back(DfuTarget{0, "ST...", {{0x08000000, pattern(3000, 1)}, {0x08008000, pattern(2048, 2)}}});
    return f;
}

std::string reason(std::vector<std::uint8_t> bytes) {
    auto r = parseDfuFile(bytes);
    return r ? std::string("accepted") : r.error().message;
}

TEST(DfuFile, RoundTrip) {
    auto bytes = serializeDfuFile(twoElements());
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(bytes->size(), 11U + 274U + 8U + 3000U + 8U + 2048U + 16U);
    auto back = parseDfuFile(*bytes);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->vendorId, 0x0483);
    EXPECT_EQ(back->productId, 0xDF11);
    ASSERT_EQ(back->targets.size(), 1U);
    EXPECT_EQ(back->targets[0].name, "ST...");
    ASSERT_EQ(back->targets[0].elements.size(), 2U);
    EXPECT_EQ(back->targets[0].elements[1].address, 0x08008000U);
    EXPECT_EQ(back->targets[0].elements[1].bytes, pattern(2048, 2));
}

TEST(DfuFile, OursPassDfuUtilChecks) {
    TempDir dir;
    const auto path = dir.path() / "ours.dfu";
    auto bytes = serializeDfuFile(twoElements());
    ASSERT_TRUE(bytes);
    ASSERT_TRUE(writeFileBytes(path, *bytes));
    const ShellResult suffix = runShell("dfu-suffix -c " + path.string());
    EXPECT_EQ(suffix.exitCode, 0) << suffix.output;
    EXPECT_NE(suffix.output.find("BCD DFU:\t0x011A"), std::string::npos) << suffix.output;
    EXPECT_NE(suffix.output.find("Vendor ID:\t0x0483"), std::string::npos) << suffix.output;
    EXPECT_NE(suffix.output.find("Product ID:\t0xDF11"), std::string::npos) << suffix.output;
    const ShellResult prefix = runShell("dfu-prefix -c " + path.string());
    EXPECT_EQ(prefix.exitCode, 0) << prefix.output;
    EXPECT_EQ(prefix.output.find("Invalid"), std::string::npos) << prefix.output;
    // And dfu-suffix does see a broken one as broken (the check can fail).
    (*bytes)[20] ^= 0xFF;
    ASSERT_TRUE(writeFileBytes(path, *bytes));
    // dfu-suffix only checks the signature; our reader checks the CRC.
    EXPECT_EQ(reason(*bytes).substr(0, 27), "DfuSe file: CRC mismatch: s");
}

TEST(DfuFile, FilesFromDfusePackLoad) {
    TempDir dir;
    const auto a = dir.path() / "a.bin";
    const auto b = dir.path() / "b.bin";
    const auto out = dir.path() / "packed.dfu";
    ASSERT_TRUE(writeFileBytes(a, pattern(3000, 5)));
    ASSERT_TRUE(writeFileBytes(b, pattern(2048, 6)));
    const ShellResult pack = runShell("/usr/bin/python3 /usr/bin/dfuse-pack -b 0x08000000:" + a.string() + " -b 0x08008000:" +
                         b.string() + " -D 0x0483:0xdf11 " + out.string());
    ASSERT_EQ(pack.exitCode, 0) << pack.output;
    auto bytes = readFileBytes(out);
    ASSERT_TRUE(bytes);
    auto file = parseDfuFile(*bytes);
    ASSERT_TRUE(file) << file.error().message;
    ASSERT_EQ(file->targets.size(), 1U);
    ASSERT_EQ(file->targets[0].elements.size(), 2U);
    EXPECT_EQ(file->targets[0].elements[0].address, 0x08000000U);
    EXPECT_EQ(file->targets[0].elements[0].bytes, pattern(3000, 5));
    EXPECT_EQ(file->targets[0].elements[1].bytes, pattern(2048, 6));
    EXPECT_EQ(file->vendorId, 0x0483);
}

TEST(DfuFile, DfuPrefixAndSuffixMakeAStellarisFileWhichIsRefused) {
    TempDir dir;
    const auto path = dir.path() / "lm.bin";
    ASSERT_TRUE(writeFileBytes(path, pattern(1000, 7)));
    ASSERT_EQ(runShell("dfu-prefix -s 0x08000000 -a " + path.string()).exitCode, 0);
    ASSERT_EQ(runShell("dfu-suffix -v 0x0483 -p 0xdf11 -a " + path.string()).exitCode, 0);
    auto bytes = readFileBytes(path);
    ASSERT_TRUE(bytes);
    auto r = parseDfuFile(*bytes);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::unsupported);
    EXPECT_EQ(r.error().message,
              "DfuSe file: bcdDFU 0x0100 is not DfuSe (0x011a): a plain DFU image, use tte-flash pack to make a "
              "DfuSe file");
}

TEST(DfuFile, MalformedFilesAreRejectedWithTheReason) {
    const auto good = *serializeDfuFile(twoElements());
    EXPECT_EQ(reason({good.begin(), good.begin() + 20}),
              "DfuSe file: truncated: 20 bytes, smaller than a prefix and a suffix");
    EXPECT_EQ(reason({good.begin(), good.end() - 100}), "DfuSe file: no DFU suffix (\"UFD\" signature missing)");
    auto badCrc = good;
    badCrc[400] ^= 0x01;
    EXPECT_EQ(parseDfuFile(badCrc).error().code, Errc::corrupt);
    const std::uint32_t stored = dfuSuffixCrc(std::span(good).first(good.size() - 4));
    const std::uint32_t computed = dfuSuffixCrc(std::span(badCrc).first(badCrc.size() - 4));
    EXPECT_EQ(reason(badCrc), "DfuSe file: CRC mismatch: suffix says 0x" + toHex(stored, 8) + ", content gives 0x" +
                                  toHex(computed, 8) + " (file damaged or truncated)");

    auto twoTargets = good;
    twoTargets[10] = 2;
    refixCrc(twoTargets);
    EXPECT_EQ(reason(twoTargets), "DfuSe file: prefix says 2 targets, file holds 1");

    auto noTargets = good;
    noTargets[10] = 0;
    refixCrc(noTargets);
    EXPECT_EQ(reason(noTargets), "DfuSe file: prefix says 0 targets");

    // Second element moved to 0x08000100: inside the first (3000 bytes from 0x08000000).
    auto overlap = good;
    const std::size_t second = 11 + 274 + 8 + 3000;
    overlap[second + 1] = 0x01;
    overlap[second + 2] = 0x00;
    refixCrc(overlap);
    EXPECT_EQ(reason(overlap), "DfuSe file: target 0: elements at 0x08000000 and 0x08000100 overlap");

    auto longElement = good;
    longElement[second + 4 + 1] = 0x10;  // size 0x1000 + ... past the target's end
    refixCrc(longElement);
    EXPECT_EQ(reason(longElement), "DfuSe file: target 0 element 1 at 0x08008000 (4096 bytes) runs past the target's end");

    auto badSig = good;
    badSig[11] = 'X';
    refixCrc(badSig);
    EXPECT_EQ(reason(badSig), "DfuSe file: target 0 has no \"Target\" signature");

    auto noPrefix = good;
    noPrefix[0] = 'X';
    refixCrc(noPrefix);
    EXPECT_EQ(reason(noPrefix), "DfuSe file: no \"DfuSe\" prefix");

    auto size = good;
    size[6] ^= 0x01;
    refixCrc(size);
    EXPECT_EQ(reason(size).substr(0, 23), "DfuSe file: prefix says");
}

TEST(DfuFile, SerializeRefusesOverlapAndEmpty) {
    DfuFile f;
    f.targets.push_back(DfuTarget{0, "", {{0x08000000, pattern(100, 1)}, {0x08000050, pattern(10, 1)}}});
    EXPECT_EQ(serializeDfuFile(f).error().message,
              "DfuSe file: target 0: elements at 0x08000000 and 0x08000050 overlap");
    EXPECT_EQ(serializeDfuFile(DfuFile{}).error().message, "DfuSe file: needs 1 to 255 targets");
}

}  // namespace
}  // namespace tte::flasher
