// One VM under qemu-system-x86_64, driven the way tests and `atomic image boot` need: the serial
// console read and written through QEMU's stdio, QMP on a unix socket for ACPI powerdown, quit
// and status, guest reboots inside the same QEMU process (no -no-reboot: tests reboot into a new
// deployment), and every child and temp file gone when the VM ends or the caller aborts.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { constants, createWriteStream, type WriteStream } from 'node:fs';
import { access, copyFile, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { chooseAccel, type AccelChoice, type AccelRequest } from '../../core/vm/choose-accel.js';
import { checkForwards, type GuestForward, type PortForward } from '../../core/vm/forward-spec.js';
import { DEFAULT_CPUS, DEFAULT_MEMORY_MB, checkVmSize, planQemuArgv, type DiskFormat } from '../../core/vm/qemu-argv.js';
import { IMAGE_SNIFF_BYTES, sniffImageKind } from '../../formats/image-kind.js';
import {
  AtomicError, Cancelled, Conflict, DeadlineExceeded, FailedPrecondition, Internal, InvalidArgument, Unavailable, fromSystemError,
} from '../../lib/errors.js';
import { runTool } from '../process/run-tool.js';
import { probeAccel } from './accel-probe.js';
import { canonicalPath, inspectDiskImage } from './disk-image-info.js';
import { findFirmware, type Firmware } from './ovmf-firmware.js';
import { QmpClient, type QmpEvent } from './qmp-client.js';

export interface VmOptions {
  /** Raw or qcow2 boot disk (the format is asked of qemu-img). */
  readonly disk: string;
  /** Attached as a CD-ROM on virtio-scsi (the guest sees /dev/sr0 with the ISO's label). */
  readonly seedIso?: string;
  readonly memoryMb?: number;
  readonly cpus?: number;
  readonly accel?: AccelRequest;
  /** hostfwd, bound to 127.0.0.1 only; hostPort 0 picks a free port (see Vm.forwards). */
  readonly forwards?: readonly PortForward[];
  /** guestfwd: the guest reaches a host service at guestAddr:guestPort (e.g. 10.0.2.100:8080). */
  readonly guestForwards?: readonly GuestForward[];
  /** Write to a qcow2 overlay backed by `disk`, leaving the disk itself untouched. */
  readonly snapshot?: boolean;
  /**
   * The overlay file (implies snapshot). Created when missing, reused when it exists (it must be
   * a qcow2 backed by `disk`), and kept after the VM ends, so a later VM continues from it.
   * Without it a snapshot overlay lives in the VM's temp dir and goes with it.
   */
  readonly overlayPath?: string;
  /** The serial console is also written to this file (truncated first). */
  readonly consoleLog?: string;
  /** Called with every chunk of serial console output as it arrives. */
  readonly onConsole?: (chunk: Buffer) => void;
  /** Default: Debian's OVMF 4M code + vars; the vars are copied to a per-VM file. */
  readonly firmware?: Firmware;
  /** Aborting kills the VM (QMP quit, then SIGKILL) and cleans up. */
  readonly signal?: AbortSignal;
  /** Until QMP answers; default 30 s. */
  readonly startTimeoutMs?: number;
  readonly qemuBinary?: string;
}

export interface VmExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** QMP's SHUTDOWN reason: 'guest-shutdown', 'host-qmp-quit', 'host-signal', ... */
  readonly shutdownReason?: string;
}

/** How powerdown ended: the guest powered off, QEMU was told to quit, or it was killed. */
export type PowerdownOutcome = 'guest' | 'quit' | 'killed';

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface Vm {
  readonly pid: number;
  readonly accel: AccelChoice;
  /** The qemu-system-x86_64 arguments (for logs and bug reports). */
  readonly argv: readonly string[];
  readonly diskFormat: DiskFormat;
  /** The forwards with the host ports actually used (hostPort 0 resolved). */
  readonly forwards: readonly PortForward[];
  /** The overlay the guest writes to (snapshot mode), else undefined. */
  readonly overlayPath: string | undefined;
  /**
   * Search the console output after the previous match (a cursor) for `pattern`; moves the
   * cursor past the match. Rejects with DeadlineExceeded on timeout, Unavailable when the VM
   * exits first, Cancelled on abort; the message ends with the console's tail. Output arrives in
   * chunks: a pattern meant to take a whole line should end in `\n` (`/login: /` is fine,
   * `/^Welcome.*$/m` may match half a line). Serial lines end in "\r\n".
   */
  waitForConsole(pattern: RegExp, opts: WaitOptions): Promise<RegExpMatchArray>;
  /** Keystrokes for the serial console (Enter is '\r' on a serial line). */
  writeConsole(text: string): void;
  /** The console output so far (the last 32 MiB of it). */
  consoleText(): string;
  /** QMP query-status: 'running', 'paused', 'shutdown', ... */
  status(): Promise<string>;
  /** QMP events seen so far (POWERDOWN, RESET, SHUTDOWN, ...). */
  qmpEvents(): readonly QmpEvent[];
  /** ACPI powerdown, then QMP quit after timeoutMs (default 60 s), then SIGKILL. */
  powerdown(timeoutMs?: number): Promise<PowerdownOutcome>;
  /** Stop now: QMP quit (the overlay is flushed), SIGKILL if QEMU does not go within 5 s. */
  kill(): Promise<void>;
  /** Resolves once QEMU has exited and the VM's temp files are removed. */
  readonly exited: Promise<VmExit>;
}

const CONSOLE_KEEP_CHARS = 32 * 1024 * 1024;
const QUIT_GRACE_MS = 5000;
const TAIL_CHARS = 3000;

export async function startVm(opts: VmOptions): Promise<Vm> {
  if (opts.signal?.aborted === true) throw new Cancelled('the VM start was cancelled');
  const guestForwards = opts.guestForwards ?? [];
  // Port 0 is resolved here; the small window until QEMU binds it is caught by QEMU's own error.
  const forwards: PortForward[] = [];
  for (const f of opts.forwards ?? []) forwards.push(f.hostPort === 0 ? { ...f, hostPort: await pickFreePort() } : f);
  checkForwards(forwards, guestForwards);
  const memoryMb = opts.memoryMb ?? DEFAULT_MEMORY_MB;
  const cpus = opts.cpus ?? DEFAULT_CPUS;
  checkVmSize(memoryMb, cpus);
  const base = await inspectDiskImage(opts.disk, opts.signal === undefined ? {} : { signal: opts.signal });
  if (opts.seedIso !== undefined) await checkSeedIso(opts.seedIso);
  const firmware = await findFirmware(opts.firmware);
  const accel = chooseAccel(opts.accel ?? 'auto', await probeAccel());
  for (const f of forwards) await checkPortFree(f.hostPort);
  if (opts.consoleLog !== undefined) {
    await open(opts.consoleLog, 'w').then((fh) => fh.close(), (e: unknown) => {
      throw fromSystemError(e, opts.consoleLog!, 'creating the console log');
    });
  }

  const dir = await mkdtemp(join(tmpdir(), 'atomic-vm-'));
  let createdOverlay: string | undefined;
  try {
    const vars = join(dir, 'OVMF_VARS.fd');
    await copyFile(firmware.vars, vars);
    let disk: { path: string; format: DiskFormat } = { path: resolve(base.path), format: base.format };
    let overlayPath: string | undefined;
    if (opts.snapshot === true || opts.overlayPath !== undefined) {
      overlayPath = opts.overlayPath === undefined ? join(dir, 'overlay.qcow2') : resolve(opts.overlayPath);
      if (await prepareOverlay(overlayPath, disk.path, base.format, opts.signal)) createdOverlay = overlayPath;
      disk = { path: overlayPath, format: 'qcow2' };
    }
    const qmpSocket = join(dir, 'qmp.sock');
    const relay = fileURLToPath(new URL('./guestfwd-relay.js', import.meta.url));
    const argv = planQemuArgv({
      accel: accel.accel,
      memoryMb,
      cpus,
      firmwareCode: firmware.code,
      firmwareVars: vars,
      disk,
      seedIso: opts.seedIso === undefined ? undefined : resolve(opts.seedIso),
      qmpSocket,
      forwards,
      guestForwards,
      guestForwardCommand: [process.execPath, relay],
    });
    return await launch(opts, argv, dir, qmpSocket, accel, disk.format, overlayPath, forwards);
  } catch (e) {
    // Nothing half-made stays behind: the temp dir, an overlay this call created, the empty log.
    await rm(dir, { recursive: true, force: true });
    if (createdOverlay !== undefined) await rm(createdOverlay, { force: true });
    if (opts.consoleLog !== undefined) await rm(opts.consoleLog, { force: true });
    throw e;
  }
}

async function checkSeedIso(path: string): Promise<void> {
  const fh = await open(path, 'r').catch((e: unknown) => {
    throw fromSystemError(e, path, 'opening the seed');
  });
  try {
    const head = Buffer.alloc(IMAGE_SNIFF_BYTES);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const kind = sniffImageKind(head.subarray(0, bytesRead));
    if (kind !== 'iso9660') {
      throw new InvalidArgument(`the seed must be an ISO 9660 image (atomic seed create --format iso), not ${kind ?? 'an unknown kind of file'}`, { subject: path });
    }
  } finally {
    await fh.close();
  }
}

/** A TCP port free on 127.0.0.1 right now (the kernel's choice). */
export async function pickFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', (e) => reject(fromSystemError(e, '127.0.0.1:0', 'finding a free port')));
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Fail early and clearly when a forwarded host port is taken (QEMU's own message is obscure). */
async function checkPortFree(port: number): Promise<void> {
  await new Promise<void>((resolvePort, reject) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new Conflict(`host port ${port} is already in use on 127.0.0.1`, { subject: `forward ${port}`, cause: e }));
      else reject(fromSystemError(e, `127.0.0.1:${port}`, 'binding the forwarded port'));
    });
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolvePort()));
  });
}

/** Reuse a matching overlay or create one; true when created. */
async function prepareOverlay(overlay: string, backing: string, backingFormat: DiskFormat, signal: AbortSignal | undefined): Promise<boolean> {
  const exists = await stat(overlay).then(() => true, () => false);
  if (exists) {
    const info = await inspectDiskImage(overlay, signal === undefined ? {} : { signal });
    const want = await canonicalPath(backing);
    const have = info.backingFile === undefined ? undefined : await canonicalPath(info.backingFile);
    if (info.format !== 'qcow2' || have !== want) {
      throw new InvalidArgument(`the overlay is not a qcow2 backed by ${backing} (backing file: ${info.backingFile ?? 'none'})`, { subject: overlay });
    }
    return false;
  }
  await runTool('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', backingFormat, '-b', backing, overlay], {
    debianPackage: 'qemu-utils', ...(signal === undefined ? {} : { signal }),
  });
  return true;
}

type QemuChild = ChildProcessByStdio<Writable, Readable, Readable>;

async function launch(
  opts: VmOptions, argv: string[], dir: string, qmpSocket: string, accel: AccelChoice, diskFormat: DiskFormat, overlayPath: string | undefined,
  forwards: readonly PortForward[],
): Promise<Vm> {
  const qemu = opts.qemuBinary ?? 'qemu-system-x86_64';
  // setpriv --pdeathsig: QEMU gets SIGKILL if we die without cleaning up (a crashed test runner
  // must not leave VMs behind). util-linux is essential on Debian; fall back when it is absent.
  const haveSetpriv = await access('/usr/bin/setpriv', constants.X_OK).then(() => true, () => false);
  const [cmd, args] = haveSetpriv ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', qemu, ...argv]] : [qemu, argv];
  const child: QemuChild = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new Unavailable(`${qemu} is not installed (Debian package qemu-system-x86; scripts/setup installs it)`, { cause: e }) : new Internal(`cannot start ${qemu}: ${e.message}`, { cause: e }));
    });
  });
  spawnError.catch(() => undefined);

  const log: WriteStream | undefined = opts.consoleLog === undefined ? undefined : createWriteStream(opts.consoleLog, { flags: 'w' });
  log?.on('error', () => undefined); // a full disk must not take the VM down; the text is still in memory
  const decoder = new StringDecoder('utf8');
  let text = '';
  let cursor = 0;
  const wakeups = new Set<() => void>();
  let stderr = '';
  let shutdownReason: string | undefined;
  const events: QmpEvent[] = [];
  let qmp: QmpClient | undefined;
  let done = false;

  child.stdout.on('data', (chunk: Buffer) => {
    log?.write(chunk);
    opts.onConsole?.(chunk);
    text += decoder.write(chunk);
    if (text.length > CONSOLE_KEEP_CHARS) {
      const drop = text.length - CONSOLE_KEEP_CHARS / 2;
      text = text.slice(drop);
      cursor = Math.max(0, cursor - drop);
    }
    for (const w of [...wakeups]) w();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-16 * 1024);
  });
  child.stdin.on('error', () => undefined); // EPIPE after QEMU exited

  const exited = new Promise<VmExit>((resolveExit) => {
    child.once('close', (code, sig) => {
      void (async () => {
        done = true;
        text += decoder.end();
        qmp?.close();
        opts.signal?.removeEventListener('abort', onAbort);
        await new Promise<void>((r) => (log === undefined ? r() : log.end(() => r())));
        await rm(dir, { recursive: true, force: true });
        for (const w of [...wakeups]) w();
        resolveExit({ code, signal: sig, ...(shutdownReason === undefined ? {} : { shutdownReason }) });
      })();
    });
  });

  const killHard = (): void => {
    if (!done) child.kill('SIGKILL');
  };
  const quit = async (): Promise<void> => {
    if (done) {
      await exited;
      return;
    }
    try {
      await withTimeout(qmp?.execute('quit') ?? Promise.resolve(), QUIT_GRACE_MS);
    } catch {
      // QEMU may close QMP before answering quit; the exit below is what counts.
    }
    if (!(await exitsWithin(exited, QUIT_GRACE_MS))) killHard();
    await exited;
  };
  const onAbort = (): void => void quit();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    qmp = await Promise.race([connectQmp(qmpSocket, exited, opts.startTimeoutMs ?? 30_000), spawnError]);
  } catch (e) {
    killHard();
    await exited.catch(() => undefined);
    if (e instanceof AtomicError && e.code !== 'Unavailable') throw e;
    throw startFailure(qemu, stderr, e);
  }
  if (opts.signal?.aborted === true) {
    await quit();
    throw new Cancelled('the VM start was cancelled');
  }
  qmp.onEvent((ev) => {
    events.push(ev);
    if (ev.event === 'SHUTDOWN' && typeof ev.data.reason === 'string') shutdownReason = ev.data.reason;
  });

  const tail = (): string => {
    // eslint-disable-next-line no-control-regex
    const clean = text.slice(-TAIL_CHARS * 2).replace(/\x1b\[[0-9;=?]*[A-Za-z]/g, '').replace(/\r/g, '');
    return clean.slice(-TAIL_CHARS);
  };

  const vm: Vm = {
    pid: child.pid!,
    accel,
    argv,
    diskFormat,
    forwards,
    overlayPath,
    waitForConsole(pattern, wopts) {
      const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
      return new Promise<RegExpMatchArray>((resolveWait, reject) => {
        if (wopts.signal?.aborted === true) {
          reject(new Cancelled(`waiting for ${String(pattern)} on the serial console was cancelled`));
          return;
        }
        const finish = (): void => {
          wakeups.delete(check);
          clearTimeout(timer);
          wopts.signal?.removeEventListener('abort', onWaitAbort);
        };
        const check = (): void => {
          const m = re.exec(text.slice(cursor));
          if (m !== null) {
            cursor += m.index + m[0].length;
            finish();
            resolveWait(m);
          } else if (done) {
            finish();
            void exited.then((x) =>
              reject(new Unavailable(`the VM exited (${describeExit(x)}) before ${String(pattern)} appeared on the serial console\n--- console tail ---\n${tail()}`)),
            );
          }
        };
        const onWaitAbort = (): void => {
          finish();
          reject(new Cancelled(`waiting for ${String(pattern)} on the serial console was cancelled`));
        };
        const timer = setTimeout(() => {
          finish();
          reject(new DeadlineExceeded(`${String(pattern)} did not appear on the serial console within ${wopts.timeoutMs} ms\n--- console tail ---\n${tail()}`));
        }, wopts.timeoutMs);
        wakeups.add(check);
        wopts.signal?.addEventListener('abort', onWaitAbort, { once: true });
        check();
      });
    },
    writeConsole(s) {
      if (done) throw new FailedPrecondition('the VM has exited: nothing reads the serial console');
      child.stdin.write(s);
    },
    consoleText: () => text,
    async status() {
      if (done || qmp === undefined) return 'exited';
      const r = (await qmp.execute('query-status')) as { status?: string };
      return r.status ?? 'unknown';
    },
    qmpEvents: () => [...events],
    async powerdown(timeoutMs = 60_000) {
      if (done) return 'guest';
      try {
        await qmp!.execute('system_powerdown');
      } catch {
        // QEMU went away meanwhile: the exit decides below.
      }
      if (await exitsWithin(exited, timeoutMs)) return 'guest';
      try {
        await withTimeout(qmp!.execute('quit'), QUIT_GRACE_MS);
      } catch {
        // see quit()
      }
      if (await exitsWithin(exited, QUIT_GRACE_MS)) return 'quit';
      killHard();
      await exited;
      return 'killed';
    },
    kill: quit,
    exited,
  };
  return vm;
}

function describeExit(x: VmExit): string {
  const how = x.signal !== null ? `signal ${x.signal}` : `code ${x.code}`;
  return x.shutdownReason === undefined ? how : `${how}, ${x.shutdownReason}`;
}

/** QEMU's own words when it fails to start, mapped into the taxonomy. */
function startFailure(qemu: string, stderr: string, cause: unknown): AtomicError {
  const words = stderr.trim().split('\n').slice(-4).join('; ').replace(/^qemu-system-x86_64: /gm, '');
  if (/host forwarding rule/i.test(stderr)) return new Conflict(`QEMU could not set up a port forward (port in use?): ${words}`, { cause });
  if (/Failed to get "write" lock/i.test(stderr)) return new Conflict(`the disk is in use by another VM: ${words}`, { cause });
  return new Internal(`${qemu} failed to start: ${words || (cause instanceof Error ? cause.message : String(cause))}`, { cause });
}

async function connectQmp(path: string, exited: Promise<VmExit>, timeoutMs: number): Promise<QmpClient> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited.then(() => (gone = true));
  while (true) {
    if (gone) throw new Unavailable('QEMU exited during start-up');
    try {
      return await QmpClient.connect(path);
    } catch (e) {
      if (Date.now() > deadline) throw new DeadlineExceeded(`QEMU did not answer on its QMP socket within ${timeoutMs} ms`, { cause: e });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function exitsWithin(exited: Promise<VmExit>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([exited.then(() => true), new Promise<boolean>((res) => (timer = setTimeout(() => res(false), ms)))]);
  clearTimeout(timer);
  return r;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, rej) => (timer = setTimeout(() => rej(new DeadlineExceeded(`no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
