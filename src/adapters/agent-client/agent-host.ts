// Where the CLI finds the agent, with the docker CLI's precedence: `-H URL`, else ATOMIC_HOST,
// else the default socket. unix:// is a socket path; tcp://HOST:PORT is plain HTTP unless TLS
// files are given, then mutual TLS (the agent's --tcp listener refuses anything else).
import { InvalidArgument } from '../../lib/errors.js';

export const DEFAULT_AGENT_SOCKET = '/run/atomic/atomic.sock';

export interface TlsFiles {
  /** PEM contents, not paths: the caller reads the files (and names them in its errors). */
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export type AgentEndpoint =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls?: TlsFiles };

/** The host URL in effect and where it came from, for error messages. */
export function chooseHost(flag: string | undefined, env: NodeJS.ProcessEnv): { url: string; from: string } {
  if (flag !== undefined && flag !== '') return { url: flag, from: '-H' };
  const e = env.ATOMIC_HOST;
  if (e !== undefined && e !== '') return { url: e, from: 'ATOMIC_HOST' };
  return { url: `unix://${DEFAULT_AGENT_SOCKET}`, from: 'the default' };
}

/** Parse `unix:///run/atomic/atomic.sock`, `/path.sock`, `tcp://127.0.0.1:2376`. */
export function parseAgentHost(url: string, from = '-H', tls?: TlsFiles): AgentEndpoint {
  const bad = (why: string): InvalidArgument => new InvalidArgument(`${from} ${JSON.stringify(url)}: ${why}`);
  if (url.startsWith('/')) return { kind: 'unix', path: url };
  const m = /^([a-z]+):\/\/(.*)$/.exec(url);
  if (m === null) throw bad('expected unix:///PATH or tcp://HOST:PORT');
  const [, scheme, rest] = m as unknown as [string, string, string];
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw bad('a unix:// address needs an absolute socket path (unix:///run/atomic/atomic.sock)');
    return { kind: 'unix', path: rest };
  }
  if (scheme === 'tcp' || scheme === 'https' || scheme === 'http') {
    const hp = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d+)\/?$/.exec(rest);
    const port = Number(hp?.[2]);
    if (hp === null || !Number.isInteger(port) || port < 1 || port > 65535) throw bad('expected tcp://HOST:PORT');
    if (scheme === 'https' && tls === undefined) throw bad('https:// needs the TLS files (--tls-ca, --tls-cert, --tls-key)');
    return { kind: 'tcp', host: hp[1]!.replace(/^\[(.*)\]$/, '$1'), port, ...(tls === undefined ? {} : { tls }) };
  }
  throw bad(`unsupported scheme ${scheme}:// (unix or tcp)`);
}

export function formatEndpoint(e: AgentEndpoint): string {
  return e.kind === 'unix' ? `unix://${e.path}` : `tcp://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}
