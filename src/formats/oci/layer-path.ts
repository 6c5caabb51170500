// The rules for names inside a layer tar (OCI image-spec layer.md): what a path means and whether
// it is allowed. A layer is unpacked below a root it must never leave, so names are refused, not
// cleaned, when they are absolute or contain '..' (Docker cleans them; we would rather notice a
// malicious layer). Whiteouts: `.wh.NAME` deletes NAME of the layers below, `.wh..wh..opq` hides
// everything below in its directory; other `.wh..wh.` names are AUFS bookkeeping that Docker skips.
import { InvalidArgument } from '../../lib/errors.js';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';

export type LayerPath =
  /** An ordinary entry: its components below the layer root ([] is the root itself). */
  | { readonly kind: 'entry'; readonly parts: readonly string[] }
  /** `.wh.NAME` in the directory `dirParts`: NAME is deleted from the layers below. */
  | { readonly kind: 'whiteout'; readonly dirParts: readonly string[]; readonly name: string }
  /** `.wh..wh..opq` in `dirParts`: the directory hides what the layers below have in it. */
  | { readonly kind: 'opaque'; readonly dirParts: readonly string[] }
  /** AUFS metadata at the top (`.wh..wh.plnk/...`, `.wh..wh.aufs`): skipped, as Docker does. */
  | { readonly kind: 'aufs-metadata' };

function refuse(raw: string, why: string, at: string): InvalidArgument {
  return new InvalidArgument(`${at}: entry ${JSON.stringify(raw)} ${why}`);
}

/**
 * The components of a name inside a layer: no NUL, not absolute (but "/" alone is the root), no
 * '..'; '' and '.' components (`./a//b/`) are dropped. `at` says where the entry is for the message (`layer sha256:… byte 1536`).
 */
export function layerPathParts(raw: string, at: string): string[] {
  if (raw.includes('\0')) throw refuse(raw, 'contains NUL', at);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  // umoci writes the layer root as "/": that one name is the root, any other absolute one refused.
  if (raw.startsWith('/') && parts.length > 0) throw refuse(raw, 'has an absolute path (it would be unpacked outside the layer)', at);
  if (parts.includes('..')) throw refuse(raw, "contains '..' (it would be unpacked outside the layer)", at);
  return parts;
}

/** What a layer entry's name means; unsafe names and misused whiteout names are InvalidArgument. */
export function classifyLayerPath(raw: string, at: string): LayerPath {
  const parts = layerPathParts(raw, at);
  if (parts.length === 0) return { kind: 'entry', parts };
  if (parts[0]!.startsWith(WHITEOUT_META_PREFIX) && parts[0] !== WHITEOUT_OPAQUE) return { kind: 'aufs-metadata' };
  const dirParts = parts.slice(0, -1);
  const base = parts[parts.length - 1]!;
  dirParts.forEach((p) => {
    if (p.startsWith(WHITEOUT_PREFIX)) throw refuse(raw, `uses the whiteout name ${JSON.stringify(p)} as a directory`, at);
  });
  if (base === WHITEOUT_OPAQUE) {
    // On the layer root the marker would have to hide whole layers below; overlayfs ignores the
    // opaque xattr on a lower layer's root, so the image could not be shown as its author meant.
    if (dirParts.length === 0) throw refuse(raw, 'marks the layer root opaque, which overlayfs cannot represent', at);
    return { kind: 'opaque', dirParts };
  }
  if (base.startsWith(WHITEOUT_META_PREFIX)) throw refuse(raw, 'is AUFS metadata below the layer root', at);
  if (base.startsWith(WHITEOUT_PREFIX)) {
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') throw refuse(raw, `whites out ${JSON.stringify(name)}, which is not a name`, at);
    return { kind: 'whiteout', dirParts, name };
  }
  return { kind: 'entry', parts };
}

/**
 * The target of a hard link, a path inside the same layer (tar stores the name of the entry
 * linked to). It may not be the root, nor a whiteout name.
 */
export function hardlinkTargetParts(raw: string, at: string): string[] {
  if (raw.startsWith('/')) throw refuse(raw, 'is a hard link target outside the layer (absolute)', at);
  const parts = layerPathParts(raw, at);
  if (parts.length === 0) throw refuse(raw, 'is a hard link to the layer root', at);
  if (parts.some((p) => p.startsWith(WHITEOUT_PREFIX))) throw refuse(raw, 'is a hard link to a whiteout', at);
  return parts;
}
