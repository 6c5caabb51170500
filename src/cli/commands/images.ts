// atomic images [-q] [--digests] [--no-trunc] [-f FILTER]... [--json] [REPOSITORY[:TAG]]
// The agent's images as `docker images` lists them: REPOSITORY TAG [DIGEST] IMAGE ID CREATED SIZE,
// one row per tag (untagged images as <none>), newest first.
import { connectAgent, filtersJson, formatTable, shortImageId, wantsJson, type AgentOptions } from './agent-common.js';
import { humanDuration, humanSize } from '../../lib/human-units.js';

export interface ImagesOptions extends AgentOptions {
  readonly quiet?: boolean;
  readonly digests?: boolean;
  readonly trunc?: boolean;
  readonly filter?: string[];
  readonly json?: boolean;
  readonly format?: string;
}

export interface ImageSummary {
  readonly Id: string;
  readonly RepoTags: readonly string[] | null;
  readonly RepoDigests: readonly string[] | null;
  readonly Created: number;
  readonly Size: number;
}

export async function run(repository: string | undefined, opts: ImagesOptions): Promise<void> {
  const json = wantsJson(opts);
  const filters = [...(opts.filter ?? []), ...(repository === undefined ? [] : [`reference=${repository}`])];
  const client = await connectAgent(opts);
  const q = filtersJson(filters);
  const list = await client.json<ImageSummary[]>('GET', '/images/json', { query: { ...(q === undefined ? {} : { filters: q }) } });
  if (json) {
    process.stdout.write(JSON.stringify(list, null, 2) + '\n');
    return;
  }
  const id = (i: ImageSummary): string => (opts.trunc === false ? i.Id : shortImageId(i.Id));
  if (opts.quiet === true) {
    const ids = [...new Set(list.map(id))];
    process.stdout.write(ids.map((x) => `${x}\n`).join(''));
    return;
  }
  const now = Date.now();
  const rows: string[][] = [];
  for (const i of list) {
    const created = i.Created > 0 ? `${humanDuration(now - i.Created * 1000)} ago` : 'N/A';
    const tags = (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    const digests = (i.RepoDigests ?? []).filter((d) => d !== '<none>@<none>');
    const digestOf = (repo: string): string => digests.find((d) => d.startsWith(`${repo}@`))?.slice(repo.length + 1) ?? '<none>';
    const named = tags.map((t) => {
      const colon = t.lastIndexOf(':');
      return { repo: t.slice(0, colon), tag: t.slice(colon + 1) };
    });
    // Digests of repositories without a tag still show, as `docker images` does (<none> tag).
    for (const d of digests) {
      const repo = d.slice(0, d.indexOf('@'));
      if (!named.some((n) => n.repo === repo)) named.push({ repo, tag: '<none>' });
    }
    if (named.length === 0) named.push({ repo: '<none>', tag: '<none>' });
    for (const n of named) {
      rows.push([n.repo, n.tag, ...(opts.digests === true ? [n.repo === '<none>' ? '<none>' : digestOf(n.repo)] : []), id(i), created, humanSize(i.Size)]);
    }
  }
  process.stdout.write(formatTable(['REPOSITORY', 'TAG', ...(opts.digests === true ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'], rows));
}
