// The image store of atomicd: images pulled from OCI registries, kept content-addressed under one
// root directory (the layout of containerd's content store plus Docker's overlay2 layer dirs):
//
//   blobs/<alg>/<hex>    manifests, indexes, configs and compressed layers, as the registry sent
//                        them, written only after their digest was verified
//   layers/<hex>/        one unpacked diff per diff_id (sha256 of the uncompressed tar), in
//                        overlayfs form, shared by every image that has it; an overlay mount
//                        stacks them as lower dirs (layerDirs)
//   ingest/              partial blob downloads, resumed by the next pull
//   tmp/                 layers being unpacked; renamed into layers/ when complete and checked
//   images.json          tags and digests -> images (images-file.ts)
//
// One process owns a store (atomicd). Within it, pulls may run concurrently: downloads and
// unpacks of the same blob or diff are shared, and images.json changes are serialised.
import { createReadStream } from 'node:fs';
import { copyFile, open as openFile } from 'node:fs/promises';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  Cancelled, Conflict, DataLoss, InvalidArgument, NotFound, Unimplemented, fromSystemError,
} from '../../lib/errors.js';
import { writeFileAtomically, syncDir } from '../../lib/atomic-file.js';
import { abortReason } from '../../lib/backoff.js';
import { digestOf, digester, parseDigest, shortId } from '../../formats/oci/digest.js';
import { configPlatform, parseImageConfig, type ImageConfig } from '../../formats/oci/image-config.js';
import { parseManifestOrIndex, type Descriptor, type ImageManifest } from '../../formats/oci/manifest.js';
import { OCI_CONFIG, OCI_LAYER_TAR, OCI_LAYER_TAR_GZIP, OCI_MANIFEST, isImageConfig, layerMediaType, manifestKindOf } from '../../formats/oci/media-types.js';
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform, platformRank, selectPlatform, type Platform } from '../../formats/oci/platform.js';
import {
  familiarString, formatReference, parseNormalizedReference, repositoryName, withDefaultTag, type ImageReference,
} from '../../formats/oci/reference.js';
import type { RegistryClient, RegistryClientOptions, RegistryCredentials, RepositoryLocation } from '../registry/registry-client.js';
import { readImagesFile, writeImagesFile, type ImageLayer, type ImageRecord } from './images-file.js';
import type { DecompressingSink } from './decompressing-sink.js';
import { SyncHelper } from './sync-helper.js';

export type { ImageLayer, ImageRecord } from './images-file.js';

/** Docker's per-layer statuses in `docker pull` output and the /images/create progress stream. */
export type LayerStatus = 'Already exists' | 'Waiting' | 'Downloading' | 'Verifying Checksum' | 'Download complete' | 'Extracting' | 'Pull complete';

export interface PullProgress {
  /** Docker's layer ID in progress output: the first 12 hex digits of the blob digest. */
  readonly id: string;
  readonly digest: string;
  readonly status: LayerStatus;
  readonly currentBytes?: number;
  readonly totalBytes?: number;
}

export interface PullOptions {
  /** Default: this host's platform (linux/amd64 here). Given explicitly, a single-platform image must match it. */
  readonly platform?: Platform | string;
  /** Added to the store's insecure registries for this pull. */
  readonly insecureRegistries?: readonly string[];
  /** Credentials for the registry of this reference. */
  readonly auth?: RegistryCredentials;
  readonly onProgress?: (p: PullProgress) => void;
  readonly signal?: AbortSignal;
}

/** An image given as local files (docker load): what importImage needs. */
export interface ImportInput {
  /** Names the image in messages (`manifest.json entry 0`). */
  readonly what: string;
  readonly configBytes: Buffer;
  /** The layer blobs (tar, or gzip-compressed tar), bottom first; moved into the store when accepted. */
  readonly layers: readonly { readonly file: string; readonly what: string }[];
  /** Full names (`docker.io/library/busybox:latest`) the image gets, taken from other images. */
  readonly repoTags: readonly string[];
  /** The OCI manifest it came with (an OCI layout), else one is written. */
  readonly manifest?: { readonly bytes: Buffer; readonly mediaType: string };
  readonly signal?: AbortSignal;
}

export interface ImportResult {
  readonly record: ImageRecord;
  /** Tags that named another image before (Docker says it renamed that one). */
  readonly tagsTaken: readonly { readonly tag: string; readonly previousImageId: string }[];
}

/** A container that uses an image, as the container layer reports it to remove(). */
export interface ContainerUse {
  readonly containerId: string;
  readonly running: boolean;
}

export interface RemoveOptions {
  /** The container using the image, if any. */
  readonly isInUse?: (imageId: string) => ContainerUse | undefined;
  readonly force?: boolean;
}

/** What remove() did, as Docker's ImageDeleteResponseItem list says it. */
export interface RemoveResult {
  readonly untagged: readonly string[];
  readonly deleted: readonly string[];
}

export interface GcResult {
  readonly blobsRemoved: readonly string[];
  /** diff_ids of the layers removed. */
  readonly layersRemoved: readonly string[];
}

export interface ImageStoreOptions {
  readonly root: string;
  /** Defaults for every pull: insecure registries, credentials, timeouts, retries. */
  readonly registry?: RegistryClientOptions;
  /**
   * Layers downloaded and unpacked at once. Default 6, as containers/image (podman) downloads:
   * each layer is unpacked while it downloads, so a layer left waiting for a free slot would be
   * a serial tail (Docker's max-concurrent-downloads is 3, with a separate unpack queue).
   */
  readonly layerConcurrency?: number;
  /** The platform pulls select by default. Default: this host's. */
  readonly defaultPlatform?: Platform;
}

const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
const DEFAULT_LAYER_CONCURRENCY = 6;
const HEX = /^[a-f0-9]{64}$|^[a-f0-9]{128}$/;

/**
 * The registry client, the decompressors and the tar reader are loaded by the first pull, load or
 * unpack, not when the store opens: an agent that only runs containers of images it already has
 * never needs them, and each module loaded stays in its heap for good.
 */
async function newDecompressingSink(what: string): Promise<DecompressingSink> {
  const { DecompressingSink } = await import('./decompressing-sink.js');
  return new DecompressingSink(what);
}

export class ImageStore {
  readonly root: string;
  private readonly imagesPath: string;
  private readonly registryDefaults: RegistryClientOptions;
  private readonly layerConcurrency: number;
  private readonly defaultPlatform: Platform;
  /** Serialises changes of images.json and gc. */
  private lock: Promise<unknown> = Promise.resolve();
  /** Blob downloads and layer unpacks in progress, shared by concurrent pulls; gc leaves them alone. */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  /** Digests a pull in progress has fetched or will record: gc must not take them from under it. */
  private readonly pins = new Map<string, number>();
  private prepared: Promise<void> | undefined;
  /** syncDisk's group commit: the sync running, and the one the callers since it started wait for. */
  private syncRunning: Promise<void> | undefined;
  private syncNext: Promise<void> | undefined;
  private readonly syncHelper = new SyncHelper();

  constructor(opts: ImageStoreOptions) {
    this.root = opts.root;
    this.imagesPath = join(opts.root, 'images.json');
    this.registryDefaults = opts.registry ?? {};
    this.layerConcurrency = Math.max(1, opts.layerConcurrency ?? DEFAULT_LAYER_CONCURRENCY);
    this.defaultPlatform = opts.defaultPlatform ?? hostPlatform(process.platform, process.arch);
  }

  /** Pull `reference` (`busybox`, `busybox:1.36`, `localhost:5000/app@sha256:…`, `http://host:5000/app`). */
  async pull(reference: string, opts: PullOptions = {}): Promise<ImageRecord> {
    await this.prepare();
    // One failed layer stops the others; the caller's signal stops everything.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(opts.signal?.reason);
    if (opts.signal?.aborted === true) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    const pinned: string[] = [];
    const pin = (...digests: string[]): void => {
      for (const d of digests) {
        pinned.push(d);
        this.pins.set(d, (this.pins.get(d) ?? 0) + 1);
      }
    };
    try {
      return await this.pullPinned(reference, opts, controller, pin);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      for (const d of pinned) {
        const n = (this.pins.get(d) ?? 1) - 1;
        if (n <= 0) this.pins.delete(d);
        else this.pins.set(d, n);
      }
    }
  }

  private async pullPinned(reference: string, opts: PullOptions, controller: AbortController, pin: (...digests: string[]) => void): Promise<ImageRecord> {
    const signal = controller.signal;
    const { ref, scheme } = parsePullReference(reference);
    const shown = familiarString(ref);
    const repo: RepositoryLocation = { domain: ref.domain, path: ref.path, ...(scheme === undefined ? {} : { scheme }) };
    const { RegistryClient } = await import('../registry/registry-client.js');
    const client = new RegistryClient({
      ...this.registryDefaults,
      insecureRegistries: [...(this.registryDefaults.insecureRegistries ?? []), ...(opts.insecureRegistries ?? [])],
      ...(opts.auth === undefined ? {} : { credentials: (domain: string) => (domain === ref.domain ? opts.auth : this.registryDefaults.credentials?.(domain)) }),
    });
    const explicitPlatform = opts.platform === undefined ? undefined : typeof opts.platform === 'string' ? parsePlatform(opts.platform, this.defaultPlatform) : normalizePlatform(opts.platform);
    const want = explicitPlatform ?? this.defaultPlatform;

    // 1. The manifest, through the index when the reference names one.
    const top = await client.getManifest(repo, ref.digest ?? ref.tag!, signal);
    const topDoc = parseManifestOrIndex(top.bytes, top.contentType, `manifest of ${shown}`);
    let manifest: ImageManifest;
    let manifestBytes = top.bytes;
    let manifestDigest = top.digest;
    let index: { digest: string; bytes: Buffer } | undefined;
    if (topDoc.kind === 'index') {
      index = { digest: top.digest, bytes: top.bytes };
      const entries = topDoc.manifests.filter((d) => manifestKindOf(d.mediaType) === 'manifest');
      const chosen = selectPlatform(want, entries.map((d) => d.platform));
      if (chosen === undefined) throw new NotFound(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`, { subject: shown });
      const desc = entries[chosen]!;
      const child = await client.getManifest(repo, desc.digest, signal);
      if (child.bytes.length !== desc.size) throw new DataLoss(`manifest ${desc.digest} of ${shown} is ${child.bytes.length} bytes, the index says ${desc.size}`);
      const childDoc = parseManifestOrIndex(child.bytes, child.contentType, `manifest ${desc.digest} of ${shown}`);
      if (childDoc.kind !== 'manifest') throw new Unimplemented(`${shown}: an index inside an index is not supported`);
      manifest = childDoc;
      manifestBytes = child.bytes;
      manifestDigest = child.digest;
    } else {
      manifest = topDoc;
    }
    if (!isImageConfig(manifest.config.mediaType)) {
      throw new Unimplemented(`${shown} is not a container image: its config is ${manifest.config.mediaType}`);
    }
    for (const layer of manifest.layers) checkLayerType(layer, shown);
    pin(manifestDigest, ...(index === undefined ? [] : [index.digest]), manifest.config.digest, ...manifest.layers.map((l) => l.digest));

    // 2. The config: platform and diff_ids.
    const configBytes = await this.smallBlob(client, repo, manifest.config, signal);
    const config = parseImageConfig(configBytes, `config ${manifest.config.digest} of ${shown}`);
    const platform = configPlatform(config);
    if (index === undefined && explicitPlatform !== undefined && platformRank(explicitPlatform, platform) === undefined) {
      // Docker's wording for `docker pull --platform` of a single-platform image.
      throw new NotFound(`image with reference ${shown} was found but does not match the specified platform: wanted ${formatPlatform(explicitPlatform)}, actual: ${formatPlatform(platform)}`);
    }
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new InvalidArgument(`${shown}: the manifest has ${manifest.layers.length} layers, the config ${diffIds.length} diff_ids`);
    }
    for (const d of diffIds) {
      if (parseDigest(d, 'diff_id').algorithm !== 'sha256') throw new Unimplemented(`${shown}: diff_id ${d} is not sha256`);
    }
    pin(...diffIds);

    // 3. Layers: download, verify, unpack, a few at a time. The syncfs helper is started first,
    // while this process is small (sync-helper.ts).
    this.syncHelper.warm();
    const known = await this.knownDiffSizes();
    const sizes = await mapLimit(
      manifest.layers,
      this.layerConcurrency,
      (layer, i) => this.ensureLayer(client, repo, layer, diffIds[i]!, known, opts.onProgress, signal),
      (e) => controller.abort(e),
    );

    // 4. Manifest (and index) blobs, then the record.
    await this.storeSmallBlob(manifestDigest, manifestBytes);
    if (index !== undefined) await this.storeSmallBlob(index.digest, index.bytes);
    if (signal.aborted) throw abortReason(signal, `pulling ${shown}`);
    const layers: ImageLayer[] = manifest.layers.map((l, i) => ({
      digest: l.digest,
      mediaType: l.mediaType,
      sizeBytes: l.size,
      diffId: diffIds[i]!,
      ...(sizes[i] === undefined ? {} : { diffSizeBytes: sizes[i] }),
    }));
    return this.withLock(async () => {
      const images = await readImagesFile(this.imagesPath);
      const id = manifest.config.digest;
      const repoName = repositoryName(ref);
      const tag = ref.tag !== undefined && ref.digest === undefined ? `${repoName}:${ref.tag}` : undefined;
      const repoDigest = `${repoName}@${index?.digest ?? manifestDigest}`;
      // A tag or digest names one image: take it from whichever image had it.
      const others = images
        .filter((img) => img.id !== id)
        .map((img) => ({ ...img, repoTags: img.repoTags.filter((t) => t !== tag), repoDigests: img.repoDigests.filter((d) => d !== repoDigest) }));
      const previous = images.find((img) => img.id === id);
      const record: ImageRecord = {
        id,
        configDigest: id,
        manifestDigest,
        manifestMediaType: manifest.mediaType,
        ...(index === undefined ? {} : { indexDigest: index.digest }),
        manifestDigests: unique([...(previous?.manifestDigests ?? []), manifestDigest, ...(index === undefined ? [] : [index.digest])]),
        diffIds,
        layers,
        platform,
        ...(config.created === undefined ? {} : { created: config.created }),
        repoTags: unique([...(previous?.repoTags ?? []), ...(tag === undefined ? [] : [tag])]),
        repoDigests: unique([...(previous?.repoDigests ?? []), repoDigest]),
        pulledAt: new Date().toISOString(),
        sizeBytes: layers.reduce((n, l) => n + (l.diffSizeBytes ?? 0), 0),
      };
      await writeImagesFile(this.imagesPath, [...others, record]);
      return record;
    });
  }

  /**
   * Add an image from local files, as `docker load` does: every layer's uncompressed stream must
   * hash to the config's diff_id (DataLoss otherwise) and is unpacked like a pulled layer (the same
   * refusals of unsafe entries); only when every layer passed are layers, blobs and the record
   * stored, so a refused archive leaves nothing behind.
   */
  async importImage(input: ImportInput): Promise<ImportResult> {
    await this.prepare();
    const signal = input.signal ?? new AbortController().signal;
    const configDigest = digestOf(input.configBytes);
    const config = parseImageConfig(input.configBytes, `${input.what}: config`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== input.layers.length) {
      throw new InvalidArgument(`${input.what}: ${input.layers.length} layers for the ${diffIds.length} diff_ids of its config`);
    }
    for (const d of diffIds) if (parseDigest(d, 'diff_id').algorithm !== 'sha256') throw new Unimplemented(`${input.what}: diff_id ${d} is not sha256`);
    const temps: { dir: string; diffId: string }[] = [];
    const layers: ImageLayer[] = [];
    try {
      for (const [i, l] of input.layers.entries()) {
        const diffId = diffIds[i]!;
        const head = Buffer.alloc(4);
        const fh = await openFile(l.file, 'r');
        let sizeBytes: number;
        try {
          await fh.read(head, 0, 4, 0);
          sizeBytes = (await fh.stat()).size;
        } finally {
          await fh.close();
        }
        if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) throw new Unimplemented(`${l.what}: zstd-compressed layers are not supported yet`);
        const mediaType = head[0] === 0x1f && head[1] === 0x8b ? OCI_LAYER_TAR_GZIP : OCI_LAYER_TAR;
        const blobHash = digester('sha256');
        const desc = { mediaType, digest: '', size: sizeBytes };
        const sink = await newDecompressingSink(l.what);
        const feeding = (async (): Promise<void> => {
          try {
            for await (const chunk of createReadStream(l.file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
              blobHash.update(chunk);
              await sink.write(chunk);
            }
            sink.end();
          } catch (e) {
            sink.fail(fromSystemError(e, l.file, `${l.what}: reading the layer`));
          }
        })();
        let contentBytes: number | undefined;
        if (await exists(this.layerPath(diffId))) {
          // Unpacked already (another image has it): the content must still be what the config says.
          const hash = digester('sha256');
          for await (const chunk of sink.output()) hash.update(chunk);
          const got = `sha256:${hash.digest('hex')}`;
          if (got !== diffId) throw new DataLoss(`${l.what}: the uncompressed layer is ${got}, the image config says its diff_id is ${diffId}`);
          contentBytes = (await this.knownDiffSizes()).get(diffId);
        } else {
          const dir = await this.makeUnpackDir(diffId);
          temps.push({ dir, diffId });
          // unpackInto says "layer DIGEST"; here the layer is named by its archive member.
          contentBytes = await this.unpackInto(sink, dir, { ...desc, digest: l.what.replace(/^layer /, '') }, diffId, signal);
        }
        await feeding;
        layers.push({ digest: `sha256:${blobHash.digest('hex')}`, mediaType, sizeBytes, diffId, ...(contentBytes === undefined ? {} : { diffSizeBytes: contentBytes }) });
      }
      // Every layer passed: now they become visible.
      for (const t of temps) await this.commitLayer(t.dir, t.diffId);
      for (const [i, l] of layers.entries()) {
        const target = this.blobPath(l.digest);
        if (await exists(target)) continue;
        const tmp = join(this.root, 'tmp', `blob-${randomBytes(6).toString('hex')}`);
        await copyFile(input.layers[i]!.file, tmp);
        await this.syncDisk();
        await rename(tmp, target);
      }
      await syncDir(join(this.root, 'blobs', 'sha256'));
      await this.storeSmallBlob(configDigest, input.configBytes);
      const manifestBytes =
        input.manifest?.bytes ??
        Buffer.from(JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: OCI_CONFIG, digest: configDigest, size: input.configBytes.length },
          layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.sizeBytes })),
        }));
      const manifestDigest = digestOf(manifestBytes);
      await this.storeSmallBlob(manifestDigest, manifestBytes);
      return await this.withLock(async () => {
        const images = await readImagesFile(this.imagesPath);
        const tagsTaken: { tag: string; previousImageId: string }[] = [];
        for (const t of input.repoTags) {
          const holder = images.find((img) => img.id !== configDigest && img.repoTags.includes(t));
          if (holder !== undefined) tagsTaken.push({ tag: t, previousImageId: holder.id });
        }
        const others = images.filter((img) => img.id !== configDigest).map((img) => ({ ...img, repoTags: img.repoTags.filter((t) => !input.repoTags.includes(t)) }));
        const previous = images.find((img) => img.id === configDigest);
        const record: ImageRecord = {
          id: configDigest,
          configDigest,
          manifestDigest,
          manifestMediaType: input.manifest?.mediaType ?? OCI_MANIFEST,
          manifestDigests: unique([...(previous?.manifestDigests ?? []), manifestDigest]),
          diffIds,
          layers,
          platform: configPlatform(config),
          ...(config.created === undefined ? {} : { created: config.created }),
          repoTags: unique([...(previous?.repoTags ?? []), ...input.repoTags]),
          repoDigests: [...(previous?.repoDigests ?? [])],
          pulledAt: new Date().toISOString(),
          sizeBytes: layers.reduce((n, l) => n + (l.diffSizeBytes ?? 0), 0),
        };
        await writeImagesFile(this.imagesPath, [...others, record]);
        return { record, tagsTaken };
      });
    } finally {
      for (const t of temps) await rm(t.dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  async list(): Promise<ImageRecord[]> {
    await this.prepare();
    return readImagesFile(this.imagesPath);
  }

  /**
   * Find an image by reference (`busybox:1.36`, `busybox@sha256:…`), by ID (`sha256:…`) or by a
   * unique ID prefix, as `docker image inspect` does. NotFound says "No such image", like Docker.
   */
  async inspect(refOrId: string): Promise<ImageRecord> {
    await this.prepare();
    return resolveImage(await readImagesFile(this.imagesPath), refOrId).image;
  }

  /** The image's config (process defaults, history), read from its blob. */
  async config(refOrId: string | ImageRecord): Promise<ImageConfig> {
    const image = typeof refOrId === 'string' ? await this.inspect(refOrId) : refOrId;
    const bytes = await readBlob(this.blobPath(image.configDigest));
    return parseImageConfig(bytes, `config ${image.configDigest}`);
  }

  /** `docker tag SOURCE TARGET`: TARGET (default tag latest) now names SOURCE's image. */
  async tag(source: string, target: string): Promise<void> {
    await this.prepare();
    const targetRef = withDefaultTag(parseNormalizedReference(target));
    if (targetRef.digest !== undefined) throw new InvalidArgument(`refusing to create a tag with a digest reference: ${target}`);
    const tagName = formatReference(targetRef);
    await this.withLock(async () => {
      const images = await readImagesFile(this.imagesPath);
      const { image } = resolveImage(images, source);
      await writeImagesFile(
        this.imagesPath,
        images.map((img) =>
          img.id === image.id ? { ...img, repoTags: unique([...img.repoTags, tagName]) } : { ...img, repoTags: img.repoTags.filter((t) => t !== tagName) },
        ),
      );
    });
  }

  /**
   * `docker rmi REF`, with Docker's rules (daemon/images/image_delete.go): a name removes that
   * reference, and the image too once nothing names it; an image a container uses keeps its last
   * name unless forced; an ID removes the image with all its names if they are all of one
   * repository. Unreferenced blobs and layers go with it (gc).
   */
  async remove(refOrId: string, opts: RemoveOptions = {}): Promise<RemoveResult> {
    await this.prepare();
    const force = opts.force ?? false;
    const result = await this.withLock(async () => {
      const images = await readImagesFile(this.imagesPath);
      const { image, byId } = resolveImage(images, refOrId);
      const untagged: string[] = [];
      const deleted: string[] = [];
      let current: ImageRecord = image;
      const use = opts.isInUse?.(image.id);
      if (!byId) {
        const ref = withDefaultTag(parseNormalizedReference(refOrId));
        const refs = [...image.repoTags, ...image.repoDigests];
        if (!force && isSingleReference(refs) && use !== undefined) {
          throw new Conflict(
            `conflict: unable to remove repository reference "${refOrId}" (must force) - container ${shortId(use.containerId)} is using its referenced image ${shortId(image.id)}`,
            { subject: refOrId },
          );
        }
        const name = formatReference(ref);
        current = { ...current, repoTags: current.repoTags.filter((t) => t !== name), repoDigests: current.repoDigests.filter((d) => d !== name) };
        untagged.push(familiarString(ref));
        // A tag removed and no tag of that repository left: its digest references go too.
        const repoName = repositoryName(ref);
        if (ref.digest === undefined && !current.repoTags.some((t) => t.startsWith(`${repoName}:`))) {
          for (const d of current.repoDigests.filter((x) => x.startsWith(`${repoName}@`))) untagged.push(familiarString(parseNormalizedReference(d)));
          current = { ...current, repoDigests: current.repoDigests.filter((x) => !x.startsWith(`${repoName}@`)) };
        }
        if (current.repoTags.length + current.repoDigests.length > 0 || use !== undefined) {
          // Still named, or (forced) untagged but used by a container: the image stays. Docker
          // (image_delete.go, imageDeleteHelper with quiet) keeps it only for a running container
          // and deletes a stopped one's image, whose layers its container still holds; here the
          // container starts from the image's layer dirs, so the image stays for it too.
          await writeImagesFile(this.imagesPath, images.map((img) => (img.id === image.id ? current : img)));
          return { untagged, deleted };
        }
      } else {
        const refs = [...image.repoTags, ...image.repoDigests];
        if (use !== undefined && use.running) {
          throw new Conflict(`conflict: unable to delete ${shortId(image.id)} (cannot be forced) - image is being used by running container ${shortId(use.containerId)}`, { subject: refOrId });
        }
        // Docker checks the references before stopped containers (checkImageDeleteConflict).
        if (!force && !isSingleReference(refs)) {
          throw new Conflict(`conflict: unable to delete ${shortId(image.id)} (must be forced) - image is referenced in multiple repositories`, { subject: refOrId });
        }
        if (!force && use !== undefined) {
          throw new Conflict(`conflict: unable to delete ${shortId(image.id)} (must be forced) - image is being used by stopped container ${shortId(use.containerId)}`, { subject: refOrId });
        }
        for (const r of refs) untagged.push(familiarString(parseNormalizedReference(r)));
      }
      deleted.push(image.id);
      await writeImagesFile(this.imagesPath, images.filter((img) => img.id !== image.id));
      return { untagged, deleted };
    });
    if (result.deleted.length === 0) return result;
    const gc = await this.gc();
    return { untagged: result.untagged, deleted: [...result.deleted, ...gc.layersRemoved] };
  }

  /** Remove blobs and layers no image refers to, and leftovers of interrupted pulls. */
  async gc(): Promise<GcResult> {
    await this.prepare();
    return this.withLock(async () => {
      const images = await readImagesFile(this.imagesPath);
      const keepBlobs = new Set<string>();
      const keepLayers = new Set<string>();
      for (const img of images) {
        keepBlobs.add(img.configDigest);
        for (const l of img.layers) keepBlobs.add(l.digest);
        for (const d of img.diffIds) keepLayers.add(parseDigest(d).hex);
        for (const m of img.manifestDigests) {
          keepBlobs.add(m);
          // Blobs of other manifests of the same image (a Docker and an OCI push of it).
          try {
            const doc = parseManifestOrIndex(await readBlob(this.blobPath(m)), undefined);
            if (doc.kind === 'manifest') for (const l of [doc.config, ...doc.layers]) keepBlobs.add(l.digest);
          } catch {
            // A missing or unreadable manifest keeps nothing more.
          }
        }
      }
      const busy = new Set([...this.inFlight.keys(), ...[...this.pins.keys()].flatMap((d) => [`blob:${d}`, `layer:${d}`])]);
      const blobsRemoved: string[] = [];
      for (const alg of await listDir(join(this.root, 'blobs'))) {
        for (const hex of await listDir(join(this.root, 'blobs', alg))) {
          const digest = `${alg}:${hex}`;
          if (!HEX.test(hex) || keepBlobs.has(digest) || busy.has(`blob:${digest}`)) continue;
          await rm(join(this.root, 'blobs', alg, hex), { force: true });
          blobsRemoved.push(digest);
        }
      }
      const layersRemoved: string[] = [];
      for (const hex of await listDir(join(this.root, 'layers'))) {
        if (!HEX.test(hex) || keepLayers.has(hex) || busy.has(`layer:sha256:${hex}`)) continue;
        await rm(join(this.root, 'layers', hex), { recursive: true, force: true });
        layersRemoved.push(`sha256:${hex}`);
      }
      for (const dir of ['ingest', 'tmp']) {
        for (const name of await listDir(join(this.root, dir))) {
          if ([...busy].some((k) => name.includes(k.slice(k.lastIndexOf(':') + 1)))) continue;
          await rm(join(this.root, dir, name), { recursive: true, force: true });
        }
      }
      return { blobsRemoved, layersRemoved };
    });
  }

  /**
   * The overlay lower dirs of an image, top layer first (the order of `lowerdir=`). A diff that
   * appears twice is used once, at its highest position: the copy below adds nothing.
   */
  layerDirs(image: ImageRecord): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const diffId of [...image.diffIds].reverse()) {
      if (seen.has(diffId)) continue;
      seen.add(diffId);
      out.push(this.layerPath(diffId));
    }
    return out;
  }

  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest, 'blob digest');
    return join(this.root, 'blobs', algorithm, hex);
  }

  layerPath(diffId: string): string {
    return join(this.root, 'layers', parseDigest(diffId, 'diff_id').hex);
  }

  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      for (const d of ['blobs/sha256', 'blobs/sha512', 'layers', 'ingest', 'tmp']) {
        try {
          await mkdir(join(this.root, d), { recursive: true, mode: 0o700 });
        } catch (e) {
          throw fromSystemError(e, join(this.root, d), 'creating the image store');
        }
      }
    })();
    const p = this.prepared;
    p.catch(() => {
      this.prepared = undefined;
    });
    return p;
  }

  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Run `fn` once per key at a time: a second caller waits for the first's result. */
  private shared<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key) as Promise<T> | undefined;
    if (running !== undefined) return running;
    const p = fn().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private async knownDiffSizes(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const img of await readImagesFile(this.imagesPath)) for (const l of img.layers) if (l.diffSizeBytes !== undefined) out.set(l.diffId, l.diffSizeBytes);
    return out;
  }

  /** A config (or other small blob) from the store, else from the registry, then stored. */
  private async smallBlob(client: RegistryClient, repo: RepositoryLocation, desc: Descriptor, signal: AbortSignal): Promise<Buffer> {
    const path = this.blobPath(desc.digest);
    if (await exists(path)) return readBlob(path);
    const bytes = await client.getBlob(repo, desc, MAX_CONFIG_BYTES, signal);
    await this.storeSmallBlob(desc.digest, bytes);
    return bytes;
  }

  private async storeSmallBlob(digest: string, bytes: Uint8Array): Promise<void> {
    const path = this.blobPath(digest);
    if (await exists(path)) return;
    await writeFileAtomically(path, bytes, { mode: 0o644 });
  }

  /** The layer's diff unpacked under layers/, downloading its blob first if needed; returns its content size if known. */
  private async ensureLayer(
    client: RegistryClient,
    repo: RepositoryLocation,
    desc: Descriptor,
    diffId: string,
    known: ReadonlyMap<string, number>,
    onProgress: ((p: PullProgress) => void) | undefined,
    signal: AbortSignal,
  ): Promise<number | undefined> {
    const id = shortId(desc.digest);
    const report = (status: LayerStatus, currentBytes?: number, totalBytes?: number): void =>
      onProgress?.({ id, digest: desc.digest, status, ...(currentBytes === undefined ? {} : { currentBytes }), ...(totalBytes === undefined ? {} : { totalBytes }) });
    const layerDir = this.layerPath(diffId);
    if (await exists(layerDir)) {
      report('Already exists');
      return known.get(diffId);
    }
    for (;;) {
      try {
        return await this.shared(`layer:${diffId}`, () => this.fetchAndUnpack(client, repo, desc, diffId, known, report, signal));
      } catch (e) {
        // Shared with a pull that was cancelled: this one was not, so it does the work itself.
        if (e instanceof Cancelled && !signal.aborted) continue;
        throw e;
      }
    }
  }

  private async fetchAndUnpack(
    client: RegistryClient,
    repo: RepositoryLocation,
    desc: Descriptor,
    diffId: string,
    known: ReadonlyMap<string, number>,
    report: (status: LayerStatus, current?: number, total?: number) => void,
    signal: AbortSignal,
  ): Promise<number | undefined> {
    if (await exists(this.layerPath(diffId))) {
      report('Already exists');
      return known.get(diffId);
    }
    if (!(await exists(this.blobPath(desc.digest)))) {
      report('Waiting');
      const running = this.inFlight.get(`blob:${desc.digest}`);
      if (running === undefined) {
        const streamed = await this.downloadAndUnpack(client, repo, desc, diffId, report, signal);
        if (streamed !== undefined) return streamed;
        // The stream was not the blob from byte 0 to its end in one go (a retry, a restart):
        // the stored, verified blob is unpacked instead.
      } else {
        // Another pull downloads this blob (for a layer it names another diff_id): wait for it.
        await running;
      }
    } else {
      report('Download complete');
    }
    try {
      return await this.unpack(desc, diffId, report, signal);
    } catch (e) {
      if (e instanceof InvalidArgument || e instanceof DataLoss) await this.dropRefusedBlob(desc.digest);
      throw e;
    }
  }

  /**
   * Download the blob and unpack it as it arrives: the bytes go to ingest/ (hashed there against
   * the blob digest) and, through a DecompressingSink, to gunzip -> tar -> files in a private
   * directory of tmp/ (hashed there against the diff_id). Nothing becomes visible before both
   * checks passed: the blob is renamed into blobs/ only once its digest matched, the directory
   * into layers/ only after that and once the diff_id matched too. Returns undefined when the
   * unpack did not see the blob as one contiguous stream from byte 0 (a retried or restarted
   * download): the caller then unpacks the stored blob.
   *
   * Why the unpacked files are right when this returns a size: the unpack saw each offset once,
   * in order, from 0 to the end; those are the bytes written to the partial file at the same
   * offsets (a rewrite of the file means a new attempt, which starts again at a lower offset and
   * so is not contiguous); the download verified that file against the blob digest. And the
   * uncompressed stream the files came from has the config's diff_id.
   */
  private async downloadAndUnpack(
    client: RegistryClient,
    repo: RepositoryLocation,
    desc: Descriptor,
    diffId: string,
    report: (status: LayerStatus, current?: number, total?: number) => void,
    signal: AbortSignal,
  ): Promise<number | undefined> {
    const what = `layer ${desc.digest}`;
    const temp = await this.makeUnpackDir(diffId);
    try {
      const sink = await newDecompressingSink(what);
      let expected = 0;
      let contiguous = true;
      const onBytes = (chunk: Buffer, offset: number): Promise<void> | undefined => {
        if (!contiguous) return undefined;
        if (offset !== expected) {
          contiguous = false;
          sink.fail(new Cancelled(`${what}: the download started again at byte ${offset}; unpacking the stored blob instead`));
          return undefined;
        }
        expected += chunk.length;
        return sink.write(chunk);
      };
      const unpacking = this.unpackInto(sink, temp, desc, diffId, signal).then(
        (contentBytes) => ({ ok: true as const, contentBytes }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      // Once the blob is verified, the unpack finishes before the blob is stored: one syncfs then
      // makes both the blob and the unpacked files durable.
      const finishUnpack = async (): Promise<void> => {
        sink.end();
        await unpacking;
      };
      try {
        await this.shared(`blob:${desc.digest}`, () => this.downloadLayerBlob(client, repo, desc, report, signal, onBytes, finishUnpack));
      } catch (e) {
        sink.fail(e);
        await unpacking;
        throw e;
      }
      const r = await unpacking;
      if (!contiguous || expected !== desc.size) return undefined;
      report('Extracting', desc.size, desc.size);
      // The blob is verified and stored: an unpack failure is the layer's own (refused content, a
      // corrupt gzip stream, a diff_id mismatch), as it would be reading the stored blob.
      if (!r.ok) {
        if (r.error instanceof InvalidArgument || r.error instanceof DataLoss) await this.dropRefusedBlob(desc.digest);
        throw r.error;
      }
      // The syncfs before the blob was stored started after the unpack had finished: it covered it.
      await this.commitLayer(temp, diffId, { synced: true });
      report('Pull complete');
      return r.contentBytes;
    } finally {
      await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /**
   * A layer refused for its content (an unsafe entry, a corrupt stream, a diff_id that does not
   * match) would be refused again: its blob is not kept, unless a recorded image or another pull
   * in progress has it.
   */
  private async dropRefusedBlob(digest: string): Promise<void> {
    await this.withLock(async () => {
      if ((this.pins.get(digest) ?? 0) > 1) return;
      const images = await readImagesFile(this.imagesPath);
      if (images.some((img) => img.layers.some((l) => l.digest === digest))) return;
      await rm(this.blobPath(digest), { force: true });
    }).catch(() => undefined);
  }

  private async downloadLayerBlob(
    client: RegistryClient,
    repo: RepositoryLocation,
    desc: Descriptor,
    report: (status: LayerStatus, current?: number, total?: number) => void,
    signal: AbortSignal,
    onBytes: (chunk: Buffer, offset: number) => Promise<void> | undefined,
    beforeStore: () => Promise<void>,
  ): Promise<void> {
    const { algorithm, hex } = parseDigest(desc.digest, 'layer digest');
    const partial = join(this.root, 'ingest', `${algorithm}-${hex}.partial`);
    let lastReport = 0;
    await client.downloadBlob(repo, desc, partial, {
      signal,
      onBytes,
      // The syncfs below makes the file durable, together with the layer unpacked meanwhile.
      sync: false,
      onProgress: (current, total) => {
        // About every 512 KiB, and the last byte: enough for a progress bar, not a flood.
        if (current - lastReport >= 512 * 1024 || current === total) {
          lastReport = current;
          report('Downloading', current, total);
        }
      },
    });
    report('Verifying Checksum');
    await beforeStore();
    // Durable before it gets its name: started after the last write of the file completed.
    await this.syncDisk();
    const target = this.blobPath(desc.digest);
    try {
      await rename(partial, target);
      await syncDir(join(this.root, 'blobs', algorithm));
    } catch (e) {
      throw fromSystemError(e, target, 'storing a layer blob');
    }
    report('Download complete');
  }

  /**
   * Unpack the stored blob of `desc` into tmp/, check that the uncompressed stream is `diffId`,
   * then rename it into layers/. A refused or failed layer leaves nothing behind.
   */
  private async unpack(desc: Descriptor, diffId: string, report: (status: LayerStatus, current?: number, total?: number) => void, signal: AbortSignal): Promise<number> {
    const blob = this.blobPath(desc.digest);
    const temp = await this.makeUnpackDir(diffId);
    try {
      report('Extracting', 0, desc.size);
      const sink = await newDecompressingSink(`layer ${desc.digest}`);
      const feeding = (async (): Promise<void> => {
        let read = 0;
        let lastReport = 0;
        try {
          for await (const chunk of createReadStream(blob, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
            await sink.write(chunk);
            read += chunk.length;
            // About every 4 MiB read: enough for a progress bar.
            if (read - lastReport >= 4 * 1024 * 1024) {
              lastReport = read;
              report('Extracting', read, desc.size);
            }
          }
          sink.end();
        } catch (e) {
          sink.fail(fromSystemError(e, blob, `layer ${desc.digest}: reading the blob`));
        }
      })();
      const contentBytes = await this.unpackInto(sink, temp, desc, diffId, signal);
      await feeding;
      await this.commitLayer(temp, diffId);
      report('Pull complete');
      return contentBytes;
    } finally {
      await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** A fresh private directory in tmp/ for unpacking `diffId`. */
  private async makeUnpackDir(diffId: string): Promise<string> {
    const { hex } = parseDigest(diffId, 'diff_id');
    const temp = join(this.root, 'tmp', `unpack-${hex}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(temp, { mode: 0o700 });
    } catch (e) {
      throw fromSystemError(e, temp, 'creating a temporary layer directory');
    }
    return temp;
  }

  /** Unpack the layer blob bytes written to `sink` into `temp`, checking the uncompressed stream against `diffId`; returns the content size. */
  private async unpackInto(sink: DecompressingSink, temp: string, desc: Descriptor, diffId: string, signal: AbortSignal): Promise<number> {
    const what = `layer ${desc.digest}`;
    const hash = digester('sha256');
    const tar = hashed(sink.output(), hash);
    const [{ unpackLayer }, { readTarStream }] = await Promise.all([import('./layer-unpack.js'), import('../../formats/tar/tar-stream.js')]);
    const stats = await unpackLayer(readTarStream(tar, { what }), temp, { what, signal });
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== diffId) {
      throw new DataLoss(`${what}: the uncompressed layer is ${got}, the image config says its diff_id is ${diffId}`);
    }
    return stats.contentBytes;
  }

  /**
   * Give the checked unpack directory its real name in layers/. Its files reach the disk first:
   * a crash after the rename must not leave a layer dir with empty or short files. One syncfs
   * (`sync -f`) covers every file and directory of it, and is shared by the layers that finish
   * at about the same time (syncDisk); `synced` says one that started after the unpack finished
   * has already run.
   */
  private async commitLayer(temp: string, diffId: string, opts: { synced?: boolean } = {}): Promise<void> {
    if (opts.synced !== true) await this.syncDisk();
    const target = this.layerPath(diffId);
    try {
      await rename(temp, target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Another process unpacked the same diff first: its copy is as good as ours.
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw fromSystemError(e, target, 'storing an unpacked layer');
      await rm(temp, { recursive: true, force: true });
    }
    await syncDir(join(this.root, 'layers'));
  }

  /**
   * syncfs(2) of the store's file system, as a group commit: a caller waits for a sync that
   * started after it asked (one already running may have missed its writes), and all callers
   * that ask while one runs share the next one. Not tied to one pull's signal: it is short, and
   * other pulls may be waiting for it.
   */
  private syncDisk(): Promise<void> {
    if (this.syncNext !== undefined) return this.syncNext;
    const previous = this.syncRunning ?? Promise.resolve();
    const next: Promise<void> = previous
      .catch(() => undefined)
      .then(async () => {
        this.syncNext = undefined;
        this.syncRunning = next;
        await this.syncHelper.syncfs(this.root);
      })
      .finally(() => {
        if (this.syncRunning === next) this.syncRunning = undefined;
      });
    this.syncNext = next;
    return next;
  }
}

/** `http://host:5000/app:1` -> the reference and the scheme the user asked for. */
function parsePullReference(text: string): { ref: ImageReference; scheme: 'http' | 'https' | undefined } {
  const m = /^(https?):\/\/(.*)$/i.exec(text.trim());
  const scheme = m === null ? undefined : (m[1]!.toLowerCase() as 'http' | 'https');
  const rest = m === null ? text.trim() : m[2]!;
  if (scheme !== undefined && !rest.includes('/')) throw new InvalidArgument(`${text}: a reference with a scheme must name a repository on that host`);
  return { ref: withDefaultTag(parseNormalizedReference(rest)), scheme };
}

function checkLayerType(layer: Descriptor, shown: string): void {
  const t = layerMediaType(layer.mediaType);
  if (t === undefined) throw new Unimplemented(`${shown}: layer ${layer.digest} has the media type ${layer.mediaType}, which is not a layer type we can unpack`);
  if (t.nonDistributable) throw new Unimplemented(`${shown}: layer ${layer.digest} is a non-distributable (foreign) layer; they are not supported`);
  if (t.compression === 'zstd') throw new Unimplemented(`${shown}: layer ${layer.digest} is zstd-compressed, which is not supported yet (gzip and uncompressed layers are)`);
}

/** Pass the stream through, hashing it (the diff_id). */
async function* hashed(stream: AsyncIterable<Buffer>, hash: ReturnType<typeof digester>): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    hash.update(chunk);
    yield chunk;
  }
}

interface Resolved {
  readonly image: ImageRecord;
  /** Named by ID (or ID prefix), not by a reference. */
  readonly byId: boolean;
}

/** Docker's lookup order (daemon/images GetImage): full ID, reference, then unique ID prefix. */
function resolveImage(images: readonly ImageRecord[], text: string): Resolved {
  const notFound = (): NotFound => new NotFound(`No such image: ${text}`, { subject: text });
  const full = /^sha256:[a-f0-9]{64}$/.test(text) ? text : /^[a-f0-9]{64}$/.test(text) ? `sha256:${text}` : undefined;
  if (full !== undefined) {
    const img = images.find((i) => i.id === full);
    if (img !== undefined) return { image: img, byId: true };
    throw notFound();
  }
  let ref: ImageReference | undefined;
  try {
    ref = withDefaultTag(parseNormalizedReference(text));
  } catch {
    ref = undefined;
  }
  if (ref !== undefined) {
    const name = formatReference(ref);
    const img = ref.digest !== undefined ? images.find((i) => i.repoDigests.includes(`${repositoryName(ref!)}@${ref!.digest}`)) : images.find((i) => i.repoTags.includes(name));
    if (img !== undefined) return { image: img, byId: false };
  }
  const prefix = /^(sha256:)?([a-f0-9]{1,63})$/.exec(text)?.[2];
  if (prefix !== undefined) {
    const matches = images.filter((i) => i.id.startsWith(`sha256:${prefix}`));
    if (matches.length === 1) return { image: matches[0]!, byId: true };
    if (matches.length > 1) throw new InvalidArgument(`${text}: more than one image ID starts with it`, { subject: text });
  }
  throw notFound();
}

/**
 * Docker's isSingleReference: at most one tag, and all references of one repository (a tag and
 * the digests it was pulled by count as one name).
 */
function isSingleReference(refs: readonly string[]): boolean {
  const tags = refs.filter((r) => !r.includes('@'));
  if (tags.length > 1) return false;
  const repos = new Set(refs.map((r) => (r.includes('@') ? r.slice(0, r.indexOf('@')) : r.slice(0, r.lastIndexOf(':')))));
  return repos.size <= 1;
}

/** fn over items, `limit` at a time; the first failure stops new work, is reported to onFailure and thrown. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>, onFailure: (e: unknown) => void): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (e) {
        if (failed === undefined) {
          failed = e;
          onFailure(e);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
  return results;
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fromSystemError(e, path, 'checking the image store');
  }
}

async function readBlob(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw fromSystemError(e, path, 'reading a blob of the image store');
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromSystemError(e, dir, 'listing the image store');
  }
}
