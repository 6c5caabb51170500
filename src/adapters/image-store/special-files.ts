// What Node.js cannot do itself: create device nodes and FIFOs (no mknod(2) binding) and set
// extended attributes (no setxattr(2) binding). coreutils `mknod` and attr's `setfattr` do it; xattrs
// of a whole layer go to one `setfattr --restore` run, in getfattr's dump format, with -h so that
// symlinks get their own attributes and are never followed.
import { spawn } from 'node:child_process';
import { AtomicError, Internal, PermissionDenied, Unavailable } from '../../lib/errors.js';
import { runTool } from '../process/run-tool.js';

export type NodeKind = 'char-device' | 'block-device' | 'fifo';

/** mknod PATH; a refusal for lack of CAP_MKNOD is PermissionDenied. */
export async function makeNode(path: string, kind: NodeKind, major: number, minor: number, mode: number, signal?: AbortSignal): Promise<void> {
  const type = kind === 'char-device' ? 'c' : kind === 'block-device' ? 'b' : 'p';
  const args = ['-m', (mode & 0o7777).toString(8), '--', path, type, ...(kind === 'fifo' ? [] : [String(major), String(minor)])];
  try {
    await runTool('mknod', args, { signal, debianPackage: 'coreutils' });
  } catch (e) {
    throw permissionOr(e, `creating the ${kind} ${path}`);
  }
}

export interface XattrItem {
  /** Path relative to the directory the dump is applied in. */
  readonly path: string;
  readonly name: string;
  readonly value: Uint8Array;
}

/**
 * Set extended attributes on paths below `cwd` with one `setfattr -h --restore`. Names and paths
 * are escaped as getfattr writes them (\ooo octal), values given in hex, so any bytes survive.
 */
export async function setXattrs(cwd: string, items: readonly XattrItem[], signal?: AbortSignal): Promise<void> {
  if (items.length === 0) return;
  const byPath = new Map<string, XattrItem[]>();
  for (const it of items) byPath.set(it.path, [...(byPath.get(it.path) ?? []), it]);
  let dump = '';
  for (const [path, list] of byPath) {
    dump += `# file: ${quote(path)}\n`;
    for (const it of list) dump += `${quote(it.name)}=0x${Buffer.from(it.value).toString('hex')}\n`;
    dump += '\n';
  }
  try {
    // `--restore=-` reads the dump from standard input; paths are relative to cwd.
    await runToolInput('setfattr', ['-h', '--restore=-'], dump, cwd, signal);
  } catch (e) {
    throw permissionOr(e, 'setting extended attributes');
  }
}

/** attr's libmisc quote(): bytes outside printable ASCII, '\\' and '=' as a backslash and 3 octal digits. */
function quote(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b <= 0x20 || b >= 0x7f || c === '\\' || c === '=' || c === '"' ? `\\${b.toString(8).padStart(3, '0')}` : c;
  }
  return out;
}

function permissionOr(e: unknown, doing: string): AtomicError {
  if (e instanceof AtomicError && /Operation not permitted|Permission denied/.test(e.message)) {
    return new PermissionDenied(`${doing}: not permitted (needs root: CAP_MKNOD for device nodes, CAP_SYS_ADMIN for trusted.* attributes)`, { cause: e });
  }
  if (e instanceof AtomicError) return e;
  return new Internal(`${doing}: ${String(e)}`, { cause: e });
}

/** runTool with standard input and a working directory. */
async function runToolInput(cmd: string, args: readonly string[], input: string, cwd: string, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args as string[], { cwd, stdio: ['pipe', 'ignore', 'pipe'], ...(signal === undefined ? {} : { signal }) });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += c.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new Unavailable(`${cmd} is not installed (Debian package attr; scripts/setup installs it)`, { cause: e }) : new Internal(`${cmd}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Internal(`${cmd} ${args.join(' ')} failed: ${stderr.trim().split('\n').slice(-3).join('; ') || `exit ${code}`}`));
    });
    child.stdin.on('error', () => undefined); // a tool that dies early: reported by 'close'
    child.stdin.end(input);
  });
}
