// The subcommands of tte-flash, each returning the process exit code (0 ok, 1 failed).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tte::flasher::app {

/// Options every command shares.
struct Globals {
    std::string simDir;      ///< --sim DIR: simulated devices instead of USB
    bool realTime = false;   ///< --sim-real-time: simulated flash waits take real time
};

struct WriteArgs {
    std::string file;
    std::vector<std::string> devices;  ///< port paths; empty = every device in DFU mode
    bool verify = true;
    bool leave = false;
};

struct ReadArgs {
    std::string address;
    std::string length;
    std::string output;
    std::string device;
};

struct PackArgs {
    std::string input;
    std::string address;
    std::string output;
};

struct SimCreateArgs {
    std::string dir;
    int count = 1;
    bool allOnesSerials = false;
};

struct SimSetArgs {
    std::string dir;
    std::string device;
    int rdp = -1;          ///< -1: unchanged
    std::string wrp;       ///< hex mask of write-protected sectors; empty: unchanged
    bool dfu = false;      ///< put the device back into DFU mode
};

int listCommand(const Globals& g);
int writeCommand(const Globals& g, const WriteArgs& a);
int readCommand(const Globals& g, const ReadArgs& a);
int packCommand(const PackArgs& a);
int simCreateCommand(const SimCreateArgs& a);
int simSetCommand(const SimSetArgs& a);

}  // namespace tte::flasher::app
