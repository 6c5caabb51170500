// /containers/{id}/archive: `docker cp` both ways (docs.docker.com/reference/api/engine,
// "Container": ContainerArchiveInfo, ContainerArchive, PutContainerArchive). HEAD answers the
// path's stat in X-Docker-Container-Path-Stat (base64 JSON, Go FileMode bits); GET sends the path
// as a tar with the same header; PUT extracts a tar into a directory of the container. Running
// containers are read through their own root, stopped ones through their overlay mounted for the
// call (ContainerEngine.withRootfs). Missing paths say what dockerd says: "Could not find the file
// PATH in container NAME" (404).
import { readFile } from 'node:fs/promises';
import { archiveContainerPath, extractIntoContainer, resolveScoped, statContainerPath, type ContainerPathStat } from '../../../adapters/rootfs/container-path.js';
import { resolveUser } from '../../../core/containers/user-database.js';
import { InvalidArgument, NotFound, PermissionDenied } from '../../../lib/errors.js';
import type { ContainerEngine } from '../../containers/container-engine.js';
import { queryBool } from '../request-input.js';
import type { Router } from '../router.js';
import { writeChunks } from '../stream-body.js';

export interface ArchiveRouteOptions {
  /** Largest archive PUT accepts (compressed bytes as sent). Default 8 GiB. */
  readonly maxUploadBytes?: number;
}

export const DEFAULT_MAX_UPLOAD_BYTES = 8 * 1024 ** 3;
export const PATH_STAT_HEADER = 'X-Docker-Container-Path-Stat';

export function pathStatHeader(stat: ContainerPathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

function requiredPath(q: URLSearchParams): string {
  const path = q.get('path');
  if (path === null || path === '') throw new InvalidArgument('path: the path in the container is required', { subject: 'path' });
  return path;
}

/** Docker's text for a path that is not there; other errors pass unchanged. */
function fileNotFound(e: unknown, path: string, container: string): unknown {
  return e instanceof NotFound ? new NotFound(`Could not find the file ${path} in container ${container}`, { subject: container, cause: e }) : e;
}

export function archiveRoutes(router: Router, engine: ContainerEngine, opts: ArchiveRouteOptions = {}): void {
  const maxUploadBytes = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;

  // HEAD is answered by this route too (the router maps HEAD to GET).
  router.add('GET', '/containers/{id}/archive', async (ctx) => {
    const ref = ctx.params.id ?? '';
    const path = requiredPath(ctx.query);
    engine.get(ref);
    const head = ctx.req.method === 'HEAD';
    await engine.withRootfs(ref, async (root) => {
      if (head) {
        const { stat } = await statContainerPath(root, path).catch((e: unknown) => Promise.reject(fileNotFound(e, path, ref)));
        ctx.res.writeHead(200, { [PATH_STAT_HEADER]: pathStatHeader(stat), 'Content-Type': 'application/json' });
        ctx.res.end();
        return;
      }
      const { stat, tar } = await archiveContainerPath(root, path).catch((e: unknown) => Promise.reject(fileNotFound(e, path, ref)));
      ctx.res.writeHead(200, { [PATH_STAT_HEADER]: pathStatHeader(stat), 'Content-Type': 'application/x-tar' });
      // Inside the callback: a stopped container's root stays mounted until the last byte.
      await writeChunks(ctx.res, tar);
    });
    return 'handled' as const;
  });

  router.add('PUT', '/containers/{id}/archive', async (ctx) => {
    const ref = ctx.params.id ?? '';
    const path = requiredPath(ctx.query);
    const r = engine.get(ref);
    // dockerd refuses a read-only root filesystem before it looks at the archive.
    if (r.hostConfig.ReadonlyRootfs === true) throw new PermissionDenied('container rootfs is marked read-only', { subject: ref });
    const noOverwriteDirNonDir = queryBool(ctx.query, 'noOverwriteDirNonDir');
    const copyUIDGID = queryBool(ctx.query, 'copyUIDGID');
    await engine.withRootfs(ref, async (root, rec) => {
      let owner: { uid: number; gid: number } | undefined;
      if (copyUIDGID) {
        // The container's user, as its own /etc/passwd and /etc/group define it (docker cp -a).
        const read = async (p: string): Promise<string | undefined> => readFile((await resolveScoped(root, p, { followLast: true })).host, 'utf8').catch(() => undefined);
        const u = resolveUser(rec.spec.user, { passwd: await read('/etc/passwd'), group: await read('/etc/group') });
        owner = { uid: u.uid, gid: u.gid };
      }
      await extractIntoContainer(root, path, ctx.req, { noOverwriteDirNonDir, maxBytes: maxUploadBytes, what: `archive for ${path}`, ...(owner === undefined ? {} : { owner }) })
        .catch((e: unknown) => Promise.reject(fileNotFound(e, path, ref)));
    });
    return { status: 200, empty: true };
  });
}
