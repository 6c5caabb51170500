// The space check before an update changes anything: the repo's file system must hold the new
// objects and /boot the new kernel and initramfs (a full /boot half-written by an update is what
// bricks machines). Pure: the caller measures, this decides and explains.

export interface SpaceNeed {
  /** What the space is for: `the repo (/ostree/repo)` or `/boot`. */
  readonly what: string;
  readonly path: string;
  readonly neededBytes: number;
  readonly freeBytes: number;
  /** What `atomic host cleanup` would free on this file system (rollback deployment, old objects). */
  readonly cleanupFreesBytes?: number;
}

export interface PreflightResult {
  readonly ok: boolean;
  /** One line per shortfall, naming the file system, the numbers and the way out. */
  readonly problems: readonly string[];
}

/** Free space kept in reserve beyond the estimate: estimates are estimates, and a full /boot is fatal. */
export const RESERVE_BYTES = 16 * 1024 * 1024;

export function checkSpace(needs: readonly SpaceNeed[]): PreflightResult {
  const problems: string[] = [];
  for (const n of needs) {
    const want = n.neededBytes + RESERVE_BYTES;
    if (n.freeBytes >= want) continue;
    const short = want - n.freeBytes;
    const cleanup =
      n.cleanupFreesBytes === undefined || n.cleanupFreesBytes <= 0 ? 'atomic host cleanup would not free enough there'
        : n.cleanupFreesBytes >= short ? `atomic host cleanup would free ${formatBytes(n.cleanupFreesBytes)}, enough`
          : `atomic host cleanup would free ${formatBytes(n.cleanupFreesBytes)}, not enough`;
    problems.push(`not enough space for ${n.what} on ${n.path}: the update needs ${formatBytes(want)} (${formatBytes(n.neededBytes)} + ${formatBytes(RESERVE_BYTES)} reserve), ${formatBytes(n.freeBytes)} free, ${formatBytes(short)} short; ${cleanup}`);
  }
  return { ok: problems.length === 0, problems };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
