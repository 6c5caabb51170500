import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planQemuArgv, qemuOptValue, type QemuPlan } from '../../../../src/core/vm/qemu-argv.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

const PLAN: QemuPlan = {
  accel: 'tcg',
  memoryMb: 1024,
  cpus: 2,
  firmwareCode: '/usr/share/OVMF/OVMF_CODE_4M.fd',
  firmwareVars: '/tmp/vm/OVMF_VARS.fd',
  disk: { path: '/img/disk.qcow2', format: 'qcow2' },
  qmpSocket: '/tmp/vm/qmp.sock',
  forwards: [{ hostPort: 2222, guestPort: 22 }, { hostPort: 8443, guestPort: 443 }],
  guestForwards: [{ guestAddr: '10.0.2.100', guestPort: 8080, host: '127.0.0.1', hostPort: 18080 }],
  guestForwardCommand: ['/usr/bin/node', '/app/relay.js'],
};

/** The value following each occurrence of a flag. */
function values(argv: readonly string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));
}

test('q35, TCG with -cpu max, memory, cpus, no display, no default devices', () => {
  const argv = planQemuArgv(PLAN);
  assert.deepEqual(values(argv, '-machine'), ['q35']);
  assert.deepEqual(values(argv, '-accel'), ['tcg']);
  assert.deepEqual(values(argv, '-cpu'), ['max']);
  assert.deepEqual(values(argv, '-m'), ['1024']);
  assert.deepEqual(values(argv, '-smp'), ['2']);
  assert.deepEqual(values(argv, '-display'), ['none']);
  assert.ok(argv.includes('-nodefaults'));
  assert.ok(!argv.includes('-no-reboot'), 'guest reboots stay in the same QEMU process');
  assert.deepEqual(values(planQemuArgv({ ...PLAN, accel: 'kvm' }), '-cpu'), ['host']);
});

test('OVMF code read-only, the per-VM vars writable; disk on virtio-blk with the detected format', () => {
  const argv = planQemuArgv(PLAN);
  const drives = values(argv, '-drive');
  assert.ok(drives.includes('if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd'));
  assert.ok(drives.includes('if=pflash,format=raw,unit=1,file=/tmp/vm/OVMF_VARS.fd'));
  assert.ok(drives.some((d) => d.startsWith('if=none,id=disk0,format=qcow2,') && d.endsWith('file=/img/disk.qcow2')));
  assert.ok(values(argv, '-device').includes('virtio-blk-pci,drive=disk0,bootindex=1'));
  assert.ok(values(argv, '-device').includes('virtio-rng-pci'));
});

test('user networking restricted, hostfwd bound to 127.0.0.1 only, guestfwd through the relay command', () => {
  const argv = planQemuArgv(PLAN);
  const [netdev] = values(argv, '-netdev');
  const opts = netdev!.split(',');
  assert.equal(opts[0], 'user');
  assert.ok(opts.includes('restrict=on'));
  const hostfwd = opts.filter((o) => o.startsWith('hostfwd='));
  assert.deepEqual(hostfwd, ['hostfwd=tcp:127.0.0.1:2222-:22', 'hostfwd=tcp:127.0.0.1:8443-:443']);
  assert.deepEqual(opts.filter((o) => o.startsWith('guestfwd=')), ['guestfwd=tcp:10.0.2.100:8080-cmd:/usr/bin/node /app/relay.js 127.0.0.1 18080']);
  assert.ok(values(argv, '-device').includes('virtio-net-pci,netdev=net0,romfile=,bootindex=3'));
  const none = planQemuArgv({ ...PLAN, forwards: [], guestForwards: [] });
  assert.deepEqual(values(none, '-netdev'), ['user,id=net0,restrict=on']);
});

test('the seed is a CD on virtio-scsi (scsi-cd) with a boot index so OVMF connects it; absent without a seed', () => {
  const argv = planQemuArgv({ ...PLAN, seedIso: '/seeds/seed.iso' });
  assert.ok(values(argv, '-device').includes('virtio-scsi-pci,id=scsi0'));
  assert.ok(values(argv, '-drive').includes('if=none,id=seed0,media=cdrom,readonly=on,format=raw,file=/seeds/seed.iso'));
  assert.ok(values(argv, '-device').includes('scsi-cd,bus=scsi0.0,drive=seed0,bootindex=2'));
  const without = planQemuArgv(PLAN);
  assert.ok(!without.some((a) => a.includes('scsi') || a.includes('cdrom')));
});

test('serial console on the stdio chardev without signals; QMP on the unix socket without waiting', () => {
  const argv = planQemuArgv(PLAN);
  assert.deepEqual(values(argv, '-chardev'), ['stdio,id=con0,signal=off']);
  assert.deepEqual(values(argv, '-serial'), ['chardev:con0']);
  assert.deepEqual(values(argv, '-qmp'), ['unix:/tmp/vm/qmp.sock,server=on,wait=off']);
});

test('commas in paths are doubled for QEMU\'s option parser (a snapshot overlay in a dir with a comma)', () => {
  assert.equal(qemuOptValue('/a,b/c,,d'), '/a,,b/c,,,,d');
  const argv = planQemuArgv({ ...PLAN, disk: { path: '/tmp/x,y/overlay.qcow2', format: 'qcow2' } });
  assert.ok(values(argv, '-drive').some((d) => d.endsWith('file=/tmp/x,,y/overlay.qcow2')));
});

test('bad sizes, forwards and relay words are InvalidArgument', () => {
  assert.throws(() => planQemuArgv({ ...PLAN, memoryMb: 10 }), (e: unknown) => e instanceof InvalidArgument && e.subject === 'memoryMb');
  assert.throws(() => planQemuArgv({ ...PLAN, cpus: 0 }), (e: unknown) => e instanceof InvalidArgument && e.subject === 'cpus');
  assert.throws(() => planQemuArgv({ ...PLAN, forwards: [{ hostPort: 70000, guestPort: 22 }] }), InvalidArgument);
  assert.throws(() => planQemuArgv({ ...PLAN, guestForwardCommand: ['/usr/bin/node', '/my app/relay.js'] }), InvalidArgument);
});
