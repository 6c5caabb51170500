// `assembleDisk` and `convertDisk` checked by independent tools: sfdisk reads the table, e2fsck,
// fsck.vfat, debugfs, minfo and mtools read the filesystems (extracted with dd), qemu-img checks
// and compares the converted images, tar lists the vagrant box. Nothing is mounted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { assembleDisk, type DiskReport } from '../../src/adapters/disk/assemble-disk.js';
import { convertDisk } from '../../src/adapters/disk/convert-disk.js';
import { MIB, type DiskLayout } from '../../src/core/image/disk-geometry.js';
import { minimumExt4Bytes } from '../../src/core/image/root-fs-size.js';
import { measureSysroot } from '../../src/adapters/disk/measure-sysroot.js';
import { Cancelled, InvalidArgument, Unavailable, type AtomicError } from '../../src/lib/errors.js';
import { FAKE_CSUM, FAKE_TITLE, GRUB_CFG_MARKER, LONG_SYMLINK_TARGET, makeFakeSysroot, type FakeSysroot } from '../fixtures/fake-sysroot.js';
import { run, runOk, tempDir } from '../helpers.js';

const EPOCH = 1700000000;
const LAYOUT: DiskLayout = { sizeBytes: 128 * MIB, espSizeBytes: 40 * MIB, rootLabel: 'atomic-root', arch: 'x86_64' };
const DEPLOY = `/ostree/deploy/os/deploy/${FAKE_CSUM}.0`;

let sysroot: FakeSysroot;
let work: string;
let raw: DiskReport;
const steps: string[] = [];

before(async () => {
  work = tempDir(undefined, 'disk-assemble-');
  sysroot = makeFakeSysroot(join(work, 'sysroot'), { bigFileBytes: 3 * MIB, smallFiles: 200 });
  mkdirSync(join(work, 'out'));
  raw = await assembleDisk({ sysrootDir: sysroot.dir, outPath: join(work, 'out', 'disk.raw'), layout: LAYOUT, sourceDateEpoch: EPOCH, onProgress: (s) => steps.push(s) });
});

after(() => {
  sysroot?.remove();
  run('rm', ['-rf', work]);
});

interface SfdiskTable {
  label: string;
  id: string;
  firstlba: number;
  partitions: { start: number; size: number; type: string; uuid: string; name: string; attrs?: string; node?: string }[];
}

function sfdiskJson(path: string): SfdiskTable {
  const t = (JSON.parse(runOk('sfdisk', ['--json', path]).stdout) as { partitiontable: SfdiskTable & { device?: string } }).partitiontable;
  // The device path and partition node names say where the file is, not what is in it.
  delete t.device;
  for (const p of t.partitions) delete p.node;
  return t;
}

/** dd a partition out of the disk: the filesystem tools then read it as a plain image. */
function extract(disk: string, startSector: number, sectors: number, out: string): string {
  runOk('dd', [`if=${disk}`, `of=${out}`, 'bs=512', `skip=${startSector}`, `count=${sectors}`, 'conv=sparse', 'status=none']);
  return out;
}

function debugfs(image: string, request: string): string {
  return runOk('debugfs', ['-R', request, image], { env: { DEBUGFS_PAGER: '__none__' } }).stdout;
}

const mtoolsEnv = { MTOOLS_SKIP_CHECK: '1' };

test('progress names the steps in order', () => {
  assert.deepEqual(steps, ['measuring sysroot', 'partitioning', 'esp', 'root filesystem']);
});

test('GPT: sfdisk verifies it; ESP and x86-64 DPS root at 1 MiB boundaries, root fills the disk, growfs flag set', () => {
  const path = join(work, 'out', 'disk.raw');
  assert.equal(raw.path, path);
  const verify = run('sfdisk', ['--verify', path]);
  assert.equal(verify.status, 0, verify.stderr);
  assert.match(verify.stdout, /No errors detected/);
  const t = sfdiskJson(path);
  assert.equal(t.label, 'gpt');
  assert.equal(t.partitions.length, 2);
  const [esp, root] = t.partitions;
  assert.equal(esp!.type, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  assert.equal(esp!.name, 'esp');
  assert.equal(esp!.start, 2048);
  assert.equal(esp!.size * 512, LAYOUT.espSizeBytes);
  assert.equal(root!.type, '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709');
  assert.equal(root!.name, 'root-x86-64');
  assert.equal(root!.attrs, 'GUID:59');
  assert.equal(root!.start, esp!.start + esp!.size);
  assert.equal(root!.start % 2048, 0);
  assert.equal(root!.size % 2048, 0);
  // Root ends at the last MiB boundary before the 33-sector backup GPT.
  assert.equal(root!.start + root!.size, LAYOUT.sizeBytes / 512 - 2048);
  // The report says what sfdisk reads.
  assert.equal(raw.diskGuid, t.id.toUpperCase());
  assert.deepEqual(raw.partitions.map((p) => [p.name, p.typeGuid, p.uuid, p.startSector, p.sectors, p.label]), [
    ['esp', esp!.type, esp!.uuid.toUpperCase(), esp!.start, esp!.size, 'ESP'],
    ['root-x86-64', root!.type, root!.uuid.toUpperCase(), root!.start, root!.size, 'atomic-root'],
  ]);
  assert.equal(raw.arch, 'x86_64');
  assert.equal(raw.virtualSizeBytes, LAYOUT.sizeBytes);
  // Sparse: the 128 MiB file takes only what the filesystems wrote.
  const st = statSync(path);
  assert.equal(st.size, LAYOUT.sizeBytes);
  assert.ok(st.blocks * 512 < 24 * MIB, `allocated ${st.blocks * 512}`);
  assert.deepEqual(readdirSync(join(work, 'out')), ['disk.raw'], 'no temp files left');
});

test('root ext4: e2fsck clean; hardlinks, setuid, owners, modes, symlinks, immutable deployment, grub.cfg kept', () => {
  const p = raw.partitions[1]!;
  const img = extract(raw.path, p.startSector, p.sectors, join(work, 'root.img'));
  const fsck = run('e2fsck', ['-fn', img]);
  assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
  assert.match(runOk('blkid', [img]).stdout, /LABEL="atomic-root" .*TYPE="ext4"/);
  const sb = runOk('dumpe2fs', ['-h', img]).stdout;
  assert.match(sb, /Block size:\s+4096/);
  assert.equal(Number(/Block count:\s+(\d+)/.exec(sb)![1]) * 4096, p.sectors * 512, 'the filesystem fills its partition');

  // The repo object and its two deployment names are one inode with 3 links.
  const obj = debugfs(img, 'stat /ostree/repo/objects/ab/cdef01.file');
  const tool = debugfs(img, `stat ${DEPLOY}/usr/bin/tool`);
  const inode = (s: string): string => /Inode: (\d+)/.exec(s)![1]!;
  assert.equal(inode(obj), inode(tool));
  assert.equal(inode(debugfs(img, `stat ${DEPLOY}/usr/sbin/tool-again`)), inode(obj));
  assert.match(obj, /Links: 3/);
  assert.match(tool, /Mode:\s+04755/);
  assert.match(tool, /User:\s+0\s+Group:\s+0/);
  const home = debugfs(img, `stat ${DEPLOY}/home-user`);
  assert.match(home, /Type: directory\s+Mode:\s+0700/);
  assert.match(home, /User:\s+1000\s+Group:\s+1000/);
  assert.match(debugfs(img, `stat ${DEPLOY}/home-user/.profile`), /User:\s+1000\s+Group:\s+1000/);
  assert.match(debugfs(img, `stat ${DEPLOY}/usr/lib/libfake.so.1`), /Type: symlink[\s\S]*Fast link dest: "libfake\.so\.1\.0"/);
  // A target over 59 bytes lives in a data block; debugfs cat prints it.
  assert.match(debugfs(img, `stat ${DEPLOY}/usr/bin/long-link`), /Type: symlink/);
  assert.equal(debugfs(img, `cat ${DEPLOY}/usr/bin/long-link`), LONG_SYMLINK_TARGET);
  assert.match(debugfs(img, 'stat /boot/loader'), /Type: symlink[\s\S]*Fast link dest: "loader\.0"/);
  assert.equal(debugfs(img, 'cat /boot/loader.0/grub.cfg'), sysroot.grubCfg);
  assert.equal(debugfs(img, `cat ${DEPLOY}/usr/lib/big.bin`).length, 3 * MIB);
  // EXT4_IMMUTABLE_FL (0x10) kept on the deployment root when the fixture could set it.
  const flags = parseInt(/Flags: 0x([0-9a-f]+)/.exec(debugfs(img, `stat ${DEPLOY}`))![1]!, 16);
  assert.equal((flags & 0x10) !== 0, sysroot.immutable, `flags 0x${flags.toString(16)}, fixture immutable: ${sysroot.immutable}`);
  assert.equal(debugfs(img, 'stat /ostree/repo').includes('Flags: 0x80010'), false, 'only deployment roots get the flag');
});

test('ESP: fsck.vfat clean, FAT32 labelled ESP, EFI/BOOT/BOOTX64.EFI is a PE image embedding the root-label search', () => {
  const p = raw.partitions[0]!;
  const img = extract(raw.path, p.startSector, p.sectors, join(work, 'esp.img'));
  const fsck = run('fsck.vfat', ['-n', img]);
  assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
  // fsck.fat exits 0 on a FAT32 with too few clusters; it only warns.
  assert.doesNotMatch(fsck.stdout + fsck.stderr, /warning/i);
  const minfo = runOk('minfo', ['-i', img, '::'], { env: mtoolsEnv }).stdout;
  assert.match(minfo, /disk type="FAT32 {3}"/);
  assert.match(minfo, /cluster size: 1 sectors/);
  assert.match(runOk('blkid', [img]).stdout, /LABEL="ESP" .*TYPE="vfat"/);
  const dir = runOk('mdir', ['-b', '-i', img, '::/EFI/BOOT'], { env: mtoolsEnv }).stdout;
  assert.deepEqual(dir.trim().split('\n'), ['::/EFI/BOOT/BOOTX64.EFI']);
  // mtools also reads it in place, at the partition's offset in the disk.
  assert.match(runOk('mdir', ['-b', '-i', `${raw.path}@@${p.startSector * 512}`, '::/EFI/BOOT'], { env: mtoolsEnv }).stdout, /BOOTX64\.EFI/);
  const efi = join(work, 'BOOTX64.EFI');
  runOk('mcopy', ['-n', '-i', img, '::/EFI/BOOT/BOOTX64.EFI', efi], { env: mtoolsEnv });
  const bytes = readFileSync(efi);
  assert.equal(bytes.toString('latin1', 0, 2), 'MZ');
  assert.equal(bytes.toString('latin1', bytes.readUInt32LE(0x3c), bytes.readUInt32LE(0x3c) + 4), 'PE\0\0');
  assert.equal(bytes.readUInt16LE(bytes.readUInt32LE(0x3c) + 4), 0x8664, 'IMAGE_FILE_MACHINE_AMD64');
  // The memdisk is an uncompressed tar inside the image: the embedded config is there verbatim.
  const text = bytes.toString('latin1');
  assert.ok(text.includes('search --no-floppy --label atomic-root --set=root'), 'embedded search by root label');
  assert.ok(text.includes('configfile ($root)/boot/loader/grub.cfg'), 'embedded configfile');
});

test('qcow2, VHD, VMDK and vagrant-libvirt conversions hold the same disk', async () => {
  const out = join(work, 'out');
  const qcow2 = await convertDisk({ rawPath: raw.path, format: 'qcow2', outPath: join(out, 'disk.qcow2') });
  const vhd = await convertDisk({ rawPath: raw.path, format: 'vhd', outPath: join(out, 'disk.vhd') });
  const vmdk = await convertDisk({ rawPath: raw.path, format: 'vmdk', outPath: join(out, 'disk.vmdk') });
  for (const r of [qcow2, vhd, vmdk]) {
    assert.equal(r.arch, 'x86_64');
    assert.equal(r.virtualSizeBytes, LAYOUT.sizeBytes, r.format);
    assert.equal(r.fileSizeBytes, statSync(r.path).size);
    assert.deepEqual(r.partitions, raw.partitions);
  }
  const info = (path: string, fmt: string): { format: string; 'virtual-size': number; 'format-specific'?: { data?: { compressed?: boolean; 'create-type'?: string } } } =>
    JSON.parse(runOk('qemu-img', ['info', '--output=json', '-f', fmt, path]).stdout);
  assert.equal(info(qcow2.path, 'qcow2').format, 'qcow2');
  assert.equal(info(vmdk.path, 'vmdk')['format-specific']?.data?.['create-type'], 'streamOptimized');
  assert.ok(qcow2.fileSizeBytes < LAYOUT.sizeBytes / 10, `compressed qcow2 is ${qcow2.fileSizeBytes} bytes`);
  for (const [path, fmt] of [[qcow2.path, 'qcow2'], [vmdk.path, 'vmdk']] as const) {
    const c = run('qemu-img', ['check', '-f', fmt, path]);
    assert.equal(c.status, 0, c.stdout + c.stderr);
    assert.match(c.stdout, /No errors were found on the image/);
  }
  // qemu-img 7.2 cannot check vpc ("This image format does not support checks", exit 63), and a
  // fixed VHD probes as raw (its only metadata is a 512-byte footer). So the VHD is verified by
  // qemu-img info with -f vpc (format, exact virtual size: force_size kept the raw size), its file
  // size (raw + footer, the "conectix" cookie last) and qemu-img compare against the raw disk.
  assert.equal(run('qemu-img', ['check', '-f', 'vpc', vhd.path]).status, 63);
  assert.equal(info(vhd.path, 'vpc').format, 'vpc');
  assert.equal(info(vhd.path, 'vpc')['virtual-size'], LAYOUT.sizeBytes);
  assert.equal(vhd.fileSizeBytes, LAYOUT.sizeBytes + 512);
  const footer = Buffer.alloc(512);
  const fd = (await import('node:fs')).openSync(vhd.path, 'r');
  (await import('node:fs')).readSync(fd, footer, 0, 512, LAYOUT.sizeBytes);
  (await import('node:fs')).closeSync(fd);
  assert.equal(footer.toString('latin1', 0, 8), 'conectix');
  assert.equal(footer.readUInt32BE(60), 2, 'VHD disk type 2 = fixed');
  for (const [path, fmt] of [[qcow2.path, 'qcow2'], [vhd.path, 'vpc'], [vmdk.path, 'vmdk']] as const) {
    const c = run('qemu-img', ['compare', '-f', 'raw', '-F', fmt, raw.path, path]);
    assert.equal(c.status, 0, `${fmt}: ${c.stdout}${c.stderr}`);
    assert.match(c.stdout, /Images are identical/);
  }

  const box = await convertDisk({ rawPath: raw.path, format: 'vagrant-libvirt', outPath: join(out, 'disk.box'), sourceDateEpoch: EPOCH });
  assert.equal(box.format, 'vagrant-libvirt');
  assert.equal(box.virtualSizeBytes, LAYOUT.sizeBytes);
  const listing = runOk('tar', ['-tzvf', box.path]).stdout.trim().split('\n');
  assert.deepEqual(listing.map((l) => l.split(/\s+/).pop()), ['metadata.json', 'Vagrantfile', 'box.img']);
  for (const l of listing) assert.match(l, /^-rw-r--r-- 0\/0 .* 2023-11-14 /);
  const x = join(work, 'box');
  mkdirSync(x);
  runOk('tar', ['-xzf', box.path, '-C', x]);
  assert.deepEqual(JSON.parse(readFileSync(join(x, 'metadata.json'), 'utf8')), { provider: 'libvirt', format: 'qcow2', virtual_size: 1 });
  assert.match(readFileSync(join(x, 'Vagrantfile'), 'utf8'), /libvirt\.driver = "kvm"[\s\S]*libvirt\.loader = "\/usr\/share\/OVMF\/OVMF_CODE_4M\.fd"/);
  assert.equal(info(join(x, 'box.img'), 'qcow2').format, 'qcow2');
  const c = run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', raw.path, join(x, 'box.img')]);
  assert.equal(c.status, 0, c.stdout + c.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['disk.box', 'disk.qcow2', 'disk.raw', 'disk.vhd', 'disk.vmdk'], 'no temp files left');
});

test('same sysroot, layout and SOURCE_DATE_EPOCH twice: the same partition table; another epoch: other ids', async (t) => {
  const dir = tempDir(t, 'disk-repro-');
  const layout: DiskLayout = { sizeBytes: 64 * MIB, espSizeBytes: 16 * MIB, rootLabel: 'atomic-root', arch: 'x86_64' };
  const a = await assembleDisk({ sysrootDir: sysroot.dir, outPath: join(dir, 'a.raw'), layout, sourceDateEpoch: EPOCH });
  // The same layout written in another key order is the same input.
  const reordered: DiskLayout = { arch: 'x86_64', rootLabel: 'atomic-root', espSizeBytes: 16 * MIB, sizeBytes: 64 * MIB };
  const b = await assembleDisk({ sysrootDir: sysroot.dir, outPath: join(dir, 'b.raw'), layout: reordered, sourceDateEpoch: EPOCH });
  const c = await assembleDisk({ sysrootDir: sysroot.dir, outPath: join(dir, 'c.raw'), layout, sourceDateEpoch: EPOCH + 1 });
  assert.deepEqual(sfdiskJson(a.path), sfdiskJson(b.path));
  assert.notEqual(sfdiskJson(c.path).id, sfdiskJson(a.path).id);
  assert.notEqual(c.partitions[1]!.uuid, a.partitions[1]!.uuid);
  // A 16 MiB ESP is FAT16 (FAT32 needs 65525 clusters); filesystem UUIDs follow the seed too.
  const esp = extract(a.path, a.partitions[0]!.startSector, a.partitions[0]!.sectors, join(dir, 'esp.img'));
  assert.match(runOk('minfo', ['-i', esp, '::'], { env: mtoolsEnv }).stdout, /disk type="FAT16 {3}"/);
  const fsck = run('fsck.vfat', ['-n', esp]);
  assert.equal(fsck.status, 0);
  assert.doesNotMatch(fsck.stdout + fsck.stderr, /warning/i);
  const uuid = (d: DiskReport): string => {
    const img = extract(d.path, d.partitions[1]!.startSector, d.partitions[1]!.sectors, join(dir, 'root.img'));
    return /UUID="([^"]+)"/.exec(runOk('blkid', [img]).stdout)![1]!;
  };
  assert.equal(uuid(a), uuid(b));
  assert.notEqual(uuid(a), uuid(c));
});

test('a disk too small for the tree fails with InvalidArgument before anything is written', async (t) => {
  const dir = tempDir(t, 'disk-small-');
  // Outside tempDir: its clean-up hook would run before this chattr -i one.
  const big = makeFakeSysroot(tempDir(undefined, 'disk-sysroot-'), { bigFileBytes: 40 * MIB });
  t.after(() => big.remove());
  mkdirSync(join(dir, 'out'));
  const steps: string[] = [];
  await assert.rejects(
    assembleDisk({ sysrootDir: big.dir, outPath: join(dir, 'out', 'disk.raw'), layout: { ...LAYOUT, sizeBytes: 48 * MIB, espSizeBytes: 8 * MIB }, onProgress: (s) => steps.push(s) }),
    (e: AtomicError) => {
      assert.ok(e instanceof InvalidArgument, String(e));
      assert.equal(e.subject, 'disk.sizeBytes');
      assert.match(e.message, /disk\.sizeBytes 50331648 \(48 MiB\) is too small for the sysroot: it needs at least \d+ \(\d+ MiB\)/);
      return true;
    },
  );
  assert.deepEqual(steps, ['measuring sysroot']);
  assert.deepEqual(readdirSync(join(dir, 'out')), []);
});

test('the size estimate is enough for mkfs.ext4 -d: a disk of exactly the reported minimum builds', async (t) => {
  const dir = tempDir(t, 'disk-min-');
  const s = makeFakeSysroot(tempDir(undefined, 'disk-sysroot-'), { bigFileBytes: 20 * MIB, smallFiles: 1000 });
  t.after(() => s.remove());
  const espSizeBytes = 8 * MIB;
  let needed = 0;
  await assert.rejects(assembleDisk({ sysrootDir: s.dir, outPath: join(dir, 'x.raw'), layout: { ...LAYOUT, sizeBytes: 24 * MIB, espSizeBytes } }), (e: AtomicError) => {
    needed = Number(/needs at least (\d+)/.exec(e.message)![1]);
    return e instanceof InvalidArgument;
  });
  assert.equal(needed, 2 * MIB + espSizeBytes + minimumExt4Bytes(measureSysroot(s.dir).usage));
  const r = await assembleDisk({ sysrootDir: s.dir, outPath: join(dir, 'min.raw'), layout: { ...LAYOUT, sizeBytes: needed, espSizeBytes } });
  const p = r.partitions[1]!;
  const fsck = run('e2fsck', ['-fn', extract(r.path, p.startSector, p.sectors, join(dir, 'root.img'))]);
  assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
});

test('bad layouts and inputs are refused naming the field or file, nothing written', async (t) => {
  const dir = tempDir(t, 'disk-bad-');
  mkdirSync(join(dir, 'out'));
  const out = join(dir, 'out', 'disk.raw');
  const subjectOf = async (p: Promise<unknown>, cls: new (...a: never[]) => AtomicError): Promise<string | undefined> => {
    try {
      await p;
    } catch (e) {
      assert.ok(e instanceof cls, String(e));
      return e.subject;
    }
    assert.fail('no error');
  };
  assert.equal(await subjectOf(assembleDisk({ sysrootDir: sysroot.dir, outPath: out, layout: { ...LAYOUT, espSizeBytes: 2 * MIB } }), InvalidArgument), 'disk.espSizeBytes');
  assert.equal(await subjectOf(assembleDisk({ sysrootDir: sysroot.dir, outPath: out, layout: { ...LAYOUT, arch: 'mips' as 'x86_64' } }), InvalidArgument), 'disk.arch');
  assert.equal(await subjectOf(assembleDisk({ sysrootDir: sysroot.dir, outPath: out, layout: { ...LAYOUT, sizeBytes: 100_000_000 } }), InvalidArgument), 'disk.sizeBytes');
  // Not a sysroot: the missing file is named.
  mkdirSync(join(dir, 'empty', 'ostree', 'deploy'), { recursive: true });
  assert.match((await subjectOf(assembleDisk({ sysrootDir: join(dir, 'empty'), outPath: out, layout: LAYOUT }), InvalidArgument))!, /empty\/boot\/loader$/);
  // GRUB's platform directory missing: Unavailable naming the Debian package.
  await assert.rejects(assembleDisk({ sysrootDir: sysroot.dir, outPath: out, layout: LAYOUT, grubLibDir: join(dir, 'no-grub') }), (e: AtomicError) => {
    assert.ok(e instanceof Unavailable, String(e));
    assert.match(e.message, /x86_64-efi modules are missing .*no-grub\/x86_64-efi.*grub-efi-amd64-bin/);
    return true;
  });
  // convertDisk takes only a GPT disk with a DPS root partition.
  const notDisk = join(dir, 'not-a-disk.raw');
  runOk('truncate', ['-s', '8M', notDisk]);
  assert.equal(await subjectOf(convertDisk({ rawPath: notDisk, format: 'qcow2', outPath: join(dir, 'out', 'x.qcow2') }), InvalidArgument), notDisk);
  assert.deepEqual(readdirSync(join(dir, 'out')), []);
});

test('aarch64: built with arm64-efi GRUB where Debian ships it, else Unavailable naming grub-efi-arm64-bin', async (t) => {
  const dir = tempDir(t, 'disk-arm64-');
  const out = join(dir, 'disk.raw');
  const layout: DiskLayout = { ...LAYOUT, sizeBytes: 64 * MIB, espSizeBytes: 16 * MIB, arch: 'aarch64' };
  // Debian builds grub-efi-arm64-bin for arm64 only: on an amd64 machine the modules are absent.
  if (!existsSync('/usr/lib/grub/arm64-efi')) {
    await assert.rejects(assembleDisk({ sysrootDir: sysroot.dir, outPath: out, layout }), (e: AtomicError) => {
      assert.ok(e instanceof Unavailable, String(e));
      assert.match(e.message, /arm64-efi modules are missing .*grub-efi-arm64-bin/);
      return true;
    });
    assert.deepEqual(readdirSync(dir), []);
    return;
  }
  const r = await assembleDisk({ sysrootDir: sysroot.dir, outPath: out, layout });
  assert.equal(r.arch, 'aarch64');
  assert.equal(sfdiskJson(out).partitions[1]!.type, 'B921B045-1DF0-41C3-AF44-4C6F280D3FAE');
  const esp = `${out}@@${r.partitions[0]!.startSector * 512}`;
  assert.match(runOk('mdir', ['-b', '-i', esp, '::/EFI/BOOT'], { env: mtoolsEnv }).stdout, /BOOTAA64\.EFI/);
});

test('an aborted build or conversion is Cancelled and leaves nothing at the output path', async (t) => {
  const dir = tempDir(t, 'disk-abort-');
  for (const at of ['partitioning', 'esp', 'root filesystem']) {
    const ac = new AbortController();
    const out = join(dir, `${at.replace(' ', '-')}.raw`);
    // Aborting right after the step starts kills the running tool (or stops before the next one).
    const onProgress = (s: string): void => {
      if (s === at) setImmediate(() => ac.abort());
    };
    await assert.rejects(assembleDisk({ sysrootDir: sysroot.dir, outPath: out, layout: LAYOUT, signal: ac.signal, onProgress }), (e) => e instanceof Cancelled, at);
    assert.equal(existsSync(out), false, at);
    assert.deepEqual(readdirSync(dir), [], `${at}: temp files left`);
  }
  const ac = new AbortController();
  setImmediate(() => ac.abort());
  await assert.rejects(convertDisk({ rawPath: raw.path, format: 'qcow2', outPath: join(dir, 'x.qcow2'), signal: ac.signal }), (e) => e instanceof Cancelled);
  assert.deepEqual(readdirSync(dir), []);
});

test('fixture sanity: the grub.cfg the disk carries has the marker and the entry title', () => {
  assert.ok(sysroot.grubCfg.includes(`echo ${GRUB_CFG_MARKER}`));
  assert.ok(sysroot.grubCfg.includes(`menuentry '${FAKE_TITLE}'`));
});
