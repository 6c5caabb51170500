// atomic system df [--json]
// What images, containers and volumes take on disk, with `docker system df`'s columns: TYPE
// TOTAL ACTIVE SIZE RECLAIMABLE (reclaimable computed as the docker CLI does).
import { reclaimableImageBytes } from '../../core/containers/disk-usage.js';
import { humanSize } from '../../lib/human-units.js';
import { connectAgent, formatTable, type AgentOptions } from './agent-common.js';

export interface SystemDfOptions extends AgentOptions {
  readonly json?: boolean;
}

interface DiskUsage {
  readonly LayersSize?: number;
  readonly Images?: { Id: string; Size: number; SharedSize: number; Containers: number }[];
  readonly Containers?: { State: string; SizeRw?: number }[];
  readonly Volumes?: { UsageData?: { Size: number; RefCount: number } }[];
}

export async function run(opts: SystemDfOptions): Promise<void> {
  const client = await connectAgent(opts);
  const df = await client.json<DiskUsage>('GET', '/system/df');
  if (opts.json === true) {
    process.stdout.write(JSON.stringify(df, null, 2) + '\n');
    return;
  }
  const images = df.Images ?? [];
  const containers = df.Containers ?? [];
  const volumes = df.Volumes ?? [];
  const imagesSize = df.LayersSize ?? 0;
  const imagesReclaimable = reclaimableImageBytes({
    layersSizeBytes: imagesSize,
    images: images.map((i) => ({ id: i.Id, sizeBytes: i.Size, sharedSizeBytes: Math.max(0, i.SharedSize), containers: i.Containers })),
  });
  const rw = (c: { SizeRw?: number }): number => c.SizeRw ?? 0;
  const containersSize = containers.reduce((n, c) => n + rw(c), 0);
  const containersReclaimable = containers.filter((c) => c.State !== 'running' && c.State !== 'paused').reduce((n, c) => n + rw(c), 0);
  const volSize = (v: { UsageData?: { Size: number } }): number => Math.max(0, v.UsageData?.Size ?? 0);
  const volumesSize = volumes.reduce((n, v) => n + volSize(v), 0);
  const volumesReclaimable = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((n, v) => n + volSize(v), 0);
  const reclaim = (r: number, total: number): string => (total > 0 ? `${humanSize(r)} (${Math.floor((100 * r) / total)}%)` : humanSize(r));
  process.stdout.write(formatTable(['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], [
    ['Images', String(images.length), String(images.filter((i) => i.Containers > 0).length), humanSize(imagesSize), reclaim(imagesReclaimable, imagesSize)],
    ['Containers', String(containers.length), String(containers.filter((c) => c.State === 'running').length), humanSize(containersSize), reclaim(containersReclaimable, containersSize)],
    ['Local Volumes', String(volumes.length), String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), humanSize(volumesSize), reclaim(volumesReclaimable, volumesSize)],
    ['Build Cache', '0', '0', '0B', '0B'],
  ]));
}
