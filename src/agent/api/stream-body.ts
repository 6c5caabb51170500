// Streaming a response body that is produced while it is sent (tar archives of `docker cp` and
// `docker save`): backpressure honoured, a client that went away ends the loop, and an error after
// the headers cuts the stream (the client sees a short body, as with dockerd: the status is out).
import type { ServerResponse } from 'node:http';

export async function writeChunks(res: ServerResponse, chunks: AsyncIterable<Uint8Array>, first?: Uint8Array): Promise<void> {
  try {
    if (first !== undefined) res.write(first);
    for await (const chunk of chunks) {
      if (res.destroyed) break;
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  } catch (e) {
    res.destroy(e instanceof Error ? e : undefined);
  }
}
