// Sysroot methods. Each mirrors one call of ostree-sysroot.h; comments name the call and what the
// binding adds (the loaded/locked bookkeeping of SysrootState, handle resolution of
// deployment.h).
#include "sysroot.h"

#include <fcntl.h>

#include "async-worker.h"
#include "deployment.h"
#include "errors.h"
#include "repo.h"

namespace atomic_ostree {

namespace {

bool RequireLoaded(SysrootState& st, GError** error) {
  if (st.loaded) return true;
  SetNativeError(error, NATIVE_ERROR_NOT_LOADED, "sysroot " + st.path + " is not loaded (call load() first)");
  return false;
}

using Infos = std::vector<DeploymentInfo>;

Napi::Value InfosToJs(Napi::Env env, const std::shared_ptr<SysrootState>& st, const Infos& infos) {
  Napi::Array a = Napi::Array::New(env, infos.size());
  for (size_t i = 0; i < infos.size(); i++) a.Set(static_cast<uint32_t>(i), DeploymentToJs(env, st, infos[i]));
  return a;
}

Napi::Value MaybeInfoToJs(Napi::Env env, const std::shared_ptr<SysrootState>& st, const Infos& infos) {
  if (infos.empty()) return env.Null();
  return DeploymentToJs(env, st, infos[0]);
}

// Snapshot of one deployment (or none) against the current list.
void DescribeInto(SysrootState& st, OstreeDeployment* d, bool fresh, Infos* out) {
  if (d == nullptr) return;
  g_autoptr(GPtrArray) list = ostree_sysroot_get_deployments(st.sysroot.get());
  out->push_back(DescribeDeployment(st, d, list, fresh));
}

std::string OptionalStringArg(const Napi::Value& v, const char* what, bool* has) {
  std::string s;
  *has = OptionalString(v, what, &s);
  return s;
}

bool OptionalHandle(const Napi::Value& v, const char* what, HandleRef* out) {
  if (v.IsUndefined() || v.IsNull()) return false;
  *out = HandleFromValue(v, what);
  return true;
}

bool KeyFileFromData(const std::string& data, GKeyFile** out, GError** error) {
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (!g_key_file_load_from_data(kf, data.c_str(), data.size(), G_KEY_FILE_KEEP_COMMENTS, error)) return false;
  *out = static_cast<GKeyFile*>(g_steal_pointer(&kf));
  return true;
}

Napi::Value Undefined(Napi::Env env) {
  return env.Undefined();
}

}  // namespace

Napi::Function Sysroot::Init(Napi::Env env) {
  Napi::Function ctor = DefineClass(
      env, "Sysroot",
      {
          InstanceAccessor<&Sysroot::GetPath>("path"),
          InstanceMethod<&Sysroot::Load>("load"),
          InstanceMethod<&Sysroot::LoadIfChanged>("loadIfChanged"),
          InstanceMethod<&Sysroot::Unload>("unload"),
          InstanceMethod<&Sysroot::EnsureInitialized>("ensureInitialized"),
          InstanceMethod<&Sysroot::InitOsname>("initOsname"),
          InstanceMethod<&Sysroot::Lock>("lock"),
          InstanceMethod<&Sysroot::TryLock>("tryLock"),
          InstanceMethod<&Sysroot::Unlock>("unlock"),
          InstanceMethod<&Sysroot::IsBooted>("isBooted"),
          InstanceMethod<&Sysroot::GetRepo>("getRepo"),
          InstanceMethod<&Sysroot::GetDeployments>("getDeployments"),
          InstanceMethod<&Sysroot::GetBootedDeployment>("getBootedDeployment"),
          InstanceMethod<&Sysroot::GetStagedDeployment>("getStagedDeployment"),
          InstanceMethod<&Sysroot::QueryDeploymentsFor>("queryDeploymentsFor"),
          InstanceMethod<&Sysroot::GetMergeDeployment>("getMergeDeployment"),
          InstanceMethod<&Sysroot::DeployTree>("deployTree"),
          InstanceMethod<&Sysroot::StageTree>("stageTree"),
          InstanceMethod<&Sysroot::SimpleWriteDeployment>("simpleWriteDeployment"),
          InstanceMethod<&Sysroot::WriteDeployments>("writeDeployments"),
          InstanceMethod<&Sysroot::DeploymentSetPinned>("deploymentSetPinned"),
          InstanceMethod<&Sysroot::DeploymentSetKargs>("deploymentSetKargs"),
          InstanceMethod<&Sysroot::WriteOriginFile>("writeOriginFile"),
          InstanceMethod<&Sysroot::Cleanup>("cleanup"),
          InstanceMethod<&Sysroot::PrepareCleanup>("prepareCleanup"),
          InstanceMethod<&Sysroot::CleanupPruneRepo>("cleanupPruneRepo"),
          InstanceMethod<&Sysroot::OriginNewFromRefspec>("originNewFromRefspec"),
      });
  GetAddonData(env)->sysrootCtor = Napi::Persistent(ctor);
  return ctor;
}

// new Sysroot(path): ostree_sysroot_new() only records the path (no I/O), so it is synchronous.
Sysroot::Sysroot(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sysroot>(info) {
  std::string path = RequireString(info[0], "path");
  state_ = std::make_shared<SysrootState>();
  state_->lane = std::make_shared<Lane>();
  g_autoptr(GFile) file = g_file_new_for_path(path.c_str());
  g_autofree char* absolute = g_file_get_path(file);
  state_->path = absolute != nullptr ? absolute : path;
  state_->sysroot = GRef<OstreeSysroot>::Adopt(ostree_sysroot_new(file));
}

Napi::Value Sysroot::GetPath(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), state_->path);
}

// ostree_sysroot_load(): reads the deployment list and boot state; reloads when it changed.
Napi::Value Sysroot::Load(const Napi::CallbackInfo& info) {
  auto st = state_;
  return FnWorker::Start(
      info.Env(), "Sysroot.load", CancellableFromValue(info[0]), st->lane,
      [st](GCancellable* c, GError** e) {
        if (!ostree_sysroot_load(st->sysroot.get(), c, e)) return false;
        st->loaded = true;
        return true;
      },
      Undefined);
}

// ostree_sysroot_load_if_changed() -> whether anything was reloaded.
Napi::Value Sysroot::LoadIfChanged(const Napi::CallbackInfo& info) {
  auto st = state_;
  auto changed = std::make_shared<gboolean>(FALSE);
  return FnWorker::Start(
      info.Env(), "Sysroot.loadIfChanged", CancellableFromValue(info[0]), st->lane,
      [st, changed](GCancellable* c, GError** e) {
        if (!ostree_sysroot_load_if_changed(st->sysroot.get(), changed.get(), c, e)) return false;
        st->loaded = true;
        return true;
      },
      [changed](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, *changed != FALSE); });
}

// ostree_sysroot_unload(): handles obtained before stay memory-safe; they resolve as stale
// (NOT_LOADED) until the next load().
Napi::Value Sysroot::Unload(const Napi::CallbackInfo& info) {
  auto st = state_;
  return FnWorker::Start(
      info.Env(), "Sysroot.unload", CancellableFromValue(info[0]), st->lane,
      [st](GCancellable*, GError**) {
        ostree_sysroot_unload(st->sysroot.get());
        st->loaded = false;
        return true;
      },
      Undefined);
}

// ostree_sysroot_ensure_initialized(): creates ostree/repo (bare) and ostree/deploy, the core of
// `ostree admin init-fs`.
Napi::Value Sysroot::EnsureInitialized(const Napi::CallbackInfo& info) {
  auto st = state_;
  return FnWorker::Start(
      info.Env(), "Sysroot.ensureInitialized", CancellableFromValue(info[0]), st->lane,
      [st](GCancellable* c, GError** e) { return ostree_sysroot_ensure_initialized(st->sysroot.get(), c, e) != FALSE; },
      Undefined);
}

// ostree_sysroot_init_osname(): `ostree admin os-init` (ostree/deploy/OSNAME/{var,deploy}).
Napi::Value Sysroot::InitOsname(const Napi::CallbackInfo& info) {
  std::string osname = RequireString(info[0], "osname");
  auto st = state_;
  return FnWorker::Start(
      info.Env(), "Sysroot.initOsname", CancellableFromValue(info[1]), st->lane,
      [st, osname](GCancellable* c, GError** e) {
        return ostree_sysroot_init_osname(st->sysroot.get(), osname.c_str(), c, e) != FALSE;
      },
      Undefined);
}

// lock(): the exclusive multi-process sysroot lock (flock on ostree/lock). Not
// ostree_sysroot_lock(): it blocks in flock() with no way to cancel, and
// ostree_sysroot_lock_async() cannot abandon its thread either (a cancelled wait would still take
// the lock later). Instead: ostree_sysroot_try_lock() every 50 ms, checking the cancellable, and
// holding the lane only during each attempt so other calls on this Sysroot are not starved.
Napi::Value Sysroot::Lock(const Napi::CallbackInfo& info) {
  auto st = state_;
  return FnWorker::Start(
      info.Env(), "Sysroot.lock", CancellableFromValue(info[0]), nullptr,
      [st](GCancellable* c, GError** e) {
        for (;;) {
          {
            LaneGuard guard;
            if (!guard.Acquire(st->lane.get(), c, e)) return false;
            if (st->locked) {
              SetNativeError(e, NATIVE_ERROR_ALREADY_LOCKED, "sysroot " + st->path + " is already locked by this object");
              return false;
            }
            gboolean acquired = FALSE;
            if (!ostree_sysroot_try_lock(st->sysroot.get(), &acquired, e)) return false;
            if (acquired) {
              st->locked = true;
              return true;
            }
          }
          if (g_cancellable_set_error_if_cancelled(c, e)) return false;
          g_usleep(50 * 1000);
        }
      },
      Undefined);
}

// ostree_sysroot_try_lock() -> acquired; false when another process (or another Sysroot object
// in this process: flock locks belong to the open file) holds it.
Napi::Value Sysroot::TryLock(const Napi::CallbackInfo& info) {
  auto st = state_;
  auto acquired = std::make_shared<gboolean>(FALSE);
  return FnWorker::Start(
      info.Env(), "Sysroot.tryLock", CancellableFromValue(info[0]), st->lane,
      [st, acquired](GCancellable*, GError** e) {
        if (st->locked) {
          SetNativeError(e, NATIVE_ERROR_ALREADY_LOCKED, "sysroot " + st->path + " is already locked by this object");
          return false;
        }
        if (!ostree_sysroot_try_lock(st->sysroot.get(), acquired.get(), e)) return false;
        st->locked = *acquired != FALSE;
        return true;
      },
      [acquired](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, *acquired != FALSE); });
}

// ostree_sysroot_unlock(): safe when not locked.
Napi::Value Sysroot::Unlock(const Napi::CallbackInfo& info) {
  auto st = state_;
  return FnWorker::Start(
      info.Env(), "Sysroot.unlock", CancellableFromValue(info[0]), st->lane,
      [st](GCancellable*, GError**) {
        ostree_sysroot_unlock(st->sysroot.get());
        st->locked = false;
        return true;
      },
      Undefined);
}

// ostree_sysroot_is_booted(): whether the running system booted from this sysroot (known after
// load()).
Napi::Value Sysroot::IsBooted(const Napi::CallbackInfo& info) {
  auto st = state_;
  auto booted = std::make_shared<bool>(false);
  return FnWorker::Start(
      info.Env(), "Sysroot.isBooted", CancellableFromValue(info[0]), st->lane,
      [st, booted](GCancellable*, GError** e) {
        if (!RequireLoaded(*st, e)) return false;
        *booted = ostree_sysroot_is_booted(st->sysroot.get()) != FALSE;
        return true;
      },
      [booted](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, *booted); });
}

// ostree_sysroot_get_repo(): the sysroot's own OstreeRepo object; the Repo wrapper shares this
// sysroot's lane because libostree uses that same object inside sysroot calls.
Napi::Value Sysroot::GetRepo(const Napi::CallbackInfo& info) {
  auto st = state_;
  auto repoState = std::make_shared<RepoState>();
  repoState->lane = st->lane;
  return FnWorker::Start(
      info.Env(), "Sysroot.getRepo", CancellableFromValue(info[0]), st->lane,
      [st, repoState](GCancellable* c, GError** e) {
        if (!ostree_sysroot_get_repo(st->sysroot.get(), repoState->repo.out(), c, e)) return false;
        // Not ostree_repo_get_path(): the sysroot opens its repo relative to a directory fd, and
        // the path libostree reports for it is /proc/self/fd/N.
        repoState->path = st->path + "/ostree/repo";
        return true;
      },
      [repoState](Napi::Env env) -> Napi::Value { return Repo::NewInstance(env, repoState); });
}

// ostree_sysroot_get_deployments(): boot order, the default (next boot) first.
Napi::Value Sysroot::GetDeployments(const Napi::CallbackInfo& info) {
  auto st = state_;
  auto out = std::make_shared<Infos>();
  return FnWorker::Start(
      info.Env(), "Sysroot.getDeployments", CancellableFromValue(info[0]), st->lane,
      [st, out](GCancellable*, GError** e) {
        if (!RequireLoaded(*st, e)) return false;
        g_autoptr(GPtrArray) list = ostree_sysroot_get_deployments(st->sysroot.get());
        for (guint i = 0; i < list->len; i++) {
          out->push_back(DescribeDeployment(*st, static_cast<OstreeDeployment*>(list->pdata[i]), list, false));
        }
        return true;
      },
      [st, out](Napi::Env env) -> Napi::Value { return InfosToJs(env, st, *out); });
}

// ostree_sysroot_get_booted_deployment(): null when the running system is not booted from this
// sysroot (always the case for a sysroot in a temporary directory).
Napi::Value Sysroot::GetBootedDeployment(const Napi::CallbackInfo& info) {
  auto st = state_;
  auto out = std::make_shared<Infos>();
  return FnWorker::Start(
      info.Env(), "Sysroot.getBootedDeployment", CancellableFromValue(info[0]), st->lane,
      [st, out](GCancellable*, GError** e) {
        if (!RequireLoaded(*st, e)) return false;
        DescribeInto(*st, ostree_sysroot_get_booted_deployment(st->sysroot.get()), false, out.get());
        return true;
      },
      [st, out](Napi::Env env) -> Napi::Value { return MaybeInfoToJs(env, st, *out); });
}

// ostree_sysroot_get_staged_deployment().
Napi::Value Sysroot::GetStagedDeployment(const Napi::CallbackInfo& info) {
  auto st = state_;
  auto out = std::make_shared<Infos>();
  return FnWorker::Start(
      info.Env(), "Sysroot.getStagedDeployment", CancellableFromValue(info[0]), st->lane,
      [st, out](GCancellable*, GError** e) {
        if (!RequireLoaded(*st, e)) return false;
        DescribeInto(*st, ostree_sysroot_get_staged_deployment(st->sysroot.get()), false, out.get());
        return true;
      },
      [st, out](Napi::Env env) -> Napi::Value { return MaybeInfoToJs(env, st, *out); });
}

// ostree_sysroot_query_deployments_for(osname | null): { pending, rollback } relative to the booted
// deployment; on a sysroot that is not booted, pending is the first deployment of osname and
// rollback is null.
Napi::Value Sysroot::QueryDeploymentsFor(const Napi::CallbackInfo& info) {
  bool hasOsname = false;
  std::string osname = OptionalStringArg(info[0], "osname", &hasOsname);
  auto st = state_;
  auto pending = std::make_shared<Infos>();
  auto rollback = std::make_shared<Infos>();
  return FnWorker::Start(
      info.Env(), "Sysroot.queryDeploymentsFor", CancellableFromValue(info[1]), st->lane,
      [st, pending, rollback, osname, hasOsname](GCancellable*, GError** e) {
        if (!RequireLoaded(*st, e)) return false;
        // libostree dereferences the booted deployment's osname when osname is NULL.
        if (!hasOsname && ostree_sysroot_get_booted_deployment(st->sysroot.get()) == nullptr) {
          SetNativeError(e, NATIVE_ERROR_INVALID_ARGUMENT, "osname is required: sysroot " + st->path + " is not booted");
          return false;
        }
        g_autoptr(OstreeDeployment) p = nullptr;
        g_autoptr(OstreeDeployment) r = nullptr;
        ostree_sysroot_query_deployments_for(st->sysroot.get(), hasOsname ? osname.c_str() : nullptr, &p, &r);
        DescribeInto(*st, p, false, pending.get());
        DescribeInto(*st, r, false, rollback.get());
        return true;
      },
      [st, pending, rollback](Napi::Env env) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("pending", MaybeInfoToJs(env, st, *pending));
        o.Set("rollback", MaybeInfoToJs(env, st, *rollback));
        return o;
      });
}

// ostree_sysroot_get_merge_deployment(osname | null): the deployment whose /etc a new one merges
// (the booted one, else the default of that osname); null when none.
Napi::Value Sysroot::GetMergeDeployment(const Napi::CallbackInfo& info) {
  bool hasOsname = false;
  std::string osname = OptionalStringArg(info[0], "osname", &hasOsname);
  auto st = state_;
  auto out = std::make_shared<Infos>();
  return FnWorker::Start(
      info.Env(), "Sysroot.getMergeDeployment", CancellableFromValue(info[1]), st->lane,
      [st, out, osname, hasOsname](GCancellable*, GError** e) {
        if (!RequireLoaded(*st, e)) return false;
        if (!hasOsname && ostree_sysroot_get_booted_deployment(st->sysroot.get()) == nullptr) {
          SetNativeError(e, NATIVE_ERROR_INVALID_ARGUMENT, "osname is required: sysroot " + st->path + " is not booted");
          return false;
        }
        g_autoptr(OstreeDeployment) d =
            ostree_sysroot_get_merge_deployment(st->sysroot.get(), hasOsname ? osname.c_str() : nullptr);
        DescribeInto(*st, d, false, out.get());
        return true;
      },
      [st, out](Napi::Env env) -> Napi::Value { return MaybeInfoToJs(env, st, *out); });
}

Napi::Value Sysroot::DeployTree(const Napi::CallbackInfo& info) {
  return DeployOrStage(info, false);
}

Napi::Value Sysroot::StageTree(const Napi::CallbackInfo& info) {
  return DeployOrStage(info, true);
}

// deployTree / stageTree({ osname, revision, origin?, mergeDeployment?, overrideKernelArgv? }):
// ostree_sysroot_deploy_tree_with_options() (checks out the commit into a new deployment
// directory, merges /etc from the merge deployment; nothing boots it until it is written) or
// ostree_sysroot_stage_tree_with_options() (finalized at shutdown by ostree-finalize-staged; only
// possible on a booted system). `origin` is the origin keyfile text (see originNewFromRefspec).
Napi::Value Sysroot::DeployOrStage(const Napi::CallbackInfo& info, bool stage) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "options: expected an object");
  Napi::Object opts = info[0].As<Napi::Object>();
  bool hasOsname = false;
  std::string osname = OptionalStringArg(opts.Get("osname"), "osname", &hasOsname);
  std::string revision = RequireString(opts.Get("revision"), "revision");
  bool hasOrigin = false;
  std::string origin = OptionalStringArg(opts.Get("origin"), "origin", &hasOrigin);
  HandleRef merge;
  bool hasMerge = OptionalHandle(opts.Get("mergeDeployment"), "mergeDeployment", &merge);
  Napi::Value kargsValue = opts.Get("overrideKernelArgv");
  bool hasKargs = !kargsValue.IsUndefined() && !kargsValue.IsNull();
  std::vector<std::string> kargs = hasKargs ? RequireStringArray(kargsValue, "overrideKernelArgv") : std::vector<std::string>();
  GCancellable* cancellable = CancellableFromValue(info[1]);
  auto st = state_;
  auto out = std::make_shared<Infos>();
  return FnWorker::Start(
      env, stage ? "Sysroot.stageTree" : "Sysroot.deployTree", cancellable, st->lane,
      [st, out, stage, osname, hasOsname, revision, origin, hasOrigin, merge, hasMerge, kargs,
       hasKargs](GCancellable* c, GError** e) mutable {
        if (!RequireLoaded(*st, e)) return false;
        // libostree takes the booted deployment's osname for NULL and would dereference NULL here.
        if (!hasOsname && ostree_sysroot_get_booted_deployment(st->sysroot.get()) == nullptr) {
          SetNativeError(e, NATIVE_ERROR_INVALID_ARGUMENT, "osname is required: sysroot " + st->path + " is not booted");
          return false;
        }
        if (!ostree_validate_checksum_string(revision.c_str(), e)) return false;
        g_autoptr(GKeyFile) originKf = nullptr;
        if (hasOrigin && !KeyFileFromData(origin, &originKf, e)) return false;
        GRef<OstreeDeployment> mergeDeployment;
        if (hasMerge && !ResolveDeployment(*st, merge, false, &mergeDeployment, e)) return false;
        std::vector<char*> argv = Argv(kargs);
        OstreeSysrootDeployTreeOpts opts = {};
        opts.override_kernel_argv = hasKargs ? argv.data() : nullptr;
        g_autoptr(OstreeDeployment) created = nullptr;
        gboolean ok = stage ? ostree_sysroot_stage_tree_with_options(st->sysroot.get(), hasOsname ? osname.c_str() : nullptr,
                                                                     revision.c_str(), originKf, mergeDeployment.get(),
                                                                     &opts, &created, c, e)
                            : ostree_sysroot_deploy_tree_with_options(st->sysroot.get(), hasOsname ? osname.c_str() : nullptr,
                                                                      revision.c_str(), originKf, mergeDeployment.get(),
                                                                      &opts, &created, c, e);
        if (!ok) return false;
        DescribeInto(*st, created, true, out.get());
        return true;
      },
      [st, out](Napi::Env env) -> Napi::Value { return MaybeInfoToJs(env, st, *out); });
}

// simpleWriteDeployment(osname | null, newDeployment, mergeDeployment | null,
//   { retain, notDefault, noClean, retainPending, retainRollback }):
// ostree_sysroot_simple_write_deployment(): puts the new deployment first (or second with
// notDefault) and drops others of the same osname unless retained. libostree reloads the sysroot
// afterwards (ostree-sysroot-deploy.c: "Now reload from disk").
Napi::Value Sysroot::SimpleWriteDeployment(const Napi::CallbackInfo& info) {
  bool hasOsname = false;
  std::string osname = OptionalStringArg(info[0], "osname", &hasOsname);
  HandleRef created = HandleFromValue(info[1], "newDeployment");
  HandleRef merge;
  bool hasMerge = OptionalHandle(info[2], "mergeDeployment", &merge);
  int flags = OSTREE_SYSROOT_SIMPLE_WRITE_DEPLOYMENT_FLAGS_NONE;
  if (info[3].IsObject()) {
    Napi::Object f = info[3].As<Napi::Object>();
    if (OptionalBool(f, "retain", false)) flags |= OSTREE_SYSROOT_SIMPLE_WRITE_DEPLOYMENT_FLAGS_RETAIN;
    if (OptionalBool(f, "notDefault", false)) flags |= OSTREE_SYSROOT_SIMPLE_WRITE_DEPLOYMENT_FLAGS_NOT_DEFAULT;
    if (OptionalBool(f, "noClean", false)) flags |= OSTREE_SYSROOT_SIMPLE_WRITE_DEPLOYMENT_FLAGS_NO_CLEAN;
    if (OptionalBool(f, "retainPending", false)) flags |= OSTREE_SYSROOT_SIMPLE_WRITE_DEPLOYMENT_FLAGS_RETAIN_PENDING;
    if (OptionalBool(f, "retainRollback", false)) flags |= OSTREE_SYSROOT_SIMPLE_WRITE_DEPLOYMENT_FLAGS_RETAIN_ROLLBACK;
  }
  auto st = state_;
  return FnWorker::Start(
      info.Env(), "Sysroot.simpleWriteDeployment", CancellableFromValue(info[4]), st->lane,
      [st, osname, hasOsname, created, merge, hasMerge, flags](GCancellable* c, GError** e) {
        if (!RequireLoaded(*st, e)) return false;
        if (!hasOsname && ostree_sysroot_get_booted_deployment(st->sysroot.get()) == nullptr) {
          SetNativeError(e, NATIVE_ERROR_INVALID_ARGUMENT, "osname is required: sysroot " + st->path + " is not booted");
          return false;
        }
        GRef<OstreeDeployment> newDeployment;
        if (!ResolveDeployment(*st, created, true, &newDeployment, e)) return false;
        GRef<OstreeDeployment> mergeDeployment;
        if (hasMerge && !ResolveDeployment(*st, merge, false, &mergeDeployment, e)) return false;
        return ostree_sysroot_simple_write_deployment(st->sysroot.get(), hasOsname ? osname.c_str() : nullptr,
                                                      newDeployment.get(), mergeDeployment.get(),
                                                      static_cast<OstreeSysrootSimpleWriteDeploymentFlags>(flags), c,
                                                      e) != FALSE;
      },
      Undefined);
}

// writeDeployments(handles[], { doPostclean = true }):
// ostree_sysroot_write_deployments_with_options(): the complete new boot order, first = default.
// This is how a rollback or reorder is done on 2022.7 (no `ostree admin set-default` there).
Napi::Value Sysroot::WriteDeployments(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "deployments: expected an array of handles");
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<HandleRef> handles;
  for (uint32_t i = 0; i < arr.Length(); i++) handles.push_back(HandleFromValue(arr.Get(i), "deployments[]"));
  bool postclean = true;
  if (info[1].IsObject()) postclean = OptionalBool(info[1].As<Napi::Object>(), "doPostclean", true);
  auto st = state_;
  return FnWorker::Start(
      env, "Sysroot.writeDeployments", CancellableFromValue(info[2]), st->lane,
      [st, handles, postclean](GCancellable* c, GError** e) {
        if (!RequireLoaded(*st, e)) return false;
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_object_unref);
        for (const HandleRef& h : handles) {
          GRef<OstreeDeployment> d;
          if (!ResolveDeployment(*st, h, true, &d, e)) return false;
          g_ptr_array_add(list, g_object_ref(d.get()));
        }
        OstreeSysrootWriteDeploymentsOpts opts = {};
        opts.do_postclean = postclean ? TRUE : FALSE;
        return ostree_sysroot_write_deployments_with_options(st->sysroot.get(), list, &opts, c, e) != FALSE;
      },
      Undefined);
}

// ostree_sysroot_deployment_set_pinned(): writes the origin file only; the in-memory deployment
// keeps its old state until the next load() (libostree does not reload here).
Napi::Value Sysroot::DeploymentSetPinned(const Napi::CallbackInfo& info) {
  HandleRef h = HandleFromValue(info[0], "deployment");
  bool pinned = info[1].ToBoolean().Value();
  auto st = state_;
  return FnWorker::Start(
      info.Env(), "Sysroot.deploymentSetPinned", CancellableFromValue(info[2]), st->lane,
      [st, h, pinned](GCancellable*, GError** e) {
        GRef<OstreeDeployment> d;
        if (!ResolveDeployment(*st, h, false, &d, e)) return false;
        return ostree_sysroot_deployment_set_pinned(st->sysroot.get(), d.get(), pinned, e) != FALSE;
      },
      Undefined);
}

// ostree_sysroot_deployment_set_kargs(): replaces the kernel arguments (a new bootconfig; the
// deployments are written again, which reloads the sysroot).
Napi::Value Sysroot::DeploymentSetKargs(const Napi::CallbackInfo& info) {
  HandleRef h = HandleFromValue(info[0], "deployment");
  std::vector<std::string> kargs = RequireStringArray(info[1], "kargs");
  auto st = state_;
  return FnWorker::Start(
      info.Env(), "Sysroot.deploymentSetKargs", CancellableFromValue(info[2]), st->lane,
      [st, h, kargs](GCancellable* c, GError** e) mutable {
        GRef<OstreeDeployment> d;
        if (!ResolveDeployment(*st, h, false, &d, e)) return false;
        std::vector<char*> argv = Argv(kargs);
        return ostree_sysroot_deployment_set_kargs(st->sysroot.get(), d.get(), argv.data(), c, e) != FALSE;
      },
      Undefined);
}

// ostree_sysroot_write_origin_file(): replaces a deployment's origin keyfile (null: write the
// deployment's current origin again).
Napi::Value Sysroot::WriteOriginFile(const Napi::CallbackInfo& info) {
  HandleRef h = HandleFromValue(info[0], "deployment");
  bool hasOrigin = false;
  std::string origin = OptionalStringArg(info[1], "origin", &hasOrigin);
  auto st = state_;
  return FnWorker::Start(
      info.Env(), "Sysroot.writeOriginFile", CancellableFromValue(info[2]), st->lane,
      [st, h, origin, hasOrigin](GCancellable* c, GError** e) {
        GRef<OstreeDeployment> d;
        if (!ResolveDeployment(*st, h, false, &d, e)) return false;
        g_autoptr(GKeyFile) kf = nullptr;
        if (hasOrigin && !KeyFileFromData(origin, &kf, e)) return false;
        return ostree_sysroot_write_origin_file(st->sysroot.get(), d.get(), kf, c, e) != FALSE;
      },
      Undefined);
}

// ostree_sysroot_cleanup(): prepareCleanup + a refs-only prune. Note that libostree g_print()s
// "Freed objects: ..." here; cleanupPruneRepo() reports the same numbers as data instead.
Napi::Value Sysroot::Cleanup(const Napi::CallbackInfo& info) {
  auto st = state_;
  return FnWorker::Start(
      info.Env(), "Sysroot.cleanup", CancellableFromValue(info[0]), st->lane,
      [st](GCancellable* c, GError** e) {
        if (!RequireLoaded(*st, e)) return false;
        return ostree_sysroot_cleanup(st->sysroot.get(), c, e) != FALSE;
      },
      Undefined);
}

// ostree_sysroot_prepare_cleanup(): removes undeployed deployment directories, old boot versions
// and unused /boot files, and regenerates the deployment refs (ostree/B/S/I); no repo prune.
Napi::Value Sysroot::PrepareCleanup(const Napi::CallbackInfo& info) {
  auto st = state_;
  return FnWorker::Start(
      info.Env(), "Sysroot.prepareCleanup", CancellableFromValue(info[0]), st->lane,
      [st](GCancellable* c, GError** e) {
        if (!RequireLoaded(*st, e)) return false;
        return ostree_sysroot_prepare_cleanup(st->sysroot.get(), c, e) != FALSE;
      },
      Undefined);
}

// ostree_sysroot_cleanup_prune_repo({ refsOnly?, noPrune? }): prunes the system repo keeping
// every ref and every deployed commit (traversal depth 0, as libostree fixes it).
Napi::Value Sysroot::CleanupPruneRepo(const Napi::CallbackInfo& info) {
  int flags = OSTREE_REPO_PRUNE_FLAGS_NONE;
  if (info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    if (OptionalBool(o, "refsOnly", false)) flags |= OSTREE_REPO_PRUNE_FLAGS_REFS_ONLY;
    if (OptionalBool(o, "noPrune", false)) flags |= OSTREE_REPO_PRUNE_FLAGS_NO_PRUNE;
  }
  auto st = state_;
  auto out = std::make_shared<PruneCounts>();
  return FnWorker::Start(
      info.Env(), "Sysroot.cleanupPruneRepo", CancellableFromValue(info[1]), st->lane,
      [st, out, flags](GCancellable* c, GError** e) {
        if (!RequireLoaded(*st, e)) return false;
        g_autoptr(GHashTable) reachable = ostree_repo_traverse_new_reachable();
        OstreeRepoPruneOptions opts = {};
        opts.flags = static_cast<OstreeRepoPruneFlags>(flags);
        opts.reachable = reachable;
        return ostree_sysroot_cleanup_prune_repo(st->sysroot.get(), &opts, &out->total, &out->pruned, &out->bytes, c,
                                                 e) != FALSE;
      },
      [out](Napi::Env env) -> Napi::Value { return out->ToObject(env); });
}

// ostree_sysroot_origin_new_from_refspec(): the origin keyfile text for a refspec
// ("[origin]\nrefspec=..."). Pure (no sysroot state), hence synchronous.
Napi::Value Sysroot::OriginNewFromRefspec(const Napi::CallbackInfo& info) {
  std::string refspec = RequireString(info[0], "refspec");
  g_autoptr(GKeyFile) kf = ostree_sysroot_origin_new_from_refspec(state_->sysroot.get(), refspec.c_str());
  gsize length = 0;
  g_autofree char* data = g_key_file_to_data(kf, &length, nullptr);
  return Napi::String::New(info.Env(), data != nullptr ? std::string(data, length) : std::string());
}

}  // namespace atomic_ostree
