// Kernel argument editing with rpm-ostree's `kargs` semantics: --append K=V adds (keeping
// existing ones), --delete K=V (or K, when it appears once) removes, --replace K=V=NEW (or K=NEW
// when K appears once) changes a value. Arguments are kept in order; quoting follows the kernel's
// rule that double quotes group words ("a b").
import { InvalidArgument } from '../../lib/errors.js';

export interface KargsEdit {
  readonly append?: readonly string[];
  readonly delete?: readonly string[];
  readonly replace?: readonly string[];
}

/** Split a kernel command line into arguments, honouring double quotes. */
export function splitKargs(cmdline: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let any = false;
  for (const ch of cmdline) {
    if (ch === '"') {
      quoted = !quoted;
      cur += ch;
      any = true;
    } else if (/\s/.test(ch) && !quoted) {
      if (any) out.push(cur);
      cur = '';
      any = false;
    } else {
      cur += ch;
      any = true;
    }
  }
  if (any) out.push(cur);
  return out;
}

const keyOf = (arg: string): string => {
  const eq = arg.indexOf('=');
  return eq < 0 ? arg : arg.slice(0, eq);
};

export function editKargs(current: readonly string[], edit: KargsEdit): string[] {
  let args = [...current];
  for (const d of edit.delete ?? []) {
    const exact = args.indexOf(d);
    if (exact >= 0) {
      args.splice(exact, 1);
      continue;
    }
    if (d.includes('=')) throw new InvalidArgument(`--delete ${d}: no such kernel argument`);
    const same = args.filter((a) => keyOf(a) === d);
    if (same.length === 0) throw new InvalidArgument(`--delete ${d}: no such kernel argument`);
    if (same.length > 1) throw new InvalidArgument(`--delete ${d}: it appears ${same.length} times (${same.join(' ')}); say which with KEY=VALUE`);
    args = args.filter((a) => keyOf(a) !== d);
  }
  for (const r of edit.replace ?? []) {
    const parts = r.split('=');
    if (parts.length < 2 || parts[0] === '') throw new InvalidArgument(`--replace ${r}: expected KEY=VALUE=NEWVALUE or KEY=NEWVALUE`);
    const key = parts[0]!;
    if (parts.length >= 3) {
      const from = `${key}=${parts[1]}`;
      const i = args.indexOf(from);
      if (i < 0) throw new InvalidArgument(`--replace ${r}: no kernel argument ${from}`);
      args[i] = `${key}=${parts.slice(2).join('=')}`;
    } else {
      const idx = args.map((a, i) => (keyOf(a) === key ? i : -1)).filter((i) => i >= 0);
      if (idx.length === 0) throw new InvalidArgument(`--replace ${r}: no kernel argument ${key}`);
      if (idx.length > 1) throw new InvalidArgument(`--replace ${r}: ${key} appears ${idx.length} times; use KEY=VALUE=NEWVALUE`);
      args[idx[0]!] = `${key}=${parts[1]}`;
    }
  }
  for (const a of edit.append ?? []) {
    if (a.trim() === '' || /\s/.test(a.replace(/"[^"]*"/g, ''))) throw new InvalidArgument(`--append ${JSON.stringify(a)}: one kernel argument, without spaces outside quotes`);
    args.push(a);
  }
  return args;
}
