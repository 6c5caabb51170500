// Random-access input for decoders in src/formats. Decoders never touch the file system: an
// adapter (src/adapters/fs-tree/file-byte-source.ts) or a test (an in-memory Buffer) provides this.

export interface ByteSource {
  /** Total size in bytes. */
  readonly sizeBytes: number;
  /**
   * Read exactly `length` bytes at `position`. Reading past `sizeBytes` is the caller's bug: the
   * ISO reader checks every extent against `sizeBytes` before it reads.
   */
  read(position: number, length: number): Promise<Buffer>;
}

export function bufferByteSource(buf: Buffer): ByteSource {
  return {
    sizeBytes: buf.length,
    read(position, length) {
      return Promise.resolve(buf.subarray(position, position + length));
    },
  };
}
