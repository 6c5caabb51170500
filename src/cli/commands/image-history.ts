// atomic history [--no-trunc] [-q] [--json] IMAGE
// The image's history, newest first: IMAGE CREATED CREATED BY SIZE COMMENT, as `docker history`.
import { humanDuration, humanSize } from '../../lib/human-units.js';
import { connectAgent, formatTable, shortImageId, type AgentOptions } from './agent-common.js';
import { ellipsis } from './container-common.js';

export interface HistoryOptions extends AgentOptions {
  readonly trunc?: boolean;
  readonly quiet?: boolean;
  readonly json?: boolean;
}

interface HistoryItem {
  readonly Id: string;
  readonly Created: number;
  readonly CreatedBy: string;
  readonly Size: number;
  readonly Comment: string;
}

export async function run(image: string, opts: HistoryOptions): Promise<void> {
  const client = await connectAgent(opts);
  const items = await client.json<HistoryItem[]>('GET', `/images/${encodeURIComponent(image)}/history`);
  if (opts.json === true) {
    process.stdout.write(JSON.stringify(items, null, 2) + '\n');
    return;
  }
  const id = (i: HistoryItem): string => (i.Id === '<missing>' || opts.trunc === false ? i.Id : shortImageId(i.Id));
  if (opts.quiet === true) {
    process.stdout.write(items.map((i) => `${id(i)}\n`).join(''));
    return;
  }
  const now = Date.now();
  const rows = items.map((i) => [
    id(i), i.Created === 0 ? 'N/A' : `${humanDuration(now - i.Created * 1000)} ago`, opts.trunc === false ? i.CreatedBy : ellipsis(i.CreatedBy, 45), humanSize(i.Size), i.Comment,
  ]);
  process.stdout.write(formatTable(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows));
}
