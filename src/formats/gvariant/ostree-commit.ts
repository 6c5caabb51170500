// The ostree commit object: what a `.commit` file in an archive or bare repo holds.
//
// libostree ostree-core.h, OSTREE_COMMIT_GVARIANT_STRING "(a{sv}aya(say)sstayay)":
//   0 a{sv}     metadata (`version`, `ostree.ref-binding`, ...)
//   1 ay        parent checksum, empty for a root commit
//   2 a(say)    related objects (name, checksum)
//   3 s         subject
//   4 s         body
//   5 t         timestamp, seconds since the epoch, stored BIG-endian (ostree_commit_get_timestamp
//               returns GUINT64_FROM_BE of the child; `ostree show --raw -B` shows the raw value)
//   6 ay        root dirtree checksum (the "contents")
//   7 ay        root dirmeta checksum
// The commit's own checksum is the SHA-256 of these serialised bytes.
import { DataLoss, Internal } from '../../lib/errors.js';
import {
  isGVariantArray,
  isGVariantDict,
  isGVariantVariant,
  parseVariant,
  type GVariantValue,
  type GVariantVariant,
} from './parse-variant.js';
import { parseVariantType } from './variant-type.js';

export const OSTREE_COMMIT_GVARIANT_FORMAT = '(a{sv}aya(say)sstayay)';

/** ostree checksums are SHA-256: 32 bytes, 64 lower-case hex digits. */
const CSUM_BYTES = 32;

export interface OstreeCommitRelated {
  readonly name: string;
  /** Hex checksum, as stored (ostree does not check its length). */
  readonly csum: string;
}

export interface OstreeCommit {
  /** The commit metadata a{sv}: key -> variant. A repeated key keeps its first entry (GLib lookup). */
  readonly metadata: ReadonlyMap<string, GVariantVariant>;
  /** Hex checksum of the parent commit; undefined for a commit without parent. */
  readonly parent: string | undefined;
  readonly related: readonly OstreeCommitRelated[];
  readonly subject: string;
  readonly body: string;
  /** Seconds since the epoch, UTC, already converted from the big-endian on-disk value. */
  readonly timestampSec: bigint;
  /** Hex checksum of the root dirtree object. */
  readonly rootContentsCsum: string;
  /** Hex checksum of the root dirmeta object. */
  readonly rootMetadataCsum: string;
  /** metadata `version` when it is a string (what `ostree show` prints as `Version:`). */
  readonly version: string | undefined;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** The value had the shape parseVariant promises for the type; anything else is our bug. */
function shape(what: string): Internal {
  return new Internal(`ostree commit: ${what} did not decode to the expected shape`);
}

function bytesOf(v: GVariantValue | undefined, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw shape(what);
  return v;
}

function stringOf(v: GVariantValue | undefined, what: string): string {
  if (typeof v !== 'string') throw shape(what);
  return v;
}

/** ostree_validate_structureof_csum_v: a checksum is exactly 32 bytes. */
function csumOf(v: GVariantValue | undefined, what: string, subject: string): string {
  const b = bytesOf(v, what);
  if (b.length !== CSUM_BYTES) throw new DataLoss(`${subject}: ${what} checksum is ${b.length} bytes, not ${CSUM_BYTES}`, { subject });
  return hex(b);
}

/**
 * Decode a commit object. DataLoss when the bytes are not a normal-form commit or fail
 * ostree_validate_structureof_commit (parent empty or 32 bytes; both root checksums 32 bytes).
 */
export function parseOstreeCommit(bytes: Uint8Array, subject = 'commit'): OstreeCommit {
  const v = parseVariant(parseVariantType(OSTREE_COMMIT_GVARIANT_FORMAT), bytes, { subject });
  if (!isGVariantArray(v) || v.length !== 8) throw shape('the commit tuple');
  const [meta, parent, related, subj, body, ts, contents, dirmeta] = v;

  if (meta === undefined || !isGVariantDict(meta)) throw shape('metadata');
  const metadata = new Map<string, GVariantVariant>();
  for (const [k, val] of meta) {
    if (typeof k !== 'string' || !isGVariantVariant(val)) throw shape('metadata entry');
    metadata.set(k, val);
  }

  const parentBytes = bytesOf(parent, 'parent');
  const relatedList: OstreeCommitRelated[] = [];
  if (related === undefined || !isGVariantArray(related)) throw shape('related');
  for (const r of related) {
    if (!isGVariantArray(r)) throw shape('related entry');
    relatedList.push({ name: stringOf(r[0], 'related name'), csum: hex(bytesOf(r[1], 'related checksum')) });
  }

  if (typeof ts !== 'bigint') throw shape('timestamp');
  // The `t` child was read little-endian like every GVariant integer; ostree wrote it with
  // GUINT64_TO_BE, so swap the eight bytes back.
  const swap = new DataView(new ArrayBuffer(8));
  swap.setBigUint64(0, ts, true);
  const timestampSec = swap.getBigUint64(0, false);

  const versionV = metadata.get('version');
  return {
    metadata,
    parent: parentBytes.length === 0 ? undefined : csumOf(parentBytes, 'parent', subject),
    related: relatedList,
    subject: stringOf(subj, 'subject'),
    body: stringOf(body, 'body'),
    timestampSec,
    rootContentsCsum: csumOf(contents, 'root dirtree', subject),
    rootMetadataCsum: csumOf(dirmeta, 'root dirmeta', subject),
    version: versionV !== undefined && versionV.type === 's' && typeof versionV.value === 'string' ? versionV.value : undefined,
  };
}
