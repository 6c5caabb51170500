#include "async-worker.h"

#include <system_error>
#include <thread>

namespace atomic_ostree {

OstreeWorker::OstreeWorker(Napi::Env env, const char* name, GCancellable* cancellable, std::shared_ptr<Lane> lane)
    : env_(env),
      deferred_(Napi::Promise::Deferred::New(env)),
      cancellable_(GRef<GCancellable>::Ref(cancellable)),
      lane_(std::move(lane)),
      name_(name) {}

Napi::Promise OstreeWorker::Start() {
  Napi::Promise promise = deferred_.Promise();
  done_ = DoneTsfn::New(env_, name_.c_str(), 0, 1);
  try {
    std::thread([this] { ThreadMain(); }).detach();
  } catch (const std::system_error& e) {
    // No thread (EAGAIN: the process is at its thread limit): fail this call, not the process.
    done_.Release();
    error_ = ErrorInfo{g_quark_to_string(G_IO_ERROR), G_IO_ERROR_TOO_MANY_OPEN_FILES,
                       name_ + ": cannot start a thread: " + e.what()};
    Settle(env_);
    delete this;
  }
  return promise;
}

void OstreeWorker::ThreadMain() {
  Execute();
  // `this` may be deleted by Done() on the JS thread as soon as the call is queued, so the
  // handle is copied first and released from the copy.
  DoneTsfn done = done_;
  if (done.BlockingCall(this) != napi_ok) {
    // The environment is shutting down (napi_closing): N-API is off limits from here, so the
    // worker is deliberately leaked rather than destroyed on the wrong thread.
    return;
  }
  done.Release();
}

void OstreeWorker::Execute() {
  GMainContext* context = g_main_context_new();
  g_main_context_push_thread_default(context);
  GError* error = nullptr;
  {
    LaneGuard guard;
    ok_ = guard.Acquire(lane_.get(), cancellable_.get(), &error) && Run(cancellable_.get(), &error);
  }
  g_main_context_pop_thread_default(context);
  g_main_context_unref(context);
  if (!ok_) {
    error_ = TakeError(error, name_.c_str());
  } else if (error != nullptr) {
    // A call that succeeded but left an error behind is a libostree bug; do not leak it.
    g_error_free(error);
  }
}

void OstreeWorker::Done(Napi::Env env, Napi::Function, OstreeWorker*, OstreeWorker* worker) {
  if (env != nullptr) worker->Settle(env);
  delete worker;
}

void OstreeWorker::Settle(Napi::Env env) {
  Napi::HandleScope scope(env);
  Settling();
  if (!ok_) {
    deferred_.Reject(MakeJsError(env, error_));
    return;
  }
  try {
    deferred_.Resolve(Result(env));
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  }
}

FnWorker::FnWorker(Napi::Env env, const char* name, GCancellable* cancellable, std::shared_ptr<Lane> lane,
                   RunFn run, ResultFn result)
    : OstreeWorker(env, name, cancellable, std::move(lane)), run_(std::move(run)), result_(std::move(result)) {}

Napi::Promise FnWorker::Start(Napi::Env env, const char* name, GCancellable* cancellable,
                              std::shared_ptr<Lane> lane, RunFn run, ResultFn result) {
  auto* worker = new FnWorker(env, name, cancellable, std::move(lane), std::move(run), std::move(result));
  return worker->OstreeWorker::Start();
}

bool FnWorker::Run(GCancellable* cancellable, GError** error) {
  return run_(cancellable, error);
}

Napi::Value FnWorker::Result(Napi::Env env) {
  return result_(env);
}

}  // namespace atomic_ostree
