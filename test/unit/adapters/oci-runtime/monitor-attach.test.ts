import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ATTACH_FRAME_MAX, encodeAttachFrame, resizeFrame, writeStdinFrames } from '../../../../src/adapters/oci-runtime/monitor-attach.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

test('attach frames: type byte, big-endian length, payload (what atomic-monitor.c parses)', () => {
  assert.deepEqual([...encodeAttachFrame('i', Buffer.from('ab'))], [0x69, 0, 0, 0, 2, 0x61, 0x62]);
  assert.deepEqual([...encodeAttachFrame('e')], [0x65, 0, 0, 0, 0]);
  assert.deepEqual([...resizeFrame(40, 300)], [0x77, 0, 0, 0, 4, 0, 40, 1, 44]);
  assert.throws(() => resizeFrame(-1, 80), (e: unknown) => e instanceof InvalidArgument && /^h: -1/.test(e.message));
  assert.throws(() => resizeFrame(24, 70000), InvalidArgument);
  assert.throws(() => encodeAttachFrame('i', new Uint8Array(ATTACH_FRAME_MAX + 1)), InvalidArgument);
});

test('stdin larger than a frame is split into frames that carry it in order', async () => {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const data = Buffer.alloc(ATTACH_FRAME_MAX * 2 + 5, 7);
  data[0] = 1;
  await writeStdinFrames(out, data);
  const all = Buffer.concat(chunks);
  const payloads: Buffer[] = [];
  for (let at = 0; at < all.length; ) {
    assert.equal(all[at], 0x69);
    const len = all.readUInt32BE(at + 1);
    assert.ok(len <= ATTACH_FRAME_MAX);
    payloads.push(all.subarray(at + 5, at + 5 + len));
    at += 5 + len;
  }
  assert.equal(payloads.length, 3);
  assert.deepEqual(Buffer.concat(payloads), data);
});
