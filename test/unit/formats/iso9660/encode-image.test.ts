// encodeIsoImage (the in-memory image seeds use) gives the same bytes as the streaming writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeIsoImage, writeIso, type SourceDirectory, type SourceFile } from '../../../../src/formats/iso9660/writer.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

const T0 = Date.UTC(2024, 4, 5, 6, 7, 8);
const file = (name: string, data: Buffer | undefined, sizeBytes = data?.length ?? 0): SourceFile =>
  ({ type: 'file', name, mode: 0o644, uid: 0, gid: 0, mtimeMs: T0, sizeBytes, ...(data === undefined ? {} : { data }) });
const tree = (children: SourceDirectory['children']): SourceDirectory => ({ type: 'directory', name: '', mode: 0o755, uid: 0, gid: 0, mtimeMs: T0, children });

test('encodeIsoImage is byte-identical to writeIso for in-memory trees', async () => {
  const root = tree([
    file('meta-data', Buffer.from('instance-id: iid-1\n')),
    file('user-data', Buffer.from('#cloud-config\nhostname: a\n'.repeat(300))),
    file('empty', Buffer.alloc(0)),
    { type: 'directory', name: 'sub', mode: 0o755, uid: 0, gid: 0, mtimeMs: T0, children: [file('x', Buffer.alloc(5000, 7))] },
  ]);
  const opts = { volumeId: 'cidata', nowMs: T0 };
  const streamed: { data: Buffer; position: number }[] = [];
  const r = await writeIso(root, { write: async (data: Buffer, position: number) => void streamed.push({ data: Buffer.from(data), position }) }, opts);
  const expected = Buffer.alloc(r.sizeBytes);
  for (const p of streamed) p.data.copy(expected, p.position);
  const { image, result } = encodeIsoImage(root, opts);
  assert.equal(result.sizeBytes, r.sizeBytes);
  assert.ok(image.equals(expected));
});

test('encodeIsoImage refuses a file without its data in memory', () => {
  assert.throws(() => encodeIsoImage(tree([file('big', undefined, 10)]), { volumeId: 'X', nowMs: T0 }), InvalidArgument);
});
