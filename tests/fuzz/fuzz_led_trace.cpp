// Fuzz target: the LED trace decoder (first byte picks the fps, each further byte is one
// video frame's brightness) and the frame and unstuffing decoders on the raw bytes. A trace
// that decodes must carry a frame whose checksum is right.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "tte/protocol/led.h"

using namespace tte::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const double fps = 20.0 + data[0];  // 20..275, including refused values
    std::vector<float> trace;
    for (std::size_t i = 1; i < size; ++i) trace.push_back(static_cast<float>(data[i]));
    if (auto frame = decodeLedTrace(trace, fps)) {
        const auto bytes = encodeLedFrame(frame->msId, frame->devId, frame->otp);
        LedFrameData back;
        if (decodeLedFrame(bytes, back) != LedFrameError::ok || back.otp != frame->otp) std::abort();
    }
    LedFrameData d;
    (void)decodeLedFrame(std::span(data, size), d);
    std::array<std::uint8_t, kLedFrameSize> frame{};
    std::size_t used = 0;
    if (unstuffLedBits(std::span(data, size), frame, used) == LedFrameError::ok && used > size) std::abort();
    return 0;
}
