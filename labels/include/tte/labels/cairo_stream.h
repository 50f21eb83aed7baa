// cairo's stream callbacks over byte vectors: a PDF or PNG written into memory, a PNG read
// from memory. Used by the label renderer and by the station's verify sheet.
#pragma once

#include <cairo.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace tte::labels {

/// cairo_write_func_t appending to the std::vector<std::uint8_t> passed as `closure`.
inline cairo_status_t appendBytes(void* closure, const unsigned char* data, unsigned int length) {
    auto* out = static_cast<std::vector<std::uint8_t>*>(closure);
    out->insert(out->end(), data, data + length);
    return CAIRO_STATUS_SUCCESS;
}

/// The closure of readBytes(): the bytes and how far they have been read.
struct ByteReader {
    const std::vector<std::uint8_t>* bytes;
    std::size_t pos = 0;
};

/// cairo_read_func_t reading from the ByteReader passed as `closure`; past the end is a read error.
inline cairo_status_t readBytes(void* closure, unsigned char* data, unsigned int length) {
    auto* r = static_cast<ByteReader*>(closure);
    if (r->bytes->size() - r->pos < length) return CAIRO_STATUS_READ_ERROR;
    std::memcpy(data, r->bytes->data() + r->pos, length);
    r->pos += length;
    return CAIRO_STATUS_SUCCESS;
}

}  // namespace tte::labels
