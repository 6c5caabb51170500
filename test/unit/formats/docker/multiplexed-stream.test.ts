import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, FrameDecoder } from '../../../../src/formats/docker/multiplexed-stream.js';
import { DataLoss } from '../../../../src/lib/errors.js';

test('a frame is the 8-byte header (type, 0, 0, 0, size big-endian) and the payload', () => {
  assert.equal(encodeFrame('stdout', 'hi\n').toString('hex'), '0100000000000003' + Buffer.from('hi\n').toString('hex'));
  assert.equal(encodeFrame('stderr', Buffer.alloc(0x10203)).subarray(0, 8).toString('hex'), '0200000000010203');
  assert.equal(encodeFrame('stdin', '').toString('hex'), '0000000000000000');
});

test('the decoder reassembles frames split at every byte boundary', () => {
  const stream = Buffer.concat([encodeFrame('stdout', 'hello '), encodeFrame('stderr', 'oops\n'), encodeFrame('stdout', ''), encodeFrame('stdout', 'world\n')]);
  for (let cut = 1; cut <= 7; cut++) {
    const d = new FrameDecoder();
    const frames = [];
    for (let i = 0; i < stream.length; i += cut) frames.push(...d.push(stream.subarray(i, i + cut)));
    assert.deepEqual(frames.map((f) => [f.stream, f.payload.toString()]), [['stdout', 'hello '], ['stderr', 'oops\n'], ['stdout', ''], ['stdout', 'world\n']], `cut ${cut}`);
    assert.equal(d.leftoverBytes, 0);
  }
});

test('a truncated stream leaves bytes over; a bad header is DataLoss with its offset', () => {
  const d = new FrameDecoder();
  assert.deepEqual(d.push(encodeFrame('stdout', 'abcdef').subarray(0, 10)), []);
  assert.equal(d.leftoverBytes, 10);
  const bad = new FrameDecoder();
  bad.push(encodeFrame('stdout', 'ok'));
  assert.throws(() => bad.push(Buffer.from('0700000000000001', 'hex')), (e: unknown) => e instanceof DataLoss && /at byte 10: 0700000000000001/.test(e.message));
});
