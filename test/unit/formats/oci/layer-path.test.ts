import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyLayerPath, hardlinkTargetParts } from '../../../../src/formats/oci/layer-path.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

const at = 'layer x: byte 0';

test('entries, whiteouts, opaque markers and AUFS metadata', () => {
  assert.deepEqual(classifyLayerPath('./usr//bin/./sh', at), { kind: 'entry', parts: ['usr', 'bin', 'sh'] });
  assert.deepEqual(classifyLayerPath('/', at), { kind: 'entry', parts: [] });
  assert.deepEqual(classifyLayerPath('./', at), { kind: 'entry', parts: [] });
  assert.deepEqual(classifyLayerPath('etc/.wh.passwd', at), { kind: 'whiteout', dirParts: ['etc'], name: 'passwd' });
  assert.deepEqual(classifyLayerPath('.wh.tmp', at), { kind: 'whiteout', dirParts: [], name: 'tmp' });
  assert.deepEqual(classifyLayerPath('usr/share/.wh..wh..opq', at), { kind: 'opaque', dirParts: ['usr', 'share'] });
  assert.deepEqual(classifyLayerPath('.wh..wh.plnk/123.45', at), { kind: 'aufs-metadata' });
  assert.deepEqual(classifyLayerPath('a/.wh..hidden', at), { kind: 'whiteout', dirParts: ['a'], name: '.hidden' });
});

test('names that escape or abuse whiteouts are refused with the entry named', () => {
  const refused = (raw: string, why: RegExp): void => {
    assert.throws(() => classifyLayerPath(raw, at), (e) => e instanceof InvalidArgument && e.message.startsWith(`${at}: entry ${JSON.stringify(raw)}`) && why.test(e.message), raw);
  };
  refused('../escape', /'\.\.'/);
  refused('a/../../b', /'\.\.'/);
  refused('/etc/passwd', /absolute/);
  refused('a\0b', /NUL/);
  refused('.wh...', /whites out "\.\."/);
  refused('a/.wh..', /whites out "\."/);
  refused('a/.wh.', /whites out ""/);
  refused('.wh..wh..opq', /layer root opaque/);
  refused('a/.wh.x/y', /whiteout name ".wh.x" as a directory/);
  refused('a/.wh..wh.plnk', /AUFS metadata below/);
  assert.deepEqual(hardlinkTargetParts('bin/busybox', at), ['bin', 'busybox']);
  assert.throws(() => hardlinkTargetParts('/etc/passwd', at), InvalidArgument);
  assert.throws(() => hardlinkTargetParts('../../x', at), InvalidArgument);
  assert.throws(() => hardlinkTargetParts('.', at), InvalidArgument);
  assert.throws(() => hardlinkTargetParts('a/.wh.b', at), InvalidArgument);
});
