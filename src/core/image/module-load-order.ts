// Which kernel modules an initramfs must carry, and in which order to insmod them. busybox's
// insmod does not resolve dependencies (modprobe would need the whole modules tree and its
// indexes), so the order is computed here from depmod's modules.dep: every module after the
// modules it depends on (depth-first, dependencies first), each once.
// modules.dep format (depmod(8)): `kernel/fs/ext4/ext4.ko: kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko`
// (paths relative to /lib/modules/KVER, optionally compressed: .ko.xz, .ko.zst, .ko.gz).
import { InvalidArgument } from '../../lib/errors.js';

export interface ModuleLoadOrder {
  /** Paths relative to /lib/modules/KVER, dependencies first. */
  readonly order: readonly string[];
  /** Requested names that are built into the kernel (modules.builtin): nothing to load. */
  readonly builtin: readonly string[];
}

/** A module's name as the kernel knows it: the file name without .ko*, `-` read as `_`. */
export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

export interface ModulesDep {
  /** name -> { path, deps (paths) } */
  readonly byName: ReadonlyMap<string, { readonly path: string; readonly deps: readonly string[] }>;
}

export function parseModulesDep(text: string, file = 'modules.dep'): ModulesDep {
  const byName = new Map<string, { path: string; deps: string[] }>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new InvalidArgument(`${file}:${i + 1}: expected "module.ko: deps..."`, { subject: file });
    const path = line.slice(0, colon);
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter((d) => d !== '');
    byName.set(moduleName(path), { path, deps });
  });
  return { byName };
}

/**
 * Load order for `names` (module names; `-` and `_` are the same). A name that is neither in
 * modules.dep nor in modules.builtin is an InvalidArgument naming it: an initramfs without the
 * driver for the root disk would hang at boot instead.
 */
export function resolveModuleLoadOrder(dep: ModulesDep, builtinText: string, names: readonly string[]): ModuleLoadOrder {
  const builtinNames = new Set(builtinText.split('\n').filter((l) => l.trim() !== '').map((l) => moduleName(l.trim())));
  const byPath = new Map<string, readonly string[]>();
  for (const m of dep.byName.values()) byPath.set(m.path, m.deps);
  const order: string[] = [];
  const builtin: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (path: string, chain: readonly string[]): void => {
    if (done.has(path)) return;
    // depmod refuses dependency cycles; a cycle here means a corrupt modules.dep.
    if (visiting.has(path)) throw new InvalidArgument(`modules.dep: dependency cycle ${[...chain, path].join(' -> ')}`);
    visiting.add(path);
    for (const d of byPath.get(path) ?? []) visit(d, [...chain, path]);
    visiting.delete(path);
    done.add(path);
    order.push(path);
  };
  const missing: string[] = [];
  for (const raw of names) {
    const name = raw.replace(/-/g, '_');
    const m = dep.byName.get(name);
    if (m !== undefined) visit(m.path, []);
    else if (builtinNames.has(name)) builtin.push(raw);
    else missing.push(raw);
  }
  if (missing.length > 0) {
    throw new InvalidArgument(`kernel modules not found in modules.dep or modules.builtin: ${missing.join(', ')}`);
  }
  return { order, builtin };
}
