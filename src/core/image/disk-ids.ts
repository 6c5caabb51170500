// Identifiers written into a disk image (GPT disk and partition GUIDs, filesystem UUIDs, the FAT
// volume id), derived from one seed so the same input gives the same image (reproducible-builds.org)
// instead of fresh random ones on every build.
import { createHash } from 'node:crypto';

export interface DiskIds {
  /** GPT disk GUID (sfdisk's label-id). */
  readonly diskGuid: string;
  readonly espPartitionUuid: string;
  readonly rootPartitionUuid: string;
  /** ext4 filesystem UUID (mkfs.ext4 -U) and directory hash seed (-E hash_seed). */
  readonly rootFsUuid: string;
  readonly rootHashSeed: string;
  /** FAT volume serial number, 8 hex digits (mkfs.vfat -i). */
  readonly espVolumeId: string;
}

export function deriveDiskIds(seed: string): DiskIds {
  return {
    diskGuid: uuidFromSeed(seed, 'gpt-disk'),
    espPartitionUuid: uuidFromSeed(seed, 'gpt-esp'),
    rootPartitionUuid: uuidFromSeed(seed, 'gpt-root'),
    rootFsUuid: uuidFromSeed(seed, 'ext4-uuid'),
    rootHashSeed: uuidFromSeed(seed, 'ext4-hash-seed'),
    espVolumeId: createHash('sha256').update(`${seed}\0fat-volume-id`).digest('hex').slice(0, 8).toUpperCase(),
  };
}

/**
 * RFC 9562 5.8: a version 8 ("custom") UUID from the first 16 bytes of SHA-256 over the seed and
 * the purpose, so each identifier differs and none looks random when it is not.
 */
export function uuidFromSeed(seed: string, purpose: string): string {
  const b = createHash('sha256').update(`${seed}\0${purpose}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
