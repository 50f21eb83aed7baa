// Reading the token's PIN without echo (see pin_input.h).
#include "pin_input.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace tte::station::app {
namespace {

/// One line from `fd`, without its newline, read byte by byte (nothing past the line is taken
/// from a pipe that carries more).
Result<Secret> readLine(int fd, const std::string& what) {
    std::vector<std::uint8_t> bytes;
    for (;;) {
        char c = 0;
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(Errc::io, what + ": " + std::strerror(errno));
        if (n == 0 || c == '\n') break;
        if (bytes.size() >= 256) {
            secureZero(bytes.data(), bytes.size());
            return fail(Errc::invalidArgument, what + ": the PIN is longer than 256 bytes");
        }
        bytes.push_back(static_cast<std::uint8_t>(c));
    }
    if (!bytes.empty() && bytes.back() == '\r') bytes.pop_back();
    Secret pin(bytes);
    secureZero(bytes.data(), bytes.size());
    if (pin.empty()) return fail(Errc::invalidArgument, what + ": the PIN is empty");
    return pin;
}

}  // namespace

Result<Secret> readPin(const PinInput& in, const std::string& prompt) {
    if (!in.file.empty()) {
        const int fd = ::open(in.file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return fail(Errc::io, "--pin-file " + in.file + ": " + std::strerror(errno));
        auto pin = readLine(fd, "--pin-file " + in.file);
        ::close(fd);
        return pin;
    }
    if (in.fd >= 0) return readLine(in.fd, "--pin-fd " + std::to_string(in.fd));
    const int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (tty < 0)
        return fail(Errc::unavailable, "the token needs its PIN and there is no terminal to ask on: give --pin-file FILE or --pin-fd N");
    termios old{};
    const bool isTerminal = ::tcgetattr(tty, &old) == 0;
    if (isTerminal) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL;
        ::tcsetattr(tty, TCSAFLUSH, &quiet);
    }
    (void)!::write(tty, prompt.data(), prompt.size());
    auto pin = readLine(tty, "the terminal");
    if (isTerminal) ::tcsetattr(tty, TCSAFLUSH, &old);
    ::close(tty);
    return pin;
}

}  // namespace tte::station::app
