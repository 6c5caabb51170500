// The QEMU adapter and `atomic image boot` with real qemu-system-x86_64 + OVMF under TCG, booting
// small real disks: GPT + ESP + a standalone GRUB whose script talks on the serial console (see
// test/fixtures/grub-disk.ts). Every VM runs under a timeout that kills it, and each test checks
// that no QEMU process it started survives.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVm, type Vm, type VmOptions } from '../../src/adapters/qemu/qemu-vm.js';
import { Conflict, DeadlineExceeded, FailedPrecondition, InvalidArgument, NotFound, Unavailable } from '../../src/lib/errors.js';
import { makeGrubDisk, readEspFile } from '../fixtures/grub-disk.js';
import { CLI, runCli, runOk, tempDir } from '../helpers.js';
import { sha256File } from '../tree-snapshot.js';

/** OVMF to GRUB takes ~7 s under TCG here; a reboot doubles it. Generous for a loaded machine. */
const BOOT_MS = 90_000;
const TEST_MS = 240_000;

const started: number[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Start a VM that is killed when the test ends, whatever happened. */
async function boot(t: TestContext, opts: VmOptions): Promise<Vm> {
  const vm = await startVm(opts);
  started.push(vm.pid);
  t.after(async () => {
    await vm.kill();
    assert.ok(!alive(vm.pid), `qemu pid ${vm.pid} survived`);
  });
  return vm;
}

after(() => {
  const survivors = started.filter(alive);
  for (const pid of survivors) process.kill(pid, 'SIGKILL');
  assert.deepEqual(survivors, [], 'no QEMU process may outlive the tests');
});

function vmTempDirs(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith('atomic-vm-'));
}

const CONSOLE_SCRIPT = `echo ATOMIC-BOOT-MARKER
ls
echo -n "TYPE: "
read line
echo "GOT[$line]"
halt
`;

test('boots OVMF -> GRUB: marker on the console and in the log, the seed CD visible, keystrokes echoed, halt ends the VM', { timeout: TEST_MS }, async (t) => {
  const dir = tempDir(t);
  const disk = makeGrubDisk(dir, CONSOLE_SCRIPT);
  const userData = join(dir, 'user-data');
  writeFileSync(userData, '#cloud-config\nhostname: boot-test\n');
  const seed = join(dir, 'seed.iso');
  const made = runCli(['seed', 'create', '-o', seed, '--user-data', userData]);
  assert.equal(made.status, 0, made.stderr);
  const consoleLog = join(dir, 'console.log');
  const chunks: Buffer[] = [];
  const tempsBefore = new Set(vmTempDirs());

  const vm = await boot(t, { disk, seedIso: seed, memoryMb: 256, accel: 'auto', forwards: [{ hostPort: 0, guestPort: 22 }], consoleLog, onConsole: (c) => chunks.push(c) });
  assert.equal(vm.accel.accel, 'tcg', vm.accel.reason); // this machine kind: PVM, no vmx/svm
  assert.equal(vm.diskFormat, 'raw');
  const hostPort = vm.forwards[0]!.hostPort;
  assert.ok(hostPort > 0, 'port 0 was resolved to a free port');
  const fresh = vmTempDirs().filter((n) => !tempsBefore.has(n));
  assert.equal(fresh.length, 1, 'one temp dir for the VM');
  assert.equal(await vm.status(), 'running');

  await vm.waitForConsole(/ATOMIC-BOOT-MARKER/, { timeoutMs: BOOT_MS });
  const devices = await vm.waitForConsole(/\(memdisk\)[^\n]*\n/, { timeoutMs: 20_000 });
  assert.match(devices[0], /\(hd0,gpt1\)/, 'the disk with its ESP');
  assert.match(devices[0], /\(cd0\)/, 'the seed CD on virtio-scsi');
  await vm.waitForConsole(/TYPE: /, { timeoutMs: 20_000 });

  // The forward is listening, on loopback only, owned by this QEMU.
  const listening = runOk('ss', ['-ltnpH']).stdout.split('\n').filter((l) => l.includes(`pid=${vm.pid},`));
  // Columns: State Recv-Q Send-Q Local-Address:Port Peer-Address:Port Process.
  assert.deepEqual(listening.map((l) => l.trim().split(/\s+/)[3]), [`127.0.0.1:${hostPort}`], listening.join('\n'));

  // A pattern that never comes: a typed timeout carrying the console tail (cursor not moved).
  await assert.rejects(vm.waitForConsole(/NEVER-PRINTED/, { timeoutMs: 300 }), (e: unknown) =>
    e instanceof DeadlineExceeded && /NEVER-PRINTED/.test(e.message) && /TYPE:/.test(e.message));

  vm.writeConsole('hello vm\r');
  const got = await vm.waitForConsole(/GOT\[([^\]]*)\]/, { timeoutMs: 20_000 });
  assert.equal(got[1], 'hello vm');

  const exit = await vm.exited;
  assert.equal(exit.code, 0);
  assert.equal(exit.shutdownReason, 'guest-shutdown');
  assert.ok(!alive(vm.pid));
  assert.ok(!existsSync(join(tmpdir(), fresh[0]!)), 'the temp dir (vars, QMP socket) is removed');
  await assert.rejects(vm.waitForConsole(/NEVER-PRINTED/, { timeoutMs: 5000 }), Unavailable);
  assert.throws(() => vm.writeConsole('x'), FailedPrecondition);

  const log = readFileSync(consoleLog, 'utf8');
  assert.match(log, /ATOMIC-BOOT-MARKER/);
  assert.match(log, /GOT\[hello vm\]/);
  assert.equal(Buffer.concat(chunks).toString('utf8'), log, 'onConsole saw exactly what the log holds');
  assert.equal(vm.consoleText(), log);
});

const ENV_SCRIPT = `search --no-floppy --file --set=esp /EFI/BOOT/grubenv
load_env -f ($esp)/EFI/BOOT/grubenv
echo "BOOT[$runs]"
if [ -z "$runs" ]; then
  set runs=x
  save_env -f ($esp)/EFI/BOOT/grubenv runs
  reboot
fi
set runs="\${runs}x"
save_env -f ($esp)/EFI/BOOT/grubenv runs
echo "SAVED[$runs]"
halt
`;

test('snapshot overlay: guest writes and a guest reboot stay in the overlay (same QEMU), the base disk is byte-identical, a kept overlay continues', { timeout: TEST_MS }, async (t) => {
  const dir = tempDir(t);
  const disk = makeGrubDisk(dir, ENV_SCRIPT, { grubenv: true });
  const baseHash = await sha256File(disk);
  const overlay = join(dir, 'kept.qcow2');

  const first = await boot(t, { disk, overlayPath: overlay, memoryMb: 256, accel: 'tcg' });
  assert.equal(first.overlayPath, overlay);
  assert.equal(first.diskFormat, 'qcow2');
  await first.waitForConsole(/BOOT\[\]/, { timeoutMs: BOOT_MS });
  // GRUB saved runs=x and rebooted: the firmware and GRUB run again in the same process.
  await first.waitForConsole(/BOOT\[x\]/, { timeoutMs: BOOT_MS });
  await first.waitForConsole(/SAVED\[xx\]/, { timeoutMs: 20_000 });
  const exit1 = await first.exited;
  assert.equal(exit1.shutdownReason, 'guest-shutdown');
  assert.ok(first.qmpEvents().some((e) => e.event === 'RESET'), 'the reboot was a reset, not a new QEMU');
  assert.equal(await sha256File(disk), baseHash, 'the base disk is untouched');
  assert.ok(existsSync(overlay), 'the kept overlay outlives the VM');
  assert.match(runOk('qemu-img', ['info', overlay]).stdout, new RegExp(`backing file: ${disk.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

  // What the guest wrote is in the overlay: flatten it and read the ESP with mtools.
  const flat = join(dir, 'flat.raw');
  runOk('qemu-img', ['convert', '-O', 'raw', overlay, flat]);
  assert.match(readEspFile(flat, '/EFI/BOOT/grubenv'), /^runs=xx$/m);
  assert.doesNotMatch(readEspFile(disk, '/EFI/BOOT/grubenv'), /runs=/);

  // Stop/start: a new VM on the same overlay continues where the first left off.
  const second = await boot(t, { disk, overlayPath: overlay, memoryMb: 256, accel: 'tcg' });
  await second.waitForConsole(/BOOT\[xx\]/, { timeoutMs: BOOT_MS });
  await second.waitForConsole(/SAVED\[xxx\]/, { timeoutMs: 20_000 });
  await second.exited;
  assert.equal(await sha256File(disk), baseHash);

  // An overlay of another disk is refused before QEMU starts.
  const other = makeGrubDisk(dir, 'halt\n', { name: 'other' });
  await assert.rejects(startVm({ disk: other, overlayPath: overlay }), (e: unknown) => e instanceof InvalidArgument && e.subject === overlay);
});

test('powerdown: ACPI request through QMP, then quit when the guest (GRUB) ignores it; temp files and the process gone', { timeout: TEST_MS }, async (t) => {
  const dir = tempDir(t);
  const disk = makeGrubDisk(dir, 'echo READY-FOR-POWERDOWN\nsleep 600\nhalt\n');
  const baseHash = await sha256File(disk);
  const before = new Set(vmTempDirs());
  const vm = await boot(t, { disk, snapshot: true, memoryMb: 256, accel: 'tcg' });
  const overlayDir = vmTempDirs().filter((n) => !before.has(n));
  assert.equal(overlayDir.length, 1);
  assert.ok(vm.overlayPath !== undefined && vm.overlayPath.startsWith(join(tmpdir(), overlayDir[0]!)), 'the snapshot overlay lives in the VM temp dir');
  await vm.waitForConsole(/READY-FOR-POWERDOWN/, { timeoutMs: BOOT_MS });
  const outcome = await vm.powerdown(1500);
  assert.equal(outcome, 'quit');
  assert.ok(vm.qmpEvents().some((e) => e.event === 'POWERDOWN'), 'QEMU delivered the ACPI power button');
  const exit = await vm.exited;
  assert.equal(exit.shutdownReason, 'host-qmp-quit');
  assert.ok(!alive(vm.pid));
  assert.ok(!existsSync(vm.overlayPath), 'the temporary overlay is removed');
  assert.equal(await sha256File(disk), baseHash);
});

test('abort signal: the VM is stopped and cleaned up', { timeout: TEST_MS }, async (t) => {
  const dir = tempDir(t);
  const disk = makeGrubDisk(dir, 'sleep 600\n');
  const ac = new AbortController();
  const before = new Set(vmTempDirs());
  const vm = await boot(t, { disk, memoryMb: 256, accel: 'tcg', signal: ac.signal });
  ac.abort();
  const exit = await vm.exited;
  assert.ok(exit.shutdownReason === 'host-qmp-quit' || exit.signal === 'SIGKILL', JSON.stringify(exit));
  assert.ok(!alive(vm.pid));
  assert.deepEqual(vmTempDirs().filter((n) => !before.has(n)), []);
});

test('guestfwd: the guest reaches a loopback HTTP service of the host at 10.0.2.100 (GRUB net_bootp + http through slirp)', { timeout: TEST_MS }, async (t) => {
  const dir = tempDir(t);
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(req.url ?? '');
    res.end(req.url === '/hello.txt' ? 'GUESTFWD-PAYLOAD-42\n' : 'nope\n');
  });
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const disk = makeGrubDisk(dir, `net_bootp
echo "HTTP-BEGIN"
cat (http,10.0.2.100:8080)/hello.txt
echo "HTTP-END"
halt
`);
  const vm = await boot(t, { disk, memoryMb: 256, accel: 'tcg', guestForwards: [{ guestAddr: '10.0.2.100', guestPort: 8080, host: '127.0.0.1', hostPort: port }] });
  const body = await vm.waitForConsole(/HTTP-BEGIN([\s\S]*?)HTTP-END/, { timeoutMs: BOOT_MS });
  assert.match(body[1]!, /GUESTFWD-PAYLOAD-42/);
  assert.deepEqual(requests, ['/hello.txt']);
  assert.equal((await vm.exited).shutdownReason, 'guest-shutdown');
});

test('bad input is refused before QEMU starts: missing disk, a non-disk file, a non-ISO seed, a busy host port, kvm on this host', { timeout: TEST_MS }, async (t) => {
  const dir = tempDir(t);
  const before = new Set(vmTempDirs());
  const missing = join(dir, 'nope.raw');
  await assert.rejects(startVm({ disk: missing }), (e: unknown) => e instanceof NotFound && e.subject === missing);
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'not a disk\n'.repeat(100));
  await assert.rejects(startVm({ disk: text }), (e: unknown) => e instanceof InvalidArgument && e.subject === text && /not a disk image/.test(e.message));
  const disk = makeGrubDisk(dir, 'halt\n');
  await assert.rejects(startVm({ disk, seedIso: text }), (e: unknown) => e instanceof InvalidArgument && e.subject === text);

  const busy: Server = createServer();
  await new Promise<void>((r) => busy.listen({ host: '127.0.0.1', port: 0 }, r));
  t.after(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const consoleLog = join(dir, 'busy.log');
  await assert.rejects(startVm({ disk, forwards: [{ hostPort: port, guestPort: 22 }], consoleLog }), (e: unknown) => e instanceof Conflict && e.message.includes(String(port)));
  assert.ok(!existsSync(consoleLog), 'no log left behind by a refused start');

  const keep = join(dir, 'keep.log');
  writeFileSync(keep, 'an earlier run\n');
  await assert.rejects(startVm({ disk, memoryMb: 10, consoleLog: keep }), (e: unknown) => e instanceof InvalidArgument && e.subject === 'memoryMb');
  assert.equal(readFileSync(keep, 'utf8'), 'an earlier run\n', 'a refused start leaves an existing log alone');

  await assert.rejects(startVm({ disk, accel: 'kvm' }), (e: unknown) => e instanceof FailedPrecondition && /PVM|vmx or svm/.test(e.message));
  await assert.rejects(startVm({ disk, firmware: { code: join(dir, 'CODE.fd'), vars: join(dir, 'VARS.fd') } }), NotFound);
  assert.deepEqual(vmTempDirs().filter((n) => !before.has(n)), [], 'no temp dir left behind');
});

test('CLI: atomic image boot streams the console to stdout and --log, exit 0 when the guest powers off', { timeout: TEST_MS }, async (t) => {
  const dir = tempDir(t);
  const disk = makeGrubDisk(dir, 'echo CLI-BOOT-MARKER\nhalt\n');
  const log = join(dir, 'cli.log');
  const r = await runCliWithTimeout(['image', 'boot', disk, '--memory', '256', '--log', log], BOOT_MS);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /CLI-BOOT-MARKER/);
  assert.match(readFileSync(log, 'utf8'), /CLI-BOOT-MARKER/);
  assert.match(r.stderr, /console log: /);
  assert.ok(!alive(qemuPidOf(r.stderr)));
});

test('CLI: SIGTERM asks for an ACPI powerdown, then stops QEMU after --stop-timeout (exit 1, nothing left running)', { timeout: TEST_MS }, async (t) => {
  const dir = tempDir(t);
  const disk = makeGrubDisk(dir, 'echo CLI-WAITING\nsleep 600\n');
  const child = spawn(process.execPath, [CLI, 'image', 'boot', disk, '--memory', '256', '--stop-timeout', '1', '--snapshot'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), BOOT_MS);
  t.after(() => clearTimeout(killer));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('CLI-WAITING')) resolve();
    });
    child.on('close', () => reject(new Error(`the CLI ended before the guest printed its marker\n${stderr}`)));
  });
  const qemuPid = qemuPidOf(stderr);
  started.push(qemuPid);
  child.kill('SIGTERM');
  const code = await closed;
  assert.equal(code, 1, stderr);
  assert.match(stderr, /ACPI powerdown/);
  assert.match(stderr, /did not power off within 1 s/);
  assert.ok(!alive(qemuPid), 'QEMU is gone');
});

test('CLI on a terminal (a pty from script(1)): keystrokes reach the guest in raw mode, Ctrl-] stops the VM', { timeout: TEST_MS }, async (t) => {
  const dir = tempDir(t);
  const disk = makeGrubDisk(dir, 'echo -n "TYPE: "\nread line\necho "GOT[$line]"\nsleep 600\n');
  const command = [process.execPath, CLI, 'image', 'boot', disk, '--memory', '256', '--stop-timeout', '1'].map(shellQuote).join(' ');
  // script -e: exit with the command's code; the command's stdin/stdout are the pty.
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), BOOT_MS * 2);
  t.after(() => clearTimeout(killer));
  let out = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    for (const w of [...waiters]) if (w.re.test(out)) w.resolve();
  });
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const seen = (re: RegExp): Promise<void> =>
    Promise.race([
      new Promise<void>((resolve) => (re.test(out) ? resolve() : waiters.push({ re, resolve }))),
      closed.then(() => Promise.reject(new Error(`the CLI ended before ${String(re)}:\n${out}`))),
    ]);
  await seen(/TYPE: /);
  const qemuPid = qemuPidOf(out);
  started.push(qemuPid);
  child.stdin.write('typed in a tty\r');
  await seen(/GOT\[typed in a tty\]/);
  child.stdin.write('\x1d');
  assert.equal(await closed, 1, out);
  assert.match(out, /Ctrl-\] stops the VM/);
  assert.match(out, /ACPI powerdown/);
  assert.ok(!alive(qemuPid), 'QEMU is gone');
});

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

test('CLI: a non-disk file and bad flags exit 2 naming them; --accel kvm on this PVM host exits 1 with the reason', { timeout: TEST_MS }, (t) => {
  const dir = tempDir(t);
  const text = join(dir, 'readme.txt');
  writeFileSync(text, 'hello\n');
  const notDisk = runCli(['image', 'boot', text]);
  assert.equal(notDisk.status, 2);
  assert.match(notDisk.stderr, new RegExp(`^atomic: ${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a disk image`));
  const missing = runCli(['image', 'boot', join(dir, 'missing.qcow2')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /missing\.qcow2: .*no such file/);
  const disk = makeGrubDisk(dir, 'halt\n');
  const badForward = runCli(['image', 'boot', disk, '--forward', '2222']);
  assert.equal(badForward.status, 2);
  assert.match(badForward.stderr, /^atomic: --forward: "2222"/);
  const wide = runCli(['image', 'boot', disk, '--forward', '0.0.0.0:2222:22']);
  assert.equal(wide.status, 2);
  assert.match(wide.stderr, /127\.0\.0\.1 only/);
  const badAccel = runCli(['image', 'boot', disk, '--accel', 'hvf']);
  assert.equal(badAccel.status, 2);
  const kvm = runCli(['image', 'boot', disk, '--accel', 'kvm']);
  assert.equal(kvm.status, 1);
  assert.match(kvm.stderr, /^atomic: --accel kvm: KVM cannot be used: .*(PVM|no vmx or svm)/);
});

function qemuPidOf(stderr: string): number {
  const m = /qemu pid (\d+)/.exec(stderr);
  assert.ok(m !== null, `the CLI prints the QEMU pid: ${stderr}`);
  return Number(m[1]);
}

function runCliWithTimeout(args: string[], timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
