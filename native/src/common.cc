#include "common.h"

namespace atomic_ostree {

AddonData* GetAddonData(Napi::Env env) {
  return env.GetInstanceData<AddonData>();
}

std::string RequireString(const Napi::Value& v, const char* what) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  // libostree takes C strings: an embedded NUL would silently truncate the argument.
  if (s.find('\0') != std::string::npos) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + ": must not contain NUL characters");
  }
  return s;
}

bool OptionalString(const Napi::Value& v, const char* what, std::string* out) {
  if (v.IsUndefined() || v.IsNull()) return false;
  *out = RequireString(v, what);
  return true;
}

std::vector<std::string> RequireStringArray(const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(RequireString(a.Get(i), what));
  return out;
}

bool OptionalBool(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string(key) + ": expected a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::vector<char*> Argv(std::vector<std::string>& strings) {
  std::vector<char*> argv;
  argv.reserve(strings.size() + 1);
  for (std::string& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  return argv;
}

Napi::Object PruneCounts::ToObject(Napi::Env env) const {
  Napi::Object o = Napi::Object::New(env);
  o.Set("objectsTotal", total);
  o.Set("objectsPruned", pruned);
  o.Set("prunedBytes", Napi::Number::New(env, static_cast<double>(bytes)));
  return o;
}

}  // namespace atomic_ostree
