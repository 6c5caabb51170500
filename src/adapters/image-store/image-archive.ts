// `docker save` and `docker load` over the image store.
//
// save writes Docker 25's layout: an OCI image layout (oci-layout, index.json, blobs/sha256/...)
// holding the stored manifest, config and layer blobs as pulled, plus manifest.json and
// repositories pointing into blobs/, so docker load, skopeo's docker-archive: and oci-archive:
// all read it. Blob sizes are known, so the tar streams without temporary files.
//
// load spools the archive's members to a private directory of the store (their order in the
// tar is free, and manifest.json often comes last), then reads manifest.json (or, without it,
// index.json of an OCI layout) and hands each image to ImageStore.importImage, which checks every
// layer against the config's diff_ids and unpacks it with the pull's refusals. The spool never
// creates a symlink or a path from the archive on disk: members get numbered files, links are
// resolved by name inside the archive, and names with '..' or absolute ones are refused.
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  ANNOTATION_IMAGE_NAME, DOCKER_ARCHIVE_MANIFEST, OCI_INDEX_FILE, OCI_LAYOUT_CONTENT, OCI_LAYOUT_FILE, archiveMemberPath, blobMemberPath,
  dockerArchiveManifestJson, ociLayoutIndexJson, parseDockerArchiveManifest, repositoriesJson, resolveArchiveLink, type DockerArchiveImage, type IndexEntry,
} from '../../formats/oci/docker-archive.js';
import { parseDigest } from '../../formats/oci/digest.js';
import { parseManifestOrIndex } from '../../formats/oci/manifest.js';
import { familiarString, formatReference, parseNormalizedReference, withDefaultTag } from '../../formats/oci/reference.js';
import { encodeTarHeader, tarPadding, TAR_TRAILER } from '../../formats/tar/tar-header.js';
import { readTarStream } from '../../formats/tar/tar-stream.js';
import { InvalidArgument, NotFound, ResourceExhausted, fromSystemError } from '../../lib/errors.js';
import { consumeDecompressed } from '../process/decompress-stream.js';
import type { ImageRecord, ImageStore } from './image-store.js';

// ---- save ---------------------------------------------------------------------------------------

export interface SaveRequest {
  readonly image: ImageRecord;
  /** The name it was asked by (`busybox:latest`, full form), or undefined when asked by ID. */
  readonly name?: string;
}

/** The archive of `requests` (one image may be asked by several names), as a tar byte stream. */
export async function* saveImages(store: ImageStore, requests: readonly SaveRequest[]): AsyncGenerator<Buffer> {
  const mtimeMs = 0;
  const written = new Set<string>();
  const dir = (path: string): Buffer => encodeTarHeader({ path, kind: 'directory', mode: 0o755, mtimeMs });
  const file = (path: string, data: Buffer): Buffer[] => [encodeTarHeader({ path, kind: 'file', mode: 0o644, sizeBytes: data.length, mtimeMs }), data, tarPadding(data.length)];
  yield dir('blobs');
  yield dir('blobs/sha256');
  const blob = async function* (digest: string): AsyncGenerator<Buffer> {
    if (written.has(digest)) return;
    written.add(digest);
    const path = store.blobPath(digest);
    const size = await stat(path).then((s) => s.size, (e: unknown) => Promise.reject(fromSystemError(e, path, `reading blob ${digest}`)));
    yield encodeTarHeader({ path: blobMemberPath(digest), kind: 'file', mode: 0o644, sizeBytes: size, mtimeMs });
    let sent = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      const take = chunk.subarray(0, Math.max(0, size - sent));
      sent += take.length;
      yield take;
    }
    if (sent < size) throw new ResourceExhausted(`blob ${digest} shrank while it was saved`);
    yield tarPadding(size);
  };
  const manifestEntries: DockerArchiveImage[] = [];
  const index: IndexEntry[] = [];
  const repos: { repository: string; tag: string; topLayerHex: string }[] = [];
  const byImage = new Map<string, string[]>();
  for (const r of requests) {
    const names = byImage.get(r.image.id) ?? [];
    if (r.name !== undefined && !names.includes(r.name)) names.push(r.name);
    byImage.set(r.image.id, names);
  }
  for (const [id, names] of byImage) {
    const image = requests.find((r) => r.image.id === id)!.image;
    yield* blob(image.configDigest);
    for (const l of image.layers) yield* blob(l.digest);
    yield* blob(image.manifestDigest);
    const manifestSize = (await stat(store.blobPath(image.manifestDigest))).size;
    const familiar = names.map((n) => familiarString(parseNormalizedReference(n)));
    manifestEntries.push({ config: blobMemberPath(image.configDigest), repoTags: familiar, layers: image.layers.map((l) => blobMemberPath(l.digest)) });
    const entry = { mediaType: image.manifestMediaType, digest: image.manifestDigest, size: manifestSize };
    if (names.length === 0) index.push(entry);
    for (const n of names) {
      const ref = parseNormalizedReference(n);
      index.push({ ...entry, imageName: n, ...(ref.tag === undefined ? {} : { refName: ref.tag }) });
      const top = image.layers.at(-1);
      if (ref.tag !== undefined && top !== undefined) repos.push({ repository: familiarString({ domain: ref.domain, path: ref.path }), tag: ref.tag, topLayerHex: parseDigest(top.digest).hex });
    }
  }
  for (const b of file(OCI_LAYOUT_FILE, Buffer.from(OCI_LAYOUT_CONTENT))) yield b;
  for (const b of file(OCI_INDEX_FILE, Buffer.from(ociLayoutIndexJson(index)))) yield b;
  for (const b of file(DOCKER_ARCHIVE_MANIFEST, Buffer.from(dockerArchiveManifestJson(manifestEntries)))) yield b;
  for (const b of file('repositories', Buffer.from(repositoriesJson(repos)))) yield b;
  yield TAR_TRAILER;
}

// ---- load ---------------------------------------------------------------------------------------

export interface LoadOptions {
  /** Bytes of archive accepted (after decompression). Default 64 GiB. */
  readonly maxBytes?: number;
  /** Members accepted. Default 100,000. */
  readonly maxEntries?: number;
  readonly signal?: AbortSignal;
}

/** What docker load reports, one line each. */
export interface LoadedImage {
  readonly id: string;
  /** Familiar names (`busybox:latest`). */
  readonly tags: readonly string[];
  readonly renamed: readonly { readonly tag: string; readonly previousImageId: string }[];
}

const MAX_JSON_BYTES = 16 * 1024 * 1024;
const MAX_LINK_HOPS = 40;

class Spool {
  readonly files = new Map<string, string>();
  readonly links = new Map<string, string>();
  constructor(readonly dir: string) {}

  /** The spooled file of a member, links followed by name; NotFound names the member. */
  file(member: string, what: string): string {
    let name = archiveMemberPath(member, what);
    for (let hops = 0; hops <= MAX_LINK_HOPS; hops++) {
      const f = this.files.get(name);
      if (f !== undefined) return f;
      const target = this.links.get(name);
      if (target === undefined) break;
      name = target;
    }
    throw new InvalidArgument(`${what}: the archive has no file ${JSON.stringify(member)}`);
  }

  async json(member: string, what: string): Promise<Buffer> {
    const f = this.file(member, what);
    const size = (await stat(f)).size;
    if (size > MAX_JSON_BYTES) throw new ResourceExhausted(`${what}: ${member} is ${size} bytes, more than ${MAX_JSON_BYTES}`);
    const fh = await open(f, 'r');
    try {
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }
}

async function spool(source: AsyncIterable<Uint8Array>, dir: string, opts: LoadOptions): Promise<Spool> {
  const maxBytes = opts.maxBytes ?? 64 * 1024 ** 3;
  const maxEntries = opts.maxEntries ?? 100_000;
  const out = new Spool(dir);
  const what = 'the archive';
  let total = 0;
  let n = 0;
  const counted = async function* (data: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const c of data) {
      total += c.length;
      if (total > maxBytes) throw new ResourceExhausted(`${what} is over ${maxBytes} bytes`);
      yield c;
    }
  };
  // docker load takes the archive plain or compressed (gzip, bzip2, xz, zstd), as dockerd's DecompressStream.
  await consumeDecompressed(source, { what }, async (data) => {
    for await (const e of readTarStream(counted(data), { what })) {
      if (++n > maxEntries) throw new ResourceExhausted(`${what} has more than ${maxEntries} entries`);
      const at = `${what}: entry ${JSON.stringify(e.path)}`;
      const name = archiveMemberPath(e.path, at);
      if (e.kind === 'directory' || name === '') continue;
      if (e.kind === 'symlink') {
        out.links.set(name, resolveArchiveLink(name, e.linkPath, at));
        continue;
      }
      if (e.kind === 'hardlink') {
        out.links.set(name, archiveMemberPath(e.linkPath, at));
        continue;
      }
      if (e.kind !== 'file') throw new InvalidArgument(`${at} is a ${e.kind}; an image archive holds files only`);
      const file = join(dir, `m${n}`);
      const fh = await open(file, 'wx', 0o600);
      try {
        for await (const chunk of e.body) await fh.write(chunk);
      } finally {
        await fh.close();
      }
      out.files.set(name, file);
    }
  });
  return out;
}

/** `docker load`: every image of the archive, checked and stored; nothing stored when one is refused before it. */
export async function loadImages(store: ImageStore, source: AsyncIterable<Uint8Array>, opts: LoadOptions = {}): Promise<LoadedImage[]> {
  const dir = join(store.root, 'tmp', `load-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    const sp = await spool(source, dir, opts);
    const loaded: LoadedImage[] = [];
    if (sp.files.has(DOCKER_ARCHIVE_MANIFEST)) {
      const images = parseDockerArchiveManifest(await sp.json(DOCKER_ARCHIVE_MANIFEST, DOCKER_ARCHIVE_MANIFEST));
      for (const [i, img] of images.entries()) {
        const what = `${DOCKER_ARCHIVE_MANIFEST} entry ${i}`;
        const repoTags = img.repoTags.map((t) => formatReference(withDefaultTag(parseNormalizedReference(t))));
        const r = await store.importImage({
          what,
          configBytes: await sp.json(img.config, what),
          layers: img.layers.map((l) => ({ file: sp.file(l, what), what: `layer ${l}` })),
          repoTags,
          ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        });
        loaded.push({ id: r.record.id, tags: img.repoTags.map((t) => familiarString(withDefaultTag(parseNormalizedReference(t)))), renamed: r.tagsTaken });
      }
      return loaded;
    }
    if (sp.files.has(OCI_INDEX_FILE)) {
      const index = parseManifestOrIndex(await sp.json(OCI_INDEX_FILE, OCI_INDEX_FILE), undefined, OCI_INDEX_FILE);
      if (index.kind !== 'index') throw new InvalidArgument(`${OCI_INDEX_FILE}: not an image index`);
      for (const [i, d] of index.manifests.entries()) {
        const what = `${OCI_INDEX_FILE} manifest ${i}`;
        const bytes = await sp.json(blobMemberPath(d.digest), what);
        const m = parseManifestOrIndex(bytes, d.mediaType, what);
        if (m.kind !== 'manifest') throw new InvalidArgument(`${what}: nested indexes are not supported`);
        const name = d.annotations?.[ANNOTATION_IMAGE_NAME];
        const full = name === undefined ? undefined : formatReference(withDefaultTag(parseNormalizedReference(name)));
        const r = await store.importImage({
          what,
          configBytes: await sp.json(blobMemberPath(m.config.digest), what),
          layers: m.layers.map((l) => ({ file: sp.file(blobMemberPath(l.digest), what), what: `layer ${blobMemberPath(l.digest)}` })),
          repoTags: full === undefined ? [] : [full],
          manifest: { bytes, mediaType: m.mediaType },
          ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        });
        loaded.push({ id: r.record.id, tags: full === undefined ? [] : [familiarString(parseNormalizedReference(full))], renamed: r.tagsTaken });
      }
      return loaded;
    }
    throw new InvalidArgument('invalid archive: it has neither manifest.json (docker save) nor index.json (an OCI image layout)');
  } catch (e) {
    if (e instanceof NotFound) throw new InvalidArgument(`invalid archive: ${e.message}`, { cause: e });
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
