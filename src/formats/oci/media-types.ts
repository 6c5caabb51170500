// Media types of the OCI image spec (media-types.md, v1.1) and of Docker's Image Manifest V2,
// Schema 2 (distribution/docs/spec/manifest-v2-2.md), which registries still serve for most images
// pushed by `docker push`. Both families describe the same model: an index (manifest list) points
// at per-platform manifests, a manifest at one config and ordered layers.

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_LAYER_TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_LAYER_TAR_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
/** Deprecated in image-spec 1.1 ("non-distributable" layers): Windows base layers, fetched from `urls`. */
export const OCI_LAYER_NONDISTRIBUTABLE_TAR = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
export const OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
export const OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD = 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd';
/** image-spec 1.1 manifest.md: the config of an artifact that has no config. */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER_TAR_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
/** Docker's name for OCI's non-distributable layers (Windows base layers). */
export const DOCKER_LAYER_FOREIGN_TAR_GZIP = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
/** Schema 1: signed JSON with v1 compatibility history; removed from Docker 20.10 on. */
export const DOCKER_MANIFEST_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_MANIFEST_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

/**
 * The Accept header of a manifest GET. The distribution registry negotiates on it: a client that
 * does not list the manifest list and OCI types gets a schema 1 down-conversion or a 404 for
 * multi-platform images (shared/DESIGN.md "registry quirk"), so every type we understand is listed.
 */
export const MANIFEST_ACCEPT: readonly string[] = Object.freeze([OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST]);

export type ManifestKind = 'manifest' | 'index';

/** Whether a media type is an image manifest or an index, or undefined for anything else. */
export function manifestKindOf(mediaType: string): ManifestKind | undefined {
  const base = baseMediaType(mediaType);
  if (base === OCI_MANIFEST || base === DOCKER_MANIFEST) return 'manifest';
  if (base === OCI_INDEX || base === DOCKER_MANIFEST_LIST) return 'index';
  return undefined;
}

export function isSchema1(mediaType: string): boolean {
  const base = baseMediaType(mediaType);
  return base === DOCKER_MANIFEST_SCHEMA1 || base === DOCKER_MANIFEST_SCHEMA1_SIGNED;
}

export function isImageConfig(mediaType: string): boolean {
  const base = baseMediaType(mediaType);
  return base === OCI_CONFIG || base === DOCKER_CONFIG;
}

export type LayerCompression = 'none' | 'gzip' | 'zstd';

export interface LayerMediaType {
  readonly compression: LayerCompression;
  /** Non-distributable / foreign: the blob may live at the descriptor's `urls`, not in the registry. */
  readonly nonDistributable: boolean;
}

/**
 * What a layer media type says about the blob, or undefined when it is not a layer type we know.
 * Docker's own layer type is always gzip; OCI's says its compression in the `+suffix`.
 */
export function layerMediaType(mediaType: string): LayerMediaType | undefined {
  switch (baseMediaType(mediaType)) {
    case OCI_LAYER_TAR:
      return { compression: 'none', nonDistributable: false };
    case OCI_LAYER_TAR_GZIP:
    case DOCKER_LAYER_TAR_GZIP:
      return { compression: 'gzip', nonDistributable: false };
    case OCI_LAYER_TAR_ZSTD:
      return { compression: 'zstd', nonDistributable: false };
    case OCI_LAYER_NONDISTRIBUTABLE_TAR:
      return { compression: 'none', nonDistributable: true };
    case OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP:
    case DOCKER_LAYER_FOREIGN_TAR_GZIP:
      return { compression: 'gzip', nonDistributable: true };
    case OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD:
      return { compression: 'zstd', nonDistributable: true };
    default:
      return undefined;
  }
}

/** A media type without parameters (`; charset=utf-8`) and in lower case (RFC 6838: case-insensitive). */
export function baseMediaType(mediaType: string): string {
  const semi = mediaType.indexOf(';');
  return (semi < 0 ? mediaType : mediaType.slice(0, semi)).trim().toLowerCase();
}
