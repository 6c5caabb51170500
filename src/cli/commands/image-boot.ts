// atomic image boot DISK [--seed ISO] [--memory MB] [--cpus N] [--forward HOST:GUEST]...
//                        [--accel auto|kvm|tcg] [--snapshot | --overlay FILE] [--log FILE] [--stop-timeout S]
// Runs DISK under QEMU with OVMF and streams the serial console to standard output and a log file.
// On a terminal, keystrokes go to the guest (raw mode, Ctrl-C included); Ctrl-] stops the VM.
// Ctrl-C on a non-terminal, SIGTERM and SIGHUP stop it too: an ACPI powerdown, then QEMU is told
// to quit after --stop-timeout; a second stop request quits at once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVm, type PowerdownOutcome, type Vm } from '../../adapters/qemu/qemu-vm.js';
import { isAccelRequest } from '../../core/vm/choose-accel.js';
import { parseForward } from '../../core/vm/forward-spec.js';
import { DeadlineExceeded, Internal, InvalidArgument } from '../../lib/errors.js';

export interface ImageBootOptions {
  readonly seed?: string;
  readonly memory?: string;
  readonly cpus?: string;
  readonly forward?: readonly string[];
  readonly accel?: string;
  readonly snapshot?: boolean;
  readonly overlay?: string;
  readonly log?: string;
  readonly stopTimeout?: string;
}

/** Ctrl-] (GS), the detach key of telnet and virsh console. */
const DETACH_BYTE = 0x1d;

export async function run(disk: string, opts: ImageBootOptions): Promise<void> {
  const memoryMb = wholeNumber(opts.memory ?? '1024', '--memory', 64);
  const cpus = wholeNumber(opts.cpus ?? '1', '--cpus', 1);
  const stopTimeoutMs = wholeNumber(opts.stopTimeout ?? '60', '--stop-timeout', 0) * 1000;
  const forwards = (opts.forward ?? []).map((f) => parseForward(f, '--forward'));
  const accel = opts.accel ?? 'auto';
  if (!isAccelRequest(accel)) throw new InvalidArgument(`${JSON.stringify(accel)}: expected auto, kvm or tcg`, { subject: '--accel' });
  // The log outlives the VM (it is what one reads after a failed boot): a fresh temp dir, printed.
  const logDir = opts.log === undefined ? await mkdtemp(join(tmpdir(), 'atomic-boot-')) : undefined;
  const consoleLog = opts.log ?? join(logDir!, 'console.log');

  process.stdout.on('error', () => undefined); // a closed pipe (`| head`) must not kill the VM's supervisor
  const vm = await startVm({
    disk,
    ...(opts.seed === undefined ? {} : { seedIso: opts.seed }),
    memoryMb,
    cpus,
    accel,
    forwards,
    ...(opts.snapshot === true ? { snapshot: true } : {}),
    ...(opts.overlay === undefined ? {} : { overlayPath: opts.overlay }),
    consoleLog,
    onConsole: (chunk) => {
      if (process.stdout.writable) process.stdout.write(chunk);
    },
  }).catch(async (e: unknown) => {
    if (logDir !== undefined) await rm(logDir, { recursive: true, force: true });
    throw e;
  });
  const fwd = forwards.map((f) => ` 127.0.0.1:${f.hostPort}->${f.guestPort}`).join('');
  process.stderr.write(
    `atomic: booting ${disk} (${vm.accel.accel}: ${vm.accel.reason}; qemu pid ${vm.pid})${fwd === '' ? '' : `; forwards${fwd}`}\n` +
      `atomic: console log: ${consoleLog}\n` +
      (process.stdin.isTTY === true ? 'atomic: keys go to the guest; Ctrl-] stops the VM\n' : ''),
  );

  let powerdown: Promise<PowerdownOutcome> | undefined;
  let killed = false;
  const stop = (): void => {
    if (powerdown === undefined) {
      process.stderr.write(`\natomic: ACPI powerdown (QEMU quits after ${stopTimeoutMs / 1000} s; repeat to quit now)\n`);
      powerdown = vm.powerdown(stopTimeoutMs);
    } else {
      killed = true;
      void vm.kill();
    }
  };
  const detach = attachTerminal(vm, stop);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, stop);
  try {
    const exit = await vm.exited;
    const outcome = await powerdown;
    if (killed || (outcome !== undefined && outcome !== 'guest')) {
      throw new DeadlineExceeded(`the guest did not power off within ${stopTimeoutMs / 1000} s of the ACPI powerdown: QEMU was stopped`, { subject: disk });
    }
    if (exit.code !== 0) {
      throw new Internal(`QEMU exited with ${exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`}`, { subject: disk });
    }
  } finally {
    for (const s of signals) process.removeListener(s, stop);
    detach();
  }
}

/** Forward terminal keystrokes to the console in raw mode; Ctrl-] stops. Returns the undo. */
function attachTerminal(vm: Vm, stop: () => void): () => void {
  const stdin = process.stdin;
  if (stdin.isTTY !== true) return () => undefined;
  stdin.setRawMode(true);
  const onData = (chunk: Buffer): void => {
    const at = chunk.indexOf(DETACH_BYTE);
    const keys = at < 0 ? chunk : chunk.subarray(0, at);
    try {
      if (keys.length > 0) vm.writeConsole(keys.toString('utf8'));
    } catch {
      // the VM is gone; the exit is reported by run()
    }
    if (at >= 0) stop();
  };
  stdin.on('data', onData);
  stdin.resume();
  return () => {
    stdin.removeListener('data', onData);
    stdin.setRawMode(false);
    stdin.pause();
  };
}

function wholeNumber(s: string, flag: string, min: number): number {
  if (!/^[0-9]+$/.test(s) || Number(s) < min) throw new InvalidArgument(`${JSON.stringify(s)}: expected a whole number of at least ${min}`, { subject: flag });
  return Number(s);
}
