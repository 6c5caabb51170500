// A byte stream that may be gzip-compressed, as Docker's DecompressStream takes archives for
// `docker cp -` and `docker load`: told by the magic bytes 1f 8b, passed through otherwise.
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export async function* maybeGunzip(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (headBytes < 2) {
    const r = await it.next();
    if (r.done === true) break;
    head.push(r.value);
    headBytes += r.value.length;
  }
  const first = Buffer.concat(head);
  const rest = async function* (): AsyncGenerator<Uint8Array> {
    if (first.length > 0) yield first;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield r.value;
    }
  };
  if (first[0] === 0x1f && first[1] === 0x8b) yield* Readable.from(rest()).pipe(createGunzip()) as AsyncIterable<Buffer>;
  else yield* rest();
}
