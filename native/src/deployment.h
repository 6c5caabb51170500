// Deployments crossing to JS: a plain-data snapshot plus an opaque handle.
//
// Handle design: `handle` is an instance of the (not constructible from JS) Deployment class, an
// ObjectWrap holding a strong reference to the OstreeDeployment (so it can never dangle) and a
// weak reference to the SysrootState it came from. A handle is *resolved* on the worker thread,
// with the sysroot's lane held, before libostree sees it:
//   - from another Sysroot object              -> NATIVE_ERROR_FOREIGN_DEPLOYMENT
//   - sysroot not loaded                       -> NATIVE_ERROR_NOT_LOADED
//   - equal (ostree_deployment_equal: stateroot, csum, deployserial) to an entry of the
//     sysroot's current deployment list        -> that current object
//   - a new deployment (from deployTree/stageTree, not written yet) whose directory still exists,
//     where the call accepts new deployments   -> the handle's own object
//   - otherwise                                -> NATIVE_ERROR_STALE_DEPLOYMENT
// So handles survive reloads as long as their deployment exists, and a handle whose deployment
// was removed (cleanup, a write without it) is an error, never a use-after-free.
#pragma once

#include "common.h"

namespace atomic_ostree {

struct SysrootState;

// Snapshot of one deployment, taken on the worker thread with the lane held.
struct DeploymentInfo {
  GRef<OstreeDeployment> deployment;
  bool fresh = false;  // created by deployTree/stageTree, not (yet) in the deployment list
  std::string osname, csum, bootcsum, path, unlocked;
  int deployserial = 0, bootserial = 0, index = -1;
  bool pinned = false, staged = false, booted = false;
  bool hasOrigin = false, hasRefspec = false;
  std::string origin, originRefspec;
  std::vector<std::string> kargs;
};

// Fills `info` from `deployment`. `list` is the sysroot's current deployment list (index).
DeploymentInfo DescribeDeployment(SysrootState& st, OstreeDeployment* deployment, GPtrArray* list, bool fresh);

// JS thread: snapshot -> { osname, csum, ..., handle }.
Napi::Object DeploymentToJs(Napi::Env env, const std::shared_ptr<SysrootState>& owner, const DeploymentInfo& info);

// A handle's content, copied on the JS thread for use on the worker thread.
struct HandleRef {
  GRef<OstreeDeployment> deployment;
  std::weak_ptr<SysrootState> owner;
  bool fresh = false;
};

// JS thread: a `handle` value -> HandleRef (TypeError if it is not a Deployment handle).
HandleRef HandleFromValue(const Napi::Value& v, const char* what);

// Worker thread, lane held: see the file comment. Returns a new reference in *out.
bool ResolveDeployment(SysrootState& st, const HandleRef& h, bool allowFresh, GRef<OstreeDeployment>* out,
                       GError** error);

class Deployment : public Napi::ObjectWrap<Deployment> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Deployment(const Napi::CallbackInfo& info);
  const HandleRef& ref() const { return ref_; }

 private:
  Napi::Value ToString(const Napi::CallbackInfo& info);
  HandleRef ref_;
};

}  // namespace atomic_ostree
