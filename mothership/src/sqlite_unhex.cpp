// unhex(X) for the registry's SQLite connections (sqlite_unhex.h).
#include "sqlite_unhex.h"

#include <string>

namespace tte::mothership {
namespace {

int hexValue(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

const char* typeName(int type) {
    switch (type) {
        case SQLITE_INTEGER: return "an integer";
        case SQLITE_FLOAT: return "a real";
        default: return "a blob";
    }
}

void unhex(sqlite3_context* context, int, sqlite3_value** argv) {
    const int type = sqlite3_value_type(argv[0]);
    if (type == SQLITE_NULL) {
        sqlite3_result_null(context);
        return;
    }
    if (type != SQLITE_TEXT) {
        sqlite3_result_error(context, (std::string("unhex: expected hex text, got ") + typeName(type)).c_str(), -1);
        return;
    }
    const auto* text = sqlite3_value_text(argv[0]);
    const int size = sqlite3_value_bytes(argv[0]);
    if (size % 2 != 0) {
        const std::string message = "unhex: " + std::to_string(size) + " characters, not an even number of hex digits";
        sqlite3_result_error(context, message.c_str(), -1);
        return;
    }
    std::string bytes(static_cast<std::size_t>(size / 2), '\0');
    for (int i = 0; i < size; i += 2) {
        const int high = hexValue(text[i]), low = hexValue(text[i + 1]);
        if (high < 0 || low < 0) {
            const int bad = high < 0 ? i : i + 1;
            const std::string message = "unhex: character " + std::to_string(bad + 1) + " is not a hex digit";
            sqlite3_result_error(context, message.c_str(), -1);
            return;
        }
        bytes[static_cast<std::size_t>(i / 2)] = static_cast<char>(high << 4 | low);
    }
    sqlite3_result_blob(context, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
}

}  // namespace

int registerUnhex(sqlite3* db) {
    return sqlite3_create_function_v2(db, "unhex", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                      &unhex, nullptr, nullptr, nullptr);
}

}  // namespace tte::mothership
