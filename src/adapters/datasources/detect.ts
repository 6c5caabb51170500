// Which datasource this machine has, decided from local evidence before anything is probed (the
// idea of cloud-init's ds-identify): an explicit --seed, a `ds=` hint on the kernel command line
// or in the DMI serial, a seed directory, a block device labelled cidata, DMI strings that say
// Amazon, or the datasource named by the caller. Without evidence nothing touches the network and
// the answer is `none`, fast; the network datasources (and node:http) are not even loaded then. The order is cloud-init's datasource_list for our three: NoCloud
// (local first), then NoCloud-net, then Ec2.
import type { BackoffPolicy } from '../../lib/backoff.js';
import { hintSeedfrom, seedfromKind } from '../../core/provision/ds-hint.js';
import type { InstanceData } from '../../core/provision/model.js';
import type { DatasourceLog, DatasourceResult } from './datasource-result.js';
import { isDisabled } from './instance-from-seed.js';
import { readDsHint } from './kernel-cmdline.js';
import { readNoCloudLocal, readNoCloudSeed } from './nocloud-local.js';
import { displayUrl } from '../http/display-url.js';
import { readDmiValue } from './read-dmi.js';

export type ExplicitDatasource = 'auto' | 'nocloud' | 'nocloud-net' | 'ec2';

export interface DetectOptions {
  /** The root holding var/lib/cloud/seed/nocloud ('/' on a host). */
  readonly root: string;
  readonly cmdlinePath: string;
  readonly dmiDir: string;
  readonly sysBlockDir: string;
  /** Device nodes for sysBlockDir's entries; default /dev. */
  readonly devDir?: string;
  /** `--seed PATH|URL`: these seeds and nothing else (an ISO, FAT image, tar file, directory or http(s) URL). */
  readonly seedPaths?: readonly string[];
  /** Probe this datasource only, without evidence; 'auto' (the default) goes by evidence. */
  readonly explicit?: ExplicitDatasource;
  /** The IMDS base URL; default http://169.254.169.254. */
  readonly metadataUrl?: string;
  readonly requestTimeoutMs?: number;
  readonly totalTimeoutMs?: number;
  readonly retry?: Partial<BackoffPolicy>;
  readonly signal: AbortSignal;
  readonly log: DatasourceLog;
}

export type DetectResult = { readonly instance: InstanceData } | { readonly none: true; readonly reasons: readonly string[] };

export async function detectDatasource(opts: DetectOptions): Promise<DetectResult> {
  const net = {
    ...(opts.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: opts.requestTimeoutMs }),
    ...(opts.totalTimeoutMs === undefined ? {} : { totalTimeoutMs: opts.totalTimeoutMs }),
    ...(opts.retry === undefined ? {} : { retry: opts.retry }),
    signal: opts.signal,
    log: opts.log,
  };
  const reasons: string[] = [];
  const done = (r: DatasourceResult): DetectResult | undefined => {
    if (r.found) {
      opts.log.info({ datasource: r.instance.datasource, source: r.instance.source, instanceId: r.instance.instanceId }, 'datasource found');
      return { instance: r.instance };
    }
    reasons.push(r.reason);
    return undefined;
  };

  if (opts.seedPaths !== undefined && opts.seedPaths.length > 0) {
    for (const seed of opts.seedPaths) {
      const isUrl = /^(https?|file):\/\//.test(seed);
      opts.log.info({ seed: isUrl ? displaySeed(seed) : seed }, 'reading the seed given with --seed');
      const r = isUrl
        ? await (await import('./nocloud-net.js')).readNoCloudNet({ seedfrom: seed, dmiDir: opts.dmiDir, ...net })
        : await readNoCloudSeed(seed, { signal: opts.signal, log: opts.log }).then((instance): DatasourceResult =>
            isDisabled(instance) ? { found: false, reason: `${seed}: dsmode is disabled` } : { found: true, instance });
      const d = done(r);
      if (d !== undefined) return d;
    }
    return { none: true, reasons };
  }

  const explicit = opts.explicit ?? 'auto';
  const found = await readDsHint({ cmdlinePath: opts.cmdlinePath, dmiDir: opts.dmiDir });
  const hint = found?.hint;
  const seedfrom = hintSeedfrom(hint);
  const seedKind = seedfrom === undefined ? undefined : seedfromKind(seedfrom);
  if (found !== undefined) {
    opts.log.info({ source: found.source, dsname: found.hint.dsname, keys: Object.keys(found.hint.metadata), seedfrom: seedfrom === undefined ? null : displaySeed(seedfrom) }, 'ds= hint found');
  }
  if (seedfrom !== undefined && seedKind === undefined) {
    // cloud-init: "Seed from %s not supported" and the datasource is not claimed.
    reasons.push(`seedfrom ${displaySeed(seedfrom)} in ${found?.source ?? 'the ds= hint'} is neither an http(s) URL nor a local path`);
  }
  const overrides = hint === undefined ? {} : { overrides: hint.metadata };

  // NoCloud, local: a local seedfrom, a seed directory, a cidata device, or the hint alone.
  if (explicit === 'auto' || explicit === 'nocloud') {
    if (seedKind === 'local' && seedfrom !== undefined) {
      const d = done(await (await import('./nocloud-net.js')).readNoCloudNet({ seedfrom, dmiDir: opts.dmiDir, ...overrides, ...net }));
      if (d !== undefined) return d;
    } else if (seedKind === 'http') {
      reasons.push('NoCloud: the ds= hint has a seedfrom URL, which is NoCloud-net');
    } else if (seedfrom === undefined) {
      const d = done(
        await readNoCloudLocal({
          root: opts.root,
          sysBlockDir: opts.sysBlockDir,
          ...(opts.devDir === undefined ? {} : { devDir: opts.devDir }),
          ...(hint === undefined ? {} : { hint, hintSource: found?.source ?? 'ds= hint' }),
          signal: opts.signal,
          log: opts.log,
        }),
      );
      if (d !== undefined) return d;
    }
  }

  // NoCloud-net: only with a seedfrom URL from the hint.
  if (explicit === 'auto' || explicit === 'nocloud-net') {
    if (seedKind === 'http' && seedfrom !== undefined) {
      const d = done(await (await import('./nocloud-net.js')).readNoCloudNet({ seedfrom, dmiDir: opts.dmiDir, ...overrides, ...net }));
      if (d !== undefined) return d;
    } else {
      reasons.push(`NoCloud-net: no seedfrom URL in a ds= hint (${opts.cmdlinePath}, ${opts.dmiDir}/product_serial)`);
    }
  }

  // Ec2: only when DMI says Amazon, or when asked for.
  if (explicit === 'auto' || explicit === 'ec2') {
    const amazon = await amazonEvidence(opts.dmiDir);
    if (explicit === 'ec2' || amazon.found) {
      opts.log.info({ evidence: amazon.found ? amazon.why : 'explicit', metadataUrl: displaySeed(opts.metadataUrl ?? 'http://169.254.169.254') }, 'probing EC2 IMDS');
      const d = done(await (await import('./ec2-imds.js')).readEc2Imds({ ...(opts.metadataUrl === undefined ? {} : { baseUrl: opts.metadataUrl }), ...net }));
      if (d !== undefined) return d;
    } else {
      reasons.push(`Ec2: DMI does not say Amazon (${amazon.why})`);
    }
  }
  opts.log.info({ reasons }, 'no datasource');
  return { none: true, reasons };
}

function displaySeed(seed: string): string {
  try {
    return displayUrl(new URL(seed));
  } catch {
    return seed;
  }
}

/**
 * AWS "Detect whether a host is an EC2 instance": Nitro instances say `Amazon EC2` in sys_vendor
 * and bios_vendor; Xen instances have a product_version like `4.11.amazon`, and a product_uuid
 * starting with `ec2` equal to the serial (ds-identify's ec2_identify_platform).
 */
export async function amazonEvidence(dmiDir: string): Promise<{ found: boolean; why: string }> {
  const seen: string[] = [];
  for (const name of ['sys_vendor', 'product_version', 'bios_vendor']) {
    const v = await readDmiValue(dmiDir, name);
    if (v === undefined) continue;
    if (/amazon/i.test(v)) return { found: true, why: `${name} is ${JSON.stringify(v)}` };
    seen.push(`${name} ${JSON.stringify(v)}`);
  }
  const uuid = await readDmiValue(dmiDir, 'product_uuid');
  const serial = await readDmiValue(dmiDir, 'product_serial');
  if (uuid !== undefined && serial !== undefined && /^ec2/i.test(uuid) && uuid.toLowerCase() === serial.toLowerCase()) {
    return { found: true, why: 'product_uuid and product_serial start with ec2' };
  }
  return { found: false, why: seen.length === 0 ? `nothing readable in ${dmiDir}` : seen.join(', ') };
}
