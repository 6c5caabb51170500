// atomic pull [--platform P] [-q] [--json] REF
// Pull an image through the agent (POST /images/create), showing Docker's progress: on a terminal
// one line per layer, redrawn in place; otherwise a line whenever a layer's status changes. Ends
// like `docker pull`: the digest, the status, then the canonical reference.
import { InvalidArgument } from '../../lib/errors.js';
import { formatReference, parseNormalizedReference, withDefaultTag, type ImageReference } from '../../formats/oci/reference.js';
import type { AgentClient, JsonMessage } from '../../adapters/agent-client/agent-client.js';
import { connectAgent, pathName, type AgentOptions } from './agent-common.js';
import { humanSize } from '../../lib/human-units.js';

export interface PullOptions extends AgentOptions {
  readonly platform?: string;
  readonly quiet?: boolean;
  readonly json?: boolean;
}

export async function run(reference: string, opts: PullOptions): Promise<void> {
  // A malformed reference is the caller's to fix: say so before asking anyone (exit 2).
  const ref = withDefaultTag(parseNormalizedReference(reference));
  if (ref.tag !== undefined && ref.digest !== undefined) throw new InvalidArgument(`${reference}: give a tag or a digest, not both`);
  const client = await connectAgent(opts);
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  let finals: string[];
  try {
    finals = await pullWithProgress(client, ref, opts.quiet === true || opts.json === true ? undefined : process.stdout, { signal: controller.signal, ...(opts.platform === undefined ? {} : { platform: opts.platform }) });
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
  const canonical = formatReference(ref);
  if (opts.json === true) {
    const image = await client.json<{ Id: string; RepoDigests: string[] }>('GET', `/images/${pathName(canonical)}/json`);
    const digest = finals.find((s) => s.startsWith('Digest: '))?.slice('Digest: '.length);
    process.stdout.write(
      JSON.stringify({ reference: canonical, id: image.Id, digest, upToDate: finals.some((s) => s.startsWith('Status: Image is up to date')) }, null, 2) + '\n',
    );
    return;
  }
  process.stdout.write(`${canonical}\n`);
}

/**
 * POST /images/create with Docker's progress display on `out` (none when undefined); returns the
 * summary lines (Digest:, Status:). `atomic run` shows it on stderr when the image is missing.
 */
export async function pullWithProgress(
  client: AgentClient, ref: ImageReference, out: NodeJS.WriteStream | undefined, o: { signal?: AbortSignal; platform?: string } = {},
): Promise<string[]> {
  const display = out === undefined ? undefined : out.isTTY === true ? new TtyProgress(out) : new LineProgress(out);
  const finals: string[] = [];
  try {
    await client.stream(
      'POST',
      '/images/create',
      (m) => {
        if (m.id === undefined && m.status !== undefined) finals.push(m.status);
        display?.message(m);
      },
      {
        query: { fromImage: `${ref.domain}/${ref.path}`, tag: ref.digest ?? ref.tag, ...(o.platform === undefined ? {} : { platform: o.platform }) },
        // The docker CLI always sends one; `{}` means anonymous (credentials are the agent's business).
        headers: { 'X-Registry-Auth': Buffer.from('{}').toString('base64url') },
        ...(o.signal === undefined ? {} : { signal: o.signal }),
      },
    );
  } finally {
    display?.end();
  }
  return finals;
}

/** Not a terminal: one line per layer status change, and the summary lines. */
class LineProgress {
  private readonly last = new Map<string, string>();

  constructor(private readonly out: NodeJS.WritableStream) {}

  message(m: JsonMessage): void {
    if (m.status === undefined) return;
    if (m.id === undefined) {
      this.out.write(`${m.status}\n`);
      return;
    }
    if (this.last.get(m.id) === m.status) return;
    this.last.set(m.id, m.status);
    this.out.write(`${m.id}: ${m.status}\n`);
  }

  end(): void {}
}

/** A terminal: each layer keeps its line, rewritten in place with its progress. */
class TtyProgress {
  private readonly lines: string[] = [];
  private readonly index = new Map<string, number>();

  constructor(private readonly out: NodeJS.WritableStream) {}

  message(m: JsonMessage): void {
    if (m.status === undefined) return;
    const d = m.progressDetail;
    const progress = d?.current !== undefined && d.total !== undefined && d.total > 0 ? ` ${bar(d.current, d.total)} ${humanSize(d.current)}/${humanSize(d.total)}` : '';
    const text = m.id === undefined ? m.status : `${m.id}: ${m.status}${progress}`;
    const at = m.id === undefined ? undefined : this.index.get(m.id);
    if (at === undefined) {
      if (m.id !== undefined) this.index.set(m.id, this.lines.length);
      this.lines.push(text);
      this.out.write(`${text}\n`);
      return;
    }
    this.lines[at] = text;
    const up = this.lines.length - at;
    // Up to the layer's line, clear it, write, and back down (ANSI CUU/EL/CUD).
    this.out.write(`\x1b[${up}A\r\x1b[2K${text}\r\x1b[${up}B`);
  }

  end(): void {}
}

function bar(current: number, total: number): string {
  const width = 30;
  const filled = Math.min(width, Math.floor((current / total) * width));
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}]`;
}
