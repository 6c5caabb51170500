// GError -> JS error conversion. A failing libostree call leaves a GError (domain quark, code,
// message); the worker copies it into an ErrorInfo on the worker thread and the JS thread turns
// it into an instance of the loader's OstreeError class with `domain` (the quark's string, e.g.
// "g-io-error-quark"), `code` (the enum value within that domain) and the GError message.
#pragma once

#include "common.h"

namespace atomic_ostree {

// Copies and frees `error`. A NULL error (a libostree call that returned FALSE without setting
// one, e.g. after a g_return_val_if_fail) becomes NATIVE_ERROR_NO_ERROR_SET.
ErrorInfo TakeError(GError* error, const char* doing);

// Builds the JS error object (OstreeError when the loader installed it, else a plain Error with
// the same properties).
Napi::Value MakeJsError(Napi::Env env, const ErrorInfo& info);

// Sets a GError in the binding's own domain.
void SetNativeError(GError** error, NativeErrorCode code, const std::string& message);

}  // namespace atomic_ostree
