// Module entry point of atomic_fs_tree.node (see fs-tree.h).
#include <string.h>

#include "fs-tree.h"

namespace atomic_fs_tree {

Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const std::string& path) {
  const char* name = strerrorname_np(err);
  std::string code = name != nullptr ? name : "EIO";
  Napi::Error e = Napi::Error::New(env, code + ": " + strerror(err) + ", " + syscall + " '" + path + "'");
  e.Set("code", code);
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", syscall);
  e.Set("path", path);
  return e;
}

}  // namespace atomic_fs_tree

// NODE_API_MODULE pastes the function's name into an identifier: it must be unqualified.
static Napi::Object InitFsTree(Napi::Env env, Napi::Object exports) {
  exports.Set("copyFileRanges", Napi::Function::New(env, atomic_fs_tree::CopyFileRanges, "copyFileRanges"));
  exports.Set("lstatDirectory", Napi::Function::New(env, atomic_fs_tree::LstatDirectory, "lstatDirectory"));
  return exports;
}

NODE_API_MODULE(atomic_fs_tree, InitFsTree)
