// cc_write_files and cc_write_files_deferred: each entry of `write_files` becomes a write-file
// step, with cloud-init's decoding (canonicalize_extraction + extract_contents), permissions
// (decode_perms) and owner (default root:root, distros.default_owner). Entries with `defer: true`
// belong to write_files_deferred (final stage, after users exist), the others to write_files.
// An entry that cannot be decoded is a problem for that entry only; cloud-init would stop the
// module there.
import { gunzipCapped } from '../../cloud-config/gunzip-capped.js';
import { isPlainObject } from '../../cloud-config/merge-cloud-config.js';
import type { PlainValue } from '../../cloud-config/yaml-document.js';
import { optionBool } from '../config-values.js';
import type { ModuleInput, ModulePlan } from '../module-input.js';
import type { Step } from '../steps.js';

/** cc_write_files DEFAULT_PERMS and distros.Distro.default_owner. */
export const DEFAULT_PERMS = 0o644;
export const DEFAULT_OWNER = 'root:root';

type Extraction = 'base64' | 'gzip';

/** canonicalize_extraction: the decoding steps for an `encoding`, in order. */
export function canonicalizeExtraction(encoding: string | undefined): { steps: Extraction[]; unknown: boolean } {
  const e = (encoding ?? '').toLowerCase().trim();
  if (e === 'gz' || e === 'gzip') return { steps: ['gzip'], unknown: false };
  if (['gz+base64', 'gzip+base64', 'gz+b64', 'gzip+b64'].includes(e)) return { steps: ['base64', 'gzip'], unknown: false };
  if (e === 'b64' || e === 'base64') return { steps: ['base64'], unknown: false };
  return { steps: [], unknown: e !== '' && e !== 'text/plain' };
}

const B64 = new Map(Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', (c, i) => [c.charCodeAt(0), i]));

/**
 * Python's base64.b64decode without validate (binascii.a2b_base64, non-strict): characters
 * outside the alphabet are skipped, a complete pad ends the data, and a final partial quantum is
 * an error ("Incorrect padding").
 */
export function decodePythonBase64(data: Uint8Array): { ok: true; data: Uint8Array } | { ok: false; message: string } {
  const out: number[] = [];
  let quad = 0;
  let left = 0;
  let pads = 0;
  let dataChars = 0;
  for (const ch of data) {
    if (ch === 0x3d) {
      // '=': once two data characters and enough pads make a quantum, the rest is ignored.
      if (quad >= 2 && quad + ++pads >= 4) return { ok: true, data: Uint8Array.from(out) };
      continue;
    }
    const v = B64.get(ch);
    if (v === undefined) continue;
    pads = 0;
    dataChars += 1;
    if (quad === 0) {
      left = v;
      quad = 1;
    } else if (quad === 1) {
      out.push(((left << 2) | (v >> 4)) & 0xff);
      left = v & 0x0f;
      quad = 2;
    } else if (quad === 2) {
      out.push(((left << 4) | (v >> 2)) & 0xff);
      left = v & 0x03;
      quad = 3;
    } else {
      out.push(((left << 6) | v) & 0xff);
      quad = 0;
    }
  }
  if (quad === 1) return { ok: false, message: `invalid base64: the number of data characters (${dataChars}) cannot be 1 more than a multiple of 4` };
  if (quad !== 0) return { ok: false, message: 'invalid base64: incorrect padding' };
  return { ok: true, data: Uint8Array.from(out) };
}

/** extract_contents: the bytes to write for `content` and `encoding`. */
export function decodeWriteFileContent(content: PlainValue | undefined, encoding: string | undefined): { ok: true; data: Uint8Array } | { ok: false; message: string } {
  let data: Uint8Array;
  if (content === undefined || content === null) data = new Uint8Array(0);
  else if (typeof content === 'string') data = new TextEncoder().encode(content);
  else if (content instanceof Uint8Array) data = content;
  else return { ok: false, message: `content must be a string or !!binary, got ${Array.isArray(content) ? 'a list' : isPlainObject(content) ? 'a mapping' : typeof content}` };
  for (const step of canonicalizeExtraction(encoding).steps) {
    if (step === 'base64') {
      const r = decodePythonBase64(data);
      if (!r.ok) return { ok: false, message: `encoding ${encoding ?? ''}: ${r.message}` };
      data = r.data;
    } else {
      const r = gunzipCapped(data);
      if (!r.ok) return { ok: false, message: `encoding ${encoding ?? ''}: ${r.message}` };
      data = r.data;
    }
  }
  return { ok: true, data };
}

/** Python's int(text, 8): optional sign, optional 0o, digits with single underscores, blanks around. */
function pythonOctal(text: string): number | undefined {
  const m = /^\s*([+-]?)(?:0[oO])?([0-7]+(?:_[0-7]+)*)\s*$/.exec(text);
  if (m?.[2] === undefined) return undefined;
  const v = parseInt(m[2].replace(/_/g, ''), 8);
  return m[1] === '-' ? -v : v;
}

/** decode_perms: numbers as they are (644 is 0o1204, as in cloud-init), strings as octal. */
export function decodePermissions(perm: PlainValue | undefined): { mode: number; problem?: string } {
  if (perm === undefined || perm === null) return { mode: DEFAULT_PERMS };
  let mode: number | undefined;
  if (typeof perm === 'number') mode = Math.trunc(perm);
  else if (typeof perm === 'string') mode = pythonOctal(perm);
  if (mode === undefined || mode < 0) return { mode: DEFAULT_PERMS, problem: `undecodable permissions ${JSON.stringify(perm)}; using the default 0644` };
  // chmod(2) takes only the permission bits; cloud-init passes larger numbers and the kernel masks them.
  if (mode > 0o7777) return { mode: mode & 0o7777, problem: `permissions ${JSON.stringify(perm)} are more than 07777; applying 0${(mode & 0o7777).toString(8)}` };
  return { mode };
}

/** os.path.abspath for an absolute path, except `..`, which is kept for the executor to refuse. */
function normalizePath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return `/${parts.join('/')}`;
}

export function planWriteFiles(input: ModuleInput, deferred: boolean): ModulePlan {
  const steps: Step[] = [];
  const problems: string[] = [];
  const files = input.config['write_files'];
  if (files === undefined || files === null) return { steps, problems };
  if (!Array.isArray(files)) return { steps, problems: ['/write_files: expected a list of files'] };
  files.forEach((f, i) => {
    const at = `/write_files/${i}`;
    if (!isPlainObject(f)) {
      // Both modules see the list; report a bad entry once.
      if (!deferred) problems.push(`${at}: expected a mapping with path and content`);
      return;
    }
    if (optionBool(f, 'defer', false) !== deferred) return;
    const path = f['path'];
    if (typeof path !== 'string' || path === '') {
      problems.push(`${at}/path: no path given; entry skipped`);
      return;
    }
    if (!path.startsWith('/')) {
      problems.push(`${at}/path: ${JSON.stringify(path)} is not an absolute path; entry skipped`);
      return;
    }
    const encoding = f['encoding'];
    if (encoding !== undefined && encoding !== null && typeof encoding !== 'string') {
      problems.push(`${at}/encoding: expected a string; entry skipped`);
      return;
    }
    const enc = encoding ?? undefined;
    if (canonicalizeExtraction(enc).unknown) problems.push(`${at}/encoding: unknown encoding ${JSON.stringify(enc)}, taken as text/plain`);
    const content = decodeWriteFileContent(f['content'], enc);
    if (!content.ok) {
      problems.push(`${at}/content: ${content.message}; ${path} not written`);
      return;
    }
    const perms = decodePermissions(f['permissions']);
    if (perms.problem !== undefined) problems.push(`${at}/permissions: ${perms.problem}`);
    let owner = DEFAULT_OWNER;
    const o = f['owner'];
    if (typeof o === 'string') owner = o;
    else if (o !== undefined && o !== null) problems.push(`${at}/owner: expected user:group, using ${DEFAULT_OWNER}`);
    steps.push({ action: 'write-file', path: normalizePath(path), content: content.data, mode: perms.mode, owner, append: optionBool(f, 'append', false) });
  });
  return { steps, problems };
}
