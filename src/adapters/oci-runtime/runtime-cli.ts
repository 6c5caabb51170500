// runc and crun behind one OciRuntime: both take the same global options (--root, --log,
// --log-format, --systemd-cgroup) and the same subcommands (crun's CLI copies runc's). What
// differs is handled here:
//   * crun 1.8 refuses hybrid cgroup hosts ("cgroups in hybrid mode not supported"); its create,
//     run and exec then run in a private mount namespace without the cgroup2 mount at
//     /sys/fs/cgroup/unified (`unshare --mount --propagation private`, then `umount -l`), where it
//     sees a plain cgroup v1 host. state, start, kill, update and delete read the cgroup paths
//     crun recorded at create and work unchanged (verified on crun 1.8.1).
//   * Error classification is by state, never by message text: before or after a failed command
//     we look at the runtime's own state (`<root>/<id>` exists? status?) and map to the taxonomy;
//     the runtime's message (from `--log-format json` on stderr) becomes the error's text.
// --systemd-cgroup is never passed: cgroupfs driver, absolute linux.cgroupsPath.
import { execFile, spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { access, constants as fsConstants, mkdir, mkdtemp, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OciProcess, OciResources } from '../../core/containers/oci-spec.js';
import { ociSpecJson } from '../../core/containers/oci-spec.js';
import type { CgroupMode } from '../../core/containers/resources.js';
import { AlreadyExists, Cancelled, Conflict, FailedPrecondition, Internal, InvalidArgument, NotFound, Unavailable } from '../../lib/errors.js';
import { runCommand } from '../rootfs/run-command.js';
import type {
  CreateOptions, DeleteOptions, ExecOptions, ExecResult, MonitorInvocation, OciRuntime, RuntimeName, RuntimeState, RuntimeStatus, SpawnedExec,
} from './oci-runtime.js';

/** The cgroup2 mount of a hybrid host (systemd's layout), hidden from crun. */
export const HYBRID_UNIFIED_MOUNT = '/sys/fs/cgroup/unified';

export interface RuntimeOptions {
  readonly name: RuntimeName;
  /** `--root`: the runtime's state directory, per agent. */
  readonly root: string;
  /** Absolute path of the binary; default: found in PATH (and /usr/sbin, /usr/bin). */
  readonly binary?: string;
  readonly cgroupMode: CgroupMode;
  /** util-linux unshare, for crun on hybrid hosts. */
  readonly unshareBinary?: string;
}

const DEBIAN_PACKAGE: Record<RuntimeName, string> = { runc: 'runc', crun: 'crun' };

/** An executable named `name` in PATH or the sbin/bin directories (root's PATH may lack sbin). */
export async function findExecutable(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, name);
    try {
      await access(p, fsConstants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The runtime's own words: the `msg` of its JSON log lines on stderr, else the last lines. */
export function runtimeMessage(stderr: string): string {
  const msgs: string[] = [];
  for (const line of stderr.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    try {
      const j = JSON.parse(t) as { msg?: unknown; level?: unknown };
      if (typeof j.msg === 'string' && j.level !== 'debug' && j.level !== 'info') msgs.push(j.msg);
      continue;
    } catch {
      msgs.push(t);
    }
  }
  return msgs.slice(-3).join('; ');
}

function signalNumber(sig: string | number): number {
  if (typeof sig === 'number') {
    if (!Number.isInteger(sig) || sig <= 0 || sig > 64) throw new InvalidArgument(`invalid signal ${sig}`);
    return sig;
  }
  const s = sig.trim().toUpperCase();
  if (/^\d+$/.test(s)) return signalNumber(Number(s));
  const name = (s.startsWith('SIG') ? s : `SIG${s}`) as keyof typeof osConstants.signals;
  const n = osConstants.signals[name];
  if (n === undefined) throw new InvalidArgument(`invalid signal "${sig}"`, { subject: sig });
  return n;
}

class RuntimeCli implements OciRuntime {
  readonly name: RuntimeName;
  readonly root: string;
  private readonly binary: string;
  private readonly privateUnmount: string | undefined;
  private readonly unshare: string;

  constructor(o: RuntimeOptions & { binary: string; unshareBinary: string }) {
    this.name = o.name;
    this.root = o.root;
    this.binary = o.binary;
    this.unshare = o.unshareBinary;
    this.privateUnmount = o.name === 'crun' && o.cgroupMode === 'hybrid' ? HYBRID_UNIFIED_MOUNT : undefined;
  }

  private globalArgs(): string[] {
    return [`--root=${this.root}`, '--log-format=json'];
  }

  monitorInvocation(): MonitorInvocation {
    return { runtimePath: this.binary, globalArgs: this.globalArgs(), ...(this.privateUnmount !== undefined ? { privateUnmount: this.privateUnmount } : {}) };
  }

  /** argv for a subcommand; `isolate` = one that must not see the hybrid cgroup2 mount. */
  private command(args: readonly string[], isolate: boolean): { file: string; args: string[] } {
    const full = [...this.globalArgs(), ...args];
    if (!isolate || this.privateUnmount === undefined) return { file: this.binary, args: full };
    // `$0 "$@"` keeps every argument intact: no shell word splitting of ids or paths.
    const script = `umount -l ${this.privateUnmount} && exec "$0" "$@"`;
    return { file: this.unshare, args: ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, this.binary, ...full] };
  }

  private run(args: readonly string[], opts: { isolate?: boolean; signal?: AbortSignal | undefined } = {}): Promise<Outcome> {
    const { file, args: argv } = this.command(args, opts.isolate ?? false);
    return new Promise((resolve, reject) => {
      execFile(file, argv, { signal: opts.signal, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err === null) return resolve({ code: 0, stdout, stderr });
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return reject(new Unavailable(`${file} is not installed (Debian package ${DEBIAN_PACKAGE[this.name]})`, { cause: err }));
        if (code === 'ABORT_ERR') return reject(new Cancelled(`${this.name} ${args[0] ?? ''} cancelled`, { cause: err }));
        resolve({ code: typeof err.code === 'number' ? err.code : null, stdout, stderr });
      });
    });
  }

  private async known(id: string): Promise<boolean> {
    try {
      await stat(join(this.root, id));
      return true;
    } catch {
      return false;
    }
  }

  /** Map a failed command to the taxonomy from the container's state, with the runtime's message. */
  private async failure(op: string, id: string, out: Outcome, expect?: readonly RuntimeStatus[]): Promise<never> {
    const said = runtimeMessage(out.stderr) || `exit status ${out.code ?? '?'}`;
    const message = `${this.name} ${op} ${id}: ${said}`;
    if (!(await this.known(id))) throw new NotFound(`${this.name}: no such container: ${id}`, { subject: id, cause: new Internal(message) });
    if (expect !== undefined) {
      const st = await this.getState(id).catch(() => undefined);
      if (st !== undefined && !expect.includes(st.status)) throw new Conflict(`container ${id} is ${st.status}: ${message}`, { subject: id });
    }
    throw new FailedPrecondition(message, { subject: id });
  }

  private checkId(id: string): void {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) throw new InvalidArgument(`invalid container id "${id}"`, { subject: id });
  }

  async create(id: string, bundle: string, opts: CreateOptions): Promise<void> {
    this.checkId(id);
    if (await this.known(id)) throw new AlreadyExists(`${this.name}: container ${id} already exists`, { subject: id });
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    // The runtime's stdio is the container's, so its messages go to a --log file we read back.
    const tmp = await mkdtemp(join(this.root, '.create-'));
    const logPath = join(tmp, 'log.json');
    const extra = [`--log=${logPath}`];
    const sub = ['create', `--bundle=${bundle}`, `--pid-file=${opts.pidFile}`, ...(opts.consoleSocket !== undefined ? [`--console-socket=${opts.consoleSocket}`] : []), id];
    const { file, args } = this.command([...extra, ...sub], true);
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(file, args, { stdio: [...(opts.stdio ?? ['ignore', 'ignore', 'ignore'])], signal: opts.signal });
        child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new Unavailable(`${file} is not installed`, { cause: e }) : e.name === 'AbortError' ? new Cancelled(`${this.name} create cancelled`, { cause: e }) : e));
        child.on('exit', (c) => resolve(c));
      });
      if (code !== 0) {
        const log = await readFile(logPath, 'utf8').catch(() => '');
        await this.failure('create', id, { code, stdout: '', stderr: log });
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  async start(id: string, signal?: AbortSignal): Promise<void> {
    const out = await this.run(['start', id], { signal });
    if (out.code !== 0) await this.failure('start', id, out, ['created']);
  }

  async getState(id: string, signal?: AbortSignal): Promise<RuntimeState | undefined> {
    this.checkId(id);
    if (!(await this.known(id))) return undefined;
    const out = await this.run(['state', id], { signal });
    if (out.code !== 0) {
      if (!(await this.known(id))) return undefined;
      throw new Internal(`${this.name} state ${id}: ${runtimeMessage(out.stderr)}`, { subject: id });
    }
    return parseState(out.stdout, `${this.name} state ${id}`);
  }

  async exists(id: string): Promise<boolean> {
    this.checkId(id);
    return this.known(id);
  }

  async state(id: string, signal?: AbortSignal): Promise<RuntimeState> {
    const st = await this.getState(id, signal);
    if (st === undefined) throw new NotFound(`${this.name}: no such container: ${id}`, { subject: id });
    return st;
  }

  async list(signal?: AbortSignal): Promise<RuntimeState[]> {
    const out = await this.run(['list', '--format=json'], { signal });
    if (out.code !== 0) throw new Internal(`${this.name} list: ${runtimeMessage(out.stderr)}`);
    const t = out.stdout.trim();
    // runc prints "null" for no containers; crun "[ ]".
    if (t === '' || t === 'null') return [];
    const arr = JSON.parse(t) as unknown;
    if (!Array.isArray(arr)) throw new Internal(`${this.name} list: unexpected output`);
    return arr.map((x) => parseState(JSON.stringify(x), `${this.name} list`));
  }

  async kill(id: string, sig: string | number, opts: { all?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    this.checkId(id);
    const n = signalNumber(sig);
    const out = await this.run(['kill', ...(opts.all === true ? ['--all'] : []), id, String(n)], { signal: opts.signal });
    if (out.code !== 0) {
      // A process that dies while it is signalled fails the kill ("container not running", "open
      // pidfd: No such process") a moment before `state` says stopped: look after that moment, so
      // the failure is the Conflict it is rather than an unexplained one.
      await sleep(50);
      await this.failure('kill', id, out, ['created', 'running', 'paused']);
    }
  }

  async delete(id: string, opts: DeleteOptions = {}): Promise<void> {
    this.checkId(id);
    const out = await this.run(['delete', ...(opts.force === true ? ['--force'] : []), id], { signal: opts.signal });
    if (out.code !== 0) await this.failure('delete', id, out, opts.force === true ? undefined : ['stopped']);
  }

  async update(id: string, resources: OciResources, signal?: AbortSignal): Promise<void> {
    this.checkId(id);
    const tmp = await mkdtemp(join(this.root, '.update-'));
    try {
      const file = join(tmp, 'resources.json');
      await writeFile(file, ociSpecJson(resources));
      const out = await this.run(['update', `--resources=${file}`, id], { signal });
      if (out.code !== 0) await this.failure('update', id, out, ['created', 'running', 'paused']);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  async pause(id: string, signal?: AbortSignal): Promise<void> {
    this.checkId(id);
    const out = await this.run(['pause', id], { signal });
    if (out.code !== 0) await this.failure('pause', id, out, ['running']);
  }

  async resume(id: string, signal?: AbortSignal): Promise<void> {
    this.checkId(id);
    const out = await this.run(['resume', id], { signal });
    if (out.code !== 0) await this.failure('resume', id, out, ['paused']);
  }

  async exec(id: string, proc: OciProcess, opts: ExecOptions = {}): Promise<ExecResult> {
    this.checkId(id);
    if (!(await this.known(id))) throw new NotFound(`${this.name}: no such container: ${id}`, { subject: id });
    const tmp = await mkdtemp(join(this.root, '.exec-'));
    try {
      const file = join(tmp, 'process.json');
      await writeFile(file, ociSpecJson(proc));
      const sub = [
        'exec', `--process=${file}`, ...(opts.detach === true ? ['--detach'] : []), ...(opts.pidFile !== undefined ? [`--pid-file=${opts.pidFile}`] : []),
        ...(opts.consoleSocket !== undefined ? [`--console-socket=${opts.consoleSocket}`] : []), id,
      ];
      const { file: cmd, args } = this.command(sub, true);
      const r = await runCommand(cmd, args, { env: process.env, timeoutMs: opts.timeoutMs ?? 60_000, signal: opts.signal, maxOutputBytes: 4 * 1024 * 1024, debianPackage: DEBIAN_PACKAGE[this.name] });
      if (r.aborted) throw new Cancelled(`${this.name} exec ${id} cancelled`, { subject: id });
      if (r.timedOut) throw new Unavailable(`${this.name} exec ${id}: timed out`, { subject: id });
      if (r.exitCode !== 0) {
        // Distinguish "the runtime could not exec" from "the process exited non-zero" by state.
        const st = await this.getState(id).catch(() => undefined);
        if (st === undefined) throw new NotFound(`${this.name}: no such container: ${id}`, { subject: id });
        if (st.status !== 'running') throw new Conflict(`container ${id} is ${st.status}: ${runtimeMessage(r.stderr)}`, { subject: id });
      }
      return { exitCode: opts.detach === true ? null : r.exitCode, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  async spawnExec(id: string, proc: OciProcess): Promise<SpawnedExec> {
    this.checkId(id);
    if (!(await this.known(id))) throw new NotFound(`${this.name}: no such container: ${id}`, { subject: id });
    const tmp = await mkdtemp(join(this.root, '.exec-'));
    const file = join(tmp, 'process.json');
    const logPath = join(tmp, 'log.json');
    const pidFile = join(tmp, 'exec.pid');
    await writeFile(file, ociSpecJson(proc));
    // The runtime's stdio is the process's (pass-through), so its own messages go to a --log file.
    const { file: cmd, args } = this.command([`--log=${logPath}`, 'exec', `--pid-file=${pidFile}`, `--process=${file}`, id], true);
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let closed = false;
    child.once('close', () => (closed = true));
    const exit = new Promise<{ exitCode: number; error?: string }>((resolve) => {
      child.once('error', (e) => resolve({ exitCode: 126, error: `${this.name} exec: ${e.message}` }));
      child.once('close', (code, sig) => {
        void (async () => {
          const log = await readFile(logPath, 'utf8').catch(() => '');
          await rm(tmp, { recursive: true, force: true });
          const exitCode = code ?? 128 + (sig === null ? 0 : (osConstants.signals[sig] ?? 0));
          // runc and crun log at error level only when they, not the process, failed.
          const said = runtimeMessage(log.split('\n').filter((l) => /"level":"(error|fatal)"/.test(l)).join('\n'));
          resolve({ exitCode, ...(exitCode !== 0 && said !== '' ? { error: said } : {}) });
        })();
      });
    });
    child.stdin.on('error', () => undefined);
    // runc and crun write --pid-file once the process runs (atomically: rename), also in the
    // foreground; nothing announces it, so it is looked for until the runtime ends.
    const pid = (async (): Promise<number | undefined> => {
      for (let delayMs = 5; !closed; delayMs = Math.min(delayMs * 2, 100)) {
        const n = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
        if (Number.isSafeInteger(n) && n > 0) return n;
        await sleep(delayMs);
      }
      return undefined;
    })();
    return { stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, pid, exit };
  }
}

function parseState(text: string, what: string): RuntimeState {
  let j: Partial<RuntimeState>;
  try {
    j = JSON.parse(text) as Partial<RuntimeState>;
  } catch (e) {
    throw new Internal(`${what}: output is not JSON`, { cause: e });
  }
  if (typeof j.id !== 'string' || typeof j.status !== 'string') throw new Internal(`${what}: output has no id/status`);
  return {
    ociVersion: j.ociVersion ?? '',
    id: j.id,
    status: j.status,
    pid: typeof j.pid === 'number' ? j.pid : 0,
    bundle: j.bundle ?? '',
    ...(j.rootfs !== undefined ? { rootfs: j.rootfs } : {}),
    ...(j.created !== undefined ? { created: j.created } : {}),
    ...(j.annotations !== undefined ? { annotations: j.annotations } : {}),
  };
}

/** A runc or crun driver rooted at `root`. Unavailable when the binary is missing. */
export async function openOciRuntime(o: RuntimeOptions): Promise<OciRuntime> {
  const binary = o.binary ?? (await findExecutable(o.name));
  if (binary === undefined) throw new Unavailable(`${o.name} is not installed (Debian package ${DEBIAN_PACKAGE[o.name]})`, { subject: o.name });
  const unshareBinary = o.unshareBinary ?? (await findExecutable('unshare')) ?? '/usr/bin/unshare';
  if (o.name === 'crun' && o.cgroupMode === 'hybrid' && (await findExecutable('unshare')) === undefined && o.unshareBinary === undefined) {
    throw new Unavailable('crun on a hybrid cgroup host needs unshare (Debian package util-linux)', { subject: 'unshare' });
  }
  return new RuntimeCli({ ...o, binary, unshareBinary });
}
