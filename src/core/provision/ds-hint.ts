// The NoCloud hint on the kernel command line or in the SMBIOS system serial number,
// `ds=nocloud[;key=val;...]` or `ds=nocloud-net[;key=val;...]`, and the `__dmi.<key>__`
// variables of a seedfrom URL. Pure: the adapters read /proc/cmdline and /sys/class/dmi/id.
//
// Semantics follow cloud-init's DataSourceNoCloud.py (Debian 22.4): load_cmdline_data and
// parse_cmdline_data, quirks included, so a command line means the same to atomicd as to
// cloud-init. Docs: https://cloudinit.readthedocs.io/en/latest/reference/datasources/nocloud.html

export type DsHintName = 'nocloud' | 'nocloud-net';

export interface DsHint {
  /** Which `ds=` id matched; cloud-init tries `ds=nocloud` first. */
  readonly dsname: DsHintName;
  /**
   * The meta-data the hint sets: `s`, `i`, `h` expanded to seedfrom, instance-id, local-hostname;
   * a key given without `=` has the value null (cloud-init stores None); `dsmode` is `local` for
   * nocloud and `net` for nocloud-net unless the hint sets it.
   */
  readonly metadata: Readonly<Record<string, string | null>>;
}

/** parse_cmdline_data's short names, "to save cmdline typing". */
const SHORT_TO_LONG: ReadonlyMap<string, string> = new Map([
  ['h', 'local-hostname'],
  ['i', 'instance-id'],
  ['s', 'seedfrom'],
]);

/** load_cmdline_data's pairs, in its order: the dsmode each id implies. */
const IDS: readonly { readonly dsname: DsHintName; readonly dsmode: string }[] = [
  { dsname: 'nocloud', dsmode: 'local' },
  { dsname: 'nocloud-net', dsmode: 'net' },
];

/**
 * Parse a kernel command line (or a DMI serial number) the way cloud-init's load_cmdline_data
 * does. Returns undefined when it names neither `ds=nocloud` nor `ds=nocloud-net`.
 *
 * Quirks kept from cloud-init: the id must stand alone or be followed by `;` (`ds=nocloudx` does
 * not count); the last whitespace-separated token that starts with the id is the one parsed, so
 * with `ds=nocloud ds=nocloud-net;s=U` the nocloud id reads the nocloud-net token's pairs; values
 * cannot contain `;` or blanks, and quotes are not special.
 */
export function parseDsHint(cmdline: string): DsHint | undefined {
  const padded = ` ${cmdline} `;
  for (const { dsname, dsmode } of IDS) {
    const id = `ds=${dsname}`;
    if (!padded.includes(` ${id} `) && !padded.includes(` ${id};`)) continue;
    let argline = '';
    for (const tok of cmdline.split(/\s+/)) {
      if (tok.startsWith(id)) argline = tok.slice(tok.indexOf('=') + 1);
    }
    const fill = new Map<string, string | null>();
    const items = argline.split(';').slice(1);
    for (const item of items) {
      if (item === '') continue;
      const eq = item.indexOf('=');
      const k = eq < 0 ? item : item.slice(0, eq);
      const v = eq < 0 ? null : item.slice(eq + 1);
      fill.set(SHORT_TO_LONG.get(k) ?? k, v);
    }
    if (!fill.has('dsmode')) fill.set('dsmode', dsmode);
    // fromEntries defines own properties: a key named __proto__ stays a plain key.
    return { dsname, metadata: Object.fromEntries(fill) };
  }
  return undefined;
}

/**
 * The hint from the DMI serial number and the one from the kernel command line together. cloud-init
 * reads the serial first and merges with mergemanydict, where the first source wins a key.
 */
export function mergeDsHints(first: DsHint | undefined, second: DsHint | undefined): DsHint | undefined {
  if (first === undefined) return second;
  if (second === undefined) return first;
  return { dsname: first.dsname, metadata: Object.fromEntries([...Object.entries(second.metadata), ...Object.entries(first.metadata)]) };
}

/** The hint's seedfrom as a usable string (a bare `s` without a value is no seed). */
export function hintSeedfrom(hint: DsHint | undefined): string | undefined {
  const s = hint?.metadata.seedfrom;
  return typeof s === 'string' && s !== '' ? s : undefined;
}

export type SeedfromKind = 'http' | 'local';

/**
 * What kind of seed a seedfrom names: NoCloud supports the prefixes `/` and `file://`,
 * NoCloudNet `http://` and `https://` (supported_seed_starts; case-sensitive, as there).
 */
export function seedfromKind(seedfrom: string): SeedfromKind | undefined {
  if (seedfrom.startsWith('http://') || seedfrom.startsWith('https://')) return 'http';
  if (seedfrom.startsWith('/') || seedfrom.startsWith('file://')) return 'local';
  return undefined;
}

/**
 * cloud-init's DMIDECODE_TO_KERNEL (cloudinit/dmi.py): the dmidecode string names that
 * `__dmi.<name>__` may use, and the file under /sys/class/dmi/id each is read from.
 */
export const DMI_SYSFS_NAMES: Readonly<Record<string, string>> = Object.freeze({
  'baseboard-asset-tag': 'board_asset_tag',
  'baseboard-manufacturer': 'board_vendor',
  'baseboard-product-name': 'board_name',
  'baseboard-serial-number': 'board_serial',
  'baseboard-version': 'board_version',
  'bios-release-date': 'bios_date',
  'bios-vendor': 'bios_vendor',
  'bios-version': 'bios_version',
  'chassis-asset-tag': 'chassis_asset_tag',
  'chassis-manufacturer': 'chassis_vendor',
  'chassis-serial-number': 'chassis_serial',
  'chassis-version': 'chassis_version',
  'system-manufacturer': 'sys_vendor',
  'system-product-name': 'product_name',
  'system-serial-number': 'product_serial',
  'system-uuid': 'product_uuid',
  'system-version': 'product_version',
});

// cloud-init 23.1 dmi.sub_dmi_vars: `__dmi\.([^_]+)__`, so names cannot contain '_'.
const DMI_VARIABLE = /__dmi\.([^_]+)__/g;

/** The distinct `__dmi.<name>__` names in `src`, valid or not. */
export function dmiVariablesIn(src: string): string[] {
  return [...new Set([...src.matchAll(DMI_VARIABLE)].map((m) => m[1] ?? ''))];
}

export interface DmiSubstitution {
  readonly value: string;
  /** Names that are not dmidecode keys: left in place, as cloud-init does (it logs a warning). */
  readonly ignored: readonly string[];
}

/**
 * Replace each `__dmi.<name>__` with `values.get(name)`; a missing or empty value becomes '' (the
 * variable is removed), as cloud-init does. Names not in DMI_SYSFS_NAMES stay as written.
 */
export function substituteDmiVariables(src: string, values: ReadonlyMap<string, string | undefined>): DmiSubstitution {
  const ignored = new Set<string>();
  const value = src.replace(DMI_VARIABLE, (whole, name: string) => {
    if (!Object.hasOwn(DMI_SYSFS_NAMES, name)) {
      ignored.add(name);
      return whole;
    }
    return values.get(name) ?? '';
  });
  return { value, ignored: [...ignored] };
}
