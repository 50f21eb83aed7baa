// tte-flash: the station engineer's DfuSe flasher (list, info, uid, write, read, protect,
// unprotect, pack) for STM32 devices in their ROM bootloader over USB, or with --sim DIR
// against simulated boards (sim create / replace / remove / set).
#include <cstdio>

#include "commands.h"
#include "tte/cli/program.h"

int main(int argc, char** argv) {
    using namespace tte::flasher::app;
    CLI::App cli{"tte-flash: write and read STM32 flash over USB DfuSe (ROM bootloader 0483:df11)"};
    tte::cli::setUp(cli, "tte-flash");
    cli.require_subcommand(1);
    Globals g;
    cli.add_option("--sim", g.simDir, "use the simulated devices in DIR instead of USB")->type_name("DIR");
    cli.add_flag("--sim-real-time", g.realTime, "simulated erase/program times take real time (default: virtual)");

    auto* list = cli.add_subcommand("list", "list devices in DFU mode with their port paths");

    BoardsArgs ia;
    auto* info = cli.add_subcommand("info", "show each board's unique ID, USB serial, flash size, RDP level and "
                                            "option bytes");
    info->add_option("--device", ia.devices, "port path of a board (repeatable; default: every device)");
    BoardsArgs ua;
    auto* uid = cli.add_subcommand("uid", "print \"PORT UID\" per board: the 96-bit unique ID (RM0090, 0x1FFF7A10) "
                                          "as 24 hex digits, words at 0x1FFF7A10, 14, 18");
    uid->add_option("--device", ua.devices, "port path of a board (repeatable; default: every device)");

    ProtectArgs pa;
    auto* protect = cli.add_subcommand(
        "protect", "set read-out protection by writing the option bytes (the board resets and is checked): at level 1 "
                   "neither the bootloader nor a debugger reads the flash; level 2 is permanent");
    protect->add_option("--level", pa.level, "RDP level: 1, or 2 with --irreversible")
        ->required()
        ->check(CLI::Range(1, 2));
    protect->add_flag("--irreversible", pa.irreversible,
                      "allow level 2: no bootloader, no debug port and no rework ever again");
    protect->add_option("--device", pa.devices, "port path of a board (repeatable; default: every device)");

    UnprotectArgs na;
    auto* unprotect = cli.add_subcommand(
        "unprotect", "read unprotect: RDP level 1 -> 0, which mass-erases the whole flash (rework); the board resets, "
                     "is checked at level 0 and read back blank");
    unprotect->add_flag("--force", na.force, "confirm that the flash is erased");
    unprotect->add_option("--device", na.devices, "port path of a board (repeatable; default: every device)");

    WriteArgs w;
    auto* write = cli.add_subcommand("write", "write a DfuSe file to one or more devices, in parallel");
    write->add_option("file", w.file, "the .dfu file")->required();
    write->add_option("--device", w.devices, "port path of a device (repeatable; default: every device)");
    write->add_flag("--verify,!--no-verify", w.verify, "read back and compare (default: on)");
    write->add_flag("--leave", w.leave, "leave DFU mode and start the firmware afterwards");

    ReadArgs r;
    auto* read = cli.add_subcommand("read", "read internal flash into a file");
    read->add_option("--address", r.address, "start address, e.g. 0x08000000")->required();
    read->add_option("--length", r.length, "number of bytes")->required();
    read->add_option("-o,--output", r.output, "output file")->required();
    read->add_option("--device", r.device, "port path (default: the only device)");

    PackArgs p;
    auto* pack = cli.add_subcommand("pack", "make a DfuSe file from a raw binary");
    pack->add_option("input", p.input, "the .bin file")->required();
    pack->add_option("--address", p.address, "where the binary goes, e.g. 0x08000000")->required();
    pack->add_option("-o,--output", p.output, "the .dfu file to write")->required();

    auto* sim = cli.add_subcommand("sim", "manage simulated STM32F405 devices");
    sim->require_subcommand(1);
    SimCreateArgs sc;
    auto* create = sim->add_subcommand("create", "make N simulated devices in DFU mode in DIR");
    create->add_option("dir", sc.dir, "directory")->required();
    create->add_option("--count", sc.count, "number of devices (1-127)")->required();
    create->add_flag("--all-ones-serials", sc.allOnesSerials,
                     "every board's bootloader reports serial FFFFFFFEFFFF, as some STM32F4 bootloaders do "
                     "(default: the serial derived from each board's unique ID)");
    SimSeatArgs sr;
    auto* replace = sim->add_subcommand("replace", "put a new blank board (new unique ID, erased flash, factory "
                                                   "option bytes) into the seat at PORT (needs --sim DIR)");
    replace->add_option("port", sr.port, "port path of the seat, e.g. 1-1.3")->required();
    replace->add_flag("--all-ones-serial", sr.allOnesSerial, "its bootloader reports serial FFFFFFFEFFFF");
    SimSeatArgs sm;
    auto* remove = sim->add_subcommand("remove", "take the board out of the seat at PORT (needs --sim DIR); a "
                                                 "process that has it open sees it unplugged");
    remove->add_option("port", sm.port, "port path of the seat")->required();
    SimSetArgs ss;
    auto* set = sim->add_subcommand("set", "change a simulated device (protection, DFU mode)");
    set->add_option("dir", ss.dir, "directory")->required();
    set->add_option("device", ss.device, "port path")->required();
    set->add_option("--rdp", ss.rdp, "set the RDP byte for level 0, 1 or 2 directly (a fixture back door: no erase)")
        ->check(CLI::Range(0, 2));
    set->add_option("--wrp", ss.wrp, "write-protected sectors as a hex bit mask, e.g. 0x4");
    set->add_flag("--dfu", ss.dfu, "reset the device into DFU mode again");

    if (auto exit = tte::cli::parse(cli, argc, argv)) return *exit;
    if (*list) return listCommand(g);
    if (*info) return infoCommand(g, ia);
    if (*uid) return uidCommand(g, ua);
    if (*protect) return protectCommand(g, pa);
    if (*unprotect) return unprotectCommand(g, na);
    if (*write) return writeCommand(g, w);
    if (*read) return readCommand(g, r);
    if (*pack) return packCommand(p);
    if (*create) return simCreateCommand(sc);
    if (*set) return simSetCommand(ss);
    if (*replace) return simReplaceCommand(g, sr);
    if (*remove) return simRemoveCommand(g, sm);
    return 2;
}
