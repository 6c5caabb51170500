// authorized_keys merging as cloud-init's ssh_util does it (AuthKeyLineParser,
// update_authorized_keys): keys already in the file with the same base64 blob are replaced in
// place by the new line, other new keys are appended, every other line stays as it was.

/** ssh_util.VALID_KEY_TYPES (cloud-init 22.4). */
const VALID_KEY_TYPES = new Set([
  'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521-cert-v01@openssh.com', 'ecdsa-sha2-nistp521',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com', 'sk-ssh-ed25519-cert-v01@openssh.com',
  'sk-ssh-ed25519@openssh.com', 'ssh-dss-cert-v01@openssh.com', 'ssh-dss', 'ssh-ed25519-cert-v01@openssh.com', 'ssh-ed25519',
  'ssh-rsa-cert-v01@openssh.com', 'ssh-rsa', 'ssh-xmss-cert-v01@openssh.com', 'ssh-xmss@openssh.com',
]);

export interface AuthKeyLine {
  /** The line as it was given. */
  readonly source: string;
  readonly options?: string;
  readonly keytype?: string;
  readonly base64?: string;
  readonly comment?: string;
}

function isValid(k: AuthKeyLine): boolean {
  return k.keytype !== undefined && k.base64 !== undefined && k.base64 !== '';
}

/** str(AuthKeyLine): options, type, blob, comment joined by one space; the source if unparsed. */
export function formatAuthKeyLine(k: AuthKeyLine): string {
  const toks = [k.options, k.keytype, k.base64, k.comment].filter((t): t is string => t !== undefined && t !== '');
  return toks.length === 0 ? k.source : toks.join(' ');
}

/** AuthKeyLineParser._extract_options: up to the first blank outside double quotes. */
function extractOptions(ent: string): { options: string; remain: string } {
  let quoted = false;
  let i = 0;
  while (i < ent.length && (quoted || (ent[i] !== ' ' && ent[i] !== '\t'))) {
    if (i + 1 >= ent.length) {
      i += 1;
      break;
    }
    if (ent[i] === '\\' && ent[i + 1] === '"') i += 1;
    else if (ent[i] === '"') quoted = !quoted;
    i += 1;
  }
  return { options: ent.slice(0, i), remain: ent.slice(i).replace(/^\s+/, '') };
}

function splitKey(ent: string): { keytype: string; base64: string; comment: string } | undefined {
  // Python's str.split(None, 2): at most three fields, the comment keeps its inner blanks.
  const m = /^(\S+)\s+(\S+)(?:\s+(.*))?$/s.exec(ent);
  if (m === null || !VALID_KEY_TYPES.has(m[1] ?? '')) return undefined;
  return { keytype: m[1] ?? '', base64: m[2] ?? '', comment: (m[3] ?? '').replace(/\s+$/, '') };
}

/**
 * AuthKeyLineParser.parse. `options`, when given (even ''), replaces the key's own options, as
 * cloud-init does for disable_root.
 */
export function parseAuthKeyLine(srcLine: string, options?: string): AuthKeyLine {
  const line = srcLine.replace(/[\r\n]+$/, '');
  if (line.startsWith('#') || line.trim() === '') return { source: srcLine };
  const ent = line.trim();
  let key = splitKey(ent);
  let opts = options;
  if (key === undefined) {
    const { options: keyopts, remain } = extractOptions(ent);
    if (opts === undefined) opts = keyopts;
    key = splitKey(remain);
    if (key === undefined) return { source: srcLine };
  }
  return { source: srcLine, ...(opts === undefined ? {} : { options: opts }), ...key };
}

/**
 * The new authorized_keys text: `existing` (may be empty) with `keys` merged in, ending with a
 * newline. Lines that are not keys are kept; invalid new keys are dropped (ssh_util does too).
 */
export function updateAuthorizedKeys(existing: string, keys: readonly string[], options?: string): string {
  const fresh = keys.map((k) => parseAuthKeyLine(k, options));
  const old = existing === '' ? [] : existing.replace(/\n$/, '').split('\n').map((l) => parseAuthKeyLine(l));
  const toAdd = fresh.filter(isValid);
  const merged = old.map((ent) => {
    if (!isValid(ent)) return ent;
    let out = ent;
    for (const k of fresh) {
      if (k.base64 !== ent.base64) continue;
      out = k;
      const at = toAdd.indexOf(k);
      if (at >= 0) toAdd.splice(at, 1);
    }
    return out;
  });
  // A key given twice is written once (cloud-init passes the keys as a set).
  const seen = new Set(merged.filter(isValid).map((k) => k.base64));
  for (const k of toAdd) {
    if (seen.has(k.base64)) continue;
    seen.add(k.base64);
    merged.push(k);
  }
  return [...merged.map(formatAuthKeyLine), ''].join('\n');
}
