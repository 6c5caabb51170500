// The CPU architecture of an ELF executable, from its header (System V ABI, ELF header: e_ident
// then e_type (2 bytes) and e_machine (2 bytes) at offset 18, in the file's byte order).
// bootc-image-builder has silently built images of the wrong architecture; we read what the
// tree's binaries are and refuse a mismatch.
import { InvalidArgument } from '../../lib/errors.js';

/** e_machine values (elf.h). */
const MACHINES: Readonly<Record<number, string>> = {
  3: 'i386',
  40: 'arm',
  62: 'x86_64',
  183: 'aarch64',
  243: 'riscv64',
  21: 'ppc64',
  22: 's390x',
};

export interface ElfIdentity {
  /** 'x86_64', 'aarch64', ... or `machine-N` for others. */
  readonly machine: string;
  readonly bits: 32 | 64;
}

export function elfIdentity(header: Uint8Array, file: string): ElfIdentity {
  if (header.length < 20 || header[0] !== 0x7f || header[1] !== 0x45 || header[2] !== 0x4c || header[3] !== 0x46) {
    throw new InvalidArgument(`${file} is not an ELF file`, { subject: file });
  }
  const bits = header[4] === 2 ? 64 : header[4] === 1 ? 32 : undefined;
  const little = header[5] === 1 ? true : header[5] === 2 ? false : undefined;
  if (bits === undefined || little === undefined) throw new InvalidArgument(`${file}: unknown ELF class or byte order`, { subject: file });
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const m = view.getUint16(18, little);
  return { machine: MACHINES[m] ?? `machine-${m}`, bits };
}
