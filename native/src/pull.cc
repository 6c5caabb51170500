// Repo.pull(): ostree_repo_pull_with_options() with progress forwarded to JS.
//
// Progress path: the worker pushes a private GMainContext (async-worker.h) before creating the
// OstreeAsyncProgress, so the progress object's "changed" idle source lands in the same context
// the pull iterates (ostree-async-progress.c captures g_main_context_ref_thread_default() at
// construction; ostree-repo-pull.c iterates the thread-default context). The "changed" handler
// therefore runs on the worker thread; it snapshots the values and hands them to JS through a
// ThreadSafeFunction, at most every `progressIntervalMs` (default 100 ms). The pull's own refresh
// rate is the "update-frequency" option (default 1000 ms), set to the same interval.
//
// "Never after the promise settles": the JS-side callback checks a flag that OnOK/OnError set on
// the JS thread before resolving, so snapshots still queued when the pull finishes are dropped.
// The final values are part of the resolved result instead.
#include <optional>

#include "async-worker.h"
#include "repo.h"
#include "variant.h"

namespace atomic_ostree {

namespace {

struct ProgressSnapshot {
  guint fetched = 0, requested = 0, outstandingFetches = 0, outstandingWrites = 0;
  guint metadataFetched = 0, outstandingMetadataFetches = 0, scannedMetadata = 0;
  guint fetchedDeltaParts = 0, totalDeltaParts = 0;
  guint64 bytesTransferred = 0, startTimeUs = 0;
  std::string status;
};

guint GetUint(OstreeAsyncProgress* p, const char* key) {
  g_autoptr(GVariant) v = ostree_async_progress_get_variant(p, key);
  return v != nullptr && g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32) ? g_variant_get_uint32(v) : 0;
}

guint64 GetUint64(OstreeAsyncProgress* p, const char* key) {
  g_autoptr(GVariant) v = ostree_async_progress_get_variant(p, key);
  return v != nullptr && g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64) ? g_variant_get_uint64(v) : 0;
}

// Key names are the ones update_progress() sets in ostree-repo-pull.c.
ProgressSnapshot Snapshot(OstreeAsyncProgress* p) {
  ProgressSnapshot s;
  s.fetched = GetUint(p, "fetched");
  s.requested = GetUint(p, "requested");
  s.outstandingFetches = GetUint(p, "outstanding-fetches");
  s.outstandingWrites = GetUint(p, "outstanding-writes");
  s.metadataFetched = GetUint(p, "metadata-fetched");
  s.outstandingMetadataFetches = GetUint(p, "outstanding-metadata-fetches");
  s.scannedMetadata = GetUint(p, "scanned-metadata");
  s.fetchedDeltaParts = GetUint(p, "fetched-delta-parts");
  s.totalDeltaParts = GetUint(p, "total-delta-parts");
  s.bytesTransferred = GetUint64(p, "bytes-transferred");
  s.startTimeUs = GetUint64(p, "start-time");
  g_autofree char* status = ostree_async_progress_get_status(p);
  if (status != nullptr) s.status = status;
  return s;
}

Napi::Object SnapshotToJs(Napi::Env env, const ProgressSnapshot& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("fetched", s.fetched);
  o.Set("requested", s.requested);
  o.Set("outstandingFetches", s.outstandingFetches);
  o.Set("outstandingWrites", s.outstandingWrites);
  o.Set("metadataFetched", s.metadataFetched);
  o.Set("outstandingMetadataFetches", s.outstandingMetadataFetches);
  o.Set("scannedMetadata", s.scannedMetadata);
  o.Set("fetchedDeltaParts", s.fetchedDeltaParts);
  o.Set("totalDeltaParts", s.totalDeltaParts);
  o.Set("bytesTransferred", Napi::Number::New(env, static_cast<double>(s.bytesTransferred)));
  o.Set("startTimeUs", Napi::Number::New(env, static_cast<double>(s.startTimeUs)));
  o.Set("status", s.status);
  return o;
}

// Lives until the ThreadSafeFunction's finalizer; `settled` is only touched on the JS thread.
struct ProgressContext {
  bool settled = false;
};

void CallProgressJs(Napi::Env env, Napi::Function callback, ProgressContext* context, ProgressSnapshot* data) {
  std::unique_ptr<ProgressSnapshot> snapshot(data);
  if (env == nullptr || callback == nullptr || context == nullptr || context->settled) return;
  // A throwing listener surfaces as an uncaught exception, as an EventEmitter listener would.
  callback.Call({SnapshotToJs(env, *snapshot)});
}

using ProgressTsfn = Napi::TypedThreadSafeFunction<ProgressContext, ProgressSnapshot, CallProgressJs>;

class PullWorker final : public OstreeWorker {
 public:
  PullWorker(Napi::Env env, GCancellable* cancellable, std::shared_ptr<RepoState> state, std::string remote,
             VariantRef options, std::optional<Napi::Function> onProgress, guint intervalMs)
      : OstreeWorker(env, "Repo.pull", cancellable, state->lane),
        state_(std::move(state)),
        remote_(std::move(remote)),
        options_(std::move(options)),
        intervalUs_(static_cast<gint64>(intervalMs) * 1000) {
    if (onProgress) {
      context_ = new ProgressContext();
      tsfn_ = ProgressTsfn::New(env, *onProgress, "atomic-ostree-pull-progress", 0, 1, context_,
                                [](Napi::Env, void*, ProgressContext* ctx) { delete ctx; });
      hasTsfn_ = true;
    }
  }

  ~PullWorker() override { ReleaseTsfn(); }

 private:
  static void OnChanged(OstreeAsyncProgress* progress, gpointer userData) {
    static_cast<PullWorker*>(userData)->Emit(progress);
  }

  // Worker thread (inside the pull's main-context iteration).
  void Emit(OstreeAsyncProgress* progress) {
    if (!hasTsfn_) return;
    gint64 now = g_get_monotonic_time();
    if (lastEmitUs_ != 0 && now - lastEmitUs_ < intervalUs_) return;
    lastEmitUs_ = now;
    auto* snapshot = new ProgressSnapshot(Snapshot(progress));
    if (tsfn_.NonBlockingCall(snapshot) != napi_ok) delete snapshot;
  }

  bool Run(GCancellable* cancellable, GError** error) override {
    g_autoptr(OstreeAsyncProgress) progress = ostree_async_progress_new();
    gulong handler = g_signal_connect(progress, "changed", G_CALLBACK(OnChanged), this);
    gboolean ok = ostree_repo_pull_with_options(state_->repo.get(), remote_.c_str(), options_.get(), progress,
                                                cancellable, error);
    // finish() flushes a pending "changed" (synchronously, on this thread) and guarantees no
    // further idle sources; then no handler may reach `this` any more.
    ostree_async_progress_finish(progress);
    g_signal_handler_disconnect(progress, handler);
    final_ = Snapshot(progress);
    return ok != FALSE;
  }

  void Settling() override {
    if (context_ != nullptr) context_->settled = true;
    ReleaseTsfn();
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("progress", SnapshotToJs(env, final_));
    return o;
  }

  void ReleaseTsfn() {
    if (hasTsfn_) {
      hasTsfn_ = false;
      tsfn_.Release();
    }
  }

  std::shared_ptr<RepoState> state_;
  std::string remote_;
  VariantRef options_;
  gint64 intervalUs_;
  gint64 lastEmitUs_ = 0;
  ProgressTsfn tsfn_;
  bool hasTsfn_ = false;
  ProgressContext* context_ = nullptr;  // owned by the TSFN finalizer
  ProgressSnapshot final_;
};

}  // namespace

// repo.pull(remote, { refs, commitOnly?, mirror?, untrusted?, depth?, overrideUrl?,
//                     networkRetries?, timestampCheck?, disableStaticDeltas?,
//                     overrideCommitIds?, progressIntervalMs? }, onProgress | null, cancellable)
// -> Promise<{ progress }>. Option names map to the a{sv} keys documented for
// ostree_repo_pull_with_options(): refs (as), flags (i), depth (i), override-url (s),
// n-network-retries (u), timestamp-check (b), disable-static-deltas (b),
// override-commit-ids (as), update-frequency (u).
Napi::Value Repo::Pull(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string remote = RequireString(info[0], "remote");
  if (!info[1].IsObject()) throw Napi::TypeError::New(env, "options: expected an object");
  Napi::Object opts = info[1].As<Napi::Object>();
  std::optional<Napi::Function> onProgress;
  if (info[2].IsFunction()) {
    onProgress = info[2].As<Napi::Function>();
  } else if (!info[2].IsUndefined() && !info[2].IsNull()) {
    throw Napi::TypeError::New(env, "onProgress: expected a function or null");
  }
  GCancellable* cancellable = CancellableFromValue(info[3]);

  std::vector<std::string> refs = RequireStringArray(opts.Get("refs"), "refs");
  int flags = OSTREE_REPO_PULL_FLAGS_NONE;
  if (OptionalBool(opts, "mirror", false)) flags |= OSTREE_REPO_PULL_FLAGS_MIRROR;
  if (OptionalBool(opts, "commitOnly", false)) flags |= OSTREE_REPO_PULL_FLAGS_COMMIT_ONLY;
  if (OptionalBool(opts, "untrusted", false)) flags |= OSTREE_REPO_PULL_FLAGS_UNTRUSTED;
  guint intervalMs = 100;
  Napi::Value interval = opts.Get("progressIntervalMs");
  if (interval.IsNumber() && interval.As<Napi::Number>().Uint32Value() > 0) {
    intervalMs = interval.As<Napi::Number>().Uint32Value();
  }

  // Read every JS value first: a TypeError must not leave a half-built GVariantBuilder behind.
  Napi::Value depth = opts.Get("depth");
  std::string overrideUrl;
  bool hasOverrideUrl = OptionalString(opts.Get("overrideUrl"), "overrideUrl", &overrideUrl);
  Napi::Value retries = opts.Get("networkRetries");
  bool timestampCheck = OptionalBool(opts, "timestampCheck", false);
  bool disableStaticDeltas = OptionalBool(opts, "disableStaticDeltas", false);
  Napi::Value overrides = opts.Get("overrideCommitIds");
  bool hasOverrides = !overrides.IsUndefined() && !overrides.IsNull();
  std::vector<std::string> ids = hasOverrides ? RequireStringArray(overrides, "overrideCommitIds") : std::vector<std::string>();

  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  std::vector<char*> refv = Argv(refs);
  g_variant_builder_add(&b, "{s@v}", "refs", g_variant_new_variant(g_variant_new_strv(refv.data(), -1)));
  g_variant_builder_add(&b, "{s@v}", "flags", g_variant_new_variant(g_variant_new_int32(flags)));
  g_variant_builder_add(&b, "{s@v}", "update-frequency", g_variant_new_variant(g_variant_new_uint32(intervalMs)));
  if (depth.IsNumber()) {
    g_variant_builder_add(&b, "{s@v}", "depth",
                          g_variant_new_variant(g_variant_new_int32(depth.As<Napi::Number>().Int32Value())));
  }
  if (hasOverrideUrl) {
    g_variant_builder_add(&b, "{s@v}", "override-url", g_variant_new_variant(g_variant_new_string(overrideUrl.c_str())));
  }
  if (retries.IsNumber()) {
    g_variant_builder_add(&b, "{s@v}", "n-network-retries",
                          g_variant_new_variant(g_variant_new_uint32(retries.As<Napi::Number>().Uint32Value())));
  }
  if (timestampCheck) {
    g_variant_builder_add(&b, "{s@v}", "timestamp-check", g_variant_new_variant(g_variant_new_boolean(TRUE)));
  }
  if (disableStaticDeltas) {
    g_variant_builder_add(&b, "{s@v}", "disable-static-deltas", g_variant_new_variant(g_variant_new_boolean(TRUE)));
  }
  if (hasOverrides) {
    std::vector<char*> idv = Argv(ids);
    g_variant_builder_add(&b, "{s@v}", "override-commit-ids", g_variant_new_variant(g_variant_new_strv(idv.data(), -1)));
  }
  VariantRef options = VariantRef::Sink(g_variant_builder_end(&b));

  auto* worker = new PullWorker(env, cancellable, state_, remote, std::move(options), onProgress, intervalMs);
  return worker->Start();
}

}  // namespace atomic_ostree
