#!/usr/bin/python3
# GLib's own GVariant implementation (python3-gi) as the oracle for our decoder.
# stdin: a JSON list of requests; stdout: a JSON list of answers, one per request.
#   {"op": "build", "tree": NODE}      build with the low-level constructors -> serialised bytes
#   {"op": "eval", "type": T, "expr": PY}  a Python expression (GLib in scope) -> serialised bytes
#   {"op": "inspect", "type": T, "hex": H}  load untrusted bytes -> normal form? + description
# A NODE is {"t": type string, ...}: "v" (basic value; x/t as decimal strings, d as 8 LE bytes in
# hex), "items" (arrays, tuples), "just" (maybes; absent = Nothing), "key"/"value" (dict
# entries), "child" (variants).
# A description is the tagged JSON form the TypeScript test also produces from our decoder.
import json
import math
import struct
import sys

from gi.repository import GLib

V = GLib.Variant


def vt(s):
    return GLib.VariantType.new(s)


def build(n):
    t = n['t']
    c = t[0]
    if c == 'b':
        return V.new_boolean(n['v'])
    if c == 'y':
        return V.new_byte(n['v'])
    if c == 'n':
        return V.new_int16(n['v'])
    if c == 'q':
        return V.new_uint16(n['v'])
    if c == 'i':
        return V.new_int32(n['v'])
    if c == 'u':
        return V.new_uint32(n['v'])
    if c == 'h':
        return V.new_handle(n['v'])
    if c == 'x':
        return V.new_int64(int(n['v']))
    if c == 't':
        return V.new_uint64(int(n['v']))
    if c == 'd':
        return V.new_double(struct.unpack('<d', bytes.fromhex(n['v']))[0])
    if c == 's':
        return V.new_string(n['v'])
    if c == 'o':
        return V.new_object_path(n['v'])
    if c == 'g':
        return V.new_signature(n['v'])
    if c == 'v':
        return V.new_variant(build(n['child']))
    if c == 'a':
        return V.new_array(vt(t[1:]), [build(x) for x in n['items']])
    if c == 'm':
        return V.new_maybe(vt(t[1:]), build(n['just']) if 'just' in n else None)
    if c == '(':
        return V.new_tuple(*[build(x) for x in n['items']])
    if c == '{':
        return V.new_dict_entry(build(n['key']), build(n['value']))
    raise ValueError('unknown type ' + t)


def describe(v):
    t = v.get_type_string()
    c = t[0]
    if c == 'b':
        return v.get_boolean()
    if c in 'ynqiuh':
        return v.unpack()
    if c in 'xt':
        return str(v.unpack())
    if c == 'd':
        d = v.get_double()
        return 'nan' if math.isnan(d) else struct.pack('<d', d).hex()
    if c in 'sog':
        return v.get_string()
    if c == 'v':
        inner = v.get_variant()
        return {'type': inner.get_type_string(), 'value': describe(inner)}
    if c == 'm':
        inner = v.get_maybe()
        return None if inner is None else [describe(inner)]
    if c == 'a' and t == 'ay':
        return bytes(v.get_data_as_bytes().get_data()).hex()
    children = [describe(v.get_child_value(i)) for i in range(v.n_children())]
    if c == 'a' and t[1] == '{':
        # First entry wins for a repeated key, as g_variant_lookup_value does.
        seen = set()
        out = []
        for k, val in children:
            key = json.dumps(k)
            if key not in seen:
                seen.add(key)
                out.append([k, val])
        return {'dict': out}
    return children


def answer(req):
    op = req['op']
    if op in ('build', 'eval'):
        v = build(req['tree']) if op == 'build' else eval(req['expr'], {'GLib': GLib, 'V': V})
        if op == 'eval' and v.get_type_string() != req['type']:
            raise ValueError('expression made %s, not %s' % (v.get_type_string(), req['type']))
        data = bytes(v.get_data_as_bytes().get_data())
        return {'type': v.get_type_string(), 'hex': data.hex(), 'normal': v.is_normal_form(), 'desc': describe(v)}
    if op == 'inspect':
        v = V.new_from_bytes(vt(req['type']), GLib.Bytes.new(bytes.fromhex(req['hex'])), False)
        normal = v.is_normal_form()
        return {'normal': normal, 'desc': describe(v) if normal else None}
    raise ValueError('unknown op ' + op)


def main():
    reqs = json.load(sys.stdin)
    json.dump([answer(r) for r in reqs], sys.stdout)


main()
