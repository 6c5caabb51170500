// Image manifests and indexes (OCI image-spec manifest.md and image-index.md; Docker's schema 2
// manifest and manifest list have the same shape under other media types). Parsing checks every
// field the pull relies on and reports all problems with their JSON pointer.
import { Unimplemented } from '../../lib/errors.js';
import { digestProblem } from './digest.js';
import { JsonChecker, childPointer, parseJsonBytes, type JsonObject } from './json-checker.js';
import { baseMediaType, isSchema1, manifestKindOf, type ManifestKind } from './media-types.js';
import type { Platform } from './platform.js';

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  /** Only in index entries. */
  readonly platform?: Platform;
  readonly artifactType?: string;
}

export interface ImageManifest {
  readonly kind: 'manifest';
  readonly schemaVersion: 2;
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly subject?: Descriptor;
  readonly artifactType?: string;
}

export interface ImageIndex {
  readonly kind: 'index';
  readonly schemaVersion: 2;
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

export type ManifestOrIndex = ImageManifest | ImageIndex;

/**
 * Parse a manifest or index. Its kind comes from the document's own `mediaType` field, else from
 * the Content-Type it was served with, else from its shape (`manifests` vs `layers`), as containerd
 * does for OCI documents written before image-spec 1.0.2 made `mediaType` expected. Schema 1 is
 * Unimplemented (Docker dropped it in 20.10).
 */
export function parseManifestOrIndex(bytes: Uint8Array, contentType: string | undefined, what = 'manifest'): ManifestOrIndex {
  const doc = parseJsonBytes(bytes, what);
  const c = new JsonChecker();
  const obj = c.object(doc, '');
  if (obj === undefined) return c.throwIfProblems(what) as never;
  const declared = c.optionalString(obj.mediaType, '/mediaType');
  const schemaVersion = obj.schemaVersion;
  if (schemaVersion === 1 || (declared !== undefined && isSchema1(declared)) || (contentType !== undefined && isSchema1(contentType))) {
    throw new Unimplemented(`${what}: Docker image manifest schema 1 is not supported (deprecated; push the image again with a current client)`);
  }
  if (schemaVersion !== 2) c.add('/schemaVersion', `must be 2, not ${JSON.stringify(schemaVersion)}`);
  let kind: ManifestKind | undefined;
  let mediaType = declared;
  if (declared !== undefined) {
    kind = manifestKindOf(declared);
    if (kind === undefined) c.add('/mediaType', `${JSON.stringify(declared)} is not an image manifest or index media type`);
    // image-spec: the Content-Type, when it names a manifest type, must agree with the document.
    const served = contentType === undefined ? undefined : manifestKindOf(contentType);
    if (kind !== undefined && served !== undefined && baseMediaType(contentType!) !== baseMediaType(declared)) {
      c.add('/mediaType', `${JSON.stringify(declared)} differs from the Content-Type it was served with (${contentType})`);
    }
  } else if (contentType !== undefined && manifestKindOf(contentType) !== undefined) {
    kind = manifestKindOf(contentType);
    mediaType = baseMediaType(contentType);
  } else if (Array.isArray(obj.manifests)) {
    kind = 'index';
  } else if (obj.config !== undefined || Array.isArray(obj.layers)) {
    kind = 'manifest';
  } else {
    c.add('/mediaType', 'is missing, and the document has neither `manifests` nor `config` and `layers`');
  }
  const annotations = c.optionalStringMap(obj.annotations, '/annotations');
  if (kind === 'index') {
    const list = c.array(obj.manifests, '/manifests') ?? [];
    const manifests = list.map((d, i) => parseDescriptor(c, d, `/manifests/${i}`, true)).filter((d): d is Descriptor => d !== undefined);
    c.throwIfProblems(`${what}: not a valid image index`);
    return {
      kind: 'index',
      schemaVersion: 2,
      mediaType: mediaType ?? 'application/vnd.oci.image.index.v1+json',
      manifests,
      ...(annotations === undefined ? {} : { annotations }),
    };
  }
  const config = parseDescriptor(c, obj.config, '/config', false);
  const layerList = c.array(obj.layers, '/layers') ?? [];
  const layers = layerList.map((d, i) => parseDescriptor(c, d, `/layers/${i}`, false)).filter((d): d is Descriptor => d !== undefined);
  const subject = obj.subject === undefined ? undefined : parseDescriptor(c, obj.subject, '/subject', false);
  const artifactType = c.optionalString(obj.artifactType, '/artifactType');
  c.throwIfProblems(`${what}: not a valid image manifest`);
  return {
    kind: 'manifest',
    schemaVersion: 2,
    mediaType: mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
    config: config!,
    layers,
    ...(annotations === undefined ? {} : { annotations }),
    ...(subject === undefined ? {} : { subject }),
    ...(artifactType === undefined ? {} : { artifactType }),
  };
}

/** descriptor.md: mediaType, digest and size are required; urls, annotations optional. */
export function parseDescriptor(c: JsonChecker, value: unknown, pointer: string, withPlatform: boolean): Descriptor | undefined {
  const obj = c.object(value, pointer);
  if (obj === undefined) return undefined;
  const before = c.problems.length;
  const mediaType = c.string(obj.mediaType, `${pointer}/mediaType`);
  if (mediaType !== undefined && !/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(?:;.*)?$/.test(mediaType)) {
    // RFC 6838 section 4.2 restricted names.
    c.add(`${pointer}/mediaType`, `${JSON.stringify(mediaType)} is not a media type`);
  }
  const digest = c.string(obj.digest, `${pointer}/digest`);
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined) c.add(`${pointer}/digest`, problem);
  }
  const size = c.size(obj.size, `${pointer}/size`);
  const urls = c.optionalStringArray(obj.urls, `${pointer}/urls`);
  urls?.forEach((u, i) => {
    if (!/^https?:\/\//i.test(u)) c.add(`${pointer}/urls/${i}`, `${JSON.stringify(u)} is not an http or https URL`);
  });
  const annotations = c.optionalStringMap(obj.annotations, `${pointer}/annotations`);
  const artifactType = c.optionalString(obj.artifactType, `${pointer}/artifactType`);
  const platform = withPlatform ? parsePlatformField(c, obj.platform, `${pointer}/platform`) : undefined;
  if (c.problems.length > before) return undefined;
  return {
    mediaType: mediaType!,
    digest: digest!,
    size: size!,
    ...(urls === undefined ? {} : { urls }),
    ...(annotations === undefined ? {} : { annotations }),
    ...(platform === undefined ? {} : { platform }),
    ...(artifactType === undefined ? {} : { artifactType }),
  };
}

function parsePlatformField(c: JsonChecker, value: unknown, pointer: string): Platform | undefined {
  const obj: JsonObject | undefined = c.optionalObject(value, pointer);
  if (obj === undefined) return undefined;
  const architecture = c.string(obj.architecture, `${pointer}/architecture`);
  const os = c.string(obj.os, `${pointer}/os`);
  const variant = c.optionalString(obj.variant, `${pointer}/variant`);
  const osVersion = c.optionalString(obj['os.version'], childPointer(pointer, 'os.version'));
  const osFeatures = c.optionalStringArray(obj['os.features'], childPointer(pointer, 'os.features'));
  if (architecture === undefined || os === undefined) return undefined;
  return {
    os,
    architecture,
    ...(variant === undefined || variant === '' ? {} : { variant }),
    ...(osVersion === undefined ? {} : { osVersion }),
    ...(osFeatures === undefined ? {} : { osFeatures }),
  };
}
