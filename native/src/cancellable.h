#pragma once

#include "common.h"

namespace atomic_ostree {

class Cancellable : public Napi::ObjectWrap<Cancellable> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Cancellable(const Napi::CallbackInfo& info);
  GCancellable* get() const { return cancellable_.get(); }

 private:
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value IsCancelled(const Napi::CallbackInfo& info);

  GRef<GCancellable> cancellable_;
};

}  // namespace atomic_ostree
