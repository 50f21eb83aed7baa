// tte-flash: the station engineer's DfuSe flasher (list, write, read, pack) for STM32 devices
// in their ROM bootloader over USB, or with --sim DIR against simulated devices.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "commands.h"

int main(int argc, char** argv) {
    using namespace tte::flasher::app;
    CLI::App cli{"tte-flash: write and read STM32 flash over USB DfuSe (ROM bootloader 0483:df11)"};
    cli.require_subcommand(1);
    Globals g;
    cli.add_option("--sim", g.simDir, "use the simulated devices in DIR instead of USB")->type_name("DIR");
    cli.add_flag("--sim-real-time", g.realTime, "simulated erase/program times take real time (default: virtual)");

    auto* list = cli.add_subcommand("list", "list devices in DFU mode with their port paths");

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
    SimSetArgs ss;
    auto* set = sim->add_subcommand("set", "change a simulated device (protection, DFU mode)");
    set->add_option("dir", ss.dir, "directory")->required();
    set->add_option("device", ss.device, "port path")->required();
    set->add_option("--rdp", ss.rdp, "read protection level 0 or 1")->check(CLI::Range(0, 1));
    set->add_option("--wrp", ss.wrp, "write-protected sectors as a hex bit mask, e.g. 0x4");
    set->add_flag("--dfu", ss.dfu, "reset the device into DFU mode again");

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return cli.exit(e);  // --help
        std::fprintf(stderr, "tte-flash: %s (see --help)\n", e.what());
        return 2;
    }
    if (*list) return listCommand(g);
    if (*write) return writeCommand(g, w);
    if (*read) return readCommand(g, r);
    if (*pack) return packCommand(p);
    if (*create) return simCreateCommand(sc);
    if (*set) return simSetCommand(ss);
    return 2;
}
