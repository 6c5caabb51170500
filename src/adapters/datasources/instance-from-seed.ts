// NoCloud's files (from a device, a directory or a seedfrom URL) turned into InstanceData, with
// the hint from the kernel command line / DMI serial laid over meta-data the way cloud-init's
// DataSourceNoCloud._get_data merges them: hint keys win, then the seed's meta-data, then the
// default instance-id 'nocloud'.
import type { DatasourceName, InstanceData } from '../../core/provision/model.js';
import type { SeedFileName } from '../../core/seed/seed-files.js';
import type { Problem } from '../../core/cloud-config/validate.js';
import { InvalidArgument, ResourceExhausted } from '../../lib/errors.js';
import type { DatasourceLog } from './datasource-result.js';

/** cloud-init reads seed files whole; each may be at most this big (the issue's limit). */
export const MAX_SEED_FILE_BYTES = 16 * 1024 * 1024;

/** DataSourceNoCloud's `defaults`: the instance-id when meta-data has none. */
export const DEFAULT_NOCLOUD_INSTANCE_ID = 'nocloud';

export type SeedFiles = Partial<Record<SeedFileName, Uint8Array>>;

export interface InstanceFromSeedOptions {
  readonly datasource: DatasourceName;
  /** The device, file, directory or URL, for InstanceData.source, messages and problem lines. */
  readonly source: string;
  readonly files: SeedFiles;
  /** Meta-data from the `ds=` hint; these keys win over the seed's meta-data. */
  readonly overrides?: Readonly<Record<string, string | null>>;
  readonly maxFileBytes?: number;
  readonly log: DatasourceLog;
}

export function tooLarge(name: string, sizeBytes: number | undefined, max: number, subject: string): ResourceExhausted {
  const size = sizeBytes === undefined ? 'larger than' : `${sizeBytes} bytes, more than`;
  return new ResourceExhausted(`${name} is ${size} the limit of ${max} bytes for a seed file`, { subject });
}

function report(problems: readonly Problem[], file: string, what: string, subject: string, log: DatasourceLog, v: Validators): void {
  const { formatProblem, hasErrors } = v;
  const warnings = problems.filter((p) => p.severity === 'warning').map(formatProblem);
  if (warnings.length > 0) log.warn({ file, problems: warnings }, `${what} has warnings`);
  if (hasErrors(problems)) {
    const errors = problems.filter((p) => p.severity === 'error').map(formatProblem);
    throw new InvalidArgument(`${what} is not valid: ${errors[0] ?? ''}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, { subject, problems: errors });
  }
}

/** Why an instance-id cannot be used: cloud-init makes it a directory under /var/lib/cloud/instances. */
function instanceIdProblem(id: string): string | undefined {
  if (id.trim() === '') return 'is empty';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f/]/.test(id) || id === '.' || id === '..' || id.length > 255) return "must be at most 255 printable characters without '/' (it names a directory)";
  return undefined;
}

/**
 * sources/__init__.py normalize_pubkey_data: a string holds one key a line, a list holds keys,
 * a mapping's values are either. Blank lines and `#` comments are dropped.
 */
export function normalizePublicKeys(value: unknown): string[] {
  const out: string[] = [];
  const add = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const line of v.split(/\r?\n/)) {
        const key = line.trim();
        if (key !== '' && !key.startsWith('#')) out.push(key);
      }
    } else if (Array.isArray(v)) v.forEach(add);
  };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) Object.values(value).forEach(add);
  else add(value);
  return out;
}

type Validators = typeof import('../../core/cloud-config/validate.js');

/**
 * Async because the validators (and the YAML parser under them) are loaded only here, when a
 * seed was found: a boot with no datasource should not pay for loading them.
 */
export async function instanceFromSeed(opts: InstanceFromSeedOptions): Promise<InstanceData> {
  const v: Validators = await import('../../core/cloud-config/validate.js');
  const max = opts.maxFileBytes ?? MAX_SEED_FILE_BYTES;
  for (const [name, data] of Object.entries(opts.files)) {
    if (data !== undefined && data.length > max) throw tooLarge(name, data.length, max, opts.source);
  }
  const label = (name: string): string => `${opts.source.replace(/\/$/, '')}/${name}`;

  let fromFile: Record<string, unknown> = {};
  const md = opts.files['meta-data'];
  if (md !== undefined) {
    const r = v.validateMetaData(md, label('meta-data'));
    report(r.problems, label('meta-data'), 'meta-data', opts.source, opts.log, v);
    if (r.metadata === undefined) throw new InvalidArgument('meta-data is not a mapping', { subject: opts.source });
    fromFile = r.metadata;
  }
  const metadata: Record<string, unknown> = { ...fromFile, ...opts.overrides };
  // A hint `i` without a value (null) or an empty one means no instance-id: use the default.
  const iid = metadata['instance-id'];
  const instanceId = typeof iid === 'string' && iid !== '' ? iid : typeof iid === 'number' ? String(iid) : DEFAULT_NOCLOUD_INSTANCE_ID;
  const problem = instanceIdProblem(instanceId);
  if (problem !== undefined) throw new InvalidArgument(`instance-id ${JSON.stringify(instanceId)} ${problem}`, { subject: opts.source });
  metadata['instance-id'] = instanceId;
  const host = metadata['local-hostname'];

  let networkConfig: unknown;
  const nc = opts.files['network-config'];
  // _merge_new_seed: an empty network-config is no network-config.
  if (nc !== undefined && Buffer.from(nc).toString('utf8').trim() !== '') {
    const r = v.validateNetworkConfig(nc, label('network-config'));
    report(r.problems, label('network-config'), 'network-config', opts.source, opts.log, v);
    networkConfig = r.config;
  }
  return {
    datasource: opts.datasource,
    source: opts.source,
    instanceId,
    ...(typeof host === 'string' && host !== '' ? { localHostname: host } : {}),
    metadata,
    publicKeys: normalizePublicKeys(metadata['public-keys']),
    ...(opts.files['user-data'] === undefined ? {} : { userData: opts.files['user-data'] }),
    ...(opts.files['vendor-data'] === undefined ? {} : { vendorData: opts.files['vendor-data'] }),
    ...(networkConfig === undefined ? {} : { networkConfig }),
  };
}

/** `dsmode: disabled` in meta-data or the hint: cloud-init does not claim the datasource. */
export function isDisabled(instance: InstanceData): boolean {
  return instance.metadata.dsmode === 'disabled';
}
