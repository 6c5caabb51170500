// Run an external tool (mkfs.vfat, mcopy, ...) with its output captured, mapping "not installed"
// and "failed" into the taxonomy with the tool's own words.
import { execFile } from 'node:child_process';
import { Internal, ResourceExhausted, Unavailable } from '../../lib/errors.js';

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
}

export interface ToolOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal | undefined;
  readonly debianPackage?: string;
  /** Output above this is an error (ResourceExhausted), not a memory problem. Default 64 MiB. */
  readonly maxOutputBytes?: number;
}

export async function runTool(cmd: string, args: readonly string[], opts: ToolOptions = {}): Promise<ToolResult> {
  const r = await runToolBytes(cmd, args, opts);
  return { stdout: r.stdout.toString('utf8'), stderr: r.stderr };
}

/** Like runTool, with standard output as bytes (file content from mcopy, ...). */
export function runToolBytes(cmd: string, args: readonly string[], opts: ToolOptions = {}): Promise<{ stdout: Buffer; stderr: string }> {
  const maxBuffer = opts.maxOutputBytes ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    execFile(cmd, args as string[], { env: { ...process.env, ...opts.env }, signal: opts.signal, maxBuffer, encoding: 'buffer' }, (err, stdout, stderrBytes) => {
      const stderr = stderrBytes.toString('utf8');
      if (err === null) return resolve({ stdout, stderr });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        const pkg = opts.debianPackage === undefined ? '' : ` (Debian package ${opts.debianPackage}; scripts/setup installs it)`;
        return reject(new Unavailable(`${cmd} is not installed${pkg}`, { cause: err }));
      }
      if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
        return reject(new ResourceExhausted(`${cmd} ${args.join(' ')}: output larger than ${maxBuffer} bytes`, { cause: err }));
      }
      const detail = (stderr || stdout.toString('utf8')).trim().split('\n').slice(-3).join('; ');
      reject(new Internal(`${cmd} ${args.join(' ')} failed: ${detail || err.message}`, { cause: err }));
    });
  });
}
