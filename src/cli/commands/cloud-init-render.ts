// atomic cloud-init render --seed PATH|URL [--json]
// What a seed means, without applying anything: the datasource's metadata and the merged
// cloud-config (vendor-data under user-data, #include content fetched), exactly as `atomicd
// provision` computes them, plus every problem.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectDatasource } from '../../adapters/datasources/detect.js';
import { processUserData } from '../../adapters/user-data/process-user-data.js';
import { formatProblem } from '../../core/cloud-config/validate.js';
import { yamlPackage } from '../../core/cloud-config/yaml-package.js';
import { NotFound } from '../../lib/errors.js';

export interface CloudInitRenderOptions {
  readonly seed: string;
  readonly timeout?: string;
  readonly json?: boolean;
}

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined };

export async function run(opts: CloudInitRenderOptions): Promise<void> {
  const timeoutMs = opts.timeout === undefined ? 30_000 : Number(opts.timeout) * 1000;
  const signal = AbortSignal.timeout(timeoutMs);
  const found = await detectDatasource({
    root: '/nonexistent',
    cmdlinePath: '/nonexistent',
    dmiDir: '/nonexistent',
    sysBlockDir: '/nonexistent',
    seedPaths: [opts.seed],
    totalTimeoutMs: timeoutMs,
    signal,
    log: quiet,
  });
  if ('none' in found) throw new NotFound(`no seed found: ${found.reasons.join('; ')}`, { subject: opts.seed });
  const instance = found.instance;
  // #include-once content is cached per instance when provisioning; render keeps nothing.
  const cache = await mkdtemp(join(tmpdir(), 'atomic-render-'));
  try {
    const processed = await processUserData(instance, { includeCacheDir: cache, timeoutMs, signal });
    const view = {
      datasource: instance.datasource,
      source: instance.source,
      instanceId: instance.instanceId,
      ...(instance.localHostname === undefined ? {} : { localHostname: instance.localHostname }),
      metadata: instance.metadata,
      publicKeys: instance.publicKeys,
      ...(instance.networkConfig === undefined ? {} : { networkConfig: instance.networkConfig }),
      parts: [...processed.vendorParts.map((p) => ({ from: 'vendor-data', kind: p.kind, contentType: p.contentType, ...(p.filename === undefined ? {} : { filename: p.filename }) })),
        ...processed.userParts.map((p) => ({ from: 'user-data', kind: p.kind, contentType: p.contentType, ...(p.filename === undefined ? {} : { filename: p.filename }) }))],
      cloudConfig: processed.config,
      problems: processed.problems,
    };
    if (opts.json === true) {
      process.stdout.write(JSON.stringify(view, null, 2) + '\n');
      return;
    }
    const out: string[] = [];
    out.push(`# datasource ${view.datasource} (${view.source}), instance-id ${view.instanceId}`);
    out.push(`# parts: ${view.parts.map((p) => `${p.from}:${p.kind}${p.filename === undefined ? '' : `(${p.filename})`}`).join(', ') || 'none'}`);
    for (const p of processed.problems) out.push(`# ${p.severity}: ${formatProblem(p)}`);
    out.push('#cloud-config');
    process.stdout.write(out.join('\n') + '\n' + yamlPackage().stringify(processed.config, { lineWidth: 0 }));
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}
