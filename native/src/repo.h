// Repo: a JS wrapper of OstreeRepo (ostree-repo.h). Every method returns a Promise and runs on the
// thread pool with the repo's lane held; see common.h for the threading model.
#pragma once

#include "common.h"

namespace atomic_ostree {

struct RepoState {
  GRef<OstreeRepo> repo;
  std::shared_ptr<Lane> lane;
  std::string path;
};

class Repo : public Napi::ObjectWrap<Repo> {
 public:
  static Napi::Function Init(Napi::Env env);
  // Wraps an opened repo (JS thread).
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<RepoState> state);
  explicit Repo(const Napi::CallbackInfo& info);

  const std::shared_ptr<RepoState>& state() const { return state_; }

 private:
  static Napi::Value Open(const Napi::CallbackInfo& info);
  static Napi::Value Create(const Napi::CallbackInfo& info);

  Napi::Value GetPath(const Napi::CallbackInfo& info);
  Napi::Value GetMode(const Napi::CallbackInfo& info);
  Napi::Value ListRefs(const Napi::CallbackInfo& info);
  Napi::Value ResolveRev(const Napi::CallbackInfo& info);
  Napi::Value SetRefImmediate(const Napi::CallbackInfo& info);
  Napi::Value LoadCommit(const Napi::CallbackInfo& info);
  Napi::Value LoadVariant(const Napi::CallbackInfo& info);
  Napi::Value ReadCommitDetachedMetadata(const Napi::CallbackInfo& info);
  Napi::Value WriteCommitDetachedMetadata(const Napi::CallbackInfo& info);
  Napi::Value Commit(const Napi::CallbackInfo& info);  // commit.cc
  Napi::Value SignCommit(const Napi::CallbackInfo& info);
  Napi::Value RemoteChange(const Napi::CallbackInfo& info);
  Napi::Value RemoteList(const Napi::CallbackInfo& info);
  Napi::Value RemoteGetUrl(const Napi::CallbackInfo& info);
  Napi::Value GetRemoteOption(const Napi::CallbackInfo& info);
  Napi::Value RemoteGetGpgVerify(const Napi::CallbackInfo& info);
  Napi::Value RemoteGpgImport(const Napi::CallbackInfo& info);
  Napi::Value RemoteListRefs(const Napi::CallbackInfo& info);
  Napi::Value Pull(const Napi::CallbackInfo& info);  // pull.cc
  Napi::Value VerifyCommitForRemote(const Napi::CallbackInfo& info);
  Napi::Value Prune(const Napi::CallbackInfo& info);
  Napi::Value RegenerateSummary(const Napi::CallbackInfo& info);

  std::shared_ptr<RepoState> state_;
};

}  // namespace atomic_ostree
