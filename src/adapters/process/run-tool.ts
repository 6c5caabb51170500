// Run an external tool (mkfs.vfat, mcopy, ...) with its output captured, mapping "not installed"
// and "failed" into the taxonomy with the tool's own words.
import { execFile } from 'node:child_process';
import { Internal, Unavailable } from '../../lib/errors.js';

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
}

export function runTool(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; debianPackage?: string } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args as string[], { env: { ...process.env, ...opts.env }, signal: opts.signal, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err === null) return resolve({ stdout, stderr });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        const pkg = opts.debianPackage === undefined ? '' : ` (Debian package ${opts.debianPackage}; scripts/setup installs it)`;
        return reject(new Unavailable(`${cmd} is not installed${pkg}`, { cause: err }));
      }
      const detail = (stderr || stdout).trim().split('\n').slice(-3).join('; ');
      reject(new Internal(`${cmd} ${args.join(' ')} failed: ${detail || err.message}`, { cause: err }));
    });
  });
}
