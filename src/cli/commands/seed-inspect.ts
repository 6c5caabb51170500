// atomic seed inspect SEED [--json]: what a NoCloud seed holds and what cloud-init will make of
// it: its files, the parsed meta-data, the kind of every user-data part, the network-config
// version, and any problems the validator finds (reported, not fatal: inspecting a broken seed is
// the point of this command).
import { readSeedMedia, type SeedMedia } from '../../adapters/seed-media/read-seed.js';
import { SEED_LABEL } from '../../core/seed/seed-files.js';
import { formatProblem, validateMetaData, validateNetworkConfig, validateUserData, type Problem, type UserDataPart } from '../../core/cloud-config/validate.js';

export interface SeedInspectOptions {
  readonly json?: boolean;
}

interface PartView {
  readonly index: number;
  readonly kind: string;
  readonly contentType: string;
  readonly filename?: string;
  readonly sizeBytes: number;
  readonly compressed: boolean;
  readonly includes?: readonly string[];
}

export interface SeedInspection {
  readonly path: string;
  readonly format: SeedMedia['format'];
  readonly label?: string;
  /** Whether cloud-init's NoCloud would find this volume by its label (cidata, or CIDATA on FAT). */
  readonly labelMatches?: boolean;
  readonly files: readonly { name: string; sizeBytes: number }[];
  readonly instanceId?: string;
  readonly metaData?: Record<string, unknown>;
  readonly userData?: { readonly parts: readonly PartView[] };
  readonly vendorData?: { readonly parts: readonly PartView[] };
  readonly networkConfig?: { readonly version?: number };
  readonly problems: readonly Problem[];
}

export async function run(seedPath: string, opts: SeedInspectOptions): Promise<void> {
  const seed = await readSeedMedia(seedPath);
  const view = inspect(seed);
  if (opts.json === true) {
    process.stdout.write(JSON.stringify(view, null, 2) + '\n');
    return;
  }
  process.stdout.write(render(view));
}

function partView(p: UserDataPart): PartView {
  return {
    index: p.index,
    kind: p.kind,
    contentType: p.contentType,
    ...(p.filename === undefined ? {} : { filename: p.filename }),
    sizeBytes: p.sizeBytes,
    compressed: p.compressed,
    ...(p.includes === undefined ? {} : { includes: p.includes.map((i) => i.url) }),
  };
}

export function inspect(seed: SeedMedia): SeedInspection {
  const problems: Problem[] = [];
  const label = (name: string): string => `${seed.path}#${name}`;
  let metaData: Record<string, unknown> | undefined;
  let userData: SeedInspection['userData'];
  let vendorData: SeedInspection['vendorData'];
  let networkConfig: SeedInspection['networkConfig'];
  const f = seed.files;
  if (f['meta-data'] !== undefined) {
    const r = validateMetaData(f['meta-data'], label('meta-data'));
    metaData = r.metadata;
    problems.push(...r.problems);
  } else {
    problems.push(missing(label('meta-data'), 'no meta-data: cloud-init\'s NoCloud does not use a seed without it'));
  }
  if (f['user-data'] !== undefined) {
    const r = validateUserData(f['user-data'], label('user-data'));
    userData = { parts: r.parts.map(partView) };
    problems.push(...r.problems);
  } else {
    problems.push(missing(label('user-data'), 'no user-data: cloud-init\'s NoCloud does not use a seed without it'));
  }
  if (f['vendor-data'] !== undefined) {
    const r = validateUserData(f['vendor-data'], label('vendor-data'));
    vendorData = { parts: r.parts.map(partView) };
    problems.push(...r.problems);
  }
  if (f['network-config'] !== undefined) {
    const r = validateNetworkConfig(f['network-config'], label('network-config'));
    networkConfig = r.version === undefined ? {} : { version: r.version };
    problems.push(...r.problems);
  }
  const instanceId = typeof metaData?.['instance-id'] === 'string' ? metaData['instance-id'] : undefined;
  // NoCloud looks for the label cidata; FAT labels are upper-cased by many tools, and cloud-init
  // accepts CIDATA too.
  const labelMatches = seed.label === undefined ? undefined : seed.label === SEED_LABEL || seed.label === SEED_LABEL.toUpperCase();
  if (labelMatches === false) {
    problems.push(missing(seed.path, `volume label is ${JSON.stringify(seed.label)}: cloud-init's NoCloud only finds volumes labelled cidata`));
  }
  return {
    path: seed.path,
    format: seed.format,
    ...(seed.label === undefined ? {} : { label: seed.label }),
    ...(labelMatches === undefined ? {} : { labelMatches }),
    files: seed.listing,
    ...(instanceId === undefined ? {} : { instanceId }),
    ...(metaData === undefined ? {} : { metaData }),
    ...(userData === undefined ? {} : { userData }),
    ...(vendorData === undefined ? {} : { vendorData }),
    ...(networkConfig === undefined ? {} : { networkConfig }),
    problems,
  };
}

function missing(file: string, message: string): Problem {
  return { severity: 'warning', file, path: '', line: 1, column: 1, message };
}

function render(v: SeedInspection): string {
  const out: string[] = [];
  const what = v.format === 'directory' ? 'seed directory' : v.format === 'tar' ? 'tar seed' : `${v.format} seed`;
  out.push(`${v.path}: ${what}${v.label === undefined ? '' : `, label ${JSON.stringify(v.label)}`}`);
  out.push('files:');
  const width = Math.max(0, ...v.files.map((f) => f.name.length));
  for (const f of v.files) out.push(`  ${f.name.padEnd(width)}  ${String(f.sizeBytes).padStart(8)} bytes`);
  if (v.files.length === 0) out.push('  (none)');
  if (v.metaData !== undefined) {
    out.push('meta-data:');
    for (const [k, val] of Object.entries(v.metaData)) out.push(`  ${k}: ${typeof val === 'string' ? val : JSON.stringify(val)}`);
  }
  const parts = (title: string, p: { parts: readonly PartView[] } | undefined): void => {
    if (p === undefined) return;
    out.push(`${title}: ${p.parts.length} part${p.parts.length === 1 ? '' : 's'}`);
    for (const part of p.parts) {
      const name = part.filename === undefined ? '' : ` ${JSON.stringify(part.filename)}`;
      const gz = part.compressed ? ', gzip' : '';
      const inc = part.includes === undefined ? '' : ` -> ${part.includes.join(' ')}`;
      out.push(`  ${part.index}. ${part.kind}${name} (${part.contentType}${gz}), ${part.sizeBytes} bytes${inc}`);
    }
  };
  parts('user-data', v.userData);
  parts('vendor-data', v.vendorData);
  if (v.networkConfig !== undefined) out.push(`network-config: ${v.networkConfig.version === undefined ? 'unrecognised' : `version ${v.networkConfig.version}`}`);
  if (v.problems.length === 0) out.push('problems: none');
  else {
    out.push(`problems: ${v.problems.length}`);
    for (const p of v.problems) out.push(`  ${p.severity}: ${formatProblem(p)}`);
  }
  return out.join('\n') + '\n';
}
