// What a request of the Engine API carries: JSON bodies, read with a cap so that a client cannot
// make the agent buffer an arbitrary amount (refused with a message naming the endpoint's body),
// and boolean query flags.
import type { IncomingMessage } from 'node:http';
import { InvalidArgument, ResourceExhausted } from '../../lib/errors.js';

/** Large enough for any create request the docker CLI sends (a few KiB), small enough to be harmless. */
export const DEFAULT_MAX_BODY_BYTES = 1 << 20;

/** The body as JSON; undefined when empty. */
export async function readJsonBody(req: IncomingMessage, what: string, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      req.destroy();
      throw new ResourceExhausted(`${what}: the request body is over ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new InvalidArgument(`${what}: the request body is not JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** A body that must be a JSON object (or empty = {}). */
export async function readJsonObject(req: IncomingMessage, what: string, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const body = await readJsonBody(req, what, maxBytes);
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgument(`${what}: the request body must be a JSON object`);
  return body as Record<string, unknown>;
}

/** Go's strconv.ParseBool as Docker's httputils.BoolValue reads query flags: 1/true/yes-ish. */
export function queryBool(query: URLSearchParams, key: string): boolean {
  const v = (query.get(key) ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no' && v !== 'off' && v !== 'none';
}
