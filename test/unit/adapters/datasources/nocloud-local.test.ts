import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCidataDevices, readNoCloudLocal, sniffVolumeLabel } from '../../../../src/adapters/datasources/nocloud-local.js';
import { parseDsHint } from '../../../../src/core/provision/ds-hint.js';
import { tempDir } from '../../../helpers.js';
import { recordingLog } from '../../../fakes/recording-log.js';

/** Synthetic volumes: just the sectors a label sniffer reads. */
function isoImage(volumeId: string, bootRecordFirst = false): Buffer {
  const img = Buffer.alloc(20 * 2048);
  let lba = 16;
  if (bootRecordFirst) {
    img[lba * 2048] = 0; // El Torito boot record
    img.write('CD001', lba * 2048 + 1, 'latin1');
    lba++;
  }
  const pvd = lba * 2048;
  img[pvd] = 1;
  img.write('CD001', pvd + 1, 'latin1');
  img[pvd + 6] = 1;
  img.write(volumeId.padEnd(32, ' '), pvd + 40, 'latin1');
  img[pvd + 2048] = 255;
  img.write('CD001', pvd + 2048 + 1, 'latin1');
  return img;
}

function fatImage(kind: 'FAT16' | 'FAT32', rootLabel: string | undefined, bootLabel: string): Buffer {
  const img = Buffer.alloc(64 * 1024);
  img[0] = 0xeb;
  img[1] = 0x3c;
  img[2] = 0x90;
  img.writeUInt16LE(512, 11);
  img[16] = 2; // FATs
  let rootAt: number;
  if (kind === 'FAT16') {
    img[13] = 4;
    img.writeUInt16LE(1, 14);
    img.writeUInt16LE(512, 17);
    img.writeUInt16LE(8, 22);
    img.write(bootLabel.padEnd(11, ' '), 43, 'latin1');
    img.write('FAT16   ', 54, 'latin1');
    rootAt = (1 + 2 * 8) * 512;
  } else {
    img[13] = 1;
    img.writeUInt16LE(32, 14);
    img.writeUInt16LE(0, 22);
    img.writeUInt32LE(16, 36);
    img.writeUInt32LE(2, 44);
    img.write(bootLabel.padEnd(11, ' '), 71, 'latin1');
    img.write('FAT32   ', 82, 'latin1');
    rootAt = (32 + 2 * 16) * 512;
  }
  img[510] = 0x55;
  img[511] = 0xaa;
  // A deleted entry and a long-name entry come before the label: both are skipped.
  img[rootAt] = 0xe5;
  img[rootAt + 11] = 0x08;
  img[rootAt + 32] = 0x41;
  img[rootAt + 32 + 11] = 0x0f;
  if (rootLabel !== undefined) {
    img.write(rootLabel.padEnd(11, ' '), rootAt + 64, 'latin1');
    img[rootAt + 64 + 11] = 0x08;
  }
  return img;
}

const reader = (img: Buffer) => (position: number, length: number): Promise<Buffer> => Promise.resolve(img.subarray(position, position + length));

test('ISO 9660: the primary volume descriptor volume id, after a boot record too', async () => {
  assert.deepEqual(await sniffVolumeLabel(reader(isoImage('cidata'))), { format: 'iso9660', labels: ['cidata'] });
  assert.deepEqual(await sniffVolumeLabel(reader(isoImage('CIDATA', true))), { format: 'iso9660', labels: ['CIDATA'] });
});

test('FAT12/16 and FAT32: the root-directory label, then the boot-sector label', async () => {
  assert.deepEqual(await sniffVolumeLabel(reader(fatImage('FAT16', 'cidata', 'cidata'))), { format: 'vfat', labels: ['cidata'] });
  assert.deepEqual(await sniffVolumeLabel(reader(fatImage('FAT32', 'CIDATA', 'OTHER'))), { format: 'vfat', labels: ['CIDATA', 'OTHER'] });
  assert.deepEqual(await sniffVolumeLabel(reader(fatImage('FAT16', undefined, 'NO NAME'))), { format: 'vfat', labels: [] });
  assert.equal(await sniffVolumeLabel(reader(Buffer.alloc(40000))), undefined);
});

test('a fake sysfs tree: empty drives, floppies and non-devices are skipped; found devices in reverse order', async (t) => {
  const dir = tempDir(t);
  const sys = join(dir, 'sys');
  const dev = join(dir, 'dev');
  mkdirSync(dev);
  const entry = (name: string, sectors: number, devname?: string): void => {
    mkdirSync(join(sys, name), { recursive: true });
    writeFileSync(join(sys, name, 'size'), `${sectors}\n`);
    writeFileSync(join(sys, name, 'uevent'), `MAJOR=1\nMINOR=2\n${devname === undefined ? '' : `DEVNAME=${devname}\n`}DEVTYPE=disk\n`);
  };
  entry('vda', 128, 'vda');
  entry('loop3', 128, 'loop3');
  entry('sr0', 0, 'sr0'); // empty CD drive
  entry('fd0', 8, 'fd0');
  entry('vdb', 128, 'vdb'); // a directory where a device should be
  entry('vdc', 128); // no DEVNAME: the sysfs name is used
  writeFileSync(join(dev, 'vda'), fatImage('FAT16', 'cidata', 'cidata'));
  writeFileSync(join(dev, 'loop3'), isoImage('CIDATA'));
  writeFileSync(join(dev, 'sr0'), isoImage('cidata'));
  writeFileSync(join(dev, 'fd0'), isoImage('cidata'));
  mkdirSync(join(dev, 'vdb'));
  writeFileSync(join(dev, 'vdc'), isoImage('OTHER'));
  const log = recordingLog();
  const found = await findCidataDevices({ sysBlockDir: sys, devDir: dev, log });
  assert.deepEqual(found, [
    { path: join(dev, 'vda'), format: 'vfat', label: 'cidata' },
    { path: join(dev, 'loop3'), format: 'iso9660', label: 'CIDATA' },
  ]);
  assert.deepEqual(await findCidataDevices({ devices: [join(dev, 'sr0'), join(dev, 'missing')], log }), [{ path: join(dev, 'sr0'), format: 'iso9660', label: 'cidata' }]);
  assert.deepEqual(await findCidataDevices({ sysBlockDir: join(dir, 'no-sys'), log }), []);
});

test('nothing to find: not found, with a reason for each place looked at', async (t) => {
  const dir = tempDir(t);
  const r = await readNoCloudLocal({ root: dir, sysBlockDir: join(dir, 'sys'), signal: new AbortController().signal, log: recordingLog() });
  assert.equal(r.found, false);
  assert.ok(!r.found && r.reason.includes(join(dir, 'var/lib/cloud/seed/nocloud')) && r.reason.includes('no block device labelled cidata'), !r.found ? r.reason : '');
});

test('a seed directory without user-data is not a seed; the hint alone still is (cloud-init claims with cmdline data)', async (t) => {
  const dir = tempDir(t);
  const seed = join(dir, 'var/lib/cloud/seed/nocloud');
  mkdirSync(seed, { recursive: true });
  writeFileSync(join(seed, 'meta-data'), 'instance-id: x\n');
  const log = recordingLog();
  const opts = { root: dir, sysBlockDir: join(dir, 'sys'), signal: new AbortController().signal, log };
  const none = await readNoCloudLocal(opts);
  assert.ok(!none.found && /has no user-data/.test(none.reason));
  const withHint = await readNoCloudLocal({ ...opts, hint: parseDsHint('ds=nocloud;i=iid-cmd;h=cmdhost'), hintSource: '/proc/cmdline' });
  assert.ok(withHint.found);
  assert.equal(withHint.instance.instanceId, 'iid-cmd');
  assert.equal(withHint.instance.localHostname, 'cmdhost');
  assert.equal(withHint.instance.source, '/proc/cmdline');
  assert.equal(withHint.instance.userData, undefined);
  writeFileSync(join(seed, 'user-data'), '#cloud-config\n');
  const found = await readNoCloudLocal({ ...opts, hint: parseDsHint('ds=nocloud;h=cmdhost') });
  assert.ok(found.found);
  assert.equal(found.instance.instanceId, 'x');
  assert.equal(found.instance.localHostname, 'cmdhost');
  assert.equal(found.instance.source, seed);
  const disabled = await readNoCloudLocal({ ...opts, hint: parseDsHint('ds=nocloud;dsmode=disabled') });
  assert.ok(!disabled.found && /dsmode is disabled/.test(disabled.reason));
});
