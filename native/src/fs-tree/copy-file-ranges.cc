// copyFileRanges: whole files copied into another file at given offsets by the kernel
// (copy_file_range(2)), for the ISO writer's file-data area (src/adapters/fs-tree).
//
// Policy-free: it opens, copies and reports; what a short file or an errno means is the adapter's
// business. Copies run on libuv's thread pool so the caller's thread keeps encoding metadata.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <napi.h>

#include "fs-tree.h"

namespace atomic_fs_tree {

namespace {

// One copy_file_range call moves at most this much, so a stop request is seen within one step.
constexpr size_t kStepBytes = 8u << 20;
// Files shorter than this are copied whole, without looking for holes.
constexpr int64_t kHoleCheckMinBytes = 1 << 20;
// Buffer of the read/write fallback (file systems or kernels without copy_file_range).
constexpr size_t kFallbackBytes = 1u << 20;

struct SysError {
  int err = 0;
  const char* syscall = nullptr;
};

class Copier {
 public:
  Copier(int outFd, int32_t* control) : outFd_(outFd), stop_(control) {}

  // Copy `length` bytes of `path` from offset 0 to `outOffset` of the output. Holes (SEEK_DATA /
  // SEEK_HOLE) are not copied, so a sparse file leaves holes in a fresh output file. Returns
  // false with error_ set on a system error; sets short_ when the file has fewer bytes.
  bool CopyFile(const std::string& path, int64_t outOffset, int64_t length, bool* isShort) {
    *isShort = false;
    int in = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (in < 0) return Fail("open");
    bool ok = CopyData(in, outOffset, length, isShort);
    close(in);
    return ok;
  }

  bool Stopped() const { return stop_ != nullptr && __atomic_load_n(stop_, __ATOMIC_RELAXED) != 0; }

  SysError error_;

 private:
  bool Fail(const char* syscall) {
    error_.err = errno;
    error_.syscall = syscall;
    return false;
  }

  bool CopyData(int in, int64_t outOffset, int64_t length, bool* isShort) {
    if (length < kHoleCheckMinBytes) {
      // Small files: two lseeks would cost more than copying a hole's zeros (same bytes).
      int64_t got = 0;
      if (!CopyRange(in, 0, outOffset, length, &got)) return false;
      *isShort = got < length && !Stopped();
      return true;
    }
    int64_t pos = 0;
    while (pos < length) {
      off_t data = lseek(in, pos, SEEK_DATA);
      if (data < 0) {
        if (errno == ENXIO) {
          // No data from `pos` on: a trailing hole, or the file ends before `length`.
          struct stat st;
          if (fstat(in, &st) != 0) return Fail("fstat");
          *isShort = st.st_size < length;
          return true;
        }
        if (errno != EINVAL && errno != EOPNOTSUPP) return Fail("lseek");
        data = pos;  // no hole support: everything is data
      }
      if (data >= length) return true;
      off_t hole = lseek(in, data, SEEK_HOLE);
      if (hole < 0) hole = length;
      int64_t end = hole < length ? hole : length;
      int64_t got = 0;
      if (!CopyRange(in, data, outOffset + data, end - data, &got)) return false;
      if (got < end - data) {
        *isShort = !Stopped();
        return true;
      }
      pos = end;
    }
    return true;
  }

  // Copy [inOffset, inOffset + length) to outOffset; *copied < length only at end of file or on stop.
  bool CopyRange(int in, int64_t inOffset, int64_t outOffset, int64_t length, int64_t* copied) {
    int64_t done = 0;
    while (done < length && !Stopped()) {
      size_t step = static_cast<size_t>(length - done < static_cast<int64_t>(kStepBytes) ? length - done : kStepBytes);
      if (useCopyFileRange_) {
        loff_t i = inOffset + done;
        loff_t o = outOffset + done;
        ssize_t n = copy_file_range(in, &i, outFd_, &o, step, 0);
        if (n > 0) {
          done += n;
          continue;
        }
        if (n == 0) break;  // end of file
        if (errno == EINTR) continue;
        // EXDEV: different file system types (kernel >= 5.19 refuses those); ENOSYS: old
        // kernel; EINVAL/EOPNOTSUPP: a file system that cannot. The plain copy below can.
        if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) return Fail("copy_file_range");
        useCopyFileRange_ = false;
        continue;
      }
      if (buffer_.empty()) buffer_.resize(kFallbackBytes);
      size_t want = step < buffer_.size() ? step : buffer_.size();
      ssize_t n = pread(in, buffer_.data(), want, inOffset + done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Fail("read");
      }
      if (n == 0) break;
      for (ssize_t w = 0; w < n;) {
        ssize_t k = pwrite(outFd_, buffer_.data() + w, static_cast<size_t>(n - w), outOffset + done + w);
        if (k < 0) {
          if (errno == EINTR) continue;
          return Fail("write");
        }
        w += k;
      }
      done += n;
    }
    *copied = done;
    return true;
  }

  const int outFd_;
  int32_t* stop_;
  bool useCopyFileRange_ = true;
  std::vector<char> buffer_;
};

int64_t ToInt64(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string("copyFileRanges: ") + what + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<int64_t>(d))) {
    throw Napi::TypeError::New(v.Env(), std::string("copyFileRanges: ") + what + " must be a non-negative integer");
  }
  return static_cast<int64_t>(d);
}

class CopyWorker : public Napi::AsyncWorker {
 public:
  CopyWorker(Napi::Env env, int outFd, std::vector<std::string> paths, std::vector<int64_t> outOffsets,
             std::vector<int64_t> lengths, int32_t* control)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        paths_(std::move(paths)),
        outOffsets_(std::move(outOffsets)),
        lengths_(std::move(lengths)),
        control_(control),
        copier_(outFd, control) {}

  Napi::Promise Promise() { return deferred_.Promise(); }
  // Keeps the control array's buffer alive while the thread uses it.
  Napi::ObjectReference stopRef_;

 protected:
  void Execute() override {
    // With a shared claim counter (control[1]) several calls over the same list split it file by
    // file as they go, so none sits idle while another still has a long run of small files.
    const size_t n = paths_.size();
    size_t next = 0;
    auto claim = [&]() -> size_t {
      if (control_ == nullptr) return next++;
      return static_cast<size_t>(static_cast<uint32_t>(__atomic_fetch_add(control_ + 1, 1, __ATOMIC_RELAXED)));
    };
    for (size_t i = claim(); i < n; i = claim()) {
      if (copier_.Stopped()) return;
      bool isShort = false;
      if (!copier_.CopyFile(paths_[i], outOffsets_[i], lengths_[i], &isShort)) {
        failedIndex_ = static_cast<int64_t>(i);
        return;
      }
      if (isShort) {
        shortIndex_ = static_cast<int64_t>(i);
        return;
      }
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (failedIndex_ < 0) {
      deferred_.Resolve(Napi::Number::New(env, static_cast<double>(shortIndex_)));
      return;
    }
    const std::string& path = paths_[static_cast<size_t>(failedIndex_)];
    Napi::Error err = SystemError(env, copier_.error_.err, copier_.error_.syscall, path);
    err.Set("index", Napi::Number::New(env, static_cast<double>(failedIndex_)));
    deferred_.Reject(err.Value());
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<std::string> paths_;
  std::vector<int64_t> outOffsets_;
  std::vector<int64_t> lengths_;
  int32_t* control_;
  Copier copier_;
  int64_t failedIndex_ = -1;
  int64_t shortIndex_ = -1;
};

}  // namespace

// copyFileRanges(outFd, paths, outOffsets, lengths, control?) -> Promise<number>: see native/fs-tree.d.ts.
Napi::Value CopyFileRanges(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "copyFileRanges: outFd must be a number");
  if (!info[1].IsArray() || !info[2].IsArray() || !info[3].IsArray()) {
    throw Napi::TypeError::New(env, "copyFileRanges: paths, outOffsets and lengths must be arrays");
  }
  int outFd = info[0].As<Napi::Number>().Int32Value();
  Napi::Array paths = info[1].As<Napi::Array>();
  Napi::Array offsets = info[2].As<Napi::Array>();
  Napi::Array lengths = info[3].As<Napi::Array>();
  uint32_t n = paths.Length();
  if (offsets.Length() != n || lengths.Length() != n) {
    throw Napi::TypeError::New(env, "copyFileRanges: paths, outOffsets and lengths must have the same length");
  }
  std::vector<std::string> p;
  std::vector<int64_t> o;
  std::vector<int64_t> l;
  p.reserve(n);
  o.reserve(n);
  l.reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value v = paths.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "copyFileRanges: paths must be strings");
    p.push_back(v.As<Napi::String>().Utf8Value());
    o.push_back(ToInt64(offsets.Get(i), "an output offset"));
    l.push_back(ToInt64(lengths.Get(i), "a length"));
  }
  int32_t* stop = nullptr;
  Napi::Object stopHolder;
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        info[4].As<Napi::TypedArray>().ElementLength() < 2) {
      throw Napi::TypeError::New(env, "copyFileRanges: control must be an Int32Array of two elements");
    }
    Napi::Int32Array a = info[4].As<Napi::Int32Array>();
    stop = a.Data();
    stopHolder = a;
  }
  auto* worker = new CopyWorker(env, outFd, std::move(p), std::move(o), std::move(l), stop);
  if (stop != nullptr) worker->stopRef_ = Napi::Persistent(stopHolder);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace atomic_fs_tree
