// Run a long build tool (mmdebstrap, tar, chroot ...) with its output lines handed to a progress
// callback as they come, the last lines kept for the error message, and cancellation that stops
// the whole process group (mmdebstrap runs apt, dpkg and hooks below it).
import { spawn } from 'node:child_process';
import { Cancelled, Internal, Unavailable } from '../../lib/errors.js';

export interface RunLoggedOptions {
  readonly signal?: AbortSignal | undefined;
  /** Every line of standard output and standard error, without the newline. */
  readonly onLine?: ((line: string) => void) | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Debian package that provides `cmd`, named when it is missing. */
  readonly debianPackage?: string;
  /** What the step is, first in error messages ("mmdebstrap bookworm"). */
  readonly doing?: string;
  readonly subject?: string;
}

export interface RunLoggedResult {
  readonly stdout: string;
}

const TAIL_LINES = 20;
const MAX_STDOUT = 16 * 1024 * 1024;

export function runLogged(cmd: string, args: readonly string[], opts: RunLoggedOptions = {}): Promise<RunLoggedResult> {
  const doing = opts.doing ?? cmd;
  if (opts.signal?.aborted === true) return Promise.reject(new Cancelled(`${doing}: cancelled`, { ...(opts.subject === undefined ? {} : { subject: opts.subject }) }));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args as string[], {
      env: { ...process.env, ...opts.env },
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that cancelling reaches apt/dpkg/tar below it.
      detached: true,
    });
    const tail: string[] = [];
    let stdout = '';
    const lineReader = (keep: boolean): ((chunk: Buffer) => void) => {
      let partial = '';
      return (chunk) => {
        const text = partial + chunk.toString('utf8');
        if (keep && stdout.length < MAX_STDOUT) stdout += chunk.toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) {
          tail.push(l);
          if (tail.length > TAIL_LINES) tail.shift();
          opts.onLine?.(l);
        }
      };
    };
    child.stdout.on('data', lineReader(true));
    child.stderr.on('data', lineReader(false));
    const onAbort = (): void => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const details = opts.subject === undefined ? {} : { subject: opts.subject };
    child.on('error', (e: NodeJS.ErrnoException) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (e.code === 'ENOENT') {
        const pkg = opts.debianPackage === undefined ? '' : ` (Debian package ${opts.debianPackage}; scripts/setup installs it)`;
        reject(new Unavailable(`${doing}: ${cmd} is not installed${pkg}`, { ...details, cause: e }));
      } else reject(new Internal(`${doing}: cannot run ${cmd}: ${e.message}`, { ...details, cause: e }));
    });
    child.on('close', (code, sig) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.signal?.aborted === true) return reject(new Cancelled(`${doing}: cancelled`, { ...details, cause: opts.signal.reason }));
      if (code === 0) return resolve({ stdout });
      const why = sig !== null ? `killed by ${sig}` : `exit status ${code}`;
      reject(new Internal(`${doing} failed (${why}):\n${tail.join('\n')}`, details));
    });
  });
}
