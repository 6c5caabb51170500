// Boot Loader Specification type #1 entries, as libostree writes them under
// /boot/loader/entries/ostree-<N>-<osname>.conf: `key value` lines (title, version, linux,
// initrd, options, ...). https://uapi-group.org/specifications/specs/boot_loader_specification/
import { InvalidArgument } from '../../lib/errors.js';

export interface BlsEntry {
  readonly title: string;
  /** libostree's `version` key orders entries: higher is newer (and comes first in the menu). */
  readonly version: string;
  readonly linux: string;
  readonly initrd: readonly string[];
  readonly options: string;
  /** Other keys, as written. */
  readonly extra: Readonly<Record<string, string>>;
}

export function parseBlsEntry(text: string, file: string): BlsEntry {
  const values = new Map<string, string[]>();
  text.split('\n').forEach((raw) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)\s*(.*)$/.exec(line);
    if (m === null) return;
    const key = m[1]!;
    values.set(key, [...(values.get(key) ?? []), m[2] ?? '']);
  });
  const one = (k: string): string | undefined => values.get(k)?.[0];
  const linux = one('linux');
  if (linux === undefined) throw new InvalidArgument('boot loader entry has no linux line', { subject: file });
  const extra: Record<string, string> = {};
  for (const [k, v] of values) if (!['title', 'version', 'linux', 'initrd', 'options'].includes(k)) extra[k] = v.join(' ');
  return {
    title: one('title') ?? linux,
    version: one('version') ?? '0',
    linux,
    initrd: values.get('initrd') ?? [],
    options: (values.get('options') ?? []).join(' '),
    extra,
  };
}

/** Menu order: by `version`, highest first (libostree gives the default deployment the highest). */
export function sortBlsEntries(entries: readonly BlsEntry[]): BlsEntry[] {
  return [...entries].sort((a, b) => compareVersions(b.version, a.version));
}

/** BLS "version" comparison, simplified to what libostree writes: decimal numbers. */
function compareVersions(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
