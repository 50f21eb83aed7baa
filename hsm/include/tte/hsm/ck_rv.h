// PKCS#11 return values (CK_RV) as names and sentences for the operator, and as tte::Error
// with the native code kept (domain "PKCS#11", nativeName "CKR_PIN_INCORRECT", ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tte/base/error.h"

namespace tte::hsm {

/// The PKCS#11 v2.40 name of a return value ("CKR_PIN_INCORRECT"); vendor codes as
/// "CKR_VENDOR_DEFINED+0x<hex>", unknown ones as "CKR_0x<hex>".
std::string ckrName(unsigned long rv);

/// A sentence for the operator explaining the return value ("the PIN is wrong; ...").
std::string_view ckrSentence(unsigned long rv);

/// The project's error class for a return value (CKR_PIN_INCORRECT -> unauthenticated, ...).
Errc ckrErrc(unsigned long rv);

/// A tte::Error for a failed PKCS#11 call: message "<context>: <sentence>", domain "PKCS#11",
/// the CK_RV in nativeCode and its name in nativeName.
Error ckrError(unsigned long rv, std::string_view context);

}  // namespace tte::hsm
