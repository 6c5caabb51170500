// Repo.commit(): a directory tree -> a commit on a branch, in one transaction. The sequence is the
// one `ostree commit` uses: ostree_repo_prepare_transaction -> ostree_mutable_tree_new ->
// ostree_repo_write_dfd_to_mtree (with a commit modifier) -> ostree_repo_write_mtree ->
// ostree_repo_write_commit[_with_time] -> ostree_repo_transaction_set_ref ->
// ostree_repo_commit_transaction, and ostree_repo_abort_transaction on any failure.
#include <fcntl.h>

#include <optional>

#include "async-worker.h"
#include "repo.h"
#include "variant.h"

namespace atomic_ostree {

namespace {

struct Ownership {
  std::optional<guint32> uid;
  std::optional<guint32> gid;
};

// An OstreeRepoCommitFilter (ostree-repo.h) that rewrites ownership, like `ostree commit
// --owner-uid/--owner-gid`: lets an unprivileged build produce a root-owned tree.
OstreeRepoCommitFilterResult OwnershipFilter(OstreeRepo*, const char*, GFileInfo* fileInfo, gpointer userData) {
  auto* owner = static_cast<Ownership*>(userData);
  if (owner->uid) g_file_info_set_attribute_uint32(fileInfo, "unix::uid", *owner->uid);
  if (owner->gid) g_file_info_set_attribute_uint32(fileInfo, "unix::gid", *owner->gid);
  return OSTREE_REPO_COMMIT_FILTER_ALLOW;
}

struct CommitInput {
  std::string tree;
  std::string branch;  // empty: no ref is written
  std::string subject;
  std::string body;
  std::optional<std::string> parent;
  std::optional<guint64> timestamp;
  VariantRef metadata;
  int modifierFlags = OSTREE_REPO_COMMIT_MODIFIER_FLAGS_NONE;
  Ownership owner;
};

std::optional<guint32> OptionalId(const Napi::Object& o, const char* key) {
  if (!o.Has(key)) return std::nullopt;
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(key) + ": expected a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d < 0 || d > 4294967295.0 || static_cast<double>(static_cast<guint32>(d)) != d) {
    throw Napi::TypeError::New(o.Env(), std::string(key) + ": expected an unsigned 32-bit integer");
  }
  return static_cast<guint32>(d);
}

}  // namespace

// repo.commit({ tree, branch?, subject, body?, parent?, timestamp?, metadata?,
//               canonicalPermissions?, skipXattrs?, ownerUid?, ownerGid? }, cancellable)
// -> Promise<csum>. `parent` is used as given (null/undefined: no parent); the caller decides
// whether the branch head becomes the parent. `timestamp` (seconds) makes commits reproducible
// (ostree_repo_write_commit_with_time); without it libostree uses the current time.
Napi::Value Repo::Commit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "options: expected an object");
  Napi::Object opts = info[0].As<Napi::Object>();
  auto in = std::make_shared<CommitInput>();
  in->tree = RequireString(opts.Get("tree"), "tree");
  OptionalString(opts.Get("branch"), "branch", &in->branch);
  in->subject = RequireString(opts.Get("subject"), "subject");
  OptionalString(opts.Get("body"), "body", &in->body);
  std::string parent;
  if (OptionalString(opts.Get("parent"), "parent", &parent)) in->parent = parent;
  Napi::Value ts = opts.Get("timestamp");
  if (!ts.IsUndefined() && !ts.IsNull()) {
    if (!ts.IsNumber() || ts.As<Napi::Number>().DoubleValue() < 0) {
      throw Napi::TypeError::New(env, "timestamp: expected seconds since the epoch");
    }
    in->timestamp = static_cast<guint64>(ts.As<Napi::Number>().DoubleValue());
  }
  Napi::Value md = opts.Get("metadata");
  if (md.IsObject()) {
    in->metadata = VardictFromObject(md.As<Napi::Object>(), "metadata");
  } else if (!md.IsUndefined() && !md.IsNull()) {
    throw Napi::TypeError::New(env, "metadata: expected an object");
  }
  if (OptionalBool(opts, "canonicalPermissions", false)) {
    in->modifierFlags |= OSTREE_REPO_COMMIT_MODIFIER_FLAGS_CANONICAL_PERMISSIONS;
  }
  if (OptionalBool(opts, "skipXattrs", false)) in->modifierFlags |= OSTREE_REPO_COMMIT_MODIFIER_FLAGS_SKIP_XATTRS;
  in->owner.uid = OptionalId(opts, "ownerUid");
  in->owner.gid = OptionalId(opts, "ownerGid");
  GCancellable* cancellable = CancellableFromValue(info[1]);
  auto state = state_;
  auto out = std::make_shared<std::string>();

  return FnWorker::Start(
      env, "Repo.commit", cancellable, state->lane,
      [state, in, out](GCancellable* c, GError** e) {
        OstreeRepo* repo = state->repo.get();
        if (in->parent && !ostree_validate_checksum_string(in->parent->c_str(), e)) return false;
        if (!in->branch.empty() && !ostree_validate_rev(in->branch.c_str(), e)) return false;
        if (!ostree_repo_prepare_transaction(repo, nullptr, c, e)) return false;
        auto body = [&]() -> bool {
          g_autoptr(OstreeMutableTree) mtree = ostree_mutable_tree_new();
          bool rewriteOwner = in->owner.uid.has_value() || in->owner.gid.has_value();
          g_autoptr(OstreeRepoCommitModifier) modifier = ostree_repo_commit_modifier_new(
              static_cast<OstreeRepoCommitModifierFlags>(in->modifierFlags),
              rewriteOwner ? OwnershipFilter : nullptr, rewriteOwner ? &in->owner : nullptr, nullptr);
          if (!ostree_repo_write_dfd_to_mtree(repo, AT_FDCWD, in->tree.c_str(), mtree, modifier, c, e)) return false;
          g_autoptr(GFile) root = nullptr;
          if (!ostree_repo_write_mtree(repo, mtree, &root, c, e)) return false;
          g_autofree char* csum = nullptr;
          const char* parent = in->parent ? in->parent->c_str() : nullptr;
          const char* bodyText = in->body.empty() ? nullptr : in->body.c_str();
          gboolean written =
              in->timestamp ? ostree_repo_write_commit_with_time(repo, parent, in->subject.c_str(), bodyText,
                                                                 in->metadata.get(), OSTREE_REPO_FILE(root),
                                                                 *in->timestamp, &csum, c, e)
                            : ostree_repo_write_commit(repo, parent, in->subject.c_str(), bodyText,
                                                       in->metadata.get(), OSTREE_REPO_FILE(root), &csum, c, e);
          if (!written) return false;
          if (!in->branch.empty()) ostree_repo_transaction_set_ref(repo, nullptr, in->branch.c_str(), csum);
          if (!ostree_repo_commit_transaction(repo, nullptr, c, e)) return false;
          *out = csum;
          return true;
        };
        if (body()) return true;
        // Best effort: the commit error is what matters, so the abort's own error is dropped.
        ostree_repo_abort_transaction(repo, nullptr, nullptr);
        return false;
      },
      [out](Napi::Env env) -> Napi::Value { return Napi::String::New(env, *out); });
}

}  // namespace atomic_ostree
