import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkKargs, defaultKargs, ROOT_FS_LABEL } from '../../../../src/core/image/boot-kargs.js';
import { elfIdentity } from '../../../../src/core/image/elf-machine.js';
import { renderInitramfsInit } from '../../../../src/core/image/initramfs-init.js';
import { moduleName, parseModulesDep, resolveModuleLoadOrder } from '../../../../src/core/image/module-load-order.js';
import { renderOsRelease } from '../../../../src/core/image/os-release.js';
import { agentUnit, ENABLED_UNITS, fstab, osUnits, provisionUnit, repartRoot } from '../../../../src/core/image/os-units.js';
import { checkTreeFilePath, renderTmpfilesConf, TOPLEVEL_SYMLINKS } from '../../../../src/core/image/ostree-layout.js';
import { productionPackages } from '../../../../src/core/image/production-packages.js';
import { encodeCpioNewc } from '../../../../src/formats/cpio/cpio-newc.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

// A modules.dep excerpt as depmod writes it for Debian's 6.1 cloud kernel.
const DEP = `kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio.ko:
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/scsi/virtio_scsi.ko: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/scsi/scsi_mod.ko: kernel/drivers/scsi/scsi_common.ko
kernel/drivers/scsi/scsi_common.ko:
kernel/drivers/scsi/sr_mod.ko: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko kernel/drivers/cdrom/cdrom.ko
kernel/drivers/cdrom/cdrom.ko:
kernel/drivers/block/xen-blkfront.ko:
`;
const BUILTIN = 'kernel/fs/ext4/ext4.ko\nkernel/fs/jbd2/jbd2.ko\nkernel/drivers/nvme/host/nvme.ko\n';

test('modules.dep: dependencies load first, each module once, builtins need nothing', () => {
  const dep = parseModulesDep(DEP);
  const r = resolveModuleLoadOrder(dep, BUILTIN, ['virtio_pci', 'virtio_blk', 'virtio_scsi', 'sr_mod', 'nvme', 'ext4']);
  const names = r.order.map(moduleName);
  assert.deepEqual(names, ['virtio_pci_legacy_dev', 'virtio_pci_modern_dev', 'virtio_ring', 'virtio', 'virtio_pci', 'virtio_blk', 'scsi_common', 'scsi_mod', 'virtio_scsi', 'cdrom', 'sr_mod']);
  assert.equal(new Set(r.order).size, r.order.length);
  for (const [i, path] of r.order.entries()) {
    for (const d of dep.byName.get(moduleName(path))!.deps) assert.ok(r.order.indexOf(d) < i, `${d} before ${path}`);
  }
  assert.deepEqual(r.builtin, ['nvme', 'ext4']);
  // '-' and '_' name the same module (modprobe's rule).
  assert.deepEqual(resolveModuleLoadOrder(dep, '', ['xen_blkfront']).order, ['kernel/drivers/block/xen-blkfront.ko']);
  assert.throws(() => resolveModuleLoadOrder(dep, BUILTIN, ['virtio_blk', 'no_such_driver']), (e) => e instanceof InvalidArgument && /no_such_driver/.test(e.message));
  assert.throws(() => resolveModuleLoadOrder(parseModulesDep('a.ko: b.ko\nb.ko: a.ko\n'), '', ['a']), /cycle/);
  assert.throws(() => parseModulesDep('garbage without colon\n'), InvalidArgument);
});

test('cpio newc: headers, 4-byte alignment, device numbers and the trailer', () => {
  const bytes = Buffer.concat(
    encodeCpioNewc([
      { kind: 'directory', path: 'bin', mode: 0o755 },
      { kind: 'file', path: '/bin/busybox', mode: 0o755, data: Buffer.from('abcde') },
      { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
      { kind: 'char-device', path: 'dev/console', mode: 0o600, major: 5, minor: 1 },
    ], { mtimeSeconds: 1700000000 }),
  );
  const entries: { name: string; mode: number; size: number; rdev: [number, number]; mtime: number; data: string }[] = [];
  let off = 0;
  while (off < bytes.length) {
    const h = bytes.subarray(off, off + 110).toString('latin1');
    assert.equal(h.slice(0, 6), '070701');
    const f = (i: number): number => parseInt(h.slice(6 + i * 8, 14 + i * 8), 16);
    const namesize = f(11);
    const size = f(6);
    const name = bytes.subarray(off + 110, off + 110 + namesize - 1).toString('utf8');
    assert.equal(bytes[off + 110 + namesize - 1], 0);
    let p = off + 110 + namesize;
    p += (4 - (p % 4)) % 4;
    entries.push({ name, mode: f(1), size, rdev: [f(9), f(10)], mtime: f(5), data: bytes.subarray(p, p + size).toString('utf8') });
    p += size;
    p += (4 - (p % 4)) % 4;
    off = p;
    if (name === 'TRAILER!!!') break;
  }
  assert.equal(off, bytes.length);
  assert.deepEqual(entries.map((e) => e.name), ['bin', 'bin/busybox', 'bin/sh', 'dev/console', 'TRAILER!!!']);
  assert.equal(entries[0]!.mode, 0o040755);
  assert.equal(entries[1]!.mode, 0o100755);
  assert.equal(entries[1]!.data, 'abcde');
  assert.equal(entries[1]!.mtime, 1700000000);
  assert.equal(entries[2]!.mode, 0o120777);
  assert.equal(entries[2]!.data, 'busybox');
  assert.equal(entries[3]!.mode, 0o020600);
  assert.deepEqual(entries[3]!.rdev, [5, 1]);
  assert.throws(() => encodeCpioNewc([{ kind: 'directory', path: '../x', mode: 0o755 }]), InvalidArgument);
});

test('kargs: root by label, rw, serial console last; ostree= and bad arguments refused', () => {
  const k = defaultKargs('x86_64');
  assert.deepEqual(k, [`root=LABEL=${ROOT_FS_LABEL}`, 'rw', 'console=tty0', 'console=ttyS0,115200']);
  assert.equal(defaultKargs('aarch64').at(-1), 'console=ttyAMA0,115200');
  assert.deepEqual(checkKargs([...k, 'dyndbg="file x.c +p"']), [...k, 'dyndbg="file x.c +p"']);
  assert.throws(() => checkKargs([...k, 'ostree=/ostree/boot.1/x/y/0']), /ostree=/);
  assert.throws(() => checkKargs(['rw']), /root=/);
  assert.throws(() => checkKargs([...k, 'two words']), (e) => e instanceof InvalidArgument && /kargs\[4\]/.test(e.message));
});

test('ELF header: the machine of x86_64 and aarch64 binaries; not-ELF refused', () => {
  const header = (machine: number): Uint8Array => {
    const b = Buffer.alloc(64);
    b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    b.writeUInt16LE(3, 16);
    b.writeUInt16LE(machine, 18);
    return b;
  };
  assert.deepEqual(elfIdentity(header(62), 'env'), { machine: 'x86_64', bits: 64 });
  assert.deepEqual(elfIdentity(header(183), 'env'), { machine: 'aarch64', bits: 64 });
  assert.equal(elfIdentity(header(999), 'env').machine, 'machine-999');
  assert.throws(() => elfIdentity(Buffer.from('#!/bin/sh\necho hi\n'), 'env'), InvalidArgument);
});

test('os-release: quoted values, OSTREE_VERSION, bad IDs refused', () => {
  const text = renderOsRelease({ id: 'atomic', name: 'Atomic "Host"', versionId: '1', version: '1.2.3' });
  assert.match(text, /^NAME="Atomic \\"Host\\""$/m);
  assert.match(text, /^ID=atomic$/m);
  assert.match(text, /^ID_LIKE=debian$/m);
  assert.match(text, /^VERSION_ID=1$/m);
  assert.match(text, /^VERSION="1.2.3"$/m);
  assert.match(text, /^OSTREE_VERSION="1.2.3"$/m);
  assert.match(text, /^PRETTY_NAME="Atomic \\"Host\\" 1.2.3"$/m);
  assert.throws(() => renderOsRelease({ id: 'Atomic OS', name: 'x', versionId: '1', version: '1' }), /osRelease.id/);
  assert.throws(() => renderOsRelease({ id: 'a', name: 'x', versionId: '1 2', version: '1' }), /versionId/);
});

test('ostree layout: symlinks into /var, tmpfiles lines, recipe file paths', () => {
  const links = Object.fromEntries(TOPLEVEL_SYMLINKS);
  assert.equal(links['home'], 'var/home');
  assert.equal(links['root'], 'var/roothome');
  assert.equal(links['media'], 'run/media');
  assert.equal(links['ostree'], 'sysroot/ostree');
  const conf = renderTmpfilesConf(['core']);
  for (const line of ['d /var/home 0755 root root -', 'd /var/roothome 0700 root root -', 'd /var/opt 0755 root root -', 'L /var/lib/dpkg - - - - /usr/lib/sysimage/dpkg', 'd /var/home/core 0700 core core -']) {
    assert.ok(conf.split('\n').includes(line), line);
  }
  // Every symlink into var/ has a tmpfiles line making its target.
  for (const [, target] of TOPLEVEL_SYMLINKS.filter(([, t]) => t.startsWith('var/'))) assert.match(conf, new RegExp(`^d /${target} `, 'm'));
  assert.equal(checkTreeFilePath('/etc/motd', 'files[0].path'), '/etc/motd');
  assert.equal(checkTreeFilePath('/usr//lib/./x', 'files[0].path'), '/usr/lib/x');
  assert.throws(() => checkTreeFilePath('etc/motd', 'files[0].path'), /files\[0\].path/);
  assert.throws(() => checkTreeFilePath('/var/lib/x', 'files[1].path'), (e) => e instanceof InvalidArgument && /files\[1\].path/.test(e.message) && /not shipped/.test(e.message));
  assert.throws(() => checkTreeFilePath('/etc/../../x', 'f'), InvalidArgument);
  assert.throws(() => checkTreeFilePath('/home/core/.bashrc', 'f'), /not shipped/);
});

test('units: provisioning before ssh and the agent, after udev coldplug, to the console; agent restarts', () => {
  const p = provisionUnit();
  assert.match(p, /^Type=oneshot$/m);
  assert.match(p, /^RemainAfterExit=yes$/m);
  assert.match(p, /^ExecStart=\/usr\/bin\/atomicd provision --root \/ --live$/m);
  assert.match(p, /^After=.*systemd-udev-trigger\.service/m);
  assert.match(p, /^ExecStartPre=-\/usr\/bin\/udevadm settle/m);
  assert.match(p, /^Before=.*\bssh\.service\b.*\batomicd\.service\b/m);
  assert.match(p, /^StandardOutput=journal\+console$/m);
  const a = agentUnit();
  assert.match(a, /^ExecStart=\/usr\/bin\/atomicd run$/m);
  assert.match(a, /^Restart=always$/m);
  assert.match(a, /^After=.*atomicd-provision\.service.*network\.target/m);
  assert.match(a, /^KillMode=process$/m);
  assert.match(repartRoot(), /^Type=root$/m);
  assert.match(fstab(ROOT_FS_LABEL), /^LABEL=atomic-root \/ ext4 \S*x-systemd\.growfs/m);
  const files = osUnits({ agentDir: '/usr/lib/atomic', rootLabel: ROOT_FS_LABEL });
  const byPath = new Map(files.map((f) => [f.path, f]));
  assert.equal(byPath.get('usr/bin/atomicd')?.content, '#!/bin/sh\nexec /usr/lib/atomic/node --max-semi-space-size=1 --lite-mode /usr/lib/atomic/dist/bin/atomicd.cjs "$@"\n');
  assert.equal(byPath.get('usr/bin/atomicd')?.mode, 0o755);
  assert.match(byPath.get('usr/lib/systemd/network/80-atomic-dhcp.network')!.content, /^Name=en\* eth\*$/m);
  assert.match(byPath.get('usr/lib/systemd/journald.conf.d/50-atomic.conf')!.content, /^Storage=persistent$/m);
  for (const u of ENABLED_UNITS.filter((u) => u.startsWith('atomic'))) assert.ok(byPath.has(`usr/lib/systemd/system/${u}`), u);
  // Every unit we enable has an [Install] section to enable it by.
  for (const f of files.filter((f) => f.path.endsWith('.service'))) assert.match(f.content, /^\[Install\]$/m, f.path);
});

test('initramfs init: resolves ostree=, binds sysroot, var and a read-only /usr, and drops to a shell with a message', () => {
  const init = renderInitramfsInit({ rootWaitSeconds: 5 });
  assert.ok(init.startsWith('#!/bin/busybox sh\n'));
  assert.match(init, /readlink -f "\/physical\$ostree"/);
  assert.match(init, /mount --bind \/physical "\$deploy\/sysroot"/);
  assert.match(init, /mount --bind "\$stateroot_var" "\$deploy\/var"/);
  assert.match(init, /remount,bind,ro "\$deploy\/usr"/);
  assert.match(init, /run\/ostree-booted/);
  assert.match(init, /exec switch_root "\$deploy" "\$init"/);
  assert.match(init, /does not resolve to a deployment/);
  assert.match(init, /while \[ \$i -lt 50 \]/);
  assert.match(init, /rescue\(\) \{[^}]*setsid cttyhack sh/);
});

test('production packages from package-lock.json: dev ones left out', () => {
  const lock = JSON.stringify({
    lockfileVersion: 3,
    packages: {
      '': { name: 'atomic', dependencies: { pino: '9' } },
      'node_modules/pino': { version: '9.9.4' },
      'node_modules/pino/node_modules/x': { version: '1.0.0' },
      'node_modules/@types/node': { version: '20.0.0', dev: true },
      'node_modules/typescript': { version: '5.9.3', dev: true },
      'node_modules/yaml': { version: '2.9.1' },
    },
  });
  assert.deepEqual(productionPackages(lock).map((p) => p.path), ['node_modules/pino', 'node_modules/pino/node_modules/x', 'node_modules/yaml']);
  assert.throws(() => productionPackages('{"lockfileVersion":1,"dependencies":{}}'), /lockfileVersion 2 or 3/);
  assert.throws(() => productionPackages('nope'), InvalidArgument);
});
