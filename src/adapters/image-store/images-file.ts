// images.json: the store's index of images, the one piece of mutable state besides the content-
// addressed blobs and layers. Docker's model: an image is named by the digest of its config (its
// ID); repository tags and digests (`docker.io/library/busybox:1.36`, `…@sha256:…`) point at one
// image each. Written atomically (temp, fsync, rename, fsync dir) on every change.
import { readFile } from 'node:fs/promises';
import { DataLoss, fromSystemError } from '../../lib/errors.js';
import { writeFileAtomically } from '../../lib/atomic-file.js';
import type { Platform } from '../../formats/oci/platform.js';

export interface ImageLayer {
  /** Digest of the blob in the registry (compressed). */
  readonly digest: string;
  readonly mediaType: string;
  /** Compressed size, from the manifest. */
  readonly sizeBytes: number;
  /** Digest of the uncompressed tar stream (config rootfs.diff_ids). */
  readonly diffId: string;
  /** Bytes of file content in the layer, when known (measured when it was unpacked). */
  readonly diffSizeBytes?: number;
}

export interface ImageRecord {
  /** Docker's image ID: the digest of the config. */
  readonly id: string;
  readonly configDigest: string;
  /** The platform manifest of the latest pull. */
  readonly manifestDigest: string;
  readonly manifestMediaType: string;
  /** The index (manifest list) the manifest was chosen from, when there was one. */
  readonly indexDigest?: string;
  /** Every manifest and index this image was pulled through: what gc keeps. */
  readonly manifestDigests: readonly string[];
  /** Bottom layer first, as in the config. */
  readonly diffIds: readonly string[];
  readonly layers: readonly ImageLayer[];
  readonly platform: Platform;
  /** The config's `created`. */
  readonly created?: string;
  /** Fully qualified: `docker.io/library/busybox:1.36`. */
  readonly repoTags: readonly string[];
  /** `docker.io/library/busybox@sha256:…` (the index digest when pulled through one, as Docker records). */
  readonly repoDigests: readonly string[];
  readonly pulledAt: string;
  /** Sum of the layers' diffSizeBytes (uncompressed content), as `docker images` shows. */
  readonly sizeBytes: number;
}

interface ImagesDocument {
  readonly schemaVersion: 1;
  readonly images: readonly ImageRecord[];
}

export async function readImagesFile(path: string): Promise<ImageRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromSystemError(e, path, 'reading the image index');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DataLoss('the image index is not JSON', { subject: path, cause: e });
  }
  const d = doc as Partial<ImagesDocument>;
  if (typeof doc !== 'object' || doc === null || d.schemaVersion !== 1 || !Array.isArray(d.images)) {
    throw new DataLoss('the image index has an unknown format', { subject: path });
  }
  return [...d.images];
}

export async function writeImagesFile(path: string, images: readonly ImageRecord[]): Promise<void> {
  const doc: ImagesDocument = { schemaVersion: 1, images };
  await writeFileAtomically(path, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
}
