// The npm packages an installed agent needs at run time: the production dependencies of the
// project's package-lock.json (lockfileVersion 2/3 "packages" map), i.e. every installed package
// not marked `dev`. Read from the lockfile, not from `npm ls`, so it needs no npm on the build
// host and gives the same answer offline.
import { InvalidArgument } from '../../lib/errors.js';

export interface LockedPackage {
  /** Path relative to the project root, e.g. node_modules/pino or node_modules/a/node_modules/b. */
  readonly path: string;
  readonly version: string | undefined;
}

export function productionPackages(lockText: string, file = 'package-lock.json'): LockedPackage[] {
  let lock: unknown;
  try {
    lock = JSON.parse(lockText);
  } catch (e) {
    throw new InvalidArgument(`${file}: not JSON (${(e as Error).message})`, { subject: file });
  }
  const packages = (lock as { packages?: unknown }).packages;
  if (typeof packages !== 'object' || packages === null) {
    throw new InvalidArgument(`${file}: no "packages" map (lockfileVersion 2 or 3 needed; run npm install with npm >= 7)`, { subject: file });
  }
  const out: LockedPackage[] = [];
  for (const [path, raw] of Object.entries(packages as Record<string, unknown>)) {
    if (path === '' || !path.startsWith('node_modules/')) continue; // the root project, workspaces
    const entry = raw as { dev?: boolean; version?: string; link?: boolean; extraneous?: boolean };
    if (entry.dev === true || entry.extraneous === true) continue;
    if (path.split('/').includes('..')) throw new InvalidArgument(`${file}: package path ${path} leaves node_modules`, { subject: file });
    out.push({ path, version: entry.version });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
