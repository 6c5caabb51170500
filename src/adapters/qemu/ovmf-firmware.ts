// OVMF, the UEFI firmware QEMU boots our images with (Debian package `ovmf`). The 4M variants
// match what Debian's libvirt and our image's ESP layout are tested with.
import { access, constants } from 'node:fs/promises';
import { FailedPrecondition, NotFound } from '../../lib/errors.js';

export interface Firmware {
  /** Read-only code flash. */
  readonly code: string;
  /** Template of the variable store; each VM writes its own copy. */
  readonly vars: string;
}

export const DEBIAN_OVMF: Firmware = {
  code: '/usr/share/OVMF/OVMF_CODE_4M.fd',
  vars: '/usr/share/OVMF/OVMF_VARS_4M.fd',
};

/** The given firmware files, or Debian's OVMF; missing files are named. */
export async function findFirmware(given?: Firmware): Promise<Firmware> {
  const fw = given ?? DEBIAN_OVMF;
  for (const f of [fw.code, fw.vars]) {
    const ok = await access(f, constants.R_OK).then(() => true, () => false);
    if (ok) continue;
    if (given !== undefined) throw new NotFound('firmware file not found or not readable', { subject: f });
    throw new FailedPrecondition(`UEFI firmware not found: install the Debian package ovmf (scripts/setup does)`, { subject: f });
  }
  return fw;
}
