// Sysroot: a JS wrapper of OstreeSysroot (ostree-sysroot.h). Every method that touches the sysroot
// returns a Promise and runs on the thread pool with the sysroot's lane held.
#pragma once

#include "common.h"

namespace atomic_ostree {

struct SysrootState {
  GRef<OstreeSysroot> sysroot;
  std::shared_ptr<Lane> lane;
  std::string path;
  // Guarded by the lane. libostree g_assert()s / g_return_if_fail()s on an unloaded sysroot
  // (ostree-sysroot.c: loadstate == LOADED), so the binding tracks it and reports an error instead.
  bool loaded = false;
  // Guarded by the lane. ostree_sysroot_lock() is not reentrant and a second glnx lock on the
  // same GLnxLockFile would leak the first fd, so a second lock() is refused.
  bool locked = false;
};

class Sysroot : public Napi::ObjectWrap<Sysroot> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Sysroot(const Napi::CallbackInfo& info);

 private:
  Napi::Value GetPath(const Napi::CallbackInfo& info);
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value LoadIfChanged(const Napi::CallbackInfo& info);
  Napi::Value Unload(const Napi::CallbackInfo& info);
  Napi::Value EnsureInitialized(const Napi::CallbackInfo& info);
  Napi::Value InitOsname(const Napi::CallbackInfo& info);
  Napi::Value Lock(const Napi::CallbackInfo& info);
  Napi::Value TryLock(const Napi::CallbackInfo& info);
  Napi::Value Unlock(const Napi::CallbackInfo& info);
  Napi::Value IsBooted(const Napi::CallbackInfo& info);
  Napi::Value GetRepo(const Napi::CallbackInfo& info);
  Napi::Value GetDeployments(const Napi::CallbackInfo& info);
  Napi::Value GetBootedDeployment(const Napi::CallbackInfo& info);
  Napi::Value GetStagedDeployment(const Napi::CallbackInfo& info);
  Napi::Value QueryDeploymentsFor(const Napi::CallbackInfo& info);
  Napi::Value GetMergeDeployment(const Napi::CallbackInfo& info);
  Napi::Value DeployTree(const Napi::CallbackInfo& info);
  Napi::Value StageTree(const Napi::CallbackInfo& info);
  Napi::Value SimpleWriteDeployment(const Napi::CallbackInfo& info);
  Napi::Value WriteDeployments(const Napi::CallbackInfo& info);
  Napi::Value DeploymentSetPinned(const Napi::CallbackInfo& info);
  Napi::Value DeploymentSetKargs(const Napi::CallbackInfo& info);
  Napi::Value WriteOriginFile(const Napi::CallbackInfo& info);
  Napi::Value Cleanup(const Napi::CallbackInfo& info);
  Napi::Value PrepareCleanup(const Napi::CallbackInfo& info);
  Napi::Value CleanupPruneRepo(const Napi::CallbackInfo& info);
  Napi::Value OriginNewFromRefspec(const Napi::CallbackInfo& info);

  Napi::Value DeployOrStage(const Napi::CallbackInfo& info, bool stage);

  std::shared_ptr<SysrootState> state_;
};

}  // namespace atomic_ostree
