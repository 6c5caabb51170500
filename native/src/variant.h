// GVariant <-> JS conversions for the values that cross the binding: commit metadata (a{sv}),
// remote options and pull options. All of these run on the JS thread.
#pragma once

#include "common.h"

namespace atomic_ostree {

// A JS object of string | boolean | number | string[] | Uint8Array values -> a sunk a{sv}.
// Integers become 'x' (int64), other numbers 'd', strings 's', booleans 'b', string arrays 'as',
// Uint8Array 'ay'. Throws TypeError for anything else.
VariantRef VardictFromObject(const Napi::Object& o, const char* what);

// A GVariant value -> JS for the JSON-able types (strings, booleans, integers, doubles, string
// arrays; a 'v' is unwrapped). Returns an empty Napi::Value for other types.
Napi::Value JsonableFromVariant(Napi::Env env, GVariant* v);

// An a{sv} -> a JS object holding its JSON-able entries (others are left out).
Napi::Object ObjectFromVardict(Napi::Env env, GVariant* dict);

}  // namespace atomic_ostree
