// QR codes from label images (libzbar through tte::labels; PNG via cairo, JPEG via libjpeg,
// PDF via pdftoppm) and LED capture files.
#include "tte/introducer/capture.h"

#include <fcntl.h>
#include <cstdio>  // jpeglib.h needs FILE

#include <jpeglib.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csetjmp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "tte/base/atomic_file.h"
#include "tte/labels/render.h"
#include "tte/labels/scan.h"
#include "tte/protocol/led.h"

extern char** environ;

namespace tte::introducer {
namespace {

struct JpegError {
    jpeg_error_mgr mgr;
    std::jmp_buf jump;
};

[[noreturn]] void onJpegError(j_common_ptr info) { std::longjmp(reinterpret_cast<JpegError*>(info->err)->jump, 1); }

/// Grey-scale raster of a JPEG image. setjmp/longjmp is libjpeg's error protocol; no C++
/// object with a destructor lives between the setjmp and a longjmp.
Result<labels::Raster> decodeJpeg(const std::string& bytes) {
    jpeg_decompress_struct info{};
    JpegError err{};
    labels::Raster raster;
    info.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = &onJpegError;
    if (setjmp(err.jump) != 0) {
        jpeg_destroy_decompress(&info);
        return fail(Errc::corrupt, "not a readable JPEG image");
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
    jpeg_read_header(&info, TRUE);
    info.out_color_space = JCS_GRAYSCALE;
    jpeg_start_decompress(&info);
    raster.width = static_cast<int>(info.output_width);
    raster.height = static_cast<int>(info.output_height);
    raster.dpi = info.X_density > 0 && info.density_unit == 1 ? info.X_density : 300;
    raster.pixels.resize(static_cast<std::size_t>(raster.width) * static_cast<std::size_t>(raster.height));
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = raster.pixels.data() + static_cast<std::size_t>(info.output_scanline) * raster.width;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    return raster;
}

/// pdftoppm -r 300 -gray -png -f N -l N -singlefile FILE OUT → OUT.png (argv, no shell).
Result<std::string> rasterizePdfPage(const std::filesystem::path& file, int page) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tte-introducer-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return fail(Errc::io, "cannot create a temporary directory");
    std::filesystem::path dir(tmpl);
    std::string pageText = std::to_string(page);
    std::string out = (dir / "page").string();
    std::vector<std::string> argv = {"pdftoppm", "-r", "300", "-gray", "-png", "-f", pageText, "-l", pageText,
                                     "-singlefile", file.string(), out};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid, "pdftoppm", &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    if (rc == 0) ::waitpid(pid, &status, 0);
    auto png = readWholeFile(out + ".png");
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (rc != 0) return failNative(Errc::unavailable, "cannot run pdftoppm (poppler-utils)", "errno", rc);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !png)
        return failNative(Errc::unavailable, file.string() + ": pdftoppm could not render page " + pageText, "exit",
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return *png;
}

}  // namespace

Result<Secret> readQrImage(const std::filesystem::path& file, int page) {
    auto bytes = readWholeFile(file);
    if (!bytes) return std::unexpected(bytes.error());
    Result<labels::Raster> raster = fail(Errc::internal, "unset");
    auto startsWith = [&](std::string_view magic) { return bytes->compare(0, magic.size(), magic) == 0; };
    if (startsWith("%PDF-")) {
        auto png = rasterizePdfPage(file, page);
        if (!png) return std::unexpected(png.error());
        raster = labels::decodePng(std::vector<std::uint8_t>(png->begin(), png->end()), 300);
    } else if (startsWith("\x89PNG\r\n\x1a\n")) {
        raster = labels::decodePng(std::vector<std::uint8_t>(bytes->begin(), bytes->end()), 300);
    } else if (startsWith("\xff\xd8\xff")) {
        raster = decodeJpeg(*bytes);
    } else {
        return fail(Errc::invalidArgument, file.string() + ": not a PNG, JPEG or PDF file");
    }
    if (!raster) return withContext(raster.error(), file.string());
    auto codes = labels::decodeQrCodes(*raster);
    if (!codes) return withContext(codes.error(), file.string());
    if (codes->empty()) return fail(Errc::corrupt, file.string() + ": no QR code found");
    if (codes->size() != 1)
        return fail(Errc::corrupt, file.string() + ": " + std::to_string(codes->size()) + " QR codes found, expected 1");
    return std::move(codes->front());
}

Result<LedCapture> readLedCapture(const std::filesystem::path& file) {
    auto text = readWholeFile(file);
    if (!text) return std::unexpected(text.error());
    std::istringstream in(*text);
    std::string line;
    LedCapture capture;
    int lineNo = 0;
    bool haveFps = false;
    while (std::getline(in, line)) {
        ++lineNo;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        if (!haveFps) {
            double fps = 0;
            char extra = 0;
            if (std::sscanf(line.c_str(), "fps %lf %c", &fps, &extra) != 1 || fps <= 0)
                return fail(Errc::invalidArgument, file.string() + ": first line must be 'fps <number>'");
            capture.fps = fps;
            haveFps = true;
            continue;
        }
        float value = 0;
        char extra = 0;
        if (std::sscanf(line.c_str(), "%f %c", &value, &extra) != 1)
            return fail(Errc::invalidArgument, file.string() + ":" + std::to_string(lineNo) + ": not a number: '" + line + "'");
        capture.brightness.push_back(value);
    }
    if (!haveFps) return fail(Errc::invalidArgument, file.string() + ": first line must be 'fps <number>'");
    return capture;
}

Result<protocol::LedFrameData> decodeLedCapture(const LedCapture& capture) {
    return protocol::decodeLedTrace(capture.brightness, capture.fps);
}

}  // namespace tte::introducer
