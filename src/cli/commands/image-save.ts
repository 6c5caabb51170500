// atomic save [-o FILE] IMAGE...   and   atomic load [-i FILE] [-q]
// docker save / docker load through the agent: the archive is Docker 25's (an OCI image layout
// with manifest.json), written to FILE (atomically: a failed save leaves no partial file) or to
// standard output when it is not a terminal; load reads FILE or standard input.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { writeAtomically } from '../../lib/atomic-file.js';
import { FailedPrecondition } from '../../lib/errors.js';
import { connectAgent, type AgentOptions } from './agent-common.js';

export interface SaveOptions extends AgentOptions {
  readonly output?: string;
}

export async function save(images: readonly string[], opts: SaveOptions): Promise<void> {
  if (opts.output === undefined && process.stdout.isTTY === true) throw new FailedPrecondition('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const client = await connectAgent(opts);
  const q = new URLSearchParams(images.map((n): [string, string] => ['names', n]));
  const res = await client.open('GET', `/images/get?${q.toString()}`);
  if (opts.output === undefined) {
    await pipeline(res.body, process.stdout);
    return;
  }
  await writeAtomically(opts.output, async (out) => {
    for await (const chunk of res.body as AsyncIterable<Buffer>) await out.handle.write(chunk);
  }, { mode: 0o600 });
}

export interface LoadOptions extends AgentOptions {
  readonly input?: string;
  readonly quiet?: boolean;
}

export async function load(opts: LoadOptions): Promise<void> {
  if (opts.input === undefined && process.stdin.isTTY === true) throw new FailedPrecondition('requested load from stdin, but stdin is empty');
  const client = await connectAgent(opts);
  const upload = opts.input === undefined ? process.stdin : createReadStream(opts.input);
  await client.stream('POST', '/images/load', (m) => {
    if (opts.quiet !== true && typeof m.stream === 'string') process.stdout.write(m.stream);
  }, { upload, query: { quiet: opts.quiet === true ? '1' : '0' } });
}
