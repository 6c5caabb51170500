// Shared test helpers: temp dirs that clean themselves up, and running the built CLI.
import { execFile, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/ root. */
export const DIST = resolve(here, '..');
export const REPO = resolve(DIST, '..');
/**
 * The commands as installed (package.json "bin"): the CLI and the agent bundled, run with their
 * code caches (scripts/bundle-entries.mjs). Tests run these, so the bundles are what is tested.
 */
export const CLI = join(DIST, 'bin', 'atomic.cjs');
export const AGENT = join(DIST, 'bin', 'atomicd.cjs');

export function tempDir(t: TestContext | undefined, prefix = 'atomic-test-'): string {
  const dir = mkdtempSync(join(process.env.ATOMIC_TEST_TMP ?? tmpdir(), prefix));
  t?.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): RunResult {
  return run(process.execPath, [CLI, ...args], opts);
}

/**
 * Like runCli, without blocking the event loop: needed whenever the command talks to a server
 * running inside the test process (a loopback repo or seed server).
 */
export function runCliAsync(args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return execFileAsync(process.execPath, [CLI, ...args], opts);
}

function execFileAsync(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args as string[], { env: { ...process.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') return reject(err);
      resolve({ status: err === null ? 0 : (err.code as number), stdout, stderr });
    });
  });
}

/** Run the built agent, `atomicd ARGS`. */
export function runAgent(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): RunResult {
  return run(process.execPath, [AGENT, ...args], opts);
}

/** Like runAgent, without blocking the event loop (tests that serve HTTP to the agent need it). */
export function runAgentAsync(args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return execFileAsync(process.execPath, [AGENT, ...args], opts);
}

/** Run a real tool; throws with its stderr if it is not installed, so a missing tool is loud. */
export function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args as string[], {
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    input: opts.input,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error !== undefined) throw new Error(`cannot run ${cmd}: ${r.error.message} (the set-up script installs it: scripts/setup)`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like run, but a non-zero exit fails the test with the tool's output. */
export function runOk(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): RunResult {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stderr}${r.stdout}`);
  return r;
}
