// lstatDirectory: one directory's entry names and the lstat(2) data of each, in one call. A tree
// scan in JS pays for a Stats object (and four Dates) per entry; here it is one number array.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "fs-tree.h"

namespace atomic_fs_tree {

namespace {

// Fields per entry in the stats array, in this order (see native/fs-tree.d.ts).
constexpr size_t kFields = 8;

}  // namespace

// lstatDirectory(path) -> { names, stats }: see native/fs-tree.d.ts.
Napi::Value LstatDirectory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "lstatDirectory: path must be a string");
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) throw SystemError(env, errno, "scandir", dir);
  DIR* d = fdopendir(dfd);
  if (d == nullptr) {
    int err = errno;
    close(dfd);
    throw SystemError(env, err, "scandir", dir);
  }
  std::vector<std::string> names;
  std::vector<double> stats;
  int failed = 0;
  const char* failedCall = nullptr;
  std::string failedPath;
  while (true) {
    errno = 0;
    struct dirent* e = readdir(d);
    if (e == nullptr) {
      if (errno != 0) {
        failed = errno;
        failedCall = "scandir";
        failedPath = dir;
      }
      break;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    struct stat st;
    if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      failed = errno;
      failedCall = "lstat";
      failedPath = dir + "/" + e->d_name;
      break;
    }
    names.emplace_back(e->d_name);
    // mtimeMs is computed the way Node computes Stats.mtimeMs, so both scanners agree exactly.
    const double fields[kFields] = {
        static_cast<double>(st.st_mode),
        static_cast<double>(st.st_uid),
        static_cast<double>(st.st_gid),
        static_cast<double>(st.st_size),
        static_cast<double>(st.st_mtim.tv_sec) * 1e3 + static_cast<double>(st.st_mtim.tv_nsec) / 1e6,
        static_cast<double>(st.st_nlink),
        static_cast<double>(st.st_dev),
        static_cast<double>(st.st_ino),
    };
    stats.insert(stats.end(), fields, fields + kFields);
  }
  closedir(d);  // closes dfd
  if (failed != 0) throw SystemError(env, failed, failedCall, failedPath);
  Napi::Array jsNames = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); i++) jsNames.Set(static_cast<uint32_t>(i), Napi::String::New(env, names[i]));
  Napi::Float64Array jsStats = Napi::Float64Array::New(env, stats.size());
  if (!stats.empty()) memcpy(jsStats.Data(), stats.data(), stats.size() * sizeof(double));
  Napi::Object out = Napi::Object::New(env);
  out.Set("names", jsNames);
  out.Set("stats", jsStats);
  return out;
}

}  // namespace atomic_fs_tree
