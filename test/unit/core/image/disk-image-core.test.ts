import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diskBytesForRoot, ESP_TYPE_GUID, fatClusterCount, fatSectorsPerCluster, MIB, planDiskGeometry, ROOT_TYPE_GUIDS, type DiskLayout } from '../../../../src/core/image/disk-geometry.js';
import { deriveDiskIds, uuidFromSeed } from '../../../../src/core/image/disk-ids.js';
import { GRUB_EFI_TARGETS, GRUB_INSTALL_MODULES, GRUB_PRELOAD_MODULES, renderGrubEmbeddedCfg } from '../../../../src/core/image/grub-embedded-cfg.js';
import { ext4JournalBlocks, ext4OverheadBlocks, minimumExt4Bytes, treeFitsExt4, type TreeUsage } from '../../../../src/core/image/root-fs-size.js';
import { renderSfdiskScript } from '../../../../src/core/image/sfdisk-script.js';
import { renderVagrantfile, renderVagrantMetadata } from '../../../../src/core/image/vagrant-box.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

const layout = (over: Partial<DiskLayout> = {}): DiskLayout => ({ sizeBytes: 64 * MIB, espSizeBytes: 16 * MIB, rootLabel: 'atomic-root', arch: 'x86_64', ...over });

test('geometry: ESP at 1 MiB, root right after it up to the last whole MiB before the backup GPT', () => {
  const g = planDiskGeometry(layout());
  assert.equal(g.totalSectors, 131072);
  assert.deepEqual(g.esp, { startSector: 2048, sectors: 32768 });
  assert.equal(g.root.startSector, 2048 + 32768);
  // 131072 sectors - 33 backup GPT sectors = last usable 131038; aligned down to 2048 -> 129024.
  assert.equal(g.root.startSector + g.root.sectors, 129024);
  assert.equal(g.root.sectors % 2048, 0);
  assert.equal(g.espFatBits, 16);
  assert.equal(planDiskGeometry(layout({ sizeBytes: 128 * MIB, espSizeBytes: 33 * MIB })).espFatBits, 32);
  assert.equal(planDiskGeometry(layout({ sizeBytes: 128 * MIB, espSizeBytes: 32 * MIB })).espFatBits, 16);
  assert.equal(diskBytesForRoot(10 * MIB + 1, 16 * MIB), (1 + 16 + 11 + 1) * MIB);
});

test('ESP cluster sizes keep FAT32 at >= 65525 clusters and FAT16 within 4085..65524', () => {
  for (let mb = 8; mb <= 40 * 1024; mb += mb < 300 ? 1 : 97) {
    const g = planDiskGeometry(layout({ sizeBytes: (mb + 64) * MIB, espSizeBytes: mb * MIB }));
    const clusters = fatClusterCount(mb * MIB, g.espFatBits, g.espSectorsPerCluster);
    if (g.espFatBits === 32) assert.ok(clusters >= 65525, `${mb} MiB FAT32: ${clusters} clusters`);
    else assert.ok(clusters >= 4085 && clusters <= 65524, `${mb} MiB FAT16: ${clusters} clusters`);
  }
  assert.equal(fatSectorsPerCluster(64 * MIB), 1);
  assert.equal(fatSectorsPerCluster(512 * MIB), 8);
  assert.equal(fatSectorsPerCluster(16 * MIB), 2);
});

test('geometry refuses what cannot be built, naming the field', () => {
  const subject = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof InvalidArgument, String(e));
      return e.subject;
    }
    assert.fail('no error');
  };
  assert.equal(subject(() => planDiskGeometry(layout({ espSizeBytes: 4 * MIB }))), 'disk.espSizeBytes');
  assert.equal(subject(() => planDiskGeometry(layout({ espSizeBytes: 16 * MIB + 512 }))), 'disk.espSizeBytes');
  assert.equal(subject(() => planDiskGeometry(layout({ sizeBytes: 64 * MIB + 4096 }))), 'disk.sizeBytes');
  assert.equal(subject(() => planDiskGeometry(layout({ sizeBytes: 17 * MIB }))), 'disk.sizeBytes');
  assert.equal(subject(() => planDiskGeometry(layout({ sizeBytes: 0 }))), 'disk.sizeBytes');
  assert.equal(subject(() => planDiskGeometry(layout({ arch: 'riscv64' as 'x86_64' }))), 'disk.arch');
  assert.equal(subject(() => planDiskGeometry(layout({ rootLabel: 'a label with spaces' }))), 'disk.rootLabel');
  assert.equal(subject(() => planDiskGeometry(layout({ rootLabel: 'x'.repeat(17) }))), 'disk.rootLabel');
  assert.doesNotThrow(() => planDiskGeometry(layout({ sizeBytes: 19 * MIB })));
});

test('ids: deterministic per seed, distinct per purpose, RFC 9562 version 8 UUIDs', () => {
  const a = deriveDiskIds('seed-1');
  assert.deepEqual(deriveDiskIds('seed-1'), a);
  assert.notDeepEqual(deriveDiskIds('seed-2'), a);
  const uuids = [a.diskGuid, a.espPartitionUuid, a.rootPartitionUuid, a.rootFsUuid, a.rootHashSeed];
  assert.equal(new Set(uuids).size, uuids.length);
  for (const u of uuids) assert.match(u, /^[0-9A-F]{8}-[0-9A-F]{4}-8[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
  assert.match(a.espVolumeId, /^[0-9A-F]{8}$/);
  assert.notEqual(uuidFromSeed('s', 'a'), uuidFromSeed('s', 'b'));
});

test('sfdisk script: GPT with explicit ids, ESP and DPS root types by arch, growfs attribute on root', () => {
  const ids = deriveDiskIds('x');
  const script = renderSfdiskScript(planDiskGeometry(layout()), ids, 'x86_64');
  const lines = script.split('\n');
  assert.deepEqual(lines.slice(0, 5), ['label: gpt', `label-id: ${ids.diskGuid}`, 'unit: sectors', 'sector-size: 512', 'first-lba: 2048']);
  assert.equal(lines[6], `start=2048, size=32768, type=${ESP_TYPE_GUID}, uuid=${ids.espPartitionUuid}, name="esp"`);
  assert.equal(lines[7], `start=34816, size=94208, type=${ROOT_TYPE_GUIDS.x86_64}, uuid=${ids.rootPartitionUuid}, name="root-x86-64", attrs="GUID:59"`);
  const arm = renderSfdiskScript(planDiskGeometry(layout({ arch: 'aarch64' })), ids, 'aarch64');
  assert.match(arm, /type=B921B045-1DF0-41C3-AF44-4C6F280D3FAE, .*name="root-arm64"/);
  assert.doesNotMatch(arm, /4F68BCE3/);
});

test('embedded GRUB config finds the root by label and chains to /boot/loader/grub.cfg', () => {
  const cfg = renderGrubEmbeddedCfg('my-root');
  assert.match(cfg, /^search --no-floppy --label my-root --set=root$/m);
  assert.match(cfg, /^configfile \(\$root\)\/boot\/loader\/grub\.cfg$/m);
  assert.ok(cfg.indexOf('search ') < cfg.indexOf('configfile'));
  for (const m of ['part_gpt', 'ext2', 'fat', 'search_label', 'configfile', 'normal', 'linux', 'serial', 'gzio']) assert.ok(GRUB_PRELOAD_MODULES.includes(m), m);
  for (const m of GRUB_PRELOAD_MODULES) assert.ok(GRUB_INSTALL_MODULES.includes(m), m);
  assert.equal(GRUB_EFI_TARGETS.x86_64.bootFile, 'BOOTX64.EFI');
  assert.equal(GRUB_EFI_TARGETS.aarch64.platform, 'arm64-efi');
  assert.equal(GRUB_EFI_TARGETS.x86_64.debianPackage, 'grub-efi-amd64-bin');
});

test('vagrant-libvirt metadata: whole GB rounded up; Vagrantfile asks for kvm and UEFI firmware', () => {
  assert.deepEqual(JSON.parse(renderVagrantMetadata(128 * MIB)), { provider: 'libvirt', format: 'qcow2', virtual_size: 1 });
  assert.equal(JSON.parse(renderVagrantMetadata(4 * 1024 * MIB)).virtual_size, 4);
  assert.equal(JSON.parse(renderVagrantMetadata(4 * 1024 * MIB + MIB)).virtual_size, 5);
  const vf = renderVagrantfile('x86_64');
  assert.match(vf, /libvirt\.driver = "kvm"/);
  assert.match(vf, /libvirt\.loader = "\/usr\/share\/OVMF\/OVMF_CODE_4M\.fd"/);
  assert.match(renderVagrantfile('aarch64'), /AAVMF_CODE\.fd[\s\S]*machine_arch = "aarch64"/);
});

test('ext4 size estimate: mke2fs 1.47 journal sizes and empty-filesystem overheads', () => {
  assert.equal(ext4JournalBlocks(16384), 1024); // 64 MiB -> 4 MiB journal
  assert.equal(ext4JournalBlocks(32768), 4096); // 128 MiB -> 16 MiB
  assert.equal(ext4JournalBlocks(262144), 8192); // 1 GiB -> 32 MiB
  assert.equal(ext4JournalBlocks(1048576), 16384); // 4 GiB -> 64 MiB
  // Used blocks of an empty `mkfs.ext4 -T default -b 4096` measured on this machine's e2fsprogs
  // 1.47.0; the estimate must not be below them and at most 128 blocks (512 KiB) above.
  const empty: TreeUsage = { apparentBytes: 0, dataBlocks: 0, inodes: 11 };
  for (const [mb, used] of [[16, 1099], [64, 1297], [128, 4633], [256, 5196], [1024, 12955], [4096, 36942], [20480, 126322], [102400, 557848]] as const) {
    const est = ext4OverheadBlocks(mb * MIB, empty);
    assert.ok(est >= used && est <= used + 128, `${mb} MiB: estimate ${est}, mke2fs ${used}`);
  }
});

test('ext4 size estimate: minimum is the smallest fitting whole MiB, and more inodes need more room', () => {
  const usage: TreeUsage = { apparentBytes: 50 * MIB, dataBlocks: 12800, inodes: 3000 };
  const min = minimumExt4Bytes(usage);
  assert.equal(min % MIB, 0);
  assert.ok(treeFitsExt4(min, usage));
  assert.ok(!treeFitsExt4(min - MIB, usage));
  assert.ok(min > 50 * MIB);
  assert.ok(minimumExt4Bytes({ ...usage, inodes: 200000 }) > min + 40 * MIB);
});
