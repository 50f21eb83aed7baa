// Printed PDF documents back to rasters (poppler-cpp), so scan-back can decode what the
// printer was given rather than the station's own rendering.
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-image.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>

#include <memory>

#include "tte/labels/render.h"

namespace tte::labels {

Result<Raster> rasterizePdf(std::span<const std::uint8_t> pdf, int dpi) {
    if (dpi < 50 || dpi > 2400) return fail(Errc::invalidArgument, "PDF raster: " + std::to_string(dpi) + " dpi is out of range");
    if (pdf.empty()) return fail(Errc::corrupt, "the PDF document is empty");
    std::unique_ptr<poppler::document> doc(poppler::document::load_from_raw_data(
        reinterpret_cast<const char*>(pdf.data()), static_cast<int>(pdf.size())));
    if (!doc) return fail(Errc::corrupt, "not a readable PDF document (" + std::to_string(pdf.size()) + " bytes)");
    if (doc->is_locked()) return fail(Errc::corrupt, "the PDF document is encrypted");
    if (doc->pages() != 1) {
        return fail(Errc::corrupt, "the PDF document has " + std::to_string(doc->pages()) + " pages, a label has 1");
    }
    std::unique_ptr<poppler::page> page(doc->create_page(0));
    if (!page) return fail(Errc::corrupt, "the PDF document's page cannot be read");
    poppler::page_renderer renderer;
    renderer.set_render_hints(0);  // no anti-aliasing: whole printer dots, as a thermal head prints
    renderer.set_image_format(poppler::image::format_gray8);
    poppler::image image = renderer.render_page(page.get(), dpi, dpi);
    if (!image.is_valid() || image.format() != poppler::image::format_gray8) {
        return fail(Errc::internal, "poppler could not render the PDF page at " + std::to_string(dpi) + " dpi");
    }
    Raster raster;
    raster.width = image.width();
    raster.height = image.height();
    raster.dpi = dpi;
    raster.pixels.resize(static_cast<std::size_t>(raster.width) * static_cast<std::size_t>(raster.height));
    const char* data = image.const_data();
    for (int y = 0; y < raster.height; ++y) {
        const auto* row = reinterpret_cast<const std::uint8_t*>(data) + static_cast<std::size_t>(y) * image.bytes_per_row();
        for (int x = 0; x < raster.width; ++x) {
            // One bit per dot, as a monochrome printer prints (and `pdftoppm -mono` shows).
            raster.pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(raster.width) + static_cast<std::size_t>(x)] =
                row[x] < 128 ? 0 : 255;
        }
    }
    return raster;
}

}  // namespace tte::labels
