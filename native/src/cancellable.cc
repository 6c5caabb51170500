// Cancellable: a JS handle on a GCancellable. The adapter connects an AbortSignal to cancel().
// g_cancellable_cancel() is thread-safe and may be called while a worker runs; libostree checks
// the cancellable between steps and its fetcher aborts outstanding HTTP requests.
#include "cancellable.h"

#include "async-worker.h"

namespace atomic_ostree {

Napi::Function Cancellable::Init(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "Cancellable",
                                    {
                                        InstanceMethod<&Cancellable::Cancel>("cancel"),
                                        InstanceAccessor<&Cancellable::IsCancelled>("cancelled"),
                                    });
  GetAddonData(env)->cancellableCtor = Napi::Persistent(ctor);
  return ctor;
}

Cancellable::Cancellable(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Cancellable>(info), cancellable_(GRef<GCancellable>::Adopt(g_cancellable_new())) {}

Napi::Value Cancellable::Cancel(const Napi::CallbackInfo& info) {
  g_cancellable_cancel(cancellable_.get());
  return info.Env().Undefined();
}

Napi::Value Cancellable::IsCancelled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), g_cancellable_is_cancelled(cancellable_.get()) != FALSE);
}

GCancellable* CancellableFromValue(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  AddonData* data = GetAddonData(v.Env());
  if (v.IsObject() && v.As<Napi::Object>().InstanceOf(data->cancellableCtor.Value())) {
    return Cancellable::Unwrap(v.As<Napi::Object>())->get();
  }
  throw Napi::TypeError::New(v.Env(), "cancellable: expected a Cancellable, undefined or null");
}

}  // namespace atomic_ostree
