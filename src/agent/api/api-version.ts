// Docker Engine API versioning: clients ping, read `Api-Version` and call `/vX.Y/...`; paths may
// also be unversioned (dockerode). We serve one current version and accept older ones down to
// the oldest the docker CLI still speaks.
// https://docs.docker.com/reference/api/engine/#api-version-matrix

/** What we advertise: accepted by current docker CLIs (they negotiate down to it). */
export const API_VERSION = '1.43';
/** The oldest version a client may ask for (docker CLI's own minimum). */
export const MIN_API_VERSION = '1.24';

export interface VersionedPath {
  /** The path without the `/vX.Y` prefix. */
  readonly path: string;
  /** The version the client asked for; undefined for unversioned paths (means the current one). */
  readonly version?: string;
}

export function splitVersion(pathname: string): VersionedPath {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(pathname);
  return m === null ? { path: pathname } : { path: m[2]!, version: m[1]! };
}

export function compareVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number) as [number, number];
  const [bm, bn] = b.split('.').map(Number) as [number, number];
  return am - bm || an - bn;
}

/** Undefined when supported; otherwise Docker's message for a client too old or too new. */
export function unsupportedVersion(version: string): string | undefined {
  if (compareVersions(version, MIN_API_VERSION) < 0) return `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`;
  if (compareVersions(version, API_VERSION) > 0) return `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`;
  return undefined;
}
