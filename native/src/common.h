// Shared pieces of the libostree binding: RAII holders for GLib references, the per-object
// "lane" that serializes libostree calls, the binding's own GError domain and the per-addon
// instance data (constructors of the wrapped classes).
//
// Threading model (why the lane exists): OstreeRepo and OstreeSysroot are not documented as
// thread-safe, and our workers run on libuv's thread pool, so two promises on the same object
// could otherwise run libostree code on two threads at once. Every wrapped object owns a Lane
// (a mutex); a Repo obtained from Sysroot.getRepo() shares the sysroot's lane because it is the
// very OstreeRepo the sysroot uses internally (ostree_sysroot_repo()).
#pragma once

#include <napi.h>
#include <ostree.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace atomic_ostree {

// A strong reference to a GObject: copy = g_object_ref, destroy = g_object_unref.
template <typename T>
class GRef {
 public:
  GRef() = default;
  // Adopts a reference the caller owns ("transfer full").
  static GRef Adopt(T* p) {
    GRef r;
    r.p_ = p;
    return r;
  }
  // Takes a new reference ("transfer none" results).
  static GRef Ref(T* p) {
    GRef r;
    r.p_ = p == nullptr ? nullptr : static_cast<T*>(g_object_ref(p));
    return r;
  }
  GRef(const GRef& o) : p_(o.p_ == nullptr ? nullptr : static_cast<T*>(g_object_ref(o.p_))) {}
  GRef(GRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  GRef& operator=(GRef o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~GRef() {
    if (p_ != nullptr) g_object_unref(p_);
  }
  T* get() const { return p_; }
  T** out() {
    reset();
    return &p_;
  }
  void reset() {
    if (p_ != nullptr) g_object_unref(std::exchange(p_, nullptr));
  }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  T* p_ = nullptr;
};

// A strong, sunk reference to a GVariant (GVariant is immutable and its refcount is atomic, so a
// VariantRef may be built on one thread and read on another).
class VariantRef {
 public:
  VariantRef() = default;
  static VariantRef Adopt(GVariant* v) {
    VariantRef r;
    r.v_ = v;
    return r;
  }
  // Sinks a floating reference or adds a strong one.
  static VariantRef Sink(GVariant* v) {
    VariantRef r;
    r.v_ = v == nullptr ? nullptr : g_variant_ref_sink(v);
    return r;
  }
  VariantRef(const VariantRef& o) : v_(o.v_ == nullptr ? nullptr : g_variant_ref(o.v_)) {}
  VariantRef(VariantRef&& o) noexcept : v_(std::exchange(o.v_, nullptr)) {}
  VariantRef& operator=(VariantRef o) noexcept {
    std::swap(v_, o.v_);
    return *this;
  }
  ~VariantRef() {
    if (v_ != nullptr) g_variant_unref(v_);
  }
  GVariant* get() const { return v_; }
  GVariant** out() {
    if (v_ != nullptr) g_variant_unref(std::exchange(v_, nullptr));
    return &v_;
  }
  explicit operator bool() const { return v_ != nullptr; }

 private:
  GVariant* v_ = nullptr;
};

// A GError as plain data, so it can cross from the worker thread to the JS thread.
struct ErrorInfo {
  std::string domain;
  int code = 0;
  std::string message;
};

// The binding's own error domain ("atomic-native-error-quark") for conditions libostree does not
// report itself (it would g_return_val_if_fail() or crash instead).
enum NativeErrorCode {
  NATIVE_ERROR_NOT_LOADED = 1,          // the sysroot has not been loaded (ostree_sysroot_load)
  NATIVE_ERROR_STALE_DEPLOYMENT = 2,    // a deployment handle no longer names a deployment
  NATIVE_ERROR_FOREIGN_DEPLOYMENT = 3,  // a deployment handle from another Sysroot object
  NATIVE_ERROR_ALREADY_LOCKED = 4,      // lock()/tryLock() while this object holds the lock
  NATIVE_ERROR_INVALID_ARGUMENT = 5,    // an argument libostree would assert on
  NATIVE_ERROR_NO_ERROR_SET = 6,        // a libostree call failed without setting a GError
};
GQuark NativeErrorQuark();

// A mutex shared by all wrappers of one libostree object (see the file comment).
struct Lane {
  std::timed_mutex mutex;
};

// Acquires a lane, giving up when `cancellable` is cancelled (a waiting promise must stay
// abortable even while another long call, such as a pull, holds the lane).
class LaneGuard {
 public:
  LaneGuard() = default;
  LaneGuard(const LaneGuard&) = delete;
  LaneGuard& operator=(const LaneGuard&) = delete;
  ~LaneGuard() {
    if (held_ != nullptr) held_->mutex.unlock();
  }
  bool Acquire(Lane* lane, GCancellable* cancellable, GError** error) {
    if (lane == nullptr) return true;
    for (;;) {
      if (g_cancellable_set_error_if_cancelled(cancellable, error)) return false;
      if (lane->mutex.try_lock_for(std::chrono::milliseconds(50))) {
        held_ = lane;
        return true;
      }
    }
  }

 private:
  Lane* held_ = nullptr;
};

// Per-addon-instance data (worker threads and multiple Node environments each get their own).
struct AddonData {
  Napi::FunctionReference errorCtor;  // OstreeError, installed by the JS loader
  Napi::FunctionReference repoCtor;
  Napi::FunctionReference sysrootCtor;
  Napi::FunctionReference deploymentCtor;
  Napi::FunctionReference cancellableCtor;
};
AddonData* GetAddonData(Napi::Env env);

// Argument helpers (JS thread). They throw Napi::TypeError on a wrong type.
std::string RequireString(const Napi::Value& v, const char* what);
// undefined/null -> empty optional-like: returns false and leaves `out` untouched.
bool OptionalString(const Napi::Value& v, const char* what, std::string* out);
std::vector<std::string> RequireStringArray(const Napi::Value& v, const char* what);
bool OptionalBool(const Napi::Object& o, const char* key, bool fallback);
// A null-terminated char** view of a string vector (valid while `strings` lives).
std::vector<char*> Argv(std::vector<std::string>& strings);

// What ostree_repo_prune() and ostree_sysroot_cleanup_prune_repo() report, and its JS shape
// {objectsTotal, objectsPruned, prunedBytes}.
struct PruneCounts {
  gint total = 0, pruned = 0;
  guint64 bytes = 0;
  Napi::Object ToObject(Napi::Env env) const;
};

}  // namespace atomic_ostree
