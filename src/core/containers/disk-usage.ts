// `docker system df`: what images, containers and volumes take on disk, counted as dockerd counts
// them (daemon/disk_usage.go): layers shared by several images are counted once in LayersSize,
// and each image says how much of its size it shares with others (SharedSize) and how many
// containers use it. The docker CLI computes the ACTIVE and RECLAIMABLE columns from these.

export interface LayerSize {
  readonly diffId: string;
  readonly sizeBytes: number;
}

export interface ImageUsageInput {
  readonly id: string;
  readonly layers: readonly LayerSize[];
}

export interface ImageUsage {
  readonly id: string;
  /** The image's own size: all its layers. */
  readonly sizeBytes: number;
  /** Bytes of its layers that another image has too. */
  readonly sharedSizeBytes: number;
  /** Containers created from it. */
  readonly containers: number;
}

export interface DiskUsageTotals {
  /** Every distinct layer once. */
  readonly layersSizeBytes: number;
  readonly images: readonly ImageUsage[];
}

export function imageDiskUsage(images: readonly ImageUsageInput[], containerImageIds: readonly string[]): DiskUsageTotals {
  // How many images have each layer, and its size (a layer counted once per image even if listed twice).
  const holders = new Map<string, number>();
  const sizes = new Map<string, number>();
  for (const img of images) {
    for (const diffId of new Set(img.layers.map((l) => l.diffId))) holders.set(diffId, (holders.get(diffId) ?? 0) + 1);
    for (const l of img.layers) sizes.set(l.diffId, l.sizeBytes);
  }
  const uses = new Map<string, number>();
  for (const id of containerImageIds) uses.set(id, (uses.get(id) ?? 0) + 1);
  const out: ImageUsage[] = images.map((img) => {
    const own = [...new Map(img.layers.map((l) => [l.diffId, l.sizeBytes])).entries()];
    return {
      id: img.id,
      sizeBytes: own.reduce((n, [, s]) => n + s, 0),
      sharedSizeBytes: own.filter(([d]) => (holders.get(d) ?? 0) > 1).reduce((n, [, s]) => n + s, 0),
      containers: uses.get(img.id) ?? 0,
    };
  });
  return { layersSizeBytes: [...sizes.values()].reduce((n, s) => n + s, 0), images: out };
}

/** The reclaimable bytes the docker CLI shows for images: what images no container uses hold alone. */
export function reclaimableImageBytes(t: DiskUsageTotals): number {
  const used = t.images.filter((i) => i.containers > 0).reduce((n, i) => n + i.sizeBytes - i.sharedSizeBytes, 0);
  return Math.max(0, t.layersSizeBytes - used);
}
