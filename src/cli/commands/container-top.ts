// atomic top CONTAINER [PS OPTIONS...]
// The container's processes as the host's ps shows them (default -ef), in docker top's layout:
// columns at least 20 wide with 3 spaces between (docker's tabwriter settings).
import { containerPath, withAgent, type ContainerOptions } from './container-common.js';

export interface TopOptions extends ContainerOptions {
  readonly json?: boolean;
}

export async function run(name: string, psArgs: readonly string[], opts: TopOptions): Promise<void> {
  await withAgent(opts, async (client) => {
    const top = await client.json<{ Titles: string[]; Processes: string[][] }>('GET', containerPath(name, '/top'), { query: psArgs.length === 0 ? {} : { ps_args: psArgs.join(' ') } });
    if (opts.json === true) {
      process.stdout.write(JSON.stringify(top, null, 2) + '\n');
      return;
    }
    process.stdout.write(topTable(top.Titles, top.Processes));
  });
}

/** docker top's table: tabwriter minwidth 20, padding 3, the last column as it is. */
export function topTable(titles: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [titles, ...rows];
  const widths = titles.map((_, i) => Math.max(20, ...all.map((r) => (r[i] ?? '').length + 3)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('') + '\n').join('');
}
