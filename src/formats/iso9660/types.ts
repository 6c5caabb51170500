// The model shared by the ISO 9660 writer and reader.

/** Which directory hierarchy names come from (ECMA-119 primary, Joliet SVD, or RRIP NM on the primary). */
export type NameTree = 'rock-ridge' | 'joliet' | 'iso9660';

export type EntryType = 'file' | 'directory' | 'symlink' | 'other';

/** POSIX file type bits (st_mode & S_IFMT), as RRIP PX carries them. */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

export interface IsoExtent {
  /** Logical block address (2048-byte sectors). */
  readonly lba: number;
  readonly sizeBytes: number;
}

/** One entry of an image as the reader sees it. */
export interface IsoEntry {
  /** Path below the root, components joined with '/', no leading '/'. Every component is validated (no '', '.', '..', '/', NUL). */
  readonly path: string;
  readonly name: string;
  readonly type: EntryType;
  /** Full st_mode including the type bits. From RRIP PX when present, else 0o40555 / 0o100444 as mount does. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  /** Modification time in ms since the epoch (RRIP TF modify time when present, else the directory record date). */
  readonly mtimeMs: number;
  readonly sizeBytes: number;
  /** File data extents in order (more than one for ECMA-119 multi-extent files). Empty for directories and symlinks. */
  readonly extents: readonly IsoExtent[];
  /** RRIP SL target, for symlinks. */
  readonly symlinkTarget?: string;
  /** RRIP 1.12 PX file serial number, when the image records it (xorriso does). */
  readonly inode?: number;
}

export interface IsoVolumeInfo {
  readonly volumeId: string;
  readonly systemId: string;
  readonly volumeSpaceBlocks: number;
  readonly hasJoliet: boolean;
  readonly hasRockRidge: boolean;
  /** The tree whose names the entries carry. */
  readonly names: NameTree;
  readonly publisherId?: string;
  readonly preparerId?: string;
  readonly applicationId?: string;
  /** ECMA-119 8.4.26 volume creation date (ms since the epoch), when specified. */
  readonly createdMs?: number;
  /** ECMA-119 8.4.27 volume modification date, when specified. */
  readonly modifiedMs?: number;
}
