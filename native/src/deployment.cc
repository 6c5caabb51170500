#include "deployment.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "errors.h"
#include "sysroot.h"

namespace atomic_ostree {

namespace {

int IndexIn(GPtrArray* list, OstreeDeployment* deployment) {
  if (list == nullptr) return -1;
  for (guint i = 0; i < list->len; i++) {
    if (ostree_deployment_equal(list->pdata[i], deployment)) return static_cast<int>(i);
  }
  return -1;
}

// Splits a kernel command line the way the kernel does (lib/cmdline.c next_arg): whitespace
// separates arguments except inside double quotes; the quotes are kept, so joining the result
// with spaces (as ostree_sysroot_deployment_set_kargs does) gives the same line back. Not
// ostree_kernel_args_from_string(): in 2022.7 it splits on every space, breaking foo="a b".
std::vector<std::string> SplitKernelArgs(const char* line) {
  std::vector<std::string> out;
  std::string current;
  bool inQuote = false;
  bool any = false;
  for (const char* p = line; *p != '\0'; p++) {
    char ch = *p;
    if (!inQuote && g_ascii_isspace(ch)) {
      if (any) out.push_back(current);
      current.clear();
      any = false;
      continue;
    }
    if (ch == '"') inQuote = !inQuote;
    current += ch;
    any = true;
  }
  if (any) out.push_back(current);
  return out;
}

std::string Describe(OstreeDeployment* d) {
  return std::string(ostree_deployment_get_osname(d)) + " " + ostree_deployment_get_csum(d) + "." +
         std::to_string(ostree_deployment_get_deployserial(d));
}

}  // namespace

DeploymentInfo DescribeDeployment(SysrootState& st, OstreeDeployment* d, GPtrArray* list, bool fresh) {
  DeploymentInfo info;
  info.deployment = GRef<OstreeDeployment>::Ref(d);
  info.osname = ostree_deployment_get_osname(d);
  info.csum = ostree_deployment_get_csum(d);
  const char* bootcsum = ostree_deployment_get_bootcsum(d);
  info.bootcsum = bootcsum != nullptr ? bootcsum : "";
  info.deployserial = ostree_deployment_get_deployserial(d);
  info.bootserial = ostree_deployment_get_bootserial(d);
  // Our own position in the current list, not ostree_deployment_get_index(): a new deployment
  // from deploy_tree is not in the list yet and its stored index means nothing.
  info.index = IndexIn(list, d);
  info.fresh = fresh && info.index < 0;
  info.pinned = ostree_deployment_is_pinned(d) != FALSE;
  info.staged = ostree_deployment_is_staged(d) != FALSE;
  OstreeDeployment* booted = st.loaded ? ostree_sysroot_get_booted_deployment(st.sysroot.get()) : nullptr;
  info.booted = booted != nullptr && ostree_deployment_equal(booted, d);
  info.unlocked = ostree_deployment_unlocked_state_to_string(ostree_deployment_get_unlocked(d));
  GKeyFile* origin = ostree_deployment_get_origin(d);
  if (origin != nullptr) {
    gsize length = 0;
    g_autofree char* data = g_key_file_to_data(origin, &length, nullptr);
    if (data != nullptr) {
      info.hasOrigin = true;
      info.origin.assign(data, length);
    }
    g_autofree char* refspec = g_key_file_get_string(origin, "origin", "refspec", nullptr);
    if (refspec != nullptr) {
      info.hasRefspec = true;
      info.originRefspec = refspec;
    }
  }
  g_autofree char* relpath = ostree_sysroot_get_deployment_dirpath(st.sysroot.get(), d);
  info.path = st.path + "/" + relpath;
  OstreeBootconfigParser* bootconfig = ostree_deployment_get_bootconfig(d);
  const char* options = bootconfig != nullptr ? ostree_bootconfig_parser_get(bootconfig, "options") : nullptr;
  if (options != nullptr) info.kargs = SplitKernelArgs(options);
  return info;
}

Napi::Function Deployment::Init(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "Deployment", {InstanceMethod<&Deployment::ToString>("toString")});
  GetAddonData(env)->deploymentCtor = Napi::Persistent(ctor);
  return ctor;
}

Deployment::Deployment(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Deployment>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "Deployment handles come from Sysroot methods only");
  }
  ref_ = *info[0].As<Napi::External<HandleRef>>().Data();
}

Napi::Value Deployment::ToString(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), "[Deployment " + Describe(ref_.deployment.get()) + "]");
}

Napi::Object DeploymentToJs(Napi::Env env, const std::shared_ptr<SysrootState>& owner, const DeploymentInfo& info) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("osname", info.osname);
  o.Set("csum", info.csum);
  o.Set("deployserial", info.deployserial);
  o.Set("bootserial", info.bootserial);
  o.Set("bootcsum", info.bootcsum);
  o.Set("index", info.index);
  o.Set("isPinned", info.pinned);
  o.Set("isStaged", info.staged);
  o.Set("isBooted", info.booted);
  o.Set("unlocked", info.unlocked);
  o.Set("originRefspec", info.hasRefspec ? Napi::Value(Napi::String::New(env, info.originRefspec)) : env.Null());
  o.Set("origin", info.hasOrigin ? Napi::Value(Napi::String::New(env, info.origin)) : env.Null());
  Napi::Array kargs = Napi::Array::New(env, info.kargs.size());
  for (size_t i = 0; i < info.kargs.size(); i++) kargs.Set(static_cast<uint32_t>(i), info.kargs[i]);
  o.Set("kargs", kargs);
  o.Set("path", info.path);
  HandleRef ref{info.deployment, owner, info.fresh};
  // The External points at a stack value: the constructor copies it synchronously inside New().
  o.Set("handle", GetAddonData(env)->deploymentCtor.New({Napi::External<HandleRef>::New(env, &ref)}));
  return o;
}

HandleRef HandleFromValue(const Napi::Value& v, const char* what) {
  AddonData* data = GetAddonData(v.Env());
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(data->deploymentCtor.Value())) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected a deployment handle");
  }
  return Deployment::Unwrap(v.As<Napi::Object>())->ref();
}

bool ResolveDeployment(SysrootState& st, const HandleRef& h, bool allowFresh, GRef<OstreeDeployment>* out,
                       GError** error) {
  std::shared_ptr<SysrootState> owner = h.owner.lock();
  if (owner.get() != &st) {
    SetNativeError(error, NATIVE_ERROR_FOREIGN_DEPLOYMENT,
                   "deployment " + Describe(h.deployment.get()) + " belongs to another Sysroot object");
    return false;
  }
  if (!st.loaded) {
    SetNativeError(error, NATIVE_ERROR_NOT_LOADED, "sysroot " + st.path + " is not loaded");
    return false;
  }
  g_autoptr(GPtrArray) list = ostree_sysroot_get_deployments(st.sysroot.get());
  for (guint i = 0; list != nullptr && i < list->len; i++) {
    auto* d = static_cast<OstreeDeployment*>(list->pdata[i]);
    if (ostree_deployment_equal(d, h.deployment.get())) {
      *out = GRef<OstreeDeployment>::Ref(d);
      return true;
    }
  }
  if (allowFresh && h.fresh) {
    g_autofree char* relpath = ostree_sysroot_get_deployment_dirpath(st.sysroot.get(), h.deployment.get());
    struct stat sb;
    if (fstatat(ostree_sysroot_get_fd(st.sysroot.get()), relpath, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(sb.st_mode)) {
      *out = h.deployment;
      return true;
    }
  }
  SetNativeError(error, NATIVE_ERROR_STALE_DEPLOYMENT,
                 "deployment " + Describe(h.deployment.get()) + " is no longer in sysroot " + st.path +
                     " (stale handle: list the deployments again)");
  return false;
}

}  // namespace atomic_ostree
