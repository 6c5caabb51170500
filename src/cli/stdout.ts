// A one-shot command's result written to standard output without setting up process.stdout:
// that stream (tty.WriteStream, net.Socket or fs.SyncWriteStream) loads Node's streams, ~5 ms of
// a short command's start (bench: seed create). A blocking write of the whole text is all a
// command that prints once and exits needs.
import { writeSync } from 'node:fs';

export function writeStdout(text: string): void {
  const data = Buffer.from(text);
  let done = 0;
  try {
    while (done < data.length) done += writeSync(1, data, done);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    // A non-blocking pipe that is full: the stream queues the rest and writes it as it drains.
    process.stdout.write(data.subarray(done));
  }
}
