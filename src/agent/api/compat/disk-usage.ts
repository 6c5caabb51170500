// GET /system/df (`docker system df [-v]`) and POST /containers/prune (`docker container prune`),
// the Engine API's disk-usage answers (docs.docker.com/reference/api/engine, "System DataUsage",
// "ContainerPrune"). Sizes are measured when asked: a container's SizeRw is its upper dir, an
// image's its layers (shared ones counted once in LayersSize), a volume's its directory.
import type { ImageStore } from '../../../adapters/image-store/image-store.js';
import { directorySizeBytes } from '../../../adapters/rootfs/directory-size.js';
import type { VolumeStore } from '../../../adapters/volume-store/volume-store.js';
import { imageDiskUsage } from '../../../core/containers/disk-usage.js';
import { untilMs } from '../../../core/containers/prune-filters.js';
import { isRunning } from '../../../core/containers/container-state.js';
import { InvalidArgument } from '../../../lib/errors.js';
import type { ContainerEngine } from '../../containers/container-engine.js';
import type { Router } from '../router.js';
import { labelsMatch, parseFilters } from './filters.js';
import { imageSummaryJson } from './images.js';
import { volumeJson } from './volumes.js';

export interface DiskUsageSources {
  readonly engine: ContainerEngine;
  readonly images: ImageStore;
  readonly volumes: VolumeStore;
  readonly now?: () => number;
}

const DF_TYPES = ['container', 'image', 'volume', 'build-cache'] as const;

export function diskUsageRoutes(router: Router, s: DiskUsageSources): void {
  const now = s.now ?? Date.now;

  router.add('GET', '/system/df', async (ctx) => {
    const asked = ctx.query.getAll('type');
    for (const t of asked) if (!(DF_TYPES as readonly string[]).includes(t)) throw new InvalidArgument(`unknown object type: ${t}`, { subject: 'type' });
    const want = (t: (typeof DF_TYPES)[number]): boolean => asked.length === 0 || asked.includes(t);
    const containers = await s.engine.list({ all: true });
    const imgs = await s.images.list();
    const out: Record<string, unknown> = {};
    if (want('image')) {
      const usage = imageDiskUsage(
        imgs.map((i) => ({ id: i.id, layers: i.layers.map((l) => ({ diffId: l.diffId, sizeBytes: l.diffSizeBytes ?? 0 })) })),
        containers.map((c) => c.ImageID),
      );
      out.LayersSize = usage.layersSizeBytes;
      const images: Record<string, unknown>[] = [];
      for (const [k, img] of imgs.entries()) {
        const u = usage.images[k]!;
        images.push(imageSummaryJson(img, (await s.images.config(img)).config?.Labels, { containers: u.containers, sharedSizeBytes: u.sharedSizeBytes }));
      }
      out.Images = images;
    }
    if (want('container')) {
      const sized: Record<string, unknown>[] = [];
      for (const c of containers) {
        const { upperDir } = await s.engine.layers(c.Id).catch(() => ({ upperDir: '' }));
        const rw = upperDir === '' ? 0 : await directorySizeBytes(upperDir);
        // The image's part is known from its layers: no walk of the shared layer dirs.
        const imageBytes = imgs.find((i) => i.id === c.ImageID)?.sizeBytes ?? 0;
        sized.push({ ...c, SizeRw: rw, SizeRootFs: rw + imageBytes });
      }
      out.Containers = sized;
    }
    if (want('volume')) {
      const vols: Record<string, unknown>[] = [];
      for (const v of await s.volumes.list()) {
        vols.push({ ...volumeJson(v), UsageData: { Size: await s.volumes.sizeBytes(v.name).catch(() => -1), RefCount: s.engine.volumeUsers(v.name).length } });
      }
      out.Volumes = vols;
    }
    if (want('build-cache')) out.BuildCache = [];
    return { json: out };
  });

  router.add('POST', '/containers/prune', async (ctx) => {
    const f = parseFilters(ctx.query.get('filters'), ['until', 'label', 'label!']);
    const until = f.get('until')?.map((u) => untilMs(u, now()));
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of await s.engine.list({ all: true })) {
      const r = s.engine.get(c.Id);
      if (isRunning(r.state) || r.state.status === 'removing') continue;
      if (until !== undefined && until.some((t) => Date.parse(r.created) >= t)) continue;
      if (!labelsMatch(r.spec.labels, f.get('label') ?? [])) continue;
      if ((f.get('label!') ?? []).some((l) => labelsMatch(r.spec.labels, [l]))) continue;
      const { upperDir } = await s.engine.layers(c.Id).catch(() => ({ upperDir: '' }));
      const size = upperDir === '' ? 0 : await directorySizeBytes(upperDir);
      try {
        await s.engine.remove(c.Id);
      } catch {
        // Started or removed meanwhile: dockerd skips what it cannot remove, too.
        continue;
      }
      deleted.push(c.Id);
      reclaimed += size;
    }
    return { json: { ContainersDeleted: deleted.length === 0 ? null : deleted, SpaceReclaimed: reclaimed } };
  });
}
