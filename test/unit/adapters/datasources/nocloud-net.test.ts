import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandSeedfrom, readNoCloudNet, seedFileUrl } from '../../../../src/adapters/datasources/nocloud-net.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';
import { tempDir } from '../../../helpers.js';
import { recordingLog } from '../../../fakes/recording-log.js';

test('file names are appended to the seedfrom, or put in place of %s (util.read_seeded)', () => {
  assert.equal(seedFileUrl('http://h/seed/', 'meta-data'), 'http://h/seed/meta-data');
  assert.equal(seedFileUrl('http://h/seed', 'user-data'), 'http://h/seeduser-data');
  assert.equal(seedFileUrl('http://h/get?file=%s&x=1', 'user-data'), 'http://h/get?file=user-data&x=1');
});

test('__dmi variables are read from the DMI directory by their sysfs names', async (t) => {
  const dmi = tempDir(t);
  writeFileSync(join(dmi, 'product_uuid'), 'ec2e1916-9099-7caf-fd21-012345abcdef\n');
  writeFileSync(join(dmi, 'product_serial'), Buffer.from([0xff, 0xff, 0x0a]));
  const log = recordingLog();
  const url = await expandSeedfrom('http://10.0.0.1/__dmi.system-uuid__/__dmi.system-serial-number__/__dmi.nope__/', dmi, log);
  assert.equal(url, 'http://10.0.0.1/ec2e1916-9099-7caf-fd21-012345abcdef//__dmi.nope__/');
  assert.ok(log.lines.some((l) => l.level === 'warn' && JSON.stringify(l.obj).includes('"nope"')));
  assert.equal(await expandSeedfrom('http://h/', dmi, log), 'http://h/');
});

test('a file:// or / seedfrom is a local seed; other schemes are refused without any request', async (t) => {
  const dir = tempDir(t);
  const seed = join(dir, 'seed');
  mkdirSync(seed);
  writeFileSync(join(seed, 'meta-data'), 'instance-id: local-1\n');
  writeFileSync(join(seed, 'user-data'), '#cloud-config\n');
  const log = recordingLog();
  const signal = new AbortController().signal;
  for (const seedfrom of [`file://${seed}/`, `${seed}/`]) {
    const r = await readNoCloudNet({ seedfrom, dmiDir: dir, signal, log });
    assert.ok(r.found);
    assert.equal(r.instance.instanceId, 'local-1');
    assert.equal(r.instance.datasource, 'NoCloud');
  }
  await assert.rejects(readNoCloudNet({ seedfrom: 'ftp://user:secret@h/seed/', dmiDir: dir, signal, log }), (e) => e instanceof InvalidArgument && !String(e.subject).includes('secret'));
});
