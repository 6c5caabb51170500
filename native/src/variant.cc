#include "variant.h"

#include <cmath>

namespace atomic_ostree {

namespace {

GVariant* ValueToVariant(const Napi::Value& v, const std::string& where) {
  if (v.IsString()) {
    return g_variant_new_string(v.As<Napi::String>().Utf8Value().c_str());
  }
  if (v.IsBoolean()) {
    return g_variant_new_boolean(v.As<Napi::Boolean>().Value() ? TRUE : FALSE);
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= 9007199254740991.0) {
      return g_variant_new_int64(static_cast<gint64>(d));
    }
    return g_variant_new_double(d);
  }
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    Napi::Uint8Array a = v.As<Napi::Uint8Array>();
    return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, a.Data(), a.ElementLength(), 1);
  }
  if (v.IsArray()) {
    Napi::Array a = v.As<Napi::Array>();
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE_STRING_ARRAY);
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value item = a.Get(i);
      if (!item.IsString()) {
        g_variant_builder_clear(&b);
        throw Napi::TypeError::New(v.Env(), where + ": arrays must hold strings only");
      }
      g_variant_builder_add(&b, "s", item.As<Napi::String>().Utf8Value().c_str());
    }
    return g_variant_builder_end(&b);
  }
  throw Napi::TypeError::New(v.Env(), where + ": expected string, boolean, number, string[] or Uint8Array");
}

}  // namespace

VariantRef VardictFromObject(const Napi::Object& o, const char* what) {
  Napi::Array keys = o.GetPropertyNames();
  // Convert every value first so a TypeError cannot leave a half-built GVariantBuilder behind.
  std::vector<std::pair<std::string, VariantRef>> entries;
  for (uint32_t i = 0; i < keys.Length(); i++) {
    std::string key = keys.Get(i).ToString().Utf8Value();
    Napi::Value value = o.Get(key);
    if (value.IsUndefined()) continue;
    entries.emplace_back(key, VariantRef::Sink(ValueToVariant(value, std::string(what) + "." + key)));
  }
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  for (auto& [key, value] : entries) {
    g_variant_builder_add(&b, "{sv}", key.c_str(), value.get());
  }
  return VariantRef::Sink(g_variant_builder_end(&b));
}

Napi::Value JsonableFromVariant(Napi::Env env, GVariant* v) {
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_VARIANT)) {
    VariantRef inner = VariantRef::Adopt(g_variant_get_variant(v));
    return JsonableFromVariant(env, inner.get());
  }
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) || g_variant_is_of_type(v, G_VARIANT_TYPE_OBJECT_PATH) ||
      g_variant_is_of_type(v, G_VARIANT_TYPE_SIGNATURE)) {
    return Napi::String::New(env, g_variant_get_string(v, nullptr));
  }
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN)) {
    return Napi::Boolean::New(env, g_variant_get_boolean(v) != FALSE);
  }
  // Integers wider than 2^53 lose precision as JS numbers; commit metadata in practice holds
  // sizes and timestamps well below that.
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_BYTE)) return Napi::Number::New(env, g_variant_get_byte(v));
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT16)) return Napi::Number::New(env, g_variant_get_int16(v));
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT16)) return Napi::Number::New(env, g_variant_get_uint16(v));
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT32)) return Napi::Number::New(env, g_variant_get_int32(v));
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32)) return Napi::Number::New(env, g_variant_get_uint32(v));
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT64)) {
    return Napi::Number::New(env, static_cast<double>(g_variant_get_int64(v)));
  }
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64)) {
    return Napi::Number::New(env, static_cast<double>(g_variant_get_uint64(v)));
  }
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE)) {
    double d = g_variant_get_double(v);
    if (!std::isfinite(d)) return Napi::Value();  // NaN/Infinity are not JSON
    return Napi::Number::New(env, d);
  }
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING_ARRAY)) {
    gsize n = 0;
    g_autofree const gchar** strv = g_variant_get_strv(v, &n);
    Napi::Array a = Napi::Array::New(env, n);
    for (gsize i = 0; i < n; i++) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, strv[i]));
    return a;
  }
  return Napi::Value();
}

Napi::Object ObjectFromVardict(Napi::Env env, GVariant* dict) {
  Napi::Object o = Napi::Object::New(env);
  if (dict == nullptr || !g_variant_is_of_type(dict, G_VARIANT_TYPE_VARDICT)) return o;
  GVariantIter iter;
  const char* key = nullptr;
  GVariant* value = nullptr;
  g_variant_iter_init(&iter, dict);
  while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
    VariantRef owned = VariantRef::Adopt(value);
    Napi::Value js = JsonableFromVariant(env, owned.get());
    if (!js.IsEmpty()) o.Set(key, js);
  }
  return o;
}

}  // namespace atomic_ostree
