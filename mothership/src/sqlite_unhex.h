// unhex(X) on a SQLite connection of the registry: the hex text of a SHA-256 column as the bytes
// it spells (schema version 10 stores them as BLOBs; sql_values.h, hexIn). SQLite has a built-in
// unhex() only from 3.41, and Debian 12 ships 3.40.1; the built-in also answers NULL for text
// that is not hex, which a nullable column would store silently. This one refuses it.
#pragma once

#include <sqlite3.h>

namespace tte::mothership {

/// Registers unhex(X) on `db` (deterministic, innocuous): NULL for NULL; for text of an even
/// number of hex digits (either case) a BLOB of half as many bytes; anything else is the SQL
/// error "unhex: …" that fails the statement (text with another character, "unhex: character N
/// is not a hex digit"; an odd length, "unhex: N characters, not an even number of hex digits"; a value that
/// is not text, "unhex: expected hex text, got an integer|a real|a blob"). The message never
/// holds the value (an OTP hash is one). Returns SQLite's result code.
int registerUnhex(sqlite3* db);

}  // namespace tte::mothership
