// Run a command for the executor: optional stdin, a timeout, an AbortSignal, and bounded
// output capture. Unlike execFile, the command gets its own process group, so a timeout or an
// abort also stops what it started in the background (`bootcmd: [daemon &]`), and we return when
// the command itself exits even if a background child still holds the output pipes open.
import { requireChildProcess } from '../../lib/builtin.js';
import { Unavailable } from '../../lib/errors.js';

export interface CommandOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly input?: string | Uint8Array;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Per stream; the end of the output is kept (where errors are). Default 64 KiB. */
  readonly maxOutputBytes?: number;
  /** Debian package to name when the command is missing. */
  readonly debianPackage?: string;
}

export interface CommandResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Output was longer than the capture limit; the start was dropped. */
  readonly truncated: boolean;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  readonly durationMs: number;
}

/** How long to wait for the pipes to drain after the command exited. */
const DRAIN_MS = 200;
/** SIGTERM first; SIGKILL if the group is still there after this. */
const KILL_GRACE_MS = 3000;

class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly max: number) {}
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size > this.max && this.chunks.length > 0) {
      const first = this.chunks[0] as Buffer;
      const over = this.size - this.max;
      this.truncated = true;
      if (first.length <= over) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(over);
        this.size -= over;
      }
    }
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export function runCommand(cmd: string, args: readonly string[], opts: CommandOptions): Promise<CommandResult> {
  const started = Date.now();
  const max = opts.maxOutputBytes ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    const child = requireChildProcess().spawn(cmd, args as string[], { env: opts.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: true });
    const out = new Tail(max);
    const err = new Tail(max);
    let timedOut = false;
    let aborted = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    const stop = (): void => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    if (opts.signal?.aborted === true) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => {
      clearTimeout(timer);
      if (killTimer !== undefined) clearTimeout(killTimer);
      // A pending drain timer would keep the process alive DRAIN_MS after the last command.
      if (drainTimer !== undefined) clearTimeout(drainTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      cleanup();
      if (e.code === 'ENOENT') {
        const pkg = opts.debianPackage === undefined ? '' : ` (Debian package ${opts.debianPackage})`;
        reject(new Unavailable(`${cmd} is not installed${pkg}`, { cause: e }));
      } else reject(new Unavailable(`${cmd} could not be started: ${e.message}`, { cause: e }));
    });
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const finish = (): void => {
      if (settled || exit === undefined) return;
      settled = true;
      cleanup();
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ exitCode: exit.code, signal: exit.signal, stdout: out.text(), stderr: err.text(), truncated: out.truncated || err.truncated, timedOut, aborted, durationMs: Date.now() - started });
    };
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      drainTimer = setTimeout(finish, DRAIN_MS);
    });
    child.on('close', finish);
    if (opts.input !== undefined && child.stdin !== null) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

/** One line about how a command ended: `exit status 3: <last line of stderr>`. */
export function describeExit(r: CommandResult): string {
  const how = r.timedOut ? 'timed out' : r.aborted ? 'cancelled' : r.signal !== null ? `killed by ${r.signal}` : `exit status ${r.exitCode ?? '?'}`;
  const last = (r.stderr.trim() || r.stdout.trim()).split('\n').pop()?.trim() ?? '';
  return last === '' ? how : `${how}: ${last.slice(0, 300)}`;
}

export function succeeded(r: CommandResult): boolean {
  return r.exitCode === 0 && r.signal === null && !r.timedOut && !r.aborted;
}
