// File identifiers for the two hierarchies we write besides Rock Ridge's NM (which keeps the real
// name): ECMA-119 level 2 names for the primary tree and Joliet UCS-2 names for the SVD tree.
// Both are lossy, so each directory's names are made unique after mangling.

/** ECMA-119 7.4.1 d-characters. */
const D_CHARS = /[^A-Z0-9_]/g;
/** ECMA-119 level 2: file name + extension at most 30 characters; directory identifiers at most 31. */
const LEVEL2_FILE_MAX = 30;
const LEVEL2_DIR_MAX = 31;
const LEVEL2_EXT_MAX = 8;
/** Joliet: identifiers at most 64 UCS-2 units (Microsoft's Joliet specification). */
export const JOLIET_NAME_MAX = 64;
/** Characters Joliet forbids in names, plus C0 controls. */
// eslint-disable-next-line no-control-regex
const JOLIET_FORBIDDEN = /[\u0000-\u001f*/:;?\\]/g;

function splitExtension(name: string): [string, string] {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return [name, ''];
  return [name.slice(0, dot), name.slice(dot + 1)];
}

/** Level-2 identifier without uniqueness: `NAME.EXT;1` for files, `NAME` for directories. */
export function primaryIdentifier(name: string, isDirectory: boolean): { base: string; ext: string } {
  // Decompose so accented letters keep their base letter (é -> E); ASCII needs no work.
  // eslint-disable-next-line no-control-regex
  const ascii = /^[\x00-\x7f]*$/.test(name);
  const upper = (ascii ? name : name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '')).toUpperCase();
  if (isDirectory) return { base: upper.replace(D_CHARS, '_').slice(0, LEVEL2_DIR_MAX) || '_', ext: '' };
  const [b, e] = splitExtension(upper);
  const ext = e.replace(D_CHARS, '_').slice(0, LEVEL2_EXT_MAX);
  const base = b.replace(D_CHARS, '_').slice(0, LEVEL2_FILE_MAX - ext.length) || '_';
  return { base, ext };
}

export function formatPrimary(id: { base: string; ext: string }, isDirectory: boolean): string {
  return isDirectory ? id.base : `${id.base}.${id.ext};1`;
}

/** Joliet identifier without uniqueness; files carry the `;1` version like genisoimage writes. */
export function jolietIdentifier(name: string): { base: string; ext: string } {
  const clean = name.replace(JOLIET_FORBIDDEN, '_');
  if (clean.length <= JOLIET_NAME_MAX) return { base: clean, ext: '' };
  const [b, e] = splitExtension(clean);
  // Keep a short extension so a truncated name keeps its type; long "extensions" are just text.
  if (e.length > 0 && e.length <= 16) return { base: truncateUtf16(b, JOLIET_NAME_MAX - e.length - 1), ext: e };
  return { base: truncateUtf16(clean, JOLIET_NAME_MAX), ext: '' };
}

export function formatJoliet(id: { base: string; ext: string }, isDirectory: boolean): string {
  const name = id.ext === '' ? id.base : `${id.base}.${id.ext}`;
  return isDirectory ? name : `${name};1`;
}

/** Cut to at most `max` UTF-16 units without splitting a surrogate pair. */
function truncateUtf16(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = s.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}

/**
 * Make identifiers unique within one directory: on a clash, the end of the base is replaced by a
 * counter (`LONGNAME` -> `LONGNA01`), keeping the length limit. Input order decides who keeps the
 * plain name, so callers pass entries in a deterministic order.
 */
export function uniquify(
  ids: readonly { base: string; ext: string; isDirectory: boolean }[],
  format: (id: { base: string; ext: string }, isDirectory: boolean) => string,
  maxBase: (ext: string, isDirectory: boolean) => number,
  caseFold: boolean,
): string[] {
  const taken = new Set<string>();
  // Compare names as readers present them: without the ';1' version and, for level-2 names,
  // without the '.' of an empty extension (Linux and our reader show file `_.;1` as `_`, which
  // would clash with a directory `_`), case-folded where readers fold case.
  const key = (s: string): string => {
    const bare = s.endsWith(';1') ? s.slice(0, -2) : s;
    return caseFold ? (bare.endsWith('.') ? bare.slice(0, -1) : bare).toUpperCase() : bare;
  };
  return ids.map((id) => {
    let out = format(id, id.isDirectory);
    let k = key(out);
    for (let n = 1; taken.has(k); n++) {
      const suffix = String(n);
      const room = Math.max(1, maxBase(id.ext, id.isDirectory) - suffix.length);
      out = format({ base: truncateUtf16(id.base, room) + suffix, ext: id.ext }, id.isDirectory);
      k = key(out);
    }
    taken.add(k);
    return out;
  });
}

export const primaryMaxBase = (ext: string, isDirectory: boolean): number =>
  isDirectory ? LEVEL2_DIR_MAX : LEVEL2_FILE_MAX - ext.length;
export const jolietMaxBase = (ext: string): number => (ext === '' ? JOLIET_NAME_MAX : JOLIET_NAME_MAX - ext.length - 1);
