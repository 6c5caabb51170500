// Module entry point of atomic_ostree.node: registers the wrapped classes and exports the error
// domains and codes the adapter maps from. Policy-free: nothing here decides what a caller does
// with libostree; it only makes the C API callable from JS without blocking the event loop.
#include <unistd.h>

#include "cancellable.h"
#include "common.h"
#include "deployment.h"
#include "repo.h"
#include "sysroot.h"

namespace atomic_ostree {

namespace {

// libostree reports progress chatter through g_print() ("Freed objects: ...", from
// ostree_sysroot_cleanup). g_print() writes to stdout, which for our programs is a data channel
// (`atomic ... --json`, the node test runner's protocol). Send it to stderr instead. GLib keeps
// one print handler per process; nothing else in the process uses GLib.
void PrintToStderr(const gchar* message) {
  size_t length = strlen(message);
  while (length > 0) {
    ssize_t n = write(STDERR_FILENO, message, length);
    if (n <= 0) return;
    message += n;
    length -= static_cast<size_t>(n);
  }
}

// setErrorClass(OstreeError): the loader passes its JS class so rejections are `instanceof` it.
Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "setErrorClass: expected a class");
  GetAddonData(info.Env())->errorCtor = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// G_IO_ERROR codes by name (NOT_FOUND -> 1, ...), read from GLib's own enum type so the adapter's
// table can be checked against the library it runs with.
Napi::Object IoErrorCodes(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  auto* klass = static_cast<GEnumClass*>(g_type_class_ref(G_TYPE_IO_ERROR_ENUM));
  for (guint i = 0; i < klass->n_values; i++) {
    const char* name = klass->values[i].value_name;
    const char* prefix = "G_IO_ERROR_";
    if (g_str_has_prefix(name, prefix)) name += strlen(prefix);
    o.Set(name, klass->values[i].value);
  }
  g_type_class_unref(klass);
  return o;
}

Napi::Object GpgErrorCodes(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("NO_SIGNATURE", static_cast<int>(OSTREE_GPG_ERROR_NO_SIGNATURE));
  o.Set("INVALID_SIGNATURE", static_cast<int>(OSTREE_GPG_ERROR_INVALID_SIGNATURE));
  o.Set("MISSING_KEY", static_cast<int>(OSTREE_GPG_ERROR_MISSING_KEY));
  o.Set("EXPIRED_SIGNATURE", static_cast<int>(OSTREE_GPG_ERROR_EXPIRED_SIGNATURE));
  o.Set("EXPIRED_KEY", static_cast<int>(OSTREE_GPG_ERROR_EXPIRED_KEY));
  o.Set("REVOKED_KEY", static_cast<int>(OSTREE_GPG_ERROR_REVOKED_KEY));
  return o;
}

Napi::Object NativeErrorCodes(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("NOT_LOADED", static_cast<int>(NATIVE_ERROR_NOT_LOADED));
  o.Set("STALE_DEPLOYMENT", static_cast<int>(NATIVE_ERROR_STALE_DEPLOYMENT));
  o.Set("FOREIGN_DEPLOYMENT", static_cast<int>(NATIVE_ERROR_FOREIGN_DEPLOYMENT));
  o.Set("ALREADY_LOCKED", static_cast<int>(NATIVE_ERROR_ALREADY_LOCKED));
  o.Set("INVALID_ARGUMENT", static_cast<int>(NATIVE_ERROR_INVALID_ARGUMENT));
  o.Set("NO_ERROR_SET", static_cast<int>(NATIVE_ERROR_NO_ERROR_SET));
  return o;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<AddonData>(new AddonData());
  g_set_print_handler(PrintToStderr);

  exports.Set("Cancellable", Cancellable::Init(env));
  exports.Set("Repo", Repo::Init(env));
  exports.Set("Sysroot", Sysroot::Init(env));
  exports.Set("Deployment", Deployment::Init(env));
  exports.Set("setErrorClass", Napi::Function::New<SetErrorClass>(env, "setErrorClass"));

  Napi::Object domains = Napi::Object::New(env);
  domains.Set("io", g_quark_to_string(G_IO_ERROR));
  domains.Set("gpg", g_quark_to_string(OSTREE_GPG_ERROR));
  domains.Set("native", g_quark_to_string(NativeErrorQuark()));
  domains.Set("keyFile", g_quark_to_string(G_KEY_FILE_ERROR));
  domains.Set("file", g_quark_to_string(G_FILE_ERROR));
  exports.Set("errorDomains", domains);
  exports.Set("ioErrorCodes", IoErrorCodes(env));
  exports.Set("gpgErrorCodes", GpgErrorCodes(env));
  exports.Set("nativeErrorCodes", NativeErrorCodes(env));
  exports.Set("libostreeVersion", OSTREE_VERSION_S);
  return exports;
}

}  // namespace atomic_ostree

// NODE_API_MODULE pastes its argument into an identifier, so it needs an unqualified name.
static Napi::Object InitAtomicOstree(Napi::Env env, Napi::Object exports) {
  return atomic_ostree::Init(env, exports);
}

NODE_API_MODULE(atomic_ostree, InitAtomicOstree)
