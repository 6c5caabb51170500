// /volumes: the Engine API's volume endpoints (docs.docker.com/reference/api/engine/version/v1.43,
// "Volume") over the VolumeStore. Shapes are Docker's: a Volume object, {"Volumes","Warnings"}
// for the list, {"VolumesDeleted","SpaceReclaimed"} for prune.
import { InvalidArgument } from '../../../lib/errors.js';
import type { Volume, VolumeStore } from '../../../adapters/volume-store/volume-store.js';
import { compareVersions } from '../api-version.js';
import { queryBool, readJsonBody } from '../request-input.js';
import type { Router } from '../router.js';
import { booleanFilter, parseFilters } from './filters.js';

export function volumeRoutes(router: Router, volumes: VolumeStore): void {
  router.add('GET', '/volumes', async (ctx) => {
    const f = parseFilters(ctx.query.get('filters'), ['dangling', 'name', 'label', 'driver']);
    const labels = f.get('label') ?? [];
    const { volumes: list, damaged } = await volumes.scan({
      ...(f.has('dangling') ? { dangling: booleanFilter(f, 'dangling') } : {}),
      ...(f.has('name') ? { name: f.get('name') } : {}),
      ...(f.has('driver') ? { driver: f.get('driver') } : {}),
      label: labels,
    });
    const warnings = damaged.map((e) => `${e.subject ?? ''}: ${e.message}`);
    return { json: { Volumes: list.map((v) => volumeJson(v)), Warnings: warnings } };
  });
  router.add('POST', '/volumes/create', async (ctx) => {
    const body = await readJsonBody(ctx.req, 'volume create');
    const spec = body === undefined ? {} : body;
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new InvalidArgument('volume create: the body must be a JSON object (VolumeCreateOptions)');
    const s = spec as Record<string, unknown>;
    const str = (k: string): string | undefined => {
      const v = s[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw new InvalidArgument(`volume create: ${k} must be a string`);
      return v;
    };
    const map = (k: string): Record<string, string> | undefined => {
      const v = s[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) throw new InvalidArgument(`volume create: ${k} must be an object of strings`);
      return v as Record<string, string>;
    };
    const name = str('Name');
    const driver = str('Driver');
    const options = map('DriverOpts');
    const labels = map('Labels');
    const v = await volumes.create({
      ...(name === undefined ? {} : { name }),
      ...(driver === undefined ? {} : { driver }),
      ...(options === undefined ? {} : { options }),
      ...(labels === undefined ? {} : { labels }),
    });
    return { status: 201, json: volumeJson(v) };
  });
  router.add('POST', '/volumes/prune', async (ctx) => {
    const f = parseFilters(ctx.query.get('filters'), ['label', 'label!', 'all']);
    // API 1.42 made prune remove only anonymous volumes unless all=true; older clients meant all.
    const all = booleanFilter(f, 'all') ?? compareVersions(ctx.version, '1.42') < 0;
    const r = await volumes.prune({ all, label: f.get('label') ?? [], labelNot: f.get('label!') ?? [] });
    return { json: { VolumesDeleted: r.volumesDeleted, SpaceReclaimed: r.spaceReclaimedBytes } };
  });
  router.add('GET', '/volumes/{name}', async (ctx) => {
    const v = await volumes.inspect(ctx.params.name!);
    return { json: volumeJson(v) };
  });
  router.add('DELETE', '/volumes/{name}', async (ctx) => {
    await volumes.remove(ctx.params.name!, { force: queryBool(ctx.query, 'force') });
    return { empty: true, status: 204 };
  });
}

/** Docker's Volume object. */
export function volumeJson(v: Volume): Record<string, unknown> {
  return {
    CreatedAt: v.createdAt,
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: Object.keys(v.options).length === 0 ? null : v.options,
    Scope: 'local',
  };
}

