// What a request of the Engine API carries: JSON bodies, read with a cap so that a client cannot
// make the agent buffer an arbitrary amount (refused with a message naming the endpoint's body),
// and boolean query flags.
import type { IncomingMessage } from 'node:http';
import { InvalidArgument } from '../../lib/errors.js';

/** Large enough for any create request the docker CLI sends (a few KiB), small enough to be harmless. */
export const DEFAULT_MAX_BODY_BYTES = 1 << 20;

/**
 * How deep a body's arrays and objects may nest. The handlers walk bodies recursively (and so does
 * JSON.stringify when a message quotes a value): far below the stack's limit, far above any real
 * request (Go's encoding/json stops at 10000, a depth dockerd never sees from a real client).
 */
export const MAX_JSON_DEPTH = 512;

/** The deepest nesting of `[` and `{` in JSON text (outside strings); one pass, no parse. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** The body as JSON; undefined when empty. */
export async function readJsonBody(req: IncomingMessage, what: string, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    // Not destroyed when the loop ends early: the socket must stay to carry the 400.
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      // The client's mistake, a 400 (dockerd's decoder fails on it too); the rest is discarded unread.
      if (size > maxBytes) throw new InvalidArgument(`${what}: the request body is over ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof InvalidArgument) throw e;
    // The connection ended before the body did (a Content-Length longer than what was sent).
    throw new InvalidArgument(`${what}: the request body ended early: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  const depth = nestingDepth(text);
  if (depth > MAX_JSON_DEPTH) throw new InvalidArgument(`${what}: the request body is nested ${depth} levels deep, more than ${MAX_JSON_DEPTH}`);
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
