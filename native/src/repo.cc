// Repo methods other than commit (commit.cc) and pull (pull.cc). Each one mirrors one libostree
// call of ostree-repo.h; comments name the call and what the binding adds.
#include "repo.h"

#include <algorithm>

#include "async-worker.h"
#include "variant.h"

namespace atomic_ostree {

Napi::Function Repo::Init(Napi::Env env) {
  Napi::Function ctor = DefineClass(
      env, "Repo",
      {
          StaticMethod<&Repo::Open>("open"),
          StaticMethod<&Repo::Create>("create"),
          InstanceAccessor<&Repo::GetPath>("path"),
          InstanceAccessor<&Repo::GetMode>("mode"),
          InstanceMethod<&Repo::ListRefs>("listRefs"),
          InstanceMethod<&Repo::ResolveRev>("resolveRev"),
          InstanceMethod<&Repo::SetRefImmediate>("setRefImmediate"),
          InstanceMethod<&Repo::LoadCommit>("loadCommit"),
          InstanceMethod<&Repo::LoadVariant>("loadVariant"),
          InstanceMethod<&Repo::ReadCommitDetachedMetadata>("readCommitDetachedMetadata"),
          InstanceMethod<&Repo::WriteCommitDetachedMetadata>("writeCommitDetachedMetadata"),
          InstanceMethod<&Repo::Commit>("commit"),
          InstanceMethod<&Repo::SignCommit>("signCommit"),
          InstanceMethod<&Repo::RemoteChange>("remoteChange"),
          InstanceMethod<&Repo::RemoteList>("remoteList"),
          InstanceMethod<&Repo::RemoteGetUrl>("remoteGetUrl"),
          InstanceMethod<&Repo::GetRemoteOption>("getRemoteOption"),
          InstanceMethod<&Repo::RemoteGetGpgVerify>("remoteGetGpgVerify"),
          InstanceMethod<&Repo::RemoteGpgImport>("remoteGpgImport"),
          InstanceMethod<&Repo::RemoteListRefs>("remoteListRefs"),
          InstanceMethod<&Repo::Pull>("pull"),
          InstanceMethod<&Repo::VerifyCommitForRemote>("verifyCommitForRemote"),
          InstanceMethod<&Repo::Prune>("prune"),
          InstanceMethod<&Repo::RegenerateSummary>("regenerateSummary"),
      });
  GetAddonData(env)->repoCtor = Napi::Persistent(ctor);
  return ctor;
}

Napi::Object Repo::NewInstance(Napi::Env env, std::shared_ptr<RepoState> state) {
  // The External points at a stack value: the constructor runs synchronously inside New().
  return GetAddonData(env)->repoCtor.New({Napi::External<std::shared_ptr<RepoState>>::New(env, &state)});
}

Repo::Repo(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Repo>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "Repo: use Repo.open(), Repo.create() or Sysroot.getRepo()");
  }
  state_ = *info[0].As<Napi::External<std::shared_ptr<RepoState>>>().Data();
}

namespace {

std::shared_ptr<RepoState> NewRepoState(const std::string& path) {
  auto state = std::make_shared<RepoState>();
  state->lane = std::make_shared<Lane>();
  g_autoptr(GFile) file = g_file_new_for_path(path.c_str());
  g_autofree char* absolute = g_file_get_path(file);
  state->path = absolute != nullptr ? absolute : path;
  state->repo = GRef<OstreeRepo>::Adopt(ostree_repo_new(file));
  return state;
}

bool ValidateChecksum(const std::string& csum, GError** error) {
  return ostree_validate_checksum_string(csum.c_str(), error) != FALSE;
}

Napi::Value NullOr(Napi::Env env, const std::string* s) {
  if (s == nullptr) return env.Null();
  return Napi::String::New(env, *s);
}

// Ref name -> commit checksum, sorted by name so that JS sees a stable order.
using RefList = std::vector<std::pair<std::string, std::string>>;

void AppendSortedRefs(GHashTable* table, RefList* out) {
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, table);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    out->emplace_back(static_cast<const char*>(key), static_cast<const char*>(value));
  }
  std::sort(out->begin(), out->end());
}

Napi::Object RefsObject(Napi::Env env, const RefList& refs) {
  Napi::Object o = Napi::Object::New(env);
  for (const auto& [name, csum] : refs) o.Set(name, csum);
  return o;
}

}  // namespace

// ostree_repo_new() + ostree_repo_open().
Napi::Value Repo::Open(const Napi::CallbackInfo& info) {
  std::string path = RequireString(info[0], "path");
  GCancellable* cancellable = CancellableFromValue(info[1]);
  auto state = NewRepoState(path);
  return FnWorker::Start(
      info.Env(), "Repo.open", cancellable, state->lane,
      [state](GCancellable* c, GError** e) { return ostree_repo_open(state->repo.get(), c, e) != FALSE; },
      [state](Napi::Env env) -> Napi::Value { return NewInstance(env, state); });
}

// ostree_repo_new() + ostree_repo_create() (which also opens it; an existing repository of any
// mode is opened as it is).
Napi::Value Repo::Create(const Napi::CallbackInfo& info) {
  std::string path = RequireString(info[0], "path");
  std::string mode = RequireString(info[1], "mode");
  GCancellable* cancellable = CancellableFromValue(info[2]);
  auto state = NewRepoState(path);
  return FnWorker::Start(
      info.Env(), "Repo.create", cancellable, state->lane,
      [state, mode](GCancellable* c, GError** e) {
        OstreeRepoMode m;
        if (!ostree_repo_mode_from_string(mode.c_str(), &m, e)) return false;
        return ostree_repo_create(state->repo.get(), m, c, e) != FALSE;
      },
      [state](Napi::Env env) -> Napi::Value { return NewInstance(env, state); });
}

Napi::Value Repo::GetPath(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), state_->path);
}

// ostree_repo_get_mode(): set once by ostree_repo_open() and never changed afterwards, so reading
// it without the lane is safe.
Napi::Value Repo::GetMode(const Napi::CallbackInfo& info) {
  switch (ostree_repo_get_mode(state_->repo.get())) {
    case OSTREE_REPO_MODE_BARE:
      return Napi::String::New(info.Env(), "bare");
    case OSTREE_REPO_MODE_ARCHIVE:
      return Napi::String::New(info.Env(), "archive");
    case OSTREE_REPO_MODE_BARE_USER:
      return Napi::String::New(info.Env(), "bare-user");
    case OSTREE_REPO_MODE_BARE_USER_ONLY:
      return Napi::String::New(info.Env(), "bare-user-only");
    case OSTREE_REPO_MODE_BARE_SPLIT_XATTRS:
      return Napi::String::New(info.Env(), "bare-split-xattrs");
  }
  return Napi::String::New(info.Env(), "unknown");
}

// ostree_repo_list_refs_ext(NONE): local refs by name and remote refs as "remote:ref", with
// their commit checksums; names keep the prefix (unlike the older ostree_repo_list_refs()).
Napi::Value Repo::ListRefs(const Napi::CallbackInfo& info) {
  std::string prefix;
  bool hasPrefix = OptionalString(info[0], "prefix", &prefix);
  GCancellable* cancellable = CancellableFromValue(info[1]);
  auto state = state_;
  auto refs = std::make_shared<RefList>();
  return FnWorker::Start(
      info.Env(), "Repo.listRefs", cancellable, state->lane,
      [state, refs, prefix, hasPrefix](GCancellable* c, GError** e) {
        g_autoptr(GHashTable) table = nullptr;
        if (!ostree_repo_list_refs_ext(state->repo.get(), hasPrefix ? prefix.c_str() : nullptr, &table,
                                       OSTREE_REPO_LIST_REFS_EXT_NONE, c, e)) {
          return false;
        }
        AppendSortedRefs(table, refs.get());
        return true;
      },
      [refs](Napi::Env env) -> Napi::Value { return RefsObject(env, *refs); });
}

// ostree_repo_resolve_rev(): a refspec ("ref", "remote:ref") or checksum -> commit checksum;
// with allowNoent a missing ref resolves to null instead of failing.
Napi::Value Repo::ResolveRev(const Napi::CallbackInfo& info) {
  std::string refspec = RequireString(info[0], "refspec");
  bool allowNoent = info[1].ToBoolean().Value();
  GCancellable* cancellable = CancellableFromValue(info[2]);
  auto state = state_;
  auto out = std::make_shared<std::pair<bool, std::string>>();
  return FnWorker::Start(
      info.Env(), "Repo.resolveRev", cancellable, state->lane,
      [state, out, refspec, allowNoent](GCancellable*, GError** e) {
        g_autofree char* rev = nullptr;
        if (!ostree_repo_resolve_rev(state->repo.get(), refspec.c_str(), allowNoent, &rev, e)) return false;
        if (rev != nullptr) *out = {true, rev};
        return true;
      },
      [out](Napi::Env env) -> Napi::Value { return NullOr(env, out->first ? &out->second : nullptr); });
}

// ostree_parse_refspec() + ostree_repo_set_ref_immediate(): outside a transaction; a null
// checksum deletes the ref.
Napi::Value Repo::SetRefImmediate(const Napi::CallbackInfo& info) {
  std::string refspec = RequireString(info[0], "refspec");
  std::string csum;
  bool hasCsum = OptionalString(info[1], "csum", &csum);
  GCancellable* cancellable = CancellableFromValue(info[2]);
  auto state = state_;
  return FnWorker::Start(
      info.Env(), "Repo.setRefImmediate", cancellable, state->lane,
      [state, refspec, csum, hasCsum](GCancellable* c, GError** e) {
        g_autofree char* remote = nullptr;
        g_autofree char* ref = nullptr;
        if (!ostree_parse_refspec(refspec.c_str(), &remote, &ref, e)) return false;
        if (hasCsum && !ValidateChecksum(csum, e)) return false;
        return ostree_repo_set_ref_immediate(state->repo.get(), remote, ref, hasCsum ? csum.c_str() : nullptr, c,
                                             e) != FALSE;
      },
      [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

// ostree_repo_load_commit(): the commit variant "(a{sv}aya(say)sstayay)" (ostree-core.h,
// OSTREE_COMMIT_GVARIANT_FORMAT) decoded into plain fields.
Napi::Value Repo::LoadCommit(const Napi::CallbackInfo& info) {
  std::string csum = RequireString(info[0], "csum");
  GCancellable* cancellable = CancellableFromValue(info[1]);
  auto state = state_;
  struct Out {
    VariantRef commit;
    OstreeRepoCommitState commitState = OSTREE_REPO_COMMIT_STATE_NORMAL;
  };
  auto out = std::make_shared<Out>();
  return FnWorker::Start(
      info.Env(), "Repo.loadCommit", cancellable, state->lane,
      [state, out, csum](GCancellable*, GError** e) {
        if (!ValidateChecksum(csum, e)) return false;
        return ostree_repo_load_commit(state->repo.get(), csum.c_str(), out->commit.out(), &out->commitState, e) !=
               FALSE;
      },
      [out, csum](Napi::Env env) -> Napi::Value {
        GVariant* commit = out->commit.get();
        Napi::Object o = Napi::Object::New(env);
        o.Set("csum", csum);
        VariantRef metadata = VariantRef::Adopt(g_variant_get_child_value(commit, 0));
        VariantRef subject = VariantRef::Adopt(g_variant_get_child_value(commit, 3));
        VariantRef body = VariantRef::Adopt(g_variant_get_child_value(commit, 4));
        o.Set("subject", g_variant_get_string(subject.get(), nullptr));
        o.Set("body", g_variant_get_string(body.get(), nullptr));
        // Stored big-endian; ostree_commit_get_timestamp() does the byte swap.
        o.Set("timestamp", Napi::Number::New(env, static_cast<double>(ostree_commit_get_timestamp(commit))));
        g_autofree char* parent = ostree_commit_get_parent(commit);
        o.Set("parent", parent != nullptr ? Napi::Value(Napi::String::New(env, parent)) : env.Null());
        const char* version = nullptr;
        if (g_variant_lookup(metadata.get(), OSTREE_COMMIT_META_KEY_VERSION, "&s", &version)) {
          o.Set("version", version);
        } else {
          o.Set("version", env.Null());
        }
        g_autofree char* contentChecksum = ostree_commit_get_content_checksum(commit);
        o.Set("contentChecksum",
              contentChecksum != nullptr ? Napi::Value(Napi::String::New(env, contentChecksum)) : env.Null());
        o.Set("metadata", ObjectFromVardict(env, metadata.get()));
        o.Set("partial", Napi::Boolean::New(env, (out->commitState & OSTREE_REPO_COMMIT_STATE_PARTIAL) != 0));
        return o;
      });
}

// ostree_repo_load_variant(): the serialized bytes of a metadata object exactly as stored (for a
// commit, SHA-256 of these bytes is the commit checksum; external signatures sign them).
Napi::Value Repo::LoadVariant(const Napi::CallbackInfo& info) {
  std::string type = RequireString(info[0], "objectType");
  std::string csum = RequireString(info[1], "csum");
  GCancellable* cancellable = CancellableFromValue(info[2]);
  OstreeObjectType objtype;
  if (type == "commit") {
    objtype = OSTREE_OBJECT_TYPE_COMMIT;
  } else if (type == "dirtree") {
    objtype = OSTREE_OBJECT_TYPE_DIR_TREE;
  } else if (type == "dirmeta") {
    objtype = OSTREE_OBJECT_TYPE_DIR_META;
  } else {
    throw Napi::TypeError::New(info.Env(), "objectType: expected 'commit', 'dirtree' or 'dirmeta'");
  }
  auto state = state_;
  auto out = std::make_shared<VariantRef>();
  return FnWorker::Start(
      info.Env(), "Repo.loadVariant", cancellable, state->lane,
      [state, out, objtype, csum](GCancellable*, GError** e) {
        if (!ValidateChecksum(csum, e)) return false;
        return ostree_repo_load_variant(state->repo.get(), objtype, csum.c_str(), out->out(), e) != FALSE;
      },
      [out](Napi::Env env) -> Napi::Value {
        const void* data = g_variant_get_data(out->get());
        gsize size = g_variant_get_size(out->get());
        return Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(data), size);
      });
}

// ostree_repo_read_commit_detached_metadata(): serialized a{sv} bytes, or null when the commit
// has no detached metadata.
Napi::Value Repo::ReadCommitDetachedMetadata(const Napi::CallbackInfo& info) {
  std::string csum = RequireString(info[0], "csum");
  GCancellable* cancellable = CancellableFromValue(info[1]);
  auto state = state_;
  auto out = std::make_shared<VariantRef>();
  return FnWorker::Start(
      info.Env(), "Repo.readCommitDetachedMetadata", cancellable, state->lane,
      [state, out, csum](GCancellable* c, GError** e) {
        if (!ValidateChecksum(csum, e)) return false;
        return ostree_repo_read_commit_detached_metadata(state->repo.get(), csum.c_str(), out->out(), c, e) !=
               FALSE;
      },
      [out](Napi::Env env) -> Napi::Value {
        if (!*out) return env.Null();
        const void* data = g_variant_get_data(out->get());
        gsize size = g_variant_get_size(out->get());
        return Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(data), size);
      });
}

// ostree_repo_write_commit_detached_metadata(): bytes must be a serialized a{sv} in normal form
// (checked here: libostree would store whatever it is given); null deletes it.
Napi::Value Repo::WriteCommitDetachedMetadata(const Napi::CallbackInfo& info) {
  std::string csum = RequireString(info[0], "csum");
  VariantRef metadata;
  if (!info[1].IsNull() && !info[1].IsUndefined()) {
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Napi::TypeError::New(info.Env(), "metadata: expected a Uint8Array or null");
    }
    Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
    GBytes* copy = g_bytes_new(bytes.Data(), bytes.ElementLength());
    metadata = VariantRef::Sink(g_variant_new_from_bytes(G_VARIANT_TYPE_VARDICT, copy, FALSE));
    g_bytes_unref(copy);
    if (!g_variant_is_normal_form(metadata.get())) {
      throw Napi::TypeError::New(info.Env(), "metadata: not a serialized a{sv} GVariant in normal form");
    }
  }
  GCancellable* cancellable = CancellableFromValue(info[2]);
  auto state = state_;
  return FnWorker::Start(
      info.Env(), "Repo.writeCommitDetachedMetadata", cancellable, state->lane,
      [state, csum, metadata](GCancellable* c, GError** e) {
        if (!ValidateChecksum(csum, e)) return false;
        return ostree_repo_write_commit_detached_metadata(state->repo.get(), csum.c_str(), metadata.get(), c, e) !=
               FALSE;
      },
      [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

// ostree_repo_sign_commit(): a GPG signature (gpgme) by keyId from homedir (null = the default
// GnuPG home) appended to the commit's detached metadata.
Napi::Value Repo::SignCommit(const Napi::CallbackInfo& info) {
  std::string csum = RequireString(info[0], "csum");
  std::string keyId = RequireString(info[1], "keyId");
  std::string homedir;
  bool hasHomedir = OptionalString(info[2], "homedir", &homedir);
  GCancellable* cancellable = CancellableFromValue(info[3]);
  auto state = state_;
  return FnWorker::Start(
      info.Env(), "Repo.signCommit", cancellable, state->lane,
      [state, csum, keyId, homedir, hasHomedir](GCancellable* c, GError** e) {
        if (!ValidateChecksum(csum, e)) return false;
        return ostree_repo_sign_commit(state->repo.get(), csum.c_str(), keyId.c_str(),
                                       hasHomedir ? homedir.c_str() : nullptr, c, e) != FALSE;
      },
      [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

// ostree_repo_remote_change() with sysroot NULL: the remote lives in this repo's config file.
// Options are an a{sv}: booleans and strings are what libostree writes into the remote's group
// (e.g. gpg-verify=false).
Napi::Value Repo::RemoteChange(const Napi::CallbackInfo& info) {
  std::string change = RequireString(info[0], "change");
  std::string name = RequireString(info[1], "name");
  std::string url;
  bool hasUrl = OptionalString(info[2], "url", &url);
  VariantRef options;
  if (info[3].IsObject()) {
    options = VardictFromObject(info[3].As<Napi::Object>(), "options");
  } else if (!info[3].IsUndefined() && !info[3].IsNull()) {
    throw Napi::TypeError::New(info.Env(), "options: expected an object, undefined or null");
  }
  GCancellable* cancellable = CancellableFromValue(info[4]);
  OstreeRepoRemoteChange op;
  if (change == "add") {
    op = OSTREE_REPO_REMOTE_CHANGE_ADD;
  } else if (change == "add-if-not-exists") {
    op = OSTREE_REPO_REMOTE_CHANGE_ADD_IF_NOT_EXISTS;
  } else if (change == "delete") {
    op = OSTREE_REPO_REMOTE_CHANGE_DELETE;
  } else if (change == "delete-if-exists") {
    op = OSTREE_REPO_REMOTE_CHANGE_DELETE_IF_EXISTS;
  } else if (change == "replace") {
    op = OSTREE_REPO_REMOTE_CHANGE_REPLACE;
  } else {
    throw Napi::TypeError::New(info.Env(),
                               "change: expected 'add', 'add-if-not-exists', 'delete', 'delete-if-exists' or 'replace'");
  }
  bool adding = op == OSTREE_REPO_REMOTE_CHANGE_ADD || op == OSTREE_REPO_REMOTE_CHANGE_ADD_IF_NOT_EXISTS ||
                op == OSTREE_REPO_REMOTE_CHANGE_REPLACE;
  if (adding && !hasUrl) throw Napi::TypeError::New(info.Env(), "url: required when adding a remote");
  auto state = state_;
  return FnWorker::Start(
      info.Env(), "Repo.remoteChange", cancellable, state->lane,
      [state, op, name, url, hasUrl, options](GCancellable* c, GError** e) {
        return ostree_repo_remote_change(state->repo.get(), nullptr, op, name.c_str(), hasUrl ? url.c_str() : nullptr,
                                         options.get(), c, e) != FALSE;
      },
      [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

// ostree_repo_remote_list(), sorted.
Napi::Value Repo::RemoteList(const Napi::CallbackInfo& info) {
  GCancellable* cancellable = CancellableFromValue(info[0]);
  auto state = state_;
  auto out = std::make_shared<std::vector<std::string>>();
  return FnWorker::Start(
      info.Env(), "Repo.remoteList", cancellable, state->lane,
      [state, out](GCancellable*, GError**) {
        guint n = 0;
        g_auto(GStrv) names = ostree_repo_remote_list(state->repo.get(), &n);
        for (guint i = 0; i < n; i++) out->emplace_back(names[i]);
        std::sort(out->begin(), out->end());
        return true;
      },
      [out](Napi::Env env) -> Napi::Value {
        Napi::Array a = Napi::Array::New(env, out->size());
        for (size_t i = 0; i < out->size(); i++) a.Set(static_cast<uint32_t>(i), (*out)[i]);
        return a;
      });
}

// ostree_repo_remote_get_url().
Napi::Value Repo::RemoteGetUrl(const Napi::CallbackInfo& info) {
  std::string name = RequireString(info[0], "name");
  GCancellable* cancellable = CancellableFromValue(info[1]);
  auto state = state_;
  auto out = std::make_shared<std::string>();
  return FnWorker::Start(
      info.Env(), "Repo.remoteGetUrl", cancellable, state->lane,
      [state, out, name](GCancellable*, GError** e) {
        g_autofree char* url = nullptr;
        if (!ostree_repo_remote_get_url(state->repo.get(), name.c_str(), &url, e)) return false;
        *out = url != nullptr ? url : "";
        return true;
      },
      [out](Napi::Env env) -> Napi::Value { return Napi::String::New(env, *out); });
}

// ostree_repo_get_remote_option(): the raw string value, or the default (null when none).
Napi::Value Repo::GetRemoteOption(const Napi::CallbackInfo& info) {
  std::string name = RequireString(info[0], "name");
  std::string option = RequireString(info[1], "option");
  std::string fallback;
  bool hasFallback = OptionalString(info[2], "defaultValue", &fallback);
  GCancellable* cancellable = CancellableFromValue(info[3]);
  auto state = state_;
  auto out = std::make_shared<std::pair<bool, std::string>>();
  return FnWorker::Start(
      info.Env(), "Repo.getRemoteOption", cancellable, state->lane,
      [state, out, name, option, fallback, hasFallback](GCancellable*, GError** e) {
        g_autofree char* value = nullptr;
        if (!ostree_repo_get_remote_option(state->repo.get(), name.c_str(), option.c_str(),
                                           hasFallback ? fallback.c_str() : nullptr, &value, e)) {
          return false;
        }
        if (value != nullptr) *out = {true, value};
        return true;
      },
      [out](Napi::Env env) -> Napi::Value { return NullOr(env, out->first ? &out->second : nullptr); });
}

// ostree_repo_remote_get_gpg_verify().
Napi::Value Repo::RemoteGetGpgVerify(const Napi::CallbackInfo& info) {
  std::string name = RequireString(info[0], "name");
  GCancellable* cancellable = CancellableFromValue(info[1]);
  auto state = state_;
  auto out = std::make_shared<gboolean>(FALSE);
  return FnWorker::Start(
      info.Env(), "Repo.remoteGetGpgVerify", cancellable, state->lane,
      [state, out, name](GCancellable*, GError** e) {
        return ostree_repo_remote_get_gpg_verify(state->repo.get(), name.c_str(), out.get(), e) != FALSE;
      },
      [out](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, *out != FALSE); });
}

// ostree_repo_remote_gpg_import(): keys from a keyring file (binary or ASCII-armored, whatever
// gpgme imports) into the remote's own keyring; keyIds limits the import (null = all).
// Resolves to the number of keys imported.
Napi::Value Repo::RemoteGpgImport(const Napi::CallbackInfo& info) {
  std::string name = RequireString(info[0], "name");
  std::string keyring = RequireString(info[1], "keyringPath");
  bool hasKeyIds = !info[2].IsUndefined() && !info[2].IsNull();
  std::vector<std::string> keyIds = hasKeyIds ? RequireStringArray(info[2], "keyIds") : std::vector<std::string>();
  GCancellable* cancellable = CancellableFromValue(info[3]);
  auto state = state_;
  auto out = std::make_shared<guint>(0);
  return FnWorker::Start(
      info.Env(), "Repo.remoteGpgImport", cancellable, state->lane,
      [state, out, name, keyring, keyIds, hasKeyIds](GCancellable* c, GError** e) mutable {
        g_autoptr(GFile) file = g_file_new_for_path(keyring.c_str());
        g_autoptr(GFileInputStream) stream = g_file_read(file, c, e);
        if (stream == nullptr) return false;
        std::vector<char*> argv = Argv(keyIds);
        return ostree_repo_remote_gpg_import(state->repo.get(), name.c_str(), G_INPUT_STREAM(stream),
                                             hasKeyIds ? const_cast<const char* const*>(argv.data()) : nullptr,
                                             out.get(), c, e) != FALSE;
      },
      [out](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *out); });
}

// ostree_repo_remote_list_refs(): the remote's refs -> checksums, from its summary file (fetched
// over the network; fails when the remote publishes no summary).
Napi::Value Repo::RemoteListRefs(const Napi::CallbackInfo& info) {
  std::string name = RequireString(info[0], "name");
  GCancellable* cancellable = CancellableFromValue(info[1]);
  auto state = state_;
  auto refs = std::make_shared<RefList>();
  return FnWorker::Start(
      info.Env(), "Repo.remoteListRefs", cancellable, state->lane,
      [state, refs, name](GCancellable* c, GError** e) {
        g_autoptr(GHashTable) table = nullptr;
        if (!ostree_repo_remote_list_refs(state->repo.get(), name.c_str(), &table, c, e)) return false;
        AppendSortedRefs(table, refs.get());
        return true;
      },
      [refs](Napi::Env env) -> Napi::Value { return RefsObject(env, *refs); });
}

// ostree_repo_verify_commit_for_remote(): GPG signatures of a commit against the remote's keyring.
// Fails (OSTREE_GPG_ERROR_NO_SIGNATURE) when there is no signature at all. With requireValid,
// ostree_gpg_verify_result_require_valid_signature() turns "signed, but not by a trusted key"
// into an error too (OSTREE_GPG_ERROR_MISSING_KEY, _EXPIRED_*, _REVOKED_KEY).
Napi::Value Repo::VerifyCommitForRemote(const Napi::CallbackInfo& info) {
  std::string csum = RequireString(info[0], "csum");
  std::string remote = RequireString(info[1], "remote");
  bool requireValid = info[2].ToBoolean().Value();
  GCancellable* cancellable = CancellableFromValue(info[3]);
  auto state = state_;
  struct Signature {
    bool valid, sigExpired, keyExpired, keyRevoked, keyMissing;
    std::string fingerprint, fingerprintPrimary, pubkeyAlgo, hashAlgo, userName, userEmail, description;
    gint64 timestamp, expTimestamp;
  };
  struct Out {
    guint countAll = 0, countValid = 0;
    std::vector<Signature> signatures;
  };
  auto out = std::make_shared<Out>();
  return FnWorker::Start(
      info.Env(), "Repo.verifyCommitForRemote", cancellable, state->lane,
      [state, out, csum, remote, requireValid](GCancellable* c, GError** e) {
        if (!ValidateChecksum(csum, e)) return false;
        g_autoptr(OstreeGpgVerifyResult) result =
            ostree_repo_verify_commit_for_remote(state->repo.get(), csum.c_str(), remote.c_str(), c, e);
        if (result == nullptr) return false;
        out->countAll = ostree_gpg_verify_result_count_all(result);
        out->countValid = ostree_gpg_verify_result_count_valid(result);
        for (guint i = 0; i < out->countAll; i++) {
          g_autoptr(GVariant) all = ostree_gpg_verify_result_get_all(result, i);
          Signature s{};
          auto b = [&](int attr) {
            gboolean v = FALSE;
            g_variant_get_child(all, attr, "b", &v);
            return v != FALSE;
          };
          auto str = [&](int attr) {
            const char* v = nullptr;
            g_variant_get_child(all, attr, "&s", &v);
            return std::string(v != nullptr ? v : "");
          };
          auto i64 = [&](int attr) {
            gint64 v = 0;
            g_variant_get_child(all, attr, "x", &v);
            return v;
          };
          s.valid = b(OSTREE_GPG_SIGNATURE_ATTR_VALID);
          s.sigExpired = b(OSTREE_GPG_SIGNATURE_ATTR_SIG_EXPIRED);
          s.keyExpired = b(OSTREE_GPG_SIGNATURE_ATTR_KEY_EXPIRED);
          s.keyRevoked = b(OSTREE_GPG_SIGNATURE_ATTR_KEY_REVOKED);
          s.keyMissing = b(OSTREE_GPG_SIGNATURE_ATTR_KEY_MISSING);
          s.fingerprint = str(OSTREE_GPG_SIGNATURE_ATTR_FINGERPRINT);
          s.fingerprintPrimary = str(OSTREE_GPG_SIGNATURE_ATTR_FINGERPRINT_PRIMARY);
          s.pubkeyAlgo = str(OSTREE_GPG_SIGNATURE_ATTR_PUBKEY_ALGO_NAME);
          s.hashAlgo = str(OSTREE_GPG_SIGNATURE_ATTR_HASH_ALGO_NAME);
          s.userName = str(OSTREE_GPG_SIGNATURE_ATTR_USER_NAME);
          s.userEmail = str(OSTREE_GPG_SIGNATURE_ATTR_USER_EMAIL);
          s.timestamp = i64(OSTREE_GPG_SIGNATURE_ATTR_TIMESTAMP);
          s.expTimestamp = i64(OSTREE_GPG_SIGNATURE_ATTR_EXP_TIMESTAMP);
          g_autoptr(GString) text = g_string_new(nullptr);
          ostree_gpg_verify_result_describe(result, i, text, nullptr, OSTREE_GPG_SIGNATURE_FORMAT_DEFAULT);
          s.description = text->str;
          out->signatures.push_back(std::move(s));
        }
        if (requireValid && !ostree_gpg_verify_result_require_valid_signature(result, e)) return false;
        return true;
      },
      [out](Napi::Env env) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("countAll", out->countAll);
        o.Set("countValid", out->countValid);
        Napi::Array sigs = Napi::Array::New(env, out->signatures.size());
        for (size_t i = 0; i < out->signatures.size(); i++) {
          const Signature& s = out->signatures[i];
          Napi::Object so = Napi::Object::New(env);
          so.Set("valid", s.valid);
          so.Set("sigExpired", s.sigExpired);
          so.Set("keyExpired", s.keyExpired);
          so.Set("keyRevoked", s.keyRevoked);
          so.Set("keyMissing", s.keyMissing);
          so.Set("fingerprint", s.fingerprint);
          so.Set("fingerprintPrimary", s.fingerprintPrimary);
          so.Set("pubkeyAlgo", s.pubkeyAlgo);
          so.Set("hashAlgo", s.hashAlgo);
          so.Set("userName", s.userName);
          so.Set("userEmail", s.userEmail);
          so.Set("timestamp", Napi::Number::New(env, static_cast<double>(s.timestamp)));
          so.Set("expTimestamp", Napi::Number::New(env, static_cast<double>(s.expTimestamp)));
          so.Set("description", s.description);
          sigs.Set(static_cast<uint32_t>(i), so);
        }
        o.Set("signatures", sigs);
        return o;
      });
}

// ostree_repo_prune(): flags { refsOnly, noPrune, commitOnly }, depth (-1 = whole history).
Napi::Value Repo::Prune(const Napi::CallbackInfo& info) {
  Napi::Object opts = info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(info.Env());
  int flags = OSTREE_REPO_PRUNE_FLAGS_NONE;
  if (OptionalBool(opts, "refsOnly", false)) flags |= OSTREE_REPO_PRUNE_FLAGS_REFS_ONLY;
  if (OptionalBool(opts, "noPrune", false)) flags |= OSTREE_REPO_PRUNE_FLAGS_NO_PRUNE;
  if (OptionalBool(opts, "commitOnly", false)) flags |= OSTREE_REPO_PRUNE_FLAGS_COMMIT_ONLY;
  int depth = -1;
  if (opts.Has("depth") && !opts.Get("depth").IsUndefined()) {
    depth = opts.Get("depth").ToNumber().Int32Value();
  }
  GCancellable* cancellable = CancellableFromValue(info[1]);
  auto state = state_;
  auto out = std::make_shared<PruneCounts>();
  return FnWorker::Start(
      info.Env(), "Repo.prune", cancellable, state->lane,
      [state, out, flags, depth](GCancellable* c, GError** e) {
        return ostree_repo_prune(state->repo.get(), static_cast<OstreeRepoPruneFlags>(flags), depth, &out->total,
                                 &out->pruned, &out->bytes, c, e) != FALSE;
      },
      [out](Napi::Env env) -> Napi::Value { return out->ToObject(env); });
}

// ostree_repo_regenerate_summary() (no additional metadata).
Napi::Value Repo::RegenerateSummary(const Napi::CallbackInfo& info) {
  GCancellable* cancellable = CancellableFromValue(info[0]);
  auto state = state_;
  return FnWorker::Start(
      info.Env(), "Repo.regenerateSummary", cancellable, state->lane,
      [state](GCancellable* c, GError** e) {
        return ostree_repo_regenerate_summary(state->repo.get(), nullptr, c, e) != FALSE;
      },
      [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

}  // namespace atomic_ostree
