// RegistryClient.downloadBlob against a small loopback HTTP server: the bytes handed to onBytes
// (which the image store unpacks while the blob downloads) are the blob, in order, offsets from
// 0, and the partial file holds the same; a transfer cut before the first full write batch still
// keeps what arrived for the next Range request; a resumed download hands the kept bytes over
// again from byte 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient } from '../../../../src/adapters/registry/registry-client.js';
import { Unavailable } from '../../../../src/lib/errors.js';
import { tempDir } from '../../../helpers.js';

const blob = randomBytes(3 * 1024 * 1024 + 12_345);
const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
const desc = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: blob.length };

interface Served {
  readonly server: Server;
  readonly host: string;
  readonly ranges: (string | undefined)[];
}

/** Serves /v2/ and the blob (with Range); the first `cutAfter` requests end after that many bytes. */
async function serve(cutAfter: number | undefined): Promise<Served> {
  const ranges: (string | undefined)[] = [];
  let cuts = cutAfter === undefined ? 0 : 1;
  const server = createServer((req, res) => {
    if (req.url === '/v2/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    if (req.url !== `/v2/r/blobs/${digest}`) {
      res.writeHead(404).end();
      return;
    }
    ranges.push(req.headers.range);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m === null ? 0 : Number(m[1]);
    const body = blob.subarray(start);
    res.writeHead(m === null ? 200 : 206, {
      'content-length': String(body.length),
      ...(m === null ? {} : { 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` }),
    });
    if (cuts > 0) {
      cuts--;
      res.write(body.subarray(0, cutAfter), () => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}`, ranges };
}

function collector(): { onBytes: (chunk: Buffer, offset: number) => Promise<void>; seen: { offset: number; bytes: Buffer }[] } {
  const seen: { offset: number; bytes: Buffer }[] = [];
  return {
    seen,
    // Copies, and yields once: the downloader may reuse the buffer after the promise resolves.
    onBytes: async (chunk, offset) => {
      seen.push({ offset, bytes: Buffer.from(chunk) });
      await new Promise((r) => setImmediate(r));
    },
  };
}

test('onBytes sees the whole blob in order from byte 0, and the partial file is the verified blob', async (t) => {
  const s = await serve(undefined);
  t.after(() => s.server.close());
  const partial = join(tempDir(t), 'blob.partial');
  const c = collector();
  const r = await new RegistryClient().downloadBlob({ domain: s.host, path: 'r', scheme: 'http' }, desc, partial, { onBytes: c.onBytes });
  assert.equal(r.bytesFetched, blob.length);
  let expected = 0;
  for (const { offset, bytes } of c.seen) {
    assert.equal(offset, expected, 'contiguous');
    expected += bytes.length;
  }
  assert.ok(Buffer.concat(c.seen.map((x) => x.bytes)).equals(blob), 'onBytes got exactly the blob');
  assert.ok(c.seen.length < 16, `batched into few calls, not one per socket read (${c.seen.length})`);
  assert.ok(readFileSync(partial).equals(blob));
});

test('a transfer cut before the first full batch keeps the bytes that arrived; the resumed download asks for the rest and replays the kept bytes from 0', async (t) => {
  const s = await serve(300_000);
  t.after(() => s.server.close());
  const partial = join(tempDir(t), 'blob.partial');
  const client = new RegistryClient({ retry: { maxAttempts: 1 } });
  const repo = { domain: s.host, path: 'r', scheme: 'http' as const };
  await assert.rejects(client.downloadBlob(repo, desc, partial, {}), (e: unknown) => e instanceof Unavailable);
  assert.ok(existsSync(partial));
  const kept = statSync(partial).size;
  assert.ok(kept > 0 && kept <= 300_000, `kept ${kept} bytes`);
  assert.ok(readFileSync(partial).equals(blob.subarray(0, kept)), 'the kept bytes are the start of the blob');

  const c = collector();
  const r = await client.downloadBlob(repo, desc, partial, { onBytes: c.onBytes });
  assert.deepEqual(s.ranges, [undefined, `bytes=${kept}-`]);
  assert.equal(r.resumedAtBytes, kept);
  assert.equal(c.seen[0]!.offset, 0, 'the kept bytes are handed over again first');
  assert.ok(Buffer.concat(c.seen.map((x) => x.bytes)).equals(blob));
  assert.ok(readFileSync(partial).equals(blob));
});
