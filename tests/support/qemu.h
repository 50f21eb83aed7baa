// Boots a 1 MiB STM32F405 flash image in QEMU's netduinoplus2 and collects its console
// lines, for the firmware's integration tests. QEMU runs with -icount shift=0,sleep=off: the
// SysTick runs in virtual time, which jumps over WFI idle, so seconds of LED blinking take a
// fraction of that; every run is killed as soon as its output is complete (hard limit 15 s).
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "tte/protocol/freestanding/block.h"

extern char** environ;

namespace tte::device::qemu {

namespace fs = std::filesystem;
using Image = std::vector<std::uint8_t>;
inline constexpr std::size_t kFlashSize = 1 << 20;
inline constexpr std::size_t kBlockOffset = 0x8000;
inline constexpr std::size_t kNvmOffset = 0xC000;

inline std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

/// The 1 MiB flash of a device: firmware at 0, block at 0x8000, NVM at 0xC000, the rest erased.
inline Image firmwareBin() {
    std::ifstream in(env("TTE_FIRMWARE_BIN"), std::ios::binary);
    Image firmware((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_GT(firmware.size(), 1024u) << "no firmware at TTE_FIRMWARE_BIN=" << env("TTE_FIRMWARE_BIN");
    EXPECT_LE(firmware.size(), kBlockOffset);
    return firmware;
}

inline Image flashImage(const std::array<std::uint8_t, protocol::kBlockSize>* block) {
    Image image(kFlashSize, 0xFF);
    const Image firmware = firmwareBin();
    std::copy(firmware.begin(), firmware.end(), image.begin());
    if (block != nullptr) {
        std::copy(block->begin(), block->end(), image.begin() + kBlockOffset);
    }
    return image;
}

/// Boots `image` and collects console lines until `done(lines)` says so, QEMU exits, or 15 s
/// pass; QEMU is killed then.
inline std::vector<std::string> boot(const Image& image, const std::function<bool(const std::vector<std::string>&)>& done) {
    tte::test::TempDir dir{"fw-qemu"};
    const fs::path file = dir.path() / "flash.bin";
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(image.data()),
                                                static_cast<std::streamsize>(image.size()));
    int out[2];
    if (pipe(out) != 0) {
        ADD_FAILURE() << "pipe: " << std::strerror(errno);
        return {};
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    const std::string qemu = env("TTE_QEMU");
    const std::string kernel = file.string();
    std::vector<std::string> args = {qemu,     "-M",         "netduinoplus2", "-nographic", "-monitor",
                                     "none",   "-icount",    "shift=0,sleep=off", "-kernel", kernel};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, qemu.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    std::vector<std::string> lines;
    if (rc != 0) {
        close(out[0]);
        ADD_FAILURE() << "cannot start " << qemu << ": " << std::strerror(rc);
        return lines;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    std::string partial;
    while (!done(lines)) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{out[0], POLLIN, 0};
        if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            ADD_FAILURE() << "QEMU output incomplete after 15 s; last line: "
                          << (lines.empty() ? std::string("(none)") : lines.back());
            break;
        }
        char buffer[4096];
        const ssize_t n = read(out[0], buffer, sizeof buffer);
        if (n <= 0) {
            ADD_FAILURE() << "QEMU exited early";
            break;
        }
        for (ssize_t i = 0; i < n; ++i) {
            if (buffer[i] == '\n') {
                lines.push_back(partial);
                partial.clear();
            } else if (buffer[i] != '\r') {
                partial += buffer[i];
            }
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close(out[0]);
    return lines;
}

inline bool hasLineStarting(const std::vector<std::string>& lines, const std::string& prefix) {
    for (const auto& l : lines) {
        if (l.rfind(prefix, 0) == 0) return true;
    }
    return false;
}

/// The first line that starts with `prefix` ("" when none: the expectation then shows it).
inline std::string lineStarting(const std::vector<std::string>& lines, const std::string& prefix) {
    for (const auto& l : lines) {
        if (l.rfind(prefix, 0) == 0) return l;
    }
    return "";
}

inline std::vector<std::string> bootUntilBootLine(const Image& image) {
    return boot(image, [](const auto& l) { return hasLineStarting(l, "TTE BOOT"); });
}

}  // namespace tte::device::qemu
