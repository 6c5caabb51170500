// The NoCloud hint as cloud-init finds it: the SMBIOS system serial number first
// (`qemu -smbios type=1,serial=ds=nocloud;s=http://10.0.2.2:8000/`), then the kernel command line
// (DataSourceNoCloud._get_data, Debian 22.4). Parsing is pure (core/provision/ds-hint.ts); this
// file only reads /proc/cmdline and /sys/class/dmi/id/product_serial, both injectable.
import { mergeDsHints, parseDsHint, type DsHint } from '../../core/provision/ds-hint.js';
import { DEFAULT_DMI_DIR, readDmiValue } from './read-dmi.js';
import { requireFs } from '../../lib/builtin.js';

// /proc/cmdline is read with a synchronous call, as the DMI files are (read-dmi.ts).
const { readFileSync } = requireFs();

export const DEFAULT_CMDLINE_PATH = '/proc/cmdline';

export interface DsHintOptions {
  readonly cmdlinePath?: string;
  readonly dmiDir?: string;
}

export interface FoundDsHint {
  /** The serial number's and the command line's hints merged; the serial's keys win. */
  readonly hint: DsHint;
  /** Where it came from, for InstanceData.source and logs. */
  readonly source: string;
}

/** The kernel command line, or '' when it cannot be read (cloud-init's get_cmdline does the same). */
export async function readKernelCmdline(path = DEFAULT_CMDLINE_PATH): Promise<string> {
  try {
    // /proc/cmdline ends with a newline; util._get_cmdline strips it.
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The `ds=nocloud[-net]` hint of this machine, or undefined when neither place has one. */
export async function readDsHint(opts: DsHintOptions = {}): Promise<FoundDsHint | undefined> {
  const cmdlinePath = opts.cmdlinePath ?? DEFAULT_CMDLINE_PATH;
  const dmiDir = opts.dmiDir ?? DEFAULT_DMI_DIR;
  // dmi.read_dmi_data("system-serial-number") is /sys/class/dmi/id/product_serial.
  const serial = await readDmiValue(dmiDir, 'product_serial');
  const fromSerial = serial === undefined || serial === '' ? undefined : parseDsHint(serial);
  const fromCmdline = parseDsHint(await readKernelCmdline(cmdlinePath));
  const hint = mergeDsHints(fromSerial, fromCmdline);
  if (hint === undefined) return undefined;
  const sources = [...(fromSerial === undefined ? [] : [`${dmiDir}/product_serial`]), ...(fromCmdline === undefined ? [] : [cmdlinePath])];
  return { hint, source: sources.join(' + ') };
}
