// SMBIOS (DMI) strings as Linux publishes them under /sys/class/dmi/id, read the way cloud-init's
// dmi._read_dmi_syspath does: missing or unreadable files are "no value", an uninitialised field
// (all 0xff) is empty, surrounding blanks are dropped.
import { join } from 'node:path';
import { requireFs } from '../../lib/builtin.js';

// sysfs and procfs files are read with synchronous calls: they never block, and through
// fs/promises each read is several thread-pool round trips (a boot without a datasource reads
// ~30 of them, bench/: provision, no datasource).
const { readFileSync } = requireFs();

export const DEFAULT_DMI_DIR = '/sys/class/dmi/id';

/** The value of /sys/class/dmi/id/<sysfsName>, or undefined when there is none to read. */
export async function readDmiValue(dmiDir: string, sysfsName: string): Promise<string | undefined> {
  let data: Buffer;
  try {
    // DMI files are a page at most; a bigger one is not sysfs.
    data = readFileSync(join(dmiDir, sysfsName));
  } catch {
    // ENOENT (no DMI: containers, some arm boards) and EACCES (product_serial and product_uuid
    // are root-only) both mean "no value", as in cloud-init.
    return undefined;
  }
  if (data.length > 64 * 1024) return undefined;
  const body = data.at(-1) === 0x0a ? data.subarray(0, -1) : data;
  if (body.length > 0 && body.every((b) => b === 0xff)) return '';
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data).trim();
  } catch {
    return undefined; // cloud-init logs the bad bytes and returns None
  }
}
