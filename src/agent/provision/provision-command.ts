// atomicd provision --root DIR [--seed PATH|URL]... [--datasource auto|nocloud|nocloud-net|ec2]
//   [--metadata-url URL] [--state-dir DIR] [--json]
// One provisioning pass; exit 0 when every module succeeded, 1 when some failed (the rest still
// ran), 2 for bad usage.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isAtomicError } from '../../lib/errors.js';
import { parseCommandArgs } from '../command-args.js';
import type { LogLevel } from '../log-levels.js';
import type { ExplicitDatasource } from '../../adapters/datasources/detect.js';

const USAGE = `usage: atomicd provision --root DIR [options]

Find the datasource, process user-data and vendor-data, and run cloud-init's modules against
the root tree DIR ('/' on a host), each at its frequency. Status: DIR/var/lib/atomicd/cloud/data/status.json
(see 'atomic cloud-init status').

options:
  --root DIR            root tree to provision (required)
  --live                the root is the running system (with --root /, at boot): also set the
                        kernel's hostname, as cloud-init does
  --seed PATH|URL       use this seed: ISO, FAT image, tar, directory, or http(s) NoCloud-net URL (repeatable)
  --datasource NAME     auto (default: go by local evidence), nocloud, nocloud-net or ec2
  --metadata-url URL    EC2 instance metadata base URL (default http://169.254.169.254)
  --state-dir DIR       state directory (default ROOT/var/lib/atomicd/cloud)
  --timeout SECONDS     total time for network datasources and includes (default 60)
  --cmdline FILE        kernel command line to read ds= hints from (default /proc/cmdline)
  --dmi-dir DIR         DMI attributes (default /sys/class/dmi/id)
  --sys-block-dir DIR   block devices to look for a cidata label (default /sys/class/block)
  --json                print the status document as JSON on standard output
  -h, --help            print this help
`;

const DATASOURCES: readonly ExplicitDatasource[] = ['auto', 'nocloud', 'nocloud-net', 'ec2'];

export async function run(args: readonly string[], level: LogLevel): Promise<number> {
  const parsed = parseCommandArgs('provision', USAGE, args, {
    root: { type: 'string' },
    seed: { type: 'string', multiple: true },
    datasource: { type: 'string' },
    'metadata-url': { type: 'string' },
    'state-dir': { type: 'string' },
    timeout: { type: 'string' },
    cmdline: { type: 'string' },
    'dmi-dir': { type: 'string' },
    'sys-block-dir': { type: 'string' },
    json: { type: 'boolean' },
    live: { type: 'boolean' },
  });
  if (typeof parsed === 'number') return parsed;
  const v = parsed;
  const usage = (msg: string): number => {
    process.stderr.write(`atomicd provision: ${msg}\n`);
    return 2;
  };
  if (typeof v.root !== 'string' || v.root === '') return usage('--root DIR is required');
  // Absolute: the shadow tools' --root and chroot resolve it from their own working directory.
  const root = resolve(v.root);
  if (v.live === true && root !== '/') return usage('--live provisions the running system: it needs --root /');
  const datasource = (v.datasource ?? 'auto') as string;
  if (!(DATASOURCES as readonly string[]).includes(datasource)) return usage(`--datasource ${JSON.stringify(datasource)}: use one of ${DATASOURCES.join(', ')}`);
  const timeoutS = v.timeout === undefined ? 60 : Number(v.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) return usage(`--timeout ${JSON.stringify(v.timeout)}: a positive number of seconds`);

  // Loaded after the arguments are checked: --help and usage errors stay fast.
  const [{ createLazyLogger }, { provision }] = await Promise.all([import('../logger.js'), import('./provision.js')]);
  // pino is loaded by the first line written at `level`, if any.
  const log = createLazyLogger({ level });
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const status = await provision({
      root,
      ...(v.live === true ? { live: true } : {}),
      ...(typeof v['state-dir'] === 'string' ? { stateDir: v['state-dir'] } : {}),
      ...(Array.isArray(v.seed) ? { seeds: v.seed } : {}),
      datasource: datasource as ExplicitDatasource,
      ...(typeof v['metadata-url'] === 'string' ? { metadataUrl: v['metadata-url'] } : {}),
      ...(typeof v.cmdline === 'string' ? { cmdlinePath: v.cmdline } : {}),
      ...(typeof v['dmi-dir'] === 'string' ? { dmiDir: v['dmi-dir'] } : {}),
      ...(typeof v['sys-block-dir'] === 'string' ? { sysBlockDir: v['sys-block-dir'] } : {}),
      networkTimeoutMs: timeoutS * 1000,
      ...(await bootTime()),
      signal: controller.signal,
      log,
    });
    if (v.json === true) process.stdout.write(JSON.stringify(status, null, 2) + '\n');
    return status.ok ? 0 : 1;
  } catch (e) {
    // The pass could not run at all (e.g. the state directory cannot be written).
    const subject = isAtomicError(e) && e.subject !== undefined ? `${e.subject}: ` : '';
    process.stderr.write(`atomicd provision: ${subject}${e instanceof Error ? e.message : String(e)}\n`);
    log.error({ err: e }, 'provisioning failed');
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** When the machine booted, from /proc/uptime (final_message's $UPTIME, as cloud-init reads it). */
async function bootTime(): Promise<{ bootTime?: Date }> {
  try {
    const seconds = Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]);
    return Number.isFinite(seconds) ? { bootTime: new Date(Date.now() - seconds * 1000) } : {};
  } catch {
    return {};
  }
}
