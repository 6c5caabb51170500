// A small router for the Engine API: method + path pattern (`/containers/{id}/start`) to a
// handler, after the version prefix is taken off. Handlers return data (sent as JSON) or take
// over the response themselves (streams, hijacked connections).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { InvalidArgument } from '../../lib/errors.js';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The API version the client asked for, or ours. */
  readonly version: string;
  /**
   * Present when the client asked to upgrade the connection (`Connection: Upgrade`, `Upgrade:
   * tcp`, as the docker CLI does for attach and exec): answers 101 and hands over the raw
   * connection. Before calling it a handler may still answer normally through `res` (errors).
   */
  readonly hijack?: (contentType: string) => Duplex;
}

/** What a handler returns: a JSON body with a status, or 'handled' when it wrote the response. */
export type HandlerResult = { readonly status?: number; readonly json?: unknown; readonly empty?: boolean } | 'handled';
export type Handler = (ctx: RequestContext) => Promise<HandlerResult> | HandlerResult;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    // `{name}` matches one segment; `{name*}` the rest of the path (container names may have '/').
    const pattern = new RegExp(
      '^' +
        path.replace(/[.+?^$()[\]\\|]/g, '\\$&').replace(/\{(\w+)(\*?)\}/g, (_m, name: string, rest: string) => {
          names.push(name);
          return rest === '*' ? '(.+)' : '([^/]+)';
        }) +
        '$',
    );
    this.routes.push({ method, pattern, names, handler });
    return this;
  }

  /** The handler and path parameters, or why there is none (404 vs 405). */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | { status: 404 | 405 } {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (m === null) continue;
      pathMatched = true;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodePathSegment(m[i + 1] ?? '')));
      return { handler: r.handler, params };
    }
    return { status: pathMatched ? 405 : 404 };
  }
}

/** A path parameter's percent-decoding; a malformed escape (`%zz`, `%ff` alone) is the client's error. */
function decodePathSegment(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch (e) {
    throw new InvalidArgument(`the path has a malformed percent-encoding: ${JSON.stringify(text.slice(0, 80))}`, { cause: e });
  }
}
