// atomic_fs_tree.node: the few file system calls `atomic iso create` makes per entry, done in C++
// for src/adapters/fs-tree: copying file data in the kernel (copy-file-ranges.cc) and reading a
// directory's entries with their lstat data in one call (lstat-directory.cc). A separate, tiny
// addon with no libraries beyond libc: it loads in a few milliseconds, where the libostree addon
// costs tens (GLib start-up) that `atomic iso create` would pay for nothing.
#pragma once

#include <string>

#include <napi.h>

namespace atomic_fs_tree {

// An Error shaped like Node's own system errors: message "ENOENT: ..., open 'path'", and the
// properties code, errno (negative), syscall and path.
Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const std::string& path);

Napi::Value CopyFileRanges(const Napi::CallbackInfo& info);
Napi::Value LstatDirectory(const Napi::CallbackInfo& info);

}  // namespace atomic_fs_tree
