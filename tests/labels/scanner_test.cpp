// The keyboard-wedge scanner hook on a pipe: a line is a scan, the deadline is the clock's.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>

#include "label_fixtures.h"
#include "tte/base/clock.h"
#include "tte/labels/layout.h"
#include "tte/labels/render.h"
#include "tte/labels/scan.h"

namespace tte::labels {
namespace {

class Pipe {
public:
    Pipe() { EXPECT_EQ(::pipe(m_fds), 0); }
    ~Pipe() {
        ::close(m_fds[0]);
        if (m_fds[1] >= 0) ::close(m_fds[1]);
    }
    int readEnd() const { return m_fds[0]; }
    void write(std::string_view s) { ASSERT_EQ(::write(m_fds[1], s.data(), s.size()), ssize_t(s.size())); }
    void closeWrite() {
        ::close(m_fds[1]);
        m_fds[1] = -1;
    }

private:
    int m_fds[2]{-1, -1};
};

TEST(LineScanner, ReadsOneCodePerLine) {
    Pipe p;
    ManualClock clock;
    LineScanner scanner(p.readEnd(), clock);
    const std::string url = testing::enrollmentUrl(1, 2);
    p.write(url + "\r\n\n" + url + "x\n");
    EXPECT_TRUE(verifyWithScanner(scanner, Secret(url), std::chrono::seconds(1)));
    auto second = verifyWithScanner(scanner, Secret(url), std::chrono::seconds(1));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Errc::corrupt);
    EXPECT_EQ(second.error().message, "scanner read a different code (75 bytes, 74 expected)");
}

TEST(LineScanner, TimesOutOnTheClock) {
    Pipe p;
    ManualClock clock;
    LineScanner scanner(p.readEnd(), clock);
    p.write("https://tte-000001.net/.well-known/tte?otp=");  // a scan without its newline
    const auto start = clock.now();
    auto r = scanner.scan(std::chrono::seconds(5));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::timeout);
    EXPECT_EQ(r.error().message, "scanner: no code read within the deadline");
    EXPECT_GE(clock.now() - start, std::chrono::seconds(5));
}

TEST(LineScanner, EndOfInputIsUnavailable) {
    Pipe p;
    ManualClock clock;
    LineScanner scanner(p.readEnd(), clock);
    p.closeWrite();
    auto r = scanner.scan(std::chrono::seconds(5));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::unavailable);
}

TEST(ImageScanner, RetriesUntilAPictureHoldsTheCode) {
    ManualClock clock;
    auto device = testing::sampleDevice();
    auto layout = layoutDeviceLabel(testing::shippedTemplates().device, device);
    ASSERT_TRUE(layout);
    auto label = renderRaster(*layout);
    ASSERT_TRUE(label);
    Raster blank = *label;
    std::fill(blank.pixels.begin(), blank.pixels.end(), 255);
    int pictures = 0;
    ImageScanner camera([&]() -> Result<Raster> { return ++pictures < 3 ? blank : *label; }, clock);
    EXPECT_TRUE(verifyWithScanner(camera, device.url, std::chrono::seconds(2)));
    EXPECT_EQ(pictures, 3);

    ImageScanner nothing([&]() -> Result<Raster> { return blank; }, clock, std::chrono::milliseconds(500));
    auto r = nothing.scan(std::chrono::seconds(2));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::timeout);
    EXPECT_EQ(r.error().message, "camera: no QR code read within the deadline");
}

}  // namespace
}  // namespace tte::labels
