// The base of every blocking call: a Promise-returning worker that runs libostree on its own
// thread, with the object's lane held, and never touches N-API off the JS thread.
//
// Why not Napi::AsyncWorker: it runs on libuv's thread pool (4 threads by default), which also
// serves every fs, dns and zlib call of the process. A pull can take minutes and lock() waits for
// another process; four of them would stall all file I/O of the agent — and a pull served by the
// same process (the tests' HTTP server reads files through that pool) would deadlock. So each call
// gets a thread of its own, and its completion comes back through a ThreadSafeFunction (which
// also keeps the event loop alive while the call runs, as pending async work does).
//
// Execute() (worker thread): pushes a private GMainContext as thread-default, acquires the lane
// (abortable), runs the call, pops the context. The private context matters: libostree's pull
// iterates g_main_context_ref_thread_default() (ostree-repo-pull.c), which on a thread without one
// is the process-global default context, shared by every concurrent pull.
// Settle() (JS thread): resolve with the converted result or reject with an OstreeError.
#pragma once

#include <functional>

#include "common.h"
#include "errors.h"

namespace atomic_ostree {

class OstreeWorker {
 public:
  virtual ~OstreeWorker() = default;
  OstreeWorker(const OstreeWorker&) = delete;
  OstreeWorker& operator=(const OstreeWorker&) = delete;

  // JS thread: starts the call and returns its promise. The worker deletes itself once settled.
  Napi::Promise Start();

 protected:
  OstreeWorker(Napi::Env env, const char* name, GCancellable* cancellable, std::shared_ptr<Lane> lane);

  // Worker thread, lane held. Return false with `error` set on failure.
  virtual bool Run(GCancellable* cancellable, GError** error) = 0;
  // JS thread, after Run succeeded.
  virtual Napi::Value Result(Napi::Env env) = 0;
  // JS thread, once, right before the promise settles (either way).
  virtual void Settling() {}

 private:
  static void Done(Napi::Env env, Napi::Function unused, OstreeWorker* context, OstreeWorker* worker);
  using DoneTsfn = Napi::TypedThreadSafeFunction<OstreeWorker, OstreeWorker, &OstreeWorker::Done>;

  void ThreadMain();
  void Execute();
  void Settle(Napi::Env env);

  Napi::Env env_;
  Napi::Promise::Deferred deferred_;
  DoneTsfn done_;
  GRef<GCancellable> cancellable_;
  std::shared_ptr<Lane> lane_;
  std::string name_;
  bool ok_ = false;
  ErrorInfo error_;
};

// A worker made of two lambdas sharing captured state: most calls need no class of their own.
class FnWorker final : public OstreeWorker {
 public:
  using RunFn = std::function<bool(GCancellable*, GError**)>;
  using ResultFn = std::function<Napi::Value(Napi::Env)>;

  static Napi::Promise Start(Napi::Env env, const char* name, GCancellable* cancellable,
                             std::shared_ptr<Lane> lane, RunFn run, ResultFn result);

 private:
  FnWorker(Napi::Env env, const char* name, GCancellable* cancellable, std::shared_ptr<Lane> lane,
           RunFn run, ResultFn result);
  bool Run(GCancellable* cancellable, GError** error) override;
  Napi::Value Result(Napi::Env env) override;

  RunFn run_;
  ResultFn result_;
};

// The GCancellable* of a JS Cancellable (or nullptr for undefined/null). Throws TypeError for
// anything else. Defined in cancellable.cc.
GCancellable* CancellableFromValue(const Napi::Value& v);

}  // namespace atomic_ostree
