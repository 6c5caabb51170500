// What the commands that talk to the agent share: finding it (-H, ATOMIC_HOST, the default
// socket; TLS files for tcp://), Docker's filter flags, and the docker CLI's ways of showing
// sizes, ages and tables, so `atomic images` reads like `docker images`.
import { readFile } from 'node:fs/promises';
import { AgentClient } from '../../adapters/agent-client/agent-client.js';
import { chooseHost, parseAgentHost, type TlsFiles } from '../../adapters/agent-client/agent-host.js';
import { InvalidArgument, fromSystemError } from '../../lib/errors.js';

/** The global options every agent command sees (commander's optsWithGlobals). */
export interface AgentOptions {
  readonly host?: string;
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
}

export async function connectAgent(opts: AgentOptions): Promise<AgentClient> {
  const { url, from } = chooseHost(opts.host, process.env);
  const files = [opts.tlsCa, opts.tlsCert, opts.tlsKey].filter((f) => f !== undefined);
  let tls: TlsFiles | undefined;
  if (files.length > 0) {
    if (files.length !== 3) throw new InvalidArgument('TLS to the agent needs all of --tls-ca, --tls-cert and --tls-key');
    const read = async (f: string, flag: string): Promise<Buffer> =>
      readFile(f).catch((e: unknown) => {
        throw fromSystemError(e, f, `reading ${flag}`);
      });
    tls = { ca: await read(opts.tlsCa!, '--tls-ca'), cert: await read(opts.tlsCert!, '--tls-cert'), key: await read(opts.tlsKey!, '--tls-key') };
  }
  const endpoint = parseAgentHost(url, from, tls);
  if (endpoint.kind === 'unix' && tls !== undefined) throw new InvalidArgument('the TLS options apply to tcp:// agents only');
  return new AgentClient(endpoint);
}

/** `-f key=value` flags as the Engine API's filters JSON (`{"key":{"value":true}}`). */
export function filtersJson(flags: readonly string[] | undefined): string | undefined {
  if (flags === undefined || flags.length === 0) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new InvalidArgument(`--filter ${JSON.stringify(f)}: expected KEY=VALUE (e.g. dangling=true)`);
    // `label!=x` is the key `label!` (Docker's filters.ParseFlag).
    const key = f.slice(0, eq).trim();
    (out[key] ??= {})[f.slice(eq + 1)] = true;
  }
  return JSON.stringify(out);
}

/** Repeatable commander option collector. */
export function collect(value: string, acc: string[] = []): string[] {
  return [...acc, value];
}



/** Columns padded like the docker CLI's tabwriter (minwidth 10, padding 3: cli/command/formatter). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(Math.max(widths[i]! + 3, 10)))).join('').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** `sha256:abcdef…` -> the 12 hex digits docker shows. */
export function shortImageId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Whether --json or --format json was asked for; other --format values are refused. */
export function wantsJson(opts: { json?: boolean; format?: string }): boolean {
  if (opts.format !== undefined && opts.format !== 'json' && opts.format !== 'table') {
    throw new InvalidArgument(`--format ${JSON.stringify(opts.format)}: json or table (Go templates are not supported)`);
  }
  return opts.json === true || opts.format === 'json';
}

/** A name for a path segment of the API (image names keep their slashes, as the docker CLI sends them). */
export function pathName(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

/**
 * `docker volume|network inspect` style: GET each object, print the found ones as one JSON array;
 * a name that is not found is reported on stderr and the rest still print, exit status then 1.
 */
export async function inspectEach(names: readonly string[], pathOf: (name: string) => string, opts: AgentOptions & { debug?: boolean }): Promise<void> {
  const { formatError } = await import('../report-error.js');
  const client = await connectAgent(opts);
  const found: unknown[] = [];
  let failed = false;
  for (const n of names) {
    try {
      found.push(await client.json('GET', pathOf(n)));
    } catch (e) {
      failed = true;
      process.stderr.write(formatError(e, opts.debug === true) + '\n');
    }
  }
  process.stdout.write(JSON.stringify(found, null, 4) + '\n');
  if (failed) process.exitCode = 1;
}
