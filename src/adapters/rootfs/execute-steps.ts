// The executor of provisioning steps (core/provision/steps.ts) against a root tree. Every step
// runs even when an earlier one failed, as cloud-init runs every module; each gets an outcome
// with a one-line reason. Files stay inside the root (root-dir.ts), owners come from the root's
// own /etc/passwd and /etc/group, accounts are changed with the shadow tools' --root, commands
// run with `chroot ROOT`. Nothing here touches the running system's hostname unless the target is
// `live` (the root is the running system itself: `atomicd provision --root / --live` at boot).
import type { Stats } from 'node:fs';
import { writeFile as writeHostFile } from 'node:fs/promises';
import { Cancelled, Internal, InvalidArgument, NotFound, isAtomicError, type AtomicError } from '../../lib/errors.js';
import { timeRfc2822 } from '../../core/provision/modules/plan-final-message.js';
import { readHostnameConf, setHostnameConf } from '../../core/provision/hostname-conf.js';
import { parseGroup, parsePasswd, passwordLocked, resolveOwner, type GroupEntry, type PasswdEntry } from '../../core/provision/parse-passwd.js';
import { renderEtcHostsTemplate, updateEtcHostsLocalhost } from '../../core/provision/render-etc-hosts.js';
import { describeStep, type AuthorizedKeysStep, type RunStep, type SetHostnameStep, type SetTimezoneStep, type Step, type StepAction, type SudoersStep, type WriteEtcHostsStep, type WriteFileStep } from '../../core/provision/steps.js';
import { updateAuthorizedKeys } from '../../core/provision/update-authorized-keys.js';
import { addToGroup, expirePassword, groupadd, lockPassword, setPasswordHash, useradd, type ToolContext } from './account-tools.js';
import { RootDir } from './root-dir.js';
import { describeExit, runCommand, succeeded, type CommandResult } from './run-command.js';

export interface ExecuteTarget {
  /** The root tree (host path). `/` provisions the running system's files. */
  readonly root: string;
  /**
   * The root is the running system: what cloud-init also applies to the kernel (the transient
   * hostname, `hostname NAME` in cc_set_hostname) is applied too. Only with root `/`.
   */
  readonly live?: boolean;
  /** Where the transient hostname is written (tests point it elsewhere); default /proc/sys/kernel/hostname. */
  readonly kernelHostnamePath?: string;
}

export type StepEvent =
  | { readonly event: 'step-start'; readonly index: number; readonly action: StepAction; readonly description: string }
  | { readonly event: 'step-end'; readonly index: number; readonly action: StepAction; readonly status: StepStatus; readonly reason?: string; readonly durationMs: number };

export interface ExecuteOptions {
  readonly signal?: AbortSignal;
  readonly log?: (event: StepEvent) => void;
  /** Per command of a run step (bootcmd, each script). Default 30 minutes. */
  readonly runTimeoutMs?: number;
  /** The clock for the "# Created by atomicd on ..." headers. Default: new Date(). */
  readonly now?: () => Date;
}

export type StepStatus = 'ok' | 'failed' | 'cancelled';

/** A command a run step started, as it ended (output bounded, the end kept). */
export interface CommandRun {
  /** The in-root command: argv[0], or the script path for run-parts. */
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
  readonly durationMs: number;
}

export interface StepOutcome {
  /** Position in the steps given to executeSteps. */
  readonly index: number;
  readonly action: StepAction;
  /** describeStep: what it was about, without secrets. */
  readonly description: string;
  readonly status: StepStatus;
  /** One line: why it failed or was cancelled; for ok, a note when it did less than asked ("user ops exists"). */
  readonly reason?: string;
  readonly error?: AtomicError;
  /** Things cloud-init would log as warnings while still succeeding (a group member that does not exist). */
  readonly warnings: readonly string[];
  /** For run steps: each command started. */
  readonly runs?: readonly CommandRun[];
}

/** Default per-command timeout; cloud-init has none, a hung bootcmd must not hang the boot forever. */
const DEFAULT_RUN_TIMEOUT_MS = 30 * 60 * 1000;
/** The shadow tools finish in milliseconds; a minute means something is wrong. */
const TOOL_TIMEOUT_MS = 60 * 1000;
/** The environment commands get inside the root (plus the step's own, e.g. INSTANCE_ID). */
const COMMAND_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' };

/** distros.Distro.ci_sudoers_fn. */
export const SUDOERS_FILE = '/etc/sudoers.d/90-cloud-init-users';
const SUDOERS_DIR = '/etc/sudoers.d';
const SUDOERS_BASE = '/etc/sudoers';
const ZONEINFO = '/usr/share/zoneinfo';

interface StepResult {
  readonly reason?: string;
  readonly warnings?: readonly string[];
  readonly runs?: readonly CommandRun[];
  /** A run step whose commands failed: the outcome is failed, with the runs kept. */
  readonly failed?: string;
  /** A write-file step: the in-root directory whose fsync was left to the executor. */
  readonly unsyncedDir?: string;
}

interface Context {
  readonly rootDir: RootDir;
  readonly tools: ToolContext;
  readonly signal: AbortSignal | undefined;
  readonly runTimeoutMs: number;
  readonly now: () => Date;
  /** The running system's hostname file when the target is live. */
  readonly kernelHostname: string | undefined;
}

async function accounts(ctx: Context): Promise<{ passwd: PasswdEntry[]; group: GroupEntry[] }> {
  const [p, g] = await Promise.all([ctx.rootDir.readText('/etc/passwd'), ctx.rootDir.readText('/etc/group')]);
  return { passwd: parsePasswd(p ?? ''), group: parseGroup(g ?? '') };
}

async function userEntry(ctx: Context, user: string): Promise<PasswdEntry> {
  const { passwd } = await accounts(ctx);
  const u = passwd.find((e) => e.name === user);
  if (u === undefined) throw new NotFound(`user ${user} does not exist in the root's /etc/passwd`, { subject: user });
  return u;
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function isRegular(st: Stats | undefined): st is Stats {
  return st?.isFile() === true;
}

async function writeFile(ctx: Context, step: WriteFileStep): Promise<StepResult> {
  const { passwd, group } = await accounts(ctx);
  // chownbyname changes only what is named: the rest comes from the file being replaced.
  const old = await ctx.rootDir.lstat(step.path);
  const current = old !== undefined && old.isFile() ? { uid: old.uid, gid: old.gid } : { uid: 0, gid: 0 };
  const owner = resolveOwner(step.owner, passwd, group, current);
  if (!owner.ok) throw new InvalidArgument(`${step.path}: ${owner.message}`, { subject: step.path });
  if (step.append && old !== undefined && !old.isFile()) throw new InvalidArgument(`${step.path}: cannot append to something that is not a regular file`, { subject: step.path });
  // The directory is fsynced once after a run of writes into it (executeSteps), not per file.
  const unsyncedDir = await ctx.rootDir.writeFile(step.path, step.content, { mode: step.mode, uid: owner.uid, gid: owner.gid, append: step.append, syncDir: false });
  return { unsyncedDir };
}

async function ensureGroup(ctx: Context, name: string, members: readonly string[]): Promise<StepResult> {
  let { passwd, group } = await accounts(ctx);
  let reason: string | undefined;
  if (group.some((g) => g.name === name)) reason = `group ${name} exists`;
  else {
    await groupadd(ctx.tools, name);
    ({ passwd, group } = await accounts(ctx));
  }
  const warnings: string[] = [];
  const current = group.find((g) => g.name === name)?.members ?? [];
  for (const m of members) {
    if (!passwd.some((u) => u.name === m)) warnings.push(`not adding ${m} to group ${name}: user ${m} does not exist`);
    else if (!current.includes(m)) await addToGroup(ctx.tools, name, m);
  }
  return { ...(reason === undefined ? {} : { reason }), warnings };
}

async function authorizedKeys(ctx: Context, step: AuthorizedKeysStep): Promise<StepResult> {
  const u = await userEntry(ctx, step.user);
  if (!u.home.startsWith('/')) throw new InvalidArgument(`user ${step.user} has no absolute home directory in the root's /etc/passwd`, { subject: step.user });
  const sshDir = `${u.home.replace(/\/+$/, '')}/.ssh`;
  const file = `${sshDir}/authorized_keys`;
  // ssh_util.check_create_path: ~/.ssh 0700 owned by the user; StrictModes wants it so.
  await ctx.rootDir.ensureDir(sshDir, { mode: 0o700, uid: u.uid, gid: u.gid });
  // An authorized_keys that is a symlink is not read through (it could name any file of the
  // root, whose lines would be copied into a file the user owns); it is replaced.
  const st = await ctx.rootDir.lstat(file);
  const existing = isRegular(st) ? ((await ctx.rootDir.readText(file, { followFinal: false })) ?? '') : '';
  const content = updateAuthorizedKeys(existing, step.keys, step.options);
  await ctx.rootDir.writeFile(file, text(content), { mode: 0o600, uid: u.uid, gid: u.gid });
  return {};
}

function header(ctx: Context, base: 'Created' | 'Added'): string {
  // util.make_header, with our name.
  return `# ${base} by atomicd (cloud-init compatible) on ${timeRfc2822(ctx.now())}`;
}

async function sudoers(ctx: Context, step: SudoersStep): Promise<StepResult> {
  // distros.ensure_sudo_dir: /etc/sudoers must include /etc/sudoers.d.
  const base = await ctx.rootDir.readText(SUDOERS_BASE);
  const included = (base ?? '').split('\n').some((line) => {
    const m = /^[#@]includedir\s+(.*)$/.exec(line.trim());
    return m?.[1] !== undefined && m[1].trim().replace(/\/+$/, '') === SUDOERS_DIR;
  });
  if (base === undefined) {
    const lines = ['# See sudoers(5) for more information on "#include" directives:', '', header(ctx, 'Added'), `#includedir ${SUDOERS_DIR}`, ''];
    await ctx.rootDir.writeFile(SUDOERS_BASE, text(lines.join('\n')), { mode: 0o440, uid: 0, gid: 0 });
  } else if (!included) {
    const st = await ctx.rootDir.stat(SUDOERS_BASE);
    await ctx.rootDir.writeFile(SUDOERS_BASE, text(['', header(ctx, 'Added'), `#includedir ${SUDOERS_DIR}`, ''].join('\n')), { mode: (st?.mode ?? 0o440) & 0o7777, uid: st?.uid ?? 0, gid: st?.gid ?? 0, append: true });
  }
  await ctx.rootDir.ensureDir(SUDOERS_DIR, { mode: 0o750, uid: 0, gid: 0 });
  // distros.write_sudo_rules.
  const block = `${['', `# User rules for ${step.user}`, ...step.rules.map((r) => `${step.user} ${r}`)].join('\n')}\n`;
  const existing = await ctx.rootDir.readText(SUDOERS_FILE, { followFinal: false });
  if (existing === undefined) {
    await ctx.rootDir.writeFile(SUDOERS_FILE, text([header(ctx, 'Created'), block].join('\n')), { mode: 0o440, uid: 0, gid: 0 });
    return {};
  }
  // cloud-init appends on every run; the same block twice adds nothing, so we do not.
  if (existing.includes(block)) return { reason: `the rules for ${step.user} are already in ${SUDOERS_FILE}` };
  const st = await ctx.rootDir.lstat(SUDOERS_FILE);
  await ctx.rootDir.writeFile(SUDOERS_FILE, text(block), { mode: (st?.mode ?? 0o440) & 0o7777, uid: st?.uid ?? 0, gid: st?.gid ?? 0, append: true });
  return {};
}

async function writeHostnameFile(ctx: Context, path: string, hostname: string): Promise<void> {
  const old = await ctx.rootDir.readText(path);
  await ctx.rootDir.writeFile(path, text(setHostnameConf(old, hostname)), { mode: 0o644, uid: 0, gid: 0 });
}

/**
 * The kernel's hostname (sethostname(2) through procfs), what `hostname NAME` does: systemd read
 * /etc/hostname before provisioning ran, so without this the new name shows only after a reboot.
 */
async function setTransientHostname(ctx: Context, hostname: string): Promise<void> {
  if (ctx.kernelHostname === undefined) return;
  await writeHostFile(ctx.kernelHostname, hostname);
}

async function setHostname(ctx: Context, step: SetHostnameStep): Promise<StepResult> {
  const sysFile = '/etc/hostname';
  if (step.previousHostnameFile === undefined) {
    // distro.set_hostname; the transient name only on a live target, never on a root tree.
    await writeHostnameFile(ctx, sysFile, step.hostname);
    await setTransientHostname(ctx, step.hostname);
    return {};
  }
  // distro.update_hostname.
  const prevText = await ctx.rootDir.readText(step.previousHostnameFile);
  const prev = prevText === undefined ? undefined : readHostnameConf(prevText);
  const sysText = await ctx.rootDir.readText(sysFile);
  const sys = sysText === undefined ? undefined : readHostnameConf(sysText);
  if (sys !== undefined && prev !== undefined && sys !== prev) {
    return { reason: `${sysFile} (${sys}) differs from ${step.previousHostnameFile} (${prev}): the hostname is maintained by the user, left alone` };
  }
  const files: string[] = [];
  if (prev === undefined || prev !== step.hostname) files.push(step.previousHostnameFile);
  if (sys === undefined || (sys === prev && sys !== step.hostname)) files.push(sysFile);
  for (const f of files) await writeHostnameFile(ctx, f, step.hostname);
  if (files.includes(sysFile)) await setTransientHostname(ctx, step.hostname);
  return files.length === 0 ? { reason: `hostname already ${step.hostname}` } : {};
}

async function writeEtcHosts(ctx: Context, step: WriteEtcHostsStep): Promise<StepResult> {
  if (step.mode === 'template') {
    await ctx.rootDir.writeFile('/etc/hosts', text(renderEtcHostsTemplate(step.hostname, step.fqdn)), { mode: 0o644, uid: 0, gid: 0 });
    return {};
  }
  const old = await ctx.rootDir.readText('/etc/hosts');
  const next = updateEtcHostsLocalhost(old, step.hostname, step.fqdn, header(ctx, 'Added'));
  if (next === undefined) return { reason: `/etc/hosts already names ${step.fqdn} ${step.hostname}` };
  await ctx.rootDir.writeFile('/etc/hosts', text(next), { mode: 0o644, uid: 0, gid: 0 });
  return {};
}

async function setTimezone(ctx: Context, step: SetTimezoneStep): Promise<StepResult> {
  const zone = `${ZONEINFO}/${step.timezone}`;
  // distros._find_tz_file: the zone must exist in the root.
  if (!isRegular(await ctx.rootDir.stat(zone))) throw new NotFound(`invalid time zone ${step.timezone}: no file ${zone} in the root`, { subject: zone });
  await ctx.rootDir.writeFile('/etc/timezone', text(`${step.timezone.trimEnd()}\n`), { mode: 0o644, uid: 0, gid: 0 });
  // set_etc_timezone: a symlink when /etc/localtime is one or is missing, else a copy.
  const local = await ctx.rootDir.lstat('/etc/localtime');
  if (local === undefined || local.isSymbolicLink()) await ctx.rootDir.symlink('/etc/localtime', zone);
  else await ctx.rootDir.writeFile('/etc/localtime', (await ctx.rootDir.readFile(zone)) ?? new Uint8Array(0), { mode: 0o644, uid: 0, gid: 0 });
  return {};
}

function commandRun(command: string, r: CommandResult): CommandRun {
  return { command, exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated, durationMs: r.durationMs };
}

async function inRoot(ctx: Context, argv: readonly string[], env: Readonly<Record<string, string>>): Promise<CommandResult> {
  return runCommand('chroot', [ctx.rootDir.root, ...argv], { env: { ...COMMAND_ENV, ...env }, timeoutMs: ctx.runTimeoutMs, signal: ctx.signal, debianPackage: 'coreutils' });
}

async function run(ctx: Context, step: RunStep): Promise<StepResult> {
  if (step.command.kind === 'argv') {
    const argv = step.command.argv;
    if (argv.length === 0) throw new InvalidArgument('empty command');
    const r = await inRoot(ctx, argv, step.env);
    const runs = [commandRun(argv[0] ?? '', r)];
    return succeeded(r) ? { runs } : { runs, failed: `${step.purpose}: ${describeExit(r)}` };
  }
  // subp.runparts: sorted names, executable regular files only, every one run, failures counted.
  const dir = step.command.dir.replace(/\/+$/, '');
  const names = await ctx.rootDir.list(dir);
  if (names === undefined) return { reason: `no ${dir} in the root: nothing to run` };
  const runs: CommandRun[] = [];
  const failed: string[] = [];
  for (const name of [...names].sort()) {
    const path = `${dir}/${name}`;
    const st = await ctx.rootDir.stat(path);
    if (!isRegular(st) || (st.mode & 0o111) === 0) continue;
    if (ctx.signal?.aborted === true) break;
    const r = await inRoot(ctx, [path], step.env);
    runs.push(commandRun(path, r));
    if (!succeeded(r)) failed.push(`${name} (${describeExit(r)})`);
  }
  if (failed.length > 0) return { runs, failed: `${step.purpose}: ${failed.length} of ${runs.length} scripts failed: ${failed.join('; ')}` };
  return runs.length === 0 ? { runs, reason: `no executable scripts in ${dir}` } : { runs };
}

async function apply(ctx: Context, step: Step): Promise<StepResult> {
  switch (step.action) {
    case 'write-file':
      return writeFile(ctx, step);
    case 'ensure-group':
      return ensureGroup(ctx, step.name, step.members);
    case 'ensure-user': {
      const { passwd } = await accounts(ctx);
      // distros.add_user: an existing user is left as it is (cloud-init: "already exists, skipping").
      if (passwd.some((u) => u.name === step.name)) return { reason: `user ${step.name} exists; creation options not applied` };
      await useradd(ctx.tools, step);
      return {};
    }
    case 'set-password-hash':
      await setPasswordHash(ctx.tools, step.user, step.hash);
      return {};
    case 'lock-password': {
      // A user useradd just made without a password is locked already ('!'): usermod would
      // rewrite the databases unchanged, a process and several fsyncs for nothing.
      const [passwd, shadow] = await Promise.all([ctx.rootDir.readText('/etc/passwd'), ctx.rootDir.readText('/etc/shadow')]);
      if (passwordLocked(passwd ?? '', shadow ?? '', step.user)) return { reason: `the password of ${step.user} is already locked` };
      await lockPassword(ctx.tools, step.user);
      return {};
    }
    case 'expire-password':
      await expirePassword(ctx.tools, step.user);
      return {};
    case 'authorized-keys':
      return authorizedKeys(ctx, step);
    case 'sudoers':
      return sudoers(ctx, step);
    case 'set-hostname':
      return setHostname(ctx, step);
    case 'write-etc-hosts':
      return writeEtcHosts(ctx, step);
    case 'set-timezone':
      return setTimezone(ctx, step);
    case 'run':
      return run(ctx, step);
    case 'record':
      // Handed over by whoever reads the plan (container engine, update agent, orchestrator).
      return { reason: `recorded (${step.what})` };
  }
}

/** Read through a function: TypeScript would keep an earlier check's narrowing of `aborted`. */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function oneLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0] ?? m;
}

/** Apply `steps` to `target.root` in order; every step is tried, an abort cancels the rest. */
export async function executeSteps(steps: readonly Step[], target: ExecuteTarget, opts: ExecuteOptions = {}): Promise<StepOutcome[]> {
  const rootDir = await RootDir.open(target.root);
  const ctx: Context = {
    rootDir,
    tools: { root: rootDir.root, signal: opts.signal, timeoutMs: TOOL_TIMEOUT_MS },
    signal: opts.signal,
    runTimeoutMs: opts.runTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
    now: opts.now ?? (() => new Date()),
    kernelHostname: target.live === true ? (target.kernelHostnamePath ?? '/proc/sys/kernel/hostname') : undefined,
  };
  const outcomes: StepOutcome[] = [];
  // write-file steps leave their directory's fsync to here: consecutive files written into one
  // directory (write_files) share one fsync, done before any other kind of step runs and before
  // returning. The file itself is fsynced before its rename, as always. If that fsync fails,
  // every step whose rename it was to make durable fails.
  let unsynced: { dir: string; indexes: number[] } | undefined;
  const syncPending = async (): Promise<void> => {
    if (unsynced === undefined) return;
    const { dir, indexes } = unsynced;
    unsynced = undefined;
    try {
      await rootDir.syncDir(dir);
    } catch (e) {
      const error = isAtomicError(e) ? e : new Internal(oneLine(e), { cause: e });
      for (const i of indexes) {
        const o = outcomes[i];
        if (o !== undefined && o.status === 'ok') outcomes[i] = { ...o, status: 'failed', reason: oneLine(error), error };
      }
    }
  };
  for (const [index, step] of steps.entries()) {
    const base = { index, action: step.action, description: describeStep(step) };
    if (step.action !== 'write-file') await syncPending();
    if (aborted(opts.signal)) {
      outcomes.push({ ...base, status: 'cancelled', reason: 'cancelled before it started', warnings: [] });
      continue;
    }
    opts.log?.({ event: 'step-start', ...base });
    const started = Date.now();
    let outcome: StepOutcome;
    try {
      const r = await apply(ctx, step);
      if (r.unsyncedDir !== undefined) {
        if (unsynced !== undefined && unsynced.dir !== r.unsyncedDir) await syncPending();
        unsynced ??= { dir: r.unsyncedDir, indexes: [] };
        unsynced.indexes.push(index);
      }
      const extra = { warnings: r.warnings ?? [], ...(r.runs === undefined ? {} : { runs: r.runs }) };
      if (r.failed !== undefined) {
        const cancelled = aborted(opts.signal);
        outcome = { ...base, status: cancelled ? 'cancelled' : 'failed', reason: r.failed, error: cancelled ? new Cancelled(r.failed) : new Internal(r.failed), ...extra };
      } else outcome = { ...base, status: 'ok', ...(r.reason === undefined ? {} : { reason: r.reason }), ...extra };
    } catch (e) {
      const error = isAtomicError(e) ? e : new Internal(oneLine(e), { cause: e });
      outcome = { ...base, status: aborted(opts.signal) ? 'cancelled' : 'failed', reason: oneLine(error), error, warnings: [] };
    }
    outcomes.push(outcome);
    opts.log?.({ event: 'step-end', index, action: step.action, status: outcome.status, ...(outcome.reason === undefined ? {} : { reason: outcome.reason }), durationMs: Date.now() - started });
  }
  await syncPending();
  return outcomes;
}
