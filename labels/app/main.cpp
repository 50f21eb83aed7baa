// tte-label: render, verify and print device and box labels by hand (the station does the
// same through tte::labels). The URL carries the OTP or box secret, so it is read from a
// file or standard input, never from the command line.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>


#include "tte/cli/program.h"
#include "tte/base/clock.h"
#include "tte/base/hex.h"
#include "tte/labels/cups_print_queue.h"
#include "tte/labels/label_printer.h"
#include "tte/labels/label_template.h"
#include "tte/labels/layout.h"
#include "tte/labels/render.h"
#include "tte/labels/scan.h"
#include "tte/labels/zpl.h"
#include "tte/protocol/address.h"

namespace {

using namespace tte;
using namespace tte::labels;

struct Options {
    std::string templates = "config/labels.toml";
    std::string kind = "device";
    std::string urlFile;
    std::string devId, box, first, last;
    std::string msHost = "tte-000001.net", lot, date;
    std::string out;
    std::string image;
    int dpi = 203;
    std::string server = "127.0.0.1:631";
    std::string queue;
    std::string format = "pdf";
    std::string reprintReason;
    int timeoutSeconds = 60;
};

Result<Secret> readUrl(const std::string& path) {
    std::stringstream content;
    if (path == "-") {
        content << std::cin.rdbuf();
    } else {
        std::ifstream in(path, std::ios::binary);
        if (!in) return fail(Errc::notFound, "cannot read the URL file " + path);
        content << in.rdbuf();
    }
    std::string text = content.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    Secret url(text);
    secureZero(text.data(), text.size());
    if (url.empty()) return fail(Errc::invalidArgument, "the URL file " + path + " is empty");
    return url;
}

Status writeFile(const std::string& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return fail(Errc::io, "cannot write " + path);
    return {};
}

Result<DeviceLabel> deviceFromOptions(const Options& o, Secret url) {
    auto devId = parseHexInt(o.devId, 8, "Dev ID");
    if (!devId) return std::unexpected(devId.error());
    return DeviceLabel{std::move(url), static_cast<std::uint32_t>(*devId), o.msHost, o.lot, o.date};
}

Result<BoxLabel> boxFromOptions(const Options& o, Secret url) {
    auto box = parseHexInt(o.box, 8, "box number");
    auto first = parseHexInt(o.first, 8, "first Dev ID");
    auto last = parseHexInt(o.last, 8, "last Dev ID");
    for (const auto* r : {&box, &first, &last}) {
        if (!*r) return std::unexpected(r->error());
    }
    return BoxLabel{std::move(url), static_cast<std::uint32_t>(*box), static_cast<std::uint32_t>(*first),
                    static_cast<std::uint32_t>(*last), o.msHost, o.lot, o.date};
}

Result<LabelLayout> layoutFromOptions(const Options& o, Secret url) {
    auto templates = loadLabelTemplates(o.templates);
    if (!templates) return std::unexpected(templates.error());
    if (o.kind == "device") {
        auto d = deviceFromOptions(o, std::move(url));
        if (!d) return std::unexpected(d.error());
        return layoutDeviceLabel(templates->device, *d);
    }
    auto b = boxFromOptions(o, std::move(url));
    if (!b) return std::unexpected(b.error());
    return layoutBoxLabel(templates->box, *b);
}

Result<CupsEndpoint> endpointFromOptions(const Options& o) {
    auto server = protocol::parseHostPort(o.server, "--server");
    if (!server) return std::unexpected(server.error());
    CupsEndpoint e;
    e.host = server->host;
    e.port = server->port;
    e.queue = o.queue;
    return e;
}

Status print(const Options& o) {
    auto url = readUrl(o.urlFile);
    if (!url) return std::unexpected(url.error());
    auto templates = loadLabelTemplates(o.templates);
    if (!templates) return std::unexpected(templates.error());
    auto endpoint = endpointFromOptions(o);
    if (!endpoint) return std::unexpected(endpoint.error());
    auto queue = CupsPrintQueue::connect(*endpoint);
    if (!queue) return std::unexpected(queue.error());
    SystemClock clock;
    LabelPrinterOptions options;
    options.format = o.format == "zpl" ? DocumentFormat::zpl : DocumentFormat::pdf;
    options.wait.timeout = std::chrono::seconds(o.timeoutSeconds);
    LabelPrinter printer(std::move(*templates), **queue, clock, options,
                         [](const PrintEvent& e) { std::printf("%s\n", e.message.c_str()); });
    Result<PrintedLabel> printed = fail(Errc::internal, "nothing printed");
    if (o.kind == "device") {
        auto d = deviceFromOptions(o, std::move(*url));
        if (!d) return std::unexpected(d.error());
        printed = o.reprintReason.empty() ? printer.printDevice(*d) : printer.reprintDevice(*d, o.reprintReason);
    } else {
        auto b = boxFromOptions(o, std::move(*url));
        if (!b) return std::unexpected(b.error());
        printed = printer.printBox(*b);
    }
    if (!printed) return std::unexpected(printed.error());
    return {};
}

Status render(const Options& o) {
    auto url = readUrl(o.urlFile);
    if (!url) return std::unexpected(url.error());
    auto layout = layoutFromOptions(o, std::move(*url));
    if (!layout) return std::unexpected(layout.error());
    auto raster = renderRaster(*layout);
    if (!raster) return std::unexpected(raster.error());
    if (auto st = verifyScan(*raster, layout->url); !st) return st;  // never write an unreadable label
    auto png = encodePng(*raster);
    auto pdf = renderPdf(*layout);
    auto zpl = renderZpl(*layout);
    if (!png) return std::unexpected(png.error());
    if (!pdf) return std::unexpected(pdf.error());
    if (!zpl) return std::unexpected(zpl.error());
    auto bytes = [](const std::vector<std::uint8_t>& v) {
        return std::string_view(reinterpret_cast<const char*>(v.data()), v.size());
    };
    for (auto [ext, data] : {std::pair<std::string, std::string_view>{".png", bytes(*png)},
                             {".pdf", bytes(*pdf)},
                             {".zpl", *zpl}}) {
        if (auto st = writeFile(o.out + ext, data); !st) return st;
    }
    std::printf("%s label: version %d, %d modules of %d dots; wrote %s.{png,pdf,zpl}; scan-back ok\n",
                layout->name.c_str(), layout->qr.version, layout->qr.modules, layout->qr.moduleDots, o.out.c_str());
    return {};
}

Status verify(const Options& o) {
    auto url = readUrl(o.urlFile);
    if (!url) return std::unexpected(url.error());
    std::ifstream in(o.image, std::ios::binary);
    if (!in) return fail(Errc::notFound, "cannot read " + o.image);
    std::vector<std::uint8_t> png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto raster = decodePng(png, o.dpi);
    if (!raster) return std::unexpected(raster.error());
    if (auto st = verifyScan(*raster, *url); !st) return st;
    std::printf("%s: the code carries the intended URL\n", o.image.c_str());
    return {};
}

void addLabelOptions(CLI::App* c, Options& o) {
    c->add_option("--templates", o.templates, "label template file (TOML)")->capture_default_str();
    c->add_option("--kind", o.kind, "device or box")->capture_default_str()->check(CLI::IsMember({"device", "box"}));
    c->add_option("--url-file", o.urlFile, "file holding the URL to encode ('-' = stdin)")->required();
    c->add_option("--devid", o.devId, "Dev ID, 8 hex digits (device label)");
    c->add_option("--box", o.box, "box number, 8 hex digits (box label)");
    c->add_option("--first", o.first, "first Dev ID, 8 hex digits (box label)");
    c->add_option("--last", o.last, "last Dev ID, 8 hex digits (box label)");
    c->add_option("--ms-host", o.msHost, "MotherShip host name")->capture_default_str();
    c->add_option("--lot", o.lot, "production lot")->required();
    c->add_option("--date", o.date, "production date")->required();
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tte-label: render, verify and print TTE device and box labels"};
    tte::cli::setUp(app, "tte-label");
    app.require_subcommand(1);
    Options o;
    auto* r = app.add_subcommand("render", "render a label to PREFIX.png, .pdf and .zpl, after a scan-back check");
    addLabelOptions(r, o);
    r->add_option("--out", o.out, "output path prefix")->required();
    auto* v = app.add_subcommand("verify", "decode a label PNG and compare it with the intended URL");
    v->add_option("image", o.image, "PNG of the label")->required();
    v->add_option("--url-file", o.urlFile, "file holding the intended URL ('-' = stdin)")->required();
    v->add_option("--dpi", o.dpi, "resolution of the image")->capture_default_str();
    auto* p = app.add_subcommand("print", "print a label on a CUPS queue and wait until it is printed");
    addLabelOptions(p, o);
    p->add_option("--server", o.server, "CUPS server HOST:PORT")->capture_default_str();
    p->add_option("--queue", o.queue, "CUPS queue name")->required();
    p->add_option("--format", o.format, "pdf or zpl (raw queue)")->capture_default_str()->check(
        CLI::IsMember({"pdf", "zpl"}));
    p->add_option("--reprint", o.reprintReason, "reprint a device label, giving the reason");
    p->add_option("--timeout", o.timeoutSeconds, "seconds to wait for the job")->capture_default_str();
    if (auto exit = tte::cli::parse(app, argc, argv)) return *exit;
    Status st = r->parsed() ? render(o) : v->parsed() ? verify(o) : print(o);
    if (!st) {
        std::fprintf(stderr, "tte-label: %s\n", st.error().toString().c_str());
        return 1;
    }
    return 0;
}
