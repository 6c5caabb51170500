// /images: the Engine API's image endpoints (docs.docker.com/reference/api/engine/version/v1.43,
// "Image") over the ImageStore. A pull answers with Docker's JSON progress stream (one JSON
// message per line: moby pkg/jsonmessage), which the docker CLI renders as `docker pull` output.
import type { ServerResponse } from 'node:http';
import { Conflict, InvalidArgument, NotFound, Unimplemented } from '../../../lib/errors.js';
import type { ImageConfig, ImageHistory } from '../../../formats/oci/image-config.js';
import {
  familiarString, formatReference, isValidTag, parseNormalizedReference, withDefaultTag, type ImageReference,
} from '../../../formats/oci/reference.js';
import type { ContainerUse, ImageRecord, ImageStore, PullProgress } from '../../../adapters/image-store/image-store.js';
// Loaded by the first save or load: the archive code (tar writer and reader) is not kept in an idle agent.
import type { SaveRequest } from '../../../adapters/image-store/image-archive.js';
import type { RegistryCredentials } from '../../../adapters/registry/registry-client.js';
import { httpErrorFor } from '../http-errors.js';
import type { RequestContext, Router } from '../router.js';
import { booleanFilter, labelsMatch, parseFilters } from './filters.js';
import { queryBool } from '../request-input.js';
import { humanSize } from '../../../lib/human-units.js';
import { writeChunks } from '../stream-body.js';

export interface ImageRouteOptions {
  /** The container using an image, if any (the container engine supplies it): rmi and prune respect it. */
  readonly imageInUse?: (imageId: string) => ContainerUse | undefined;
}

export function imageRoutes(router: Router, images: ImageStore, opts: ImageRouteOptions = {}): void {
  router.add('POST', '/images/create', async (ctx) => {
    if (ctx.query.get('fromSrc') !== null) throw new Unimplemented('importing an image (fromSrc) is not supported; pull it from a registry');
    const from = ctx.query.get('fromImage');
    if (from === null || from === '') throw new InvalidArgument('fromImage: the image to pull is required');
    const ref = pullReference(from, ctx.query.get('tag') ?? '');
    const auth = registryAuth(ctx.req.headers['x-registry-auth']);
    const platform = ctx.query.get('platform') ?? '';
    await streamPull(ctx.res, images, ref, { ...(auth === undefined ? {} : { auth }), ...(platform === '' ? {} : { platform }) });
    return 'handled' as const;
  });
  router.add('GET', '/images/json', async (ctx) => {
    const f = parseFilters(ctx.query.get('filters'), ['reference', 'dangling', 'label', 'before', 'since']);
    const dangling = booleanFilter(f, 'dangling');
    const refs = f.get('reference') ?? [];
    const labels = f.get('label') ?? [];
    const all = await images.list();
    const bound = async (key: 'before' | 'since'): Promise<number | undefined> => {
      const v = f.get(key)?.[0];
      return v === undefined ? undefined : createdSeconds(await lookup(images, v));
    };
    const before = await bound('before');
    const since = await bound('since');
    const out: Record<string, unknown>[] = [];
    for (const img of all) {
      if (dangling !== undefined && (img.repoTags.length === 0) !== dangling) continue;
      let repoTags = img.repoTags.map(familiar);
      if (refs.length > 0) {
        // Docker lists only the tags that matched a reference filter.
        repoTags = repoTags.filter((t) => refs.some((p) => referenceMatches(p, t)));
        if (repoTags.length === 0 && !img.repoDigests.some((d) => refs.some((p) => referenceMatches(p, familiar(d))))) continue;
      }
      const created = createdSeconds(img);
      if (before !== undefined && created >= before) continue;
      if (since !== undefined && created <= since) continue;
      const imageLabels = (await images.config(img)).config?.Labels;
      if (!labelsMatch(imageLabels ?? {}, labels)) continue;
      out.push({ ...imageSummaryJson(img, imageLabels), RepoTags: repoTags });
    }
    // Newest first, as `docker images` shows them.
    out.sort((a, b) => (b.Created as number) - (a.Created as number));
    return { json: out };
  });
  router.add('POST', '/images/prune', async (ctx) => {
    const f = parseFilters(ctx.query.get('filters'), ['dangling', 'label', 'label!', 'until']);
    if (f.has('until')) throw new Unimplemented("the 'until' filter of image prune is not supported");
    // Default: only dangling (untagged) images; dangling=false: every image no container uses.
    const onlyDangling = booleanFilter(f, 'dangling') ?? true;
    const deletedItems: Record<string, string>[] = [];
    let reclaimed = 0;
    for (const img of await images.list()) {
      if (onlyDangling && img.repoTags.length > 0) continue;
      if (opts.imageInUse?.(img.id) !== undefined) continue;
      const labels = (await images.config(img)).config?.Labels ?? {};
      if (!labelsMatch(labels, f.get('label') ?? [])) continue;
      if ((f.get('label!') ?? []).some((l) => labelsMatch(labels, [l]))) continue;
      const r = await images.remove(img.id, { force: true, ...(opts.imageInUse === undefined ? {} : { isInUse: opts.imageInUse }) });
      deletedItems.push(...removeItems(r.untagged, r.deleted));
      if (r.deleted.length > 0) reclaimed += img.sizeBytes;
    }
    return { json: { ImagesDeleted: deletedItems.length === 0 ? null : deletedItems, SpaceReclaimed: reclaimed } };
  });
  // `docker save`: one or more images as a docker-archive / OCI layout tarball.
  const save = async (ctx: RequestContext, names: readonly string[]): Promise<'handled'> => {
    if (names.length === 0) throw new InvalidArgument('names: at least one image to save is required', { subject: 'names' });
    const requests: SaveRequest[] = [];
    for (const n of names) {
      const image = await lookup(images, n);
      // Asked by a name, the archive carries that name; by ID, none (as docker save does).
      const byName = !(image.id === n || image.id === `sha256:${n}` || (/^[a-f0-9]{1,64}$/.test(n) && image.id.startsWith(`sha256:${n}`)));
      requests.push({ image, ...(byName ? { name: formatReference(withDefaultTag(parseNormalizedReference(n))) } : {}) });
    }
    const { saveImages } = await import('../../../adapters/image-store/image-archive.js');
    const tar = saveImages(images, requests);
    // The first chunk before the headers: a missing blob is still a plain HTTP error.
    const first = await tar.next();
    ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await writeChunks(ctx.res, tar, first.done === true ? undefined : first.value);
    return 'handled';
  };
  router.add('GET', '/images/get', (ctx) => save(ctx, ctx.query.getAll('names')));
  router.add('GET', '/images/{name*}/get', (ctx) => save(ctx, [ctx.params.name!]));

  // `docker load`: Docker's JSON message stream ({"stream": "Loaded image: NAME\n"}), or with
  // quiet the same lines the CLI then prints as they are.
  router.add('POST', '/images/load', async (ctx) => {
    const { loadImages } = await import('../../../adapters/image-store/image-archive.js');
    const loaded = await loadImages(images, ctx.req);
    const lines: string[] = [];
    for (const l of loaded) {
      for (const r of l.renamed) lines.push(`The image ${familiar(r.tag)} already exists, renaming the old one with ID ${r.previousImageId} to empty string`);
      if (l.tags.length === 0) lines.push(`Loaded image ID: ${l.id}`);
      for (const t of l.tags) lines.push(`Loaded image: ${t}`);
    }
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.end(lines.map((line) => JSON.stringify({ stream: `${line}\n` }) + '\n').join(''));
    return 'handled' as const;
  });

  // `docker history`: the config's history, newest first; entries that made a layer carry its size.
  router.add('GET', '/images/{name*}/history', async (ctx) => {
    const img = await lookup(images, ctx.params.name!);
    const config = await images.config(img);
    const history: readonly ImageHistory[] = config.history ?? img.diffIds.map(() => ({}));
    let layer = 0;
    const items = history.map((h) => {
      const size = h.empty_layer === true ? 0 : (img.layers[layer++]?.diffSizeBytes ?? 0);
      const t = h.created === undefined ? NaN : Date.parse(h.created);
      return { Id: '<missing>', Created: Number.isNaN(t) ? 0 : Math.floor(t / 1000), CreatedBy: h.created_by ?? '', Tags: null as string[] | null, Size: size, Comment: h.comment ?? '' };
    });
    items.reverse();
    if (items[0] !== undefined) items[0] = { ...items[0], Id: img.id, Tags: img.repoTags.length === 0 ? null : img.repoTags.map(familiar) };
    return { json: items };
  });
  router.add('GET', '/images/{name*}/json', async (ctx) => {
    const img = await lookup(images, ctx.params.name!);
    return { json: inspectJson(img, await images.config(img), images) };
  });
  router.add('POST', '/images/{name*}/tag', async (ctx) => {
    const repo = ctx.query.get('repo') ?? '';
    const tag = ctx.query.get('tag') ?? '';
    if (repo === '') throw new InvalidArgument('repo: the repository to tag into is required');
    if (tag !== '' && !isValidTag(tag)) throw new InvalidArgument(`invalid tag format: ${JSON.stringify(tag)}`, { subject: tag });
    const target = withDefaultTag(parseNormalizedReference(tag === '' ? repo : `${repo}:${tag}`));
    await lookup(images, ctx.params.name!);
    await images.tag(ctx.params.name!, formatReference(target));
    return { status: 201, empty: true };
  });
  router.add('DELETE', '/images/{name*}', async (ctx) => {
    const name = ctx.params.name!;
    await lookup(images, name);
    try {
      const r = await images.remove(name, { force: queryBool(ctx.query, 'force'), ...(opts.imageInUse === undefined ? {} : { isInUse: opts.imageInUse }) });
      return { json: removeItems(r.untagged, r.deleted) };
    } catch (e) {
      // The store's conflict text is Docker's and names the image already: no subject prefix.
      if (e instanceof Conflict) throw new Conflict(e.message, { cause: e });
      throw e;
    }
  });
}

/** fromImage plus tag (a tag or a digest) as one reference; Docker pulls `latest` when neither says. */
export function pullReference(fromImage: string, tag: string): ImageReference {
  let ref = parseNormalizedReference(fromImage);
  if (tag !== '') {
    if (tag.includes(':')) ref = parseNormalizedReference(`${formatReference({ domain: ref.domain, path: ref.path })}@${tag}`);
    else if (isValidTag(tag)) ref = { domain: ref.domain, path: ref.path, tag };
    else throw new InvalidArgument(`invalid tag format: ${JSON.stringify(tag)}`, { subject: tag });
  }
  return withDefaultTag(ref);
}

/**
 * X-Registry-Auth: base64url (standard base64 accepted too) of {username, password,
 * serveraddress, identitytoken}. The docker CLI sends one even without credentials (`{}`).
 */
export function registryAuth(header: string | string[] | undefined): RegistryCredentials | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined || text.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(text.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch (e) {
    throw new InvalidArgument('X-Registry-Auth: not base64-encoded JSON', { cause: e });
  }
  if (typeof doc !== 'object' || doc === null) throw new InvalidArgument('X-Registry-Auth: not a JSON object');
  const a = doc as Record<string, unknown>;
  const username = typeof a.username === 'string' ? a.username : '';
  const password = typeof a.password === 'string' ? a.password : '';
  if (username === '' && password === '') {
    if (typeof a.identitytoken === 'string' && a.identitytoken !== '') throw new Unimplemented('X-Registry-Auth: identity tokens (OAuth refresh tokens) are not supported; give username and password');
    return undefined;
  }
  return { username, password };
}

/** Docker's JSON progress messages for one pull; errors after the first line go in-band. */
async function streamPull(res: ServerResponse, images: ImageStore, ref: ImageReference, opts: { auth?: RegistryCredentials; platform?: string }): Promise<void> {
  const refText = formatReference(ref);
  const shown = familiarString(ref);
  const previous = await images.inspect(refText).then((i) => i.id, () => undefined);
  const controller = new AbortController();
  // A client that hangs up (Ctrl-C on docker pull) cancels the pull, as dockerd does.
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  let started = false;
  const write = (msg: Record<string, unknown>): void => {
    if (!started) {
      started = true;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // Docker says which repository first (its path in the registry), once the manifest was found.
      res.write(JSON.stringify({ status: `Pulling from ${ref.path}`, id: ref.digest ?? ref.tag }) + '\n');
    }
    res.write(JSON.stringify(msg) + '\n');
  };
  const onProgress = (p: PullProgress): void => write(progressMessage(p));
  let record: ImageRecord;
  try {
    record = await images.pull(refText, { onProgress, signal: controller.signal, ...(opts.auth === undefined ? {} : { auth: opts.auth }), ...(opts.platform === undefined ? {} : { platform: opts.platform }) });
  } catch (e) {
    // Nothing sent yet: a plain HTTP error with the right status (404 for an unknown image).
    if (!started) throw e;
    // The status the error would have had goes in errorDetail.code, so clients keep its class.
    const { status, body } = httpErrorFor(e);
    res.end(JSON.stringify({ errorDetail: { code: status, message: body.message }, error: body.message }) + '\n');
    return;
  }
  write({ status: `Digest: ${record.indexDigest ?? record.manifestDigest}` });
  write({ status: previous === record.id ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}` });
  res.end();
}

function progressMessage(p: PullProgress): Record<string, unknown> {
  const detail = p.currentBytes === undefined ? {} : { current: p.currentBytes, ...(p.totalBytes === undefined ? {} : { total: p.totalBytes }) };
  return {
    status: p.status,
    progressDetail: detail,
    ...(p.currentBytes !== undefined && p.totalBytes !== undefined && p.totalBytes > 0 ? { progress: progressBar(p.currentBytes, p.totalBytes) } : {}),
    id: p.id,
  };
}

/** Docker's textual bar (jsonmessage JSONProgress.String): `[==>    ]  1.2MB/4.3MB`. */
export function progressBar(current: number, total: number): string {
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? (filled === width ? '=' : '>') : '') + ' '.repeat(width - filled);
  return `[${bar}] ${humanSize(current, 4)}/${humanSize(total, 4)}`;
}

/** Docker's ImageSummary; Containers and SharedSize are -1 unless counted (system df counts them). */
export function imageSummaryJson(img: ImageRecord, labels: Readonly<Record<string, string>> | undefined, counted?: { containers: number; sharedSizeBytes: number }): Record<string, unknown> {
  return {
    Containers: counted?.containers ?? -1,
    Created: createdSeconds(img),
    Id: img.id,
    Labels: labels ?? null,
    ParentId: '',
    RepoDigests: img.repoDigests.map(familiar),
    RepoTags: img.repoTags.map(familiar),
    SharedSize: counted?.sharedSizeBytes ?? -1,
    Size: img.sizeBytes,
    VirtualSize: img.sizeBytes,
  };
}

/** Find an image; the 404 says Docker's "No such image: NAME" and nothing else. */
export async function lookup(images: ImageStore, name: string): Promise<ImageRecord> {
  try {
    return await images.inspect(name);
  } catch (e) {
    if (e instanceof NotFound) throw new NotFound(`No such image: ${name}`, { cause: e });
    throw e;
  }
}

function familiar(fullName: string): string {
  try {
    return familiarString(parseNormalizedReference(fullName));
  } catch {
    return fullName;
  }
}

function createdSeconds(img: ImageRecord): number {
  const t = Date.parse(img.created ?? img.pulledAt);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/**
 * Docker's reference filter (reference.FamiliarMatch): a glob (`*`, `?`, `[...]` within one path
 * segment) matched against the familiar name and the familiar name:tag.
 */
export function referenceMatches(pattern: string, familiarRef: string): boolean {
  const re = globToRegExp(pattern);
  const at = familiarRef.indexOf('@');
  const nameAndTag = at < 0 ? familiarRef : familiarRef.slice(0, at);
  const colon = nameAndTag.lastIndexOf(':');
  const name = colon > nameAndTag.lastIndexOf('/') ? nameAndTag.slice(0, colon) : nameAndTag;
  return re.test(name) || re.test(nameAndTag) || re.test(familiarRef);
}

function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new InvalidArgument(`invalid filter 'reference=${pattern}': syntax error in pattern`);
      out += `[${pattern.slice(i + 1, end).replace(/^\^/, '^').replace(/\\/g, '\\\\')}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function removeItems(untagged: readonly string[], deleted: readonly string[]): Record<string, string>[] {
  return [...untagged.map((u) => ({ Untagged: u })), ...deleted.map((d) => ({ Deleted: d }))];
}

/** Docker's ImageInspect. */
function inspectJson(img: ImageRecord, config: ImageConfig, images: ImageStore): Record<string, unknown> {
  const c = config.config ?? {};
  return {
    Id: img.id,
    RepoTags: img.repoTags.map(familiar),
    RepoDigests: img.repoDigests.map(familiar),
    Parent: '',
    Comment: config.history?.at(-1)?.comment ?? '',
    Created: config.created ?? '',
    DockerVersion: '',
    Author: config.author ?? '',
    Config: {
      Hostname: '',
      Domainname: '',
      User: c.User ?? '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ExposedPorts: c.ExposedPorts ?? null,
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: c.Env ?? null,
      Cmd: c.Cmd ?? null,
      Healthcheck: c.Healthcheck ?? undefined,
      Image: '',
      Volumes: c.Volumes ?? null,
      WorkingDir: c.WorkingDir ?? '',
      Entrypoint: c.Entrypoint ?? null,
      OnBuild: null,
      Labels: c.Labels ?? null,
      StopSignal: c.StopSignal,
      Shell: c.Shell,
    },
    Architecture: config.architecture,
    ...(config.variant === undefined ? {} : { Variant: config.variant }),
    Os: config.os,
    ...(config['os.version'] === undefined ? {} : { OsVersion: config['os.version'] }),
    Size: img.sizeBytes,
    VirtualSize: img.sizeBytes,
    GraphDriver: { Name: 'overlay2', Data: { LowerDir: images.layerDirs(img).join(':') } },
    RootFS: { Type: 'layers', Layers: img.diffIds },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}
