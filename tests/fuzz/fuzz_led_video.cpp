// Fuzz target: the LED video reader on arbitrary bytes – FFmpeg's demuxers and decoders behind
// openVideoBytes(), then the LED finder. Whatever the bytes, the answer is a frame whose
// checksum is right or an error naming the input; never a crash, a leak or a hang.
#include <cstdint>
#include <cstdlib>

#include "tte/introducer/led_video.h"
#include "tte/protocol/led.h"

using namespace tte;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string name = "fuzz.video";
    auto video = introducer::openVideoBytes(std::span(data, size), name);
    Result<introducer::LedVideoResult> found =
        video ? introducer::findLedFrame(**video, name) : Result<introducer::LedVideoResult>(std::unexpected(video.error()));
    if (found) {
        const auto bytes = protocol::encodeLedFrame(found->frame.msId, found->frame.devId, found->frame.otp);
        protocol::LedFrameData back;
        if (protocol::decodeLedFrame(bytes, back) != protocol::LedFrameError::ok || back.otp != found->frame.otp) std::abort();
    } else if (found.error().message.rfind(name + ": ", 0) != 0) {
        std::abort();
    }
    return 0;
}
