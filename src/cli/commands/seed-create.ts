// atomic seed create -o OUT --user-data F [...]   and cloud-localds's   atomic seed create OUT USER_DATA [META_DATA]
import { readFileSync } from 'node:fs';
import { requireCrypto } from '../../lib/builtin.js';
import { InvalidArgument, fromSystemError } from '../../lib/errors.js';
import { SEED_DIRECTORY, SEED_LABEL, seedFiles, type SeedFile, type SeedInputs } from '../../core/seed/seed-files.js';
import { formatProblem, hasErrors, validateMetaData, validateNetworkConfig, validateUserData, type Problem } from '../../core/cloud-config/validate.js';
import { sourceDateEpoch } from '../source-date-epoch.js';
import { writeStdout } from '../stdout.js';

export interface SeedCreateOptions {
  readonly output?: string;
  readonly userData?: string;
  readonly metaData?: string;
  readonly networkConfig?: string;
  readonly vendorData?: string;
  readonly hostname?: string;
  readonly instanceId?: string;
  readonly format: 'iso' | 'vfat' | 'tar';
  readonly validate: boolean;
  readonly json?: boolean;
}

export async function run(positional: readonly string[], opts: SeedCreateOptions): Promise<void> {
  const args = resolveArguments(positional, opts);
  const epoch = sourceDateEpoch(process.env);
  const mtimeMs = epoch === undefined ? Date.now() : epoch * 1000;

  const inputs: SeedInputs = {
    userData: await readInput(args.userData),
    ...(args.metaData === undefined ? {} : { metaData: await readInput(args.metaData) }),
    ...(opts.networkConfig === undefined ? {} : { networkConfig: await readInput(opts.networkConfig) }),
    ...(opts.vendorData === undefined ? {} : { vendorData: await readInput(opts.vendorData) }),
    ...(opts.hostname === undefined ? {} : { hostname: opts.hostname }),
    ...(opts.instanceId === undefined ? {} : { instanceId: opts.instanceId }),
  };
  const { files, generatedInstanceId } = seedFiles(inputs, () => `iid-${requireCrypto().randomUUID()}`); // node:crypto only when an ID is made
  // Validation comes before anything is written; it also reads the instance-id of given meta-data.
  const givenInstanceId = opts.validate ? validateSeed(files) : undefined;
  const instanceId = generatedInstanceId ?? givenInstanceId;

  // Each format's writer is loaded only when used (CLI start-up is benchmarked).
  if (opts.format === 'iso') {
    // A seed is a few small files: the image is made in memory and written in one call.
    const [{ writeFileAtomicallySync }, { encodeIsoImage }] = await Promise.all([import('../../lib/atomic-file.js'), import('../../formats/iso9660/writer.js')]);
    const { image } = encodeIsoImage({
      name: '', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtimeMs,
      children: files.map((f) => ({ name: f.name, type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtimeMs, sizeBytes: f.data.length, data: f.data })),
    }, { volumeId: SEED_LABEL, ...(epoch === undefined ? {} : { sourceDateEpoch: epoch }) });
    writeFileAtomicallySync(args.output, image, { durable: false });
  } else if (opts.format === 'vfat') {
    const [{ writeAtomically }, { makeVfat, vfatSizeBytes }, { createHash }] = await Promise.all([
      import('../../lib/atomic-file.js'),
      import('../../adapters/vfat/make-vfat.js'),
      import('node:crypto'),
    ]);
    // A volume serial from the content keeps vfat seeds reproducible under SOURCE_DATE_EPOCH.
    const volumeId = epoch === undefined ? undefined : createHash('sha256').update(Buffer.concat(files.map((f) => f.data))).digest('hex').slice(0, 8);
    await writeAtomically(args.output, async ({ handle, tempPath }) => {
      await handle.truncate(vfatSizeBytes(files));
      await makeVfat(tempPath, SEED_LABEL, files, { mtimeMs, ...(volumeId === undefined ? {} : { volumeId }) });
    }, { durable: false });
  } else {
    const [{ writeFileAtomically }, { writeUstar }] = await Promise.all([import('../../lib/atomic-file.js'), import('../../formats/tar/ustar-write.js')]);
    const parts = SEED_DIRECTORY.split('/');
    const dirs = parts.map((_, i) => ({ path: parts.slice(0, i + 1).join('/'), type: 'directory' as const, mode: 0o755, mtimeMs }));
    const entries = files.map((f) => ({ path: `${SEED_DIRECTORY}/${f.name}`, type: 'file' as const, mode: 0o644, mtimeMs, data: f.data }));
    await writeFileAtomically(args.output, writeUstar([...dirs, ...entries]), { durable: false });
  }

  const summary = {
    output: args.output,
    format: opts.format,
    label: opts.format === 'tar' ? undefined : SEED_LABEL,
    instanceId,
    files: files.map((f) => ({ name: f.name, sizeBytes: f.data.length, ...(f.origin === undefined ? { generated: true } : { from: f.origin }) })),
  };
  if (opts.json === true) writeStdout(JSON.stringify(summary) + '\n');
  else {
    const id = summary.instanceId === undefined ? '' : ` instance-id ${summary.instanceId}`;
    writeStdout(`${args.output}: ${opts.format} seed with ${files.map((f) => f.name).join(', ')};${id}\n`);
  }
}

function resolveArguments(positional: readonly string[], opts: SeedCreateOptions): { output: string; userData: string; metaData?: string } {
  if (positional.length > 0) {
    if (positional.length < 2 || positional.length > 3) {
      throw new InvalidArgument('the cloud-localds form is: atomic seed create OUTPUT USER_DATA [META_DATA]');
    }
    if (opts.output !== undefined || opts.userData !== undefined || (positional.length === 3 && opts.metaData !== undefined)) {
      throw new InvalidArgument('give the output and user-data either as OUTPUT USER_DATA [META_DATA] or with -o/--user-data, not both');
    }
    const [output, userData, metaData] = positional as [string, string, string | undefined];
    return { output, userData, ...(metaData !== undefined ? { metaData } : opts.metaData !== undefined ? { metaData: opts.metaData } : {}) };
  }
  if (opts.output === undefined) throw new InvalidArgument('missing -o/--output (or use: atomic seed create OUTPUT USER_DATA [META_DATA])');
  if (opts.userData === undefined) throw new InvalidArgument('missing --user-data FILE');
  return { output: opts.output, userData: opts.userData, ...(opts.metaData === undefined ? {} : { metaData: opts.metaData }) };
}

async function readInput(path: string): Promise<{ data: Uint8Array; origin: string }> {
  try {
    // Synchronous: a few small files, and fs/promises would be loaded for them alone.
    const data = path === '-' ? await readStdin() : readFileSync(path);
    return { data, origin: path === '-' ? '<stdin>' : path };
  } catch (e) {
    throw fromSystemError(e, path, 'reading');
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Validate every file; refuse the seed on any error, print warnings. Returns the instance-id. */
function validateSeed(files: readonly SeedFile[]): string | undefined {
  const problems: Problem[] = [];
  let instanceId: string | undefined;
  for (const f of files) {
    const label = f.origin ?? f.name;
    if (f.name === 'user-data' || f.name === 'vendor-data') problems.push(...validateUserData(f.data, label).problems);
    else if (f.name === 'network-config') problems.push(...validateNetworkConfig(f.data, label).problems);
    else {
      const r = validateMetaData(f.data, label);
      problems.push(...r.problems);
      const id = r.metadata?.['instance-id'];
      if (typeof id === 'string') instanceId = id;
    }
  }
  for (const p of problems) if (p.severity === 'warning') process.stderr.write(`warning: ${formatProblem(p)}\n`);
  if (hasErrors(problems)) {
    throw new InvalidArgument('invalid seed', { problems: problems.filter((p) => p.severity === 'error').map(formatProblem) });
  }
  return instanceId;
}
