// Running the disk tools (sfdisk, mkfs.*, mtools, grub-mkstandalone, qemu-img, tar): stdin from a
// string, stdout captured or streamed into a file, an AbortSignal that kills the child, and the
// tool's own words carried in the error. runTool (adapters/process) has no stdin and maps an abort
// to a failure; a disk build needs both.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Writable } from 'node:stream';
import { Cancelled, Internal, Unavailable } from '../../lib/errors.js';

/** The Debian package of every tool the disk adapter runs, for "is not installed" errors. */
export const DISK_TOOL_PACKAGES: Readonly<Record<string, string>> = {
  sfdisk: 'fdisk',
  'mkfs.ext4': 'e2fsprogs',
  debugfs: 'e2fsprogs',
  lsattr: 'e2fsprogs',
  'mkfs.vfat': 'dosfstools',
  mmd: 'mtools',
  mcopy: 'mtools',
  'grub-mkstandalone': 'grub-common',
  'qemu-img': 'qemu-utils',
  tar: 'tar',
};

export interface DiskToolOptions {
  readonly input?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly signal?: AbortSignal | undefined;
  /** Stream standard output here instead of capturing it. */
  readonly stdoutTo?: Writable;
}

/** A failed tool: the message has its last stderr lines, `stderr` all of it (for --debug). */
export class ToolFailure extends Error {
  constructor(message: string, readonly stderr: string, readonly exitCode: number | null) {
    super(message);
  }
}

export function runDiskTool(cmd: string, args: readonly string[], opts: DiskToolOptions = {}): Promise<string> {
  const signal = opts.signal;
  if (signal?.aborted === true) return Promise.reject(cancelled(cmd, signal));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args as string[], { env: { ...process.env, PATH: searchPath().join(delimiter), ...opts.env }, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (e: Error | undefined, value = ''): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (e === undefined) resolve(value);
      else reject(e);
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        const pkg = DISK_TOOL_PACKAGES[cmd];
        finish(new Unavailable(`${cmd} is not installed${pkg === undefined ? '' : ` (Debian package ${pkg}; scripts/setup installs it)`}`, { cause: e }));
      } else finish(new Internal(`cannot run ${cmd}: ${e.message}`, { cause: e }));
    });
    if (opts.stdoutTo !== undefined) {
      child.stdout.pipe(opts.stdoutTo, { end: false });
      opts.stdoutTo.on('error', (e) => {
        child.kill('SIGKILL');
        finish(e);
      });
    } else child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // A tool that exits before reading its input gives EPIPE here; its exit status tells why.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    child.on('close', (code, sig) => {
      if (signal?.aborted === true) return finish(cancelled(cmd, signal));
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) return finish(undefined, Buffer.concat(out).toString('utf8'));
      const detail = stderr.trim().split('\n').slice(-3).join('; ') || (sig === null ? `exit status ${code}` : `killed by ${sig}`);
      const failure = new ToolFailure(`${cmd} ${args.join(' ')}: ${stderr.trim() || `exit status ${code}`}`, stderr, code);
      finish(new Internal(`${cmd} failed: ${detail}`, { subject: cmd, cause: failure }));
    });
  });
}

function cancelled(cmd: string, signal: AbortSignal): Cancelled {
  return new Cancelled(`${cmd}: cancelled`, { cause: signal.reason });
}

/** Fail before any long work when a tool is missing, naming its Debian package. */
export function requireTools(cmds: readonly string[]): void {
  const dirs = searchPath();
  const missing = cmds.filter((cmd) => !dirs.some((d) => isExecutable(join(d, cmd))));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((c) => DISK_TOOL_PACKAGES[c] ?? c))];
  throw new Unavailable(`${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed (Debian package${pkgs.length === 1 ? '' : 's'} ${pkgs.join(', ')}; scripts/setup installs ${pkgs.length === 1 ? 'it' : 'them'})`, {
    subject: missing[0]!,
  });
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** PATH plus the sbin directories: mkfs.* and sfdisk live there and a user's PATH may lack them. */
function searchPath(): string[] {
  const dirs = (process.env.PATH ?? '/usr/bin:/bin').split(delimiter).filter((d) => d !== '');
  for (const d of ['/usr/sbin', '/sbin']) if (!dirs.includes(d)) dirs.push(d);
  return dirs;
}
