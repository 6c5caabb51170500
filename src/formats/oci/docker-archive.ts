// The tarballs of `docker save` and `docker load`. A docker-archive holds manifest.json (moby
// image/tarexport: a list of {Config, RepoTags, Layers} whose strings are paths inside the
// archive), the config and layer files it names, and a legacy `repositories` file. Docker 25 and
// later write them inside an OCI image layout (oci-layout, index.json, blobs/sha256/...), with
// manifest.json's paths pointing into blobs/: one tarball that docker load, skopeo's
// docker-archive: and oci-archive: transports all read. This module parses and writes those
// documents; it touches no files.
import { InvalidArgument } from '../../lib/errors.js';
import { JsonChecker, parseJsonBytes } from './json-checker.js';
import { OCI_INDEX } from './media-types.js';

/** One image of manifest.json. */
export interface DockerArchiveImage {
  /** Path of the config JSON inside the archive. */
  readonly config: string;
  /** Familiar names (`busybox:latest`); may be empty. */
  readonly repoTags: readonly string[];
  /** Paths of the layer tars, bottom first, as many as the config's diff_ids. */
  readonly layers: readonly string[];
}

export const DOCKER_ARCHIVE_MANIFEST = 'manifest.json';
export const OCI_LAYOUT_FILE = 'oci-layout';
export const OCI_INDEX_FILE = 'index.json';
/** image-spec image-layout.md: the content of `oci-layout`. */
export const OCI_LAYOUT_CONTENT = '{"imageLayoutVersion":"1.0.0"}';
/** containerd's annotation with the full image name, which docker save writes in index.json. */
export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * A name inside an archive, normalised (no './', no '//'), or InvalidArgument when it is absolute,
 * has '..' or NUL: such an entry would be written outside the directory it is unpacked into.
 */
export function archiveMemberPath(raw: string, what: string): string {
  if (raw.includes('\0')) throw new InvalidArgument(`${what}: the name ${JSON.stringify(raw)} contains NUL`);
  if (raw.startsWith('/')) throw new InvalidArgument(`${what}: ${JSON.stringify(raw)} is an absolute path (refused: it points outside the archive)`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new InvalidArgument(`${what}: ${JSON.stringify(raw)} contains '..' (refused: it points outside the archive)`);
  return parts.join('/');
}

/**
 * Where a symlink inside the archive points: its target taken relative to the link's directory,
 * as legacy docker save links identical layers (`abc/layer.tar -> ../def/layer.tar`). A target
 * that leaves the archive is InvalidArgument.
 */
export function resolveArchiveLink(linkPath: string, target: string, what: string): string {
  if (target.startsWith('/')) throw new InvalidArgument(`${what}: the link ${JSON.stringify(linkPath)} points at the absolute path ${JSON.stringify(target)} (refused: outside the archive)`);
  const parts = linkPath.split('/').slice(0, -1);
  for (const p of target.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (parts.length === 0) throw new InvalidArgument(`${what}: the link ${JSON.stringify(linkPath)} -> ${JSON.stringify(target)} leads outside the archive`);
      parts.pop();
    } else parts.push(p);
  }
  return parts.join('/');
}

/** manifest.json of a docker-archive, every problem reported with its JSON pointer. */
export function parseDockerArchiveManifest(bytes: Uint8Array, what = DOCKER_ARCHIVE_MANIFEST): DockerArchiveImage[] {
  const doc = parseJsonBytes(bytes, what);
  const c = new JsonChecker();
  const list = c.array(doc, '') ?? [];
  const out: DockerArchiveImage[] = [];
  list.forEach((item, i) => {
    const p = `/${i}`;
    const o = c.object(item, p);
    if (o === undefined) return;
    const config = c.string(o.Config, `${p}/Config`);
    const repoTags = c.optionalStringArray(o.RepoTags, `${p}/RepoTags`) ?? [];
    const layerItems = c.array(o.Layers, `${p}/Layers`) ?? [];
    const layers: string[] = [];
    layerItems.forEach((l, j) => {
      const s = c.string(l, `${p}/Layers/${j}`);
      if (s !== undefined) layers.push(s);
    });
    if (config !== undefined) out.push({ config, repoTags, layers });
  });
  if (list.length === 0 && c.problems.length === 0) c.add('', 'lists no image');
  c.throwIfProblems(what);
  return out;
}

/** manifest.json for `docker save`. */
export function dockerArchiveManifestJson(images: readonly DockerArchiveImage[]): string {
  return JSON.stringify(images.map((i) => ({ Config: i.config, RepoTags: [...i.repoTags], Layers: [...i.layers] })));
}

/**
 * The legacy `repositories` file: repository -> tag -> the ID of the image's top layer (hex). Old
 * tools read it; docker load ignores it when manifest.json is there.
 */
export function repositoriesJson(tags: readonly { readonly repository: string; readonly tag: string; readonly topLayerHex: string }[]): string {
  const out: Record<string, Record<string, string>> = {};
  for (const t of tags) (out[t.repository] ??= {})[t.tag] = t.topLayerHex;
  return JSON.stringify(out);
}

export interface IndexEntry {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  /** Full name (`docker.io/library/busybox:latest`), when the image is saved by a name. */
  readonly imageName?: string;
  /** The tag alone (`latest`), image-layout's ref.name. */
  readonly refName?: string;
}

/** index.json of the OCI layout inside a saved archive, one entry per image name. */
export function ociLayoutIndexJson(entries: readonly IndexEntry[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: entries.map((e) => ({
      mediaType: e.mediaType,
      digest: e.digest,
      size: e.size,
      ...(e.imageName === undefined ? {} : { annotations: { [ANNOTATION_IMAGE_NAME]: e.imageName, ...(e.refName === undefined ? {} : { [ANNOTATION_REF_NAME]: e.refName }) } }),
    })),
  });
}

/** `blobs/sha256/HEX` for a digest. */
export function blobMemberPath(digest: string): string {
  const i = digest.indexOf(':');
  return `blobs/${digest.slice(0, i)}/${digest.slice(i + 1)}`;
}
