import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHostname, generateMetaData, seedFiles } from '../../../../src/core/seed/seed-files.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

const ud = { data: Buffer.from('#cloud-config\n'), origin: 'ud' };

test('without meta-data one is generated with the fresh instance-id and the hostname', () => {
  const { files, generatedInstanceId } = seedFiles({ userData: ud, hostname: 'web-01' }, () => 'iid-fresh');
  assert.equal(generatedInstanceId, 'iid-fresh');
  assert.deepEqual(files.map((f) => f.name), ['user-data', 'meta-data']);
  assert.equal(Buffer.from(files[1]!.data).toString(), 'instance-id: "iid-fresh"\nlocal-hostname: "web-01"\n');
  assert.equal(files[1]!.origin, undefined);
});

test('given meta-data is kept as is; --hostname/--instance-id with it is refused', () => {
  const md = { data: Buffer.from('instance-id: x\n'), origin: 'md' };
  const { files, generatedInstanceId } = seedFiles({ userData: ud, metaData: md, networkConfig: { data: Buffer.from('version: 2\n'), origin: 'nc' } }, () => 'unused');
  assert.equal(generatedInstanceId, undefined);
  assert.deepEqual(files.map((f) => [f.name, f.origin]), [['user-data', 'ud'], ['meta-data', 'md'], ['network-config', 'nc']]);
  assert.throws(() => seedFiles({ userData: ud, metaData: md, hostname: 'h' }, () => 'x'), InvalidArgument);
});

test('instance-ids and host names are checked', () => {
  assert.throws(() => generateMetaData('', undefined), /must not be empty/);
  assert.throws(() => generateMetaData('   ', undefined), /must not be empty/);
  assert.throws(() => generateMetaData('a/b', undefined), /without '\/'/);
  assert.throws(() => generateMetaData('a\nb', undefined), InvalidArgument);
  // JSON quoting keeps YAML-significant characters inert.
  assert.equal(Buffer.from(generateMetaData('iid: #1', undefined)).toString(), 'instance-id: "iid: #1"\n');
  for (const ok of ['web-01', 'a.b.example', 'x']) checkHostname(ok);
  for (const bad of ['-web', 'web_01', 'a..b', 'a'.repeat(64), '']) assert.throws(() => checkHostname(bad), InvalidArgument, bad);
});
