import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDsHint, readKernelCmdline } from '../../../../src/adapters/datasources/kernel-cmdline.js';
import { readDmiValue } from '../../../../src/adapters/datasources/read-dmi.js';
import { tempDir } from '../../../helpers.js';

test('the hint comes from /proc/cmdline (trailing newline stripped)', async (t) => {
  const dir = tempDir(t);
  const cmdline = join(dir, 'cmdline');
  writeFileSync(cmdline, 'BOOT_IMAGE=/vmlinuz root=/dev/vda1 ds=nocloud;i=iid-9;h=h9\n');
  assert.equal(await readKernelCmdline(cmdline), 'BOOT_IMAGE=/vmlinuz root=/dev/vda1 ds=nocloud;i=iid-9;h=h9');
  const found = await readDsHint({ cmdlinePath: cmdline, dmiDir: join(dir, 'no-dmi') });
  assert.deepEqual(found, { hint: { dsname: 'nocloud', metadata: { 'instance-id': 'iid-9', 'local-hostname': 'h9', dsmode: 'local' } }, source: cmdline });
});

test('the SMBIOS serial is read first and wins a key; both sources are named', async (t) => {
  const dir = tempDir(t);
  const dmi = join(dir, 'dmi');
  mkdirSync(dmi);
  writeFileSync(join(dmi, 'product_serial'), 'ds=nocloud-net;s=http://10.0.2.2:8000/;i=serial-iid\n');
  const cmdline = join(dir, 'cmdline');
  writeFileSync(cmdline, 'ro ds=nocloud;i=cmdline-iid;h=cmdline-host\n');
  const found = await readDsHint({ cmdlinePath: cmdline, dmiDir: dmi });
  assert.equal(found?.hint.dsname, 'nocloud-net');
  assert.deepEqual(found?.hint.metadata, { seedfrom: 'http://10.0.2.2:8000/', 'instance-id': 'serial-iid', 'local-hostname': 'cmdline-host', dsmode: 'net' });
  assert.equal(found?.source, `${dmi}/product_serial + ${cmdline}`);
});

test('no hint anywhere, unreadable files, an uninitialised serial: undefined', async (t) => {
  const dir = tempDir(t);
  const dmi = join(dir, 'dmi');
  mkdirSync(dmi);
  writeFileSync(join(dmi, 'product_serial'), Buffer.from([0xff, 0xff, 0xff, 0x0a]));
  assert.equal(await readDmiValue(dmi, 'product_serial'), '');
  assert.equal(await readDmiValue(dmi, 'missing'), undefined);
  writeFileSync(join(dir, 'cmdline'), 'root=/dev/vda1 ro quiet\n');
  assert.equal(await readDsHint({ cmdlinePath: join(dir, 'cmdline'), dmiDir: dmi }), undefined);
  assert.equal(await readDsHint({ cmdlinePath: join(dir, 'none'), dmiDir: join(dir, 'none') }), undefined);
});
