// The subcommands of tte-flash, each returning the process exit code (0 ok, 1 failed, 2 a
// usage error, e.g. a destructive command without its confirming flag).
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

/// Boards to act on: the port paths given, or every board in DFU mode.
struct BoardsArgs {
    std::vector<std::string> devices;
};

struct ProtectArgs {
    std::vector<std::string> devices;
    int level = 1;
    bool irreversible = false;  ///< --irreversible: the only way to get level 2
};

struct UnprotectArgs {
    std::vector<std::string> devices;
    bool force = false;  ///< --force: read unprotect erases the whole flash
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

struct SimSeatArgs {
    std::string port;
    bool allOnesSerial = false;
};

int listCommand(const Globals& g);
int infoCommand(const Globals& g, const BoardsArgs& a);
int uidCommand(const Globals& g, const BoardsArgs& a);
int protectCommand(const Globals& g, const ProtectArgs& a);
int unprotectCommand(const Globals& g, const UnprotectArgs& a);
int writeCommand(const Globals& g, const WriteArgs& a);
int readCommand(const Globals& g, const ReadArgs& a);
int packCommand(const PackArgs& a);
int simCreateCommand(const SimCreateArgs& a);
int simSetCommand(const SimSetArgs& a);
int simReplaceCommand(const Globals& g, const SimSeatArgs& a);
int simRemoveCommand(const Globals& g, const SimSeatArgs& a);

}  // namespace tte::flasher::app
