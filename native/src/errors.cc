#include "errors.h"

namespace atomic_ostree {

// G_DEFINE_QUARK is C-only sugar; this is the same thing: the quark's string is what JS sees.
GQuark NativeErrorQuark() {
  return g_quark_from_static_string("atomic-native-error-quark");
}

ErrorInfo TakeError(GError* error, const char* doing) {
  ErrorInfo info;
  if (error == nullptr) {
    info.domain = g_quark_to_string(NativeErrorQuark());
    info.code = NATIVE_ERROR_NO_ERROR_SET;
    info.message = std::string(doing) + ": libostree reported failure without an error";
    return info;
  }
  info.domain = g_quark_to_string(error->domain);
  info.code = error->code;
  info.message = error->message != nullptr ? error->message : "";
  g_error_free(error);
  return info;
}

void SetNativeError(GError** error, NativeErrorCode code, const std::string& message) {
  g_set_error_literal(error, NativeErrorQuark(), code, message.c_str());
}

Napi::Value MakeJsError(Napi::Env env, const ErrorInfo& info) {
  AddonData* data = GetAddonData(env);
  Napi::String message = Napi::String::New(env, info.message);
  Napi::String domain = Napi::String::New(env, info.domain);
  Napi::Number code = Napi::Number::New(env, info.code);
  if (data != nullptr && !data->errorCtor.IsEmpty()) {
    return data->errorCtor.New({message, domain, code});
  }
  Napi::Error e = Napi::Error::New(env, info.message);
  e.Set("domain", domain);
  e.Set("code", code);
  return e.Value();
}

}  // namespace atomic_ostree
