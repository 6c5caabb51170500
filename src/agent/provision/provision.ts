// One provisioning pass, what cloud-init does across its stages on a boot: find the datasource,
// process user-data and vendor-data, then run every module of every stage in order, each at its
// frequency (model.ts MODULES), recording after each module what ran and what failed. A failing
// module or user-data part never stops the others (cloud-init's rule); the pass ends with a status
// document (core/provision/status.ts) whose `ok` says whether everything succeeded.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CloudState } from '../../adapters/cloud-state/cloud-state.js';
import { detectDatasource, type ExplicitDatasource } from '../../adapters/datasources/detect.js';
import type { StepOutcome } from '../../adapters/rootfs/execute-steps.js';
import { MODULES, STAGES, type InstanceData, type ModuleSpec } from '../../core/provision/model.js';
import type { ModuleInput } from '../../core/provision/plan-module.js';
import { finishedStatus, startedStatus, type ModuleResult, type ProvisionStatus } from '../../core/provision/status.js';
import type { RecordStep, Step } from '../../core/provision/steps.js';
import { writeFileAtomically } from '../../lib/atomic-file.js';
import { isAtomicError } from '../../lib/errors.js';
import { VERSION } from '../../lib/version.js';
import type { AgentLog } from '../logger.js';

/** cloud-init's /var/lib/cloud, inside the root: where scripts live so they can run chrooted. */
export const IN_ROOT_CLOUD_DIR = '/var/lib/atomicd/cloud';

export interface ProvisionOptions {
  /** The root tree to provision ('/' on a host). */
  readonly root: string;
  /** The root is the running system (`--live`): the transient hostname is set too. */
  readonly live?: boolean;
  /** For tests of live mode: where the kernel hostname is written. */
  readonly kernelHostnamePath?: string;
  /** Host path of the state directory; default ROOT/var/lib/atomicd/cloud. */
  readonly stateDir?: string;
  readonly seeds?: readonly string[];
  readonly datasource?: ExplicitDatasource;
  readonly metadataUrl?: string;
  readonly cmdlinePath?: string;
  readonly dmiDir?: string;
  readonly sysBlockDir?: string;
  readonly devDir?: string;
  /** Total time for network datasources and includes. */
  readonly networkTimeoutMs?: number;
  readonly signal: AbortSignal;
  readonly log: AgentLog;
  readonly now?: () => Date;
  readonly bootTime?: Date;
}

export async function provision(opts: ProvisionOptions): Promise<ProvisionStatus> {
  const now = opts.now ?? (() => new Date());
  const startedMs = performance.now();
  const state = new CloudState(opts.stateDir ?? join(opts.root, IN_ROOT_CLOUD_DIR.slice(1)));
  await state.init();
  // Status documents during the pass are progress reports, not made durable one by one; the
  // final one is, after every semaphore (cloud-state.ts).
  const progress = { durable: false } as const;
  let status = startedStatus(now());
  await state.writeStatus(status, progress);
  const finish = async (s: ProvisionStatus, outcome: 'done' | 'error' = 'done'): Promise<ProvisionStatus> => {
    const finished = finishedStatus(s, now(), startedMs, performance.now());
    const done: ProvisionStatus = outcome === 'error' ? { ...finished, state: 'error', ok: false } : finished;
    await state.sync();
    await state.writeStatus(done);
    return done;
  };

  let instance: InstanceData;
  try {
    const found = await detectDatasource({
      root: opts.root,
      cmdlinePath: opts.cmdlinePath ?? '/proc/cmdline',
      dmiDir: opts.dmiDir ?? '/sys/class/dmi/id',
      sysBlockDir: opts.sysBlockDir ?? '/sys/class/block',
      ...(opts.devDir === undefined ? {} : { devDir: opts.devDir }),
      ...(opts.seeds === undefined ? {} : { seedPaths: opts.seeds }),
      ...(opts.datasource === undefined ? {} : { explicit: opts.datasource }),
      ...(opts.metadataUrl === undefined ? {} : { metadataUrl: opts.metadataUrl }),
      ...(opts.networkTimeoutMs === undefined ? {} : { totalTimeoutMs: opts.networkTimeoutMs }),
      signal: opts.signal,
      log: opts.log,
    });
    if ('none' in found) {
      opts.log.info({ reasons: found.reasons }, 'no datasource: nothing to provision');
      return await finish({ ...status, noDatasource: { reasons: found.reasons } });
    }
    instance = found.instance;
  } catch (e) {
    const line = isAtomicError(e) ? `datasource: ${e.subject === undefined ? '' : `${e.subject}: `}${e.message}` : `datasource: ${String(e)}`;
    opts.log.error({ err: e }, 'reading the datasource failed');
    return await finish({ ...status, errors: [line] }, 'error');
  }

  // What applying needs (the YAML parser, validators, planners, executor) is loaded only now: a
  // boot without a datasource should not pay for it (bench/: provision, no datasource).
  const [{ processUserData }, { executeSteps }, { ATOMIC_DEFAULT_USER, planModule }, { partScripts }, { formatProblem }] = await Promise.all([
    import('../../adapters/user-data/process-user-data.js'),
    import('../../adapters/rootfs/execute-steps.js'),
    import('../../core/provision/plan-module.js'),
    import('../../core/provision/part-scripts.js'),
    import('../../core/cloud-config/validate.js'),
  ]);
  const iid = instance.instanceId;
  const previous = await state.currentInstanceId();
  const newInstance = previous !== iid;
  await state.setInstanceId(iid);
  status = { ...status, datasource: { name: instance.datasource, source: instance.source, instanceId: iid }, newInstance };
  opts.log.info({ datasource: instance.datasource, instanceId: iid, newInstance, previous }, 'provisioning');
  await state.writeStatus(status, progress);

  // --- user-data and vendor-data -------------------------------------------------------------
  if (instance.userData !== undefined) await state.writeInstanceFile(iid, 'user-data.txt', instance.userData);
  if (instance.vendorData !== undefined) await state.writeInstanceFile(iid, 'vendor-data.txt', instance.vendorData);
  const processed = await processUserData(instance, {
    includeCacheDir: join(state.instanceDir(iid), 'include-once'),
    timeoutMs: opts.networkTimeoutMs ?? 10_000,
    signal: opts.signal,
  });
  const { config, problems } = processed;
  await state.writeInstanceFile(iid, 'cloud-config.json', JSON.stringify(config, null, 2) + '\n');
  const errors: string[] = problems.filter((p) => p.severity === 'error').map(formatProblem);
  status = { ...status, problems, errors: [...errors] };

  // --- modules, stage by stage ---------------------------------------------------------------
  const instanceDir = `${IN_ROOT_CLOUD_DIR}/instances/${iid}`;
  const input: ModuleInput = {
    config,
    instance,
    defaultUser: ATOMIC_DEFAULT_USER,
    instanceDir,
    cloudDir: IN_ROOT_CLOUD_DIR,
    now: now(),
    ...(opts.bootTime === undefined ? {} : { bootTime: opts.bootTime }),
    version: VERSION,
  };
  const results: ModuleResult[] = [];
  const run = async (steps: Step[], what: string): Promise<StepOutcome[]> => {
    const outcomes = await executeSteps(steps, { root: opts.root, ...(opts.live === true ? { live: true } : {}), ...(opts.kernelHostnamePath !== undefined ? { kernelHostnamePath: opts.kernelHostnamePath } : {}) }, { signal: opts.signal, log: (ev) => opts.log.debug({ module: what, ...ev }, 'step') });
    return outcomes;
  };

  // Script parts are (re)written every pass for the current instance, then boothooks run: both
  // belong to the start of the network stage, where cloud-init consumes user-data.
  const scripts = partScripts([...processed.vendorParts, ...processed.userParts], {
    instanceScripts: `${instanceDir}/scripts`,
    perBoot: `${IN_ROOT_CLOUD_DIR}/scripts/per-boot`,
    perInstance: `${IN_ROOT_CLOUD_DIR}/scripts/per-instance`,
    perOnce: `${IN_ROOT_CLOUD_DIR}/scripts/per-once`,
    boothooks: `${instanceDir}/boothooks`,
  });
  const scriptOutcomes = await run(
    scripts.map((s): Step => ({ action: 'write-file', path: s.path, content: s.content, mode: 0o700, owner: 'root:root', append: false })),
    'user-data scripts',
  );
  for (const o of scriptOutcomes) if (o.status !== 'ok') errors.push(`user-data: ${o.description}: ${o.reason ?? o.status}`);
  const boothooks = scripts.filter((s, i) => s.kind === 'boothook' && scriptOutcomes[i]?.status === 'ok');
  if (boothooks.length > 0) {
    const outcomes = await run(boothooks.map((b): Step => ({ action: 'run', purpose: 'bootcmd', command: { kind: 'argv', argv: [b.path] }, env: { INSTANCE_ID: iid } })), 'boothooks');
    for (const o of outcomes) if (o.status !== 'ok') errors.push(`cloud-boothook: ${o.description}: ${o.reason ?? o.status}`);
  }

  for (const stage of STAGES) {
    for (const spec of MODULES.filter((m) => m.stage === stage)) {
      const result = await runModule(spec, input, state, iid, run, opts, now, planModule);
      results.push(result);
      errors.push(...result.failures.map((f) => `${spec.name}: ${f}`));
      status = { ...status, modules: [...results], errors: [...errors] };
      await state.writeStatus(status, progress);
    }
  }
  const done = await finish(status);
  opts.log.info({ ok: done.ok, durationMs: done.durationMs, failed: done.modules.filter((m) => !m.ok).map((m) => m.name) }, 'provisioning finished');
  return done;
}

async function runModule(
  spec: ModuleSpec,
  input: ModuleInput,
  state: CloudState,
  iid: string,
  run: (steps: Step[], what: string) => Promise<StepOutcome[]>,
  opts: ProvisionOptions,
  now: () => Date,
  planModule: typeof import('../../core/provision/plan-module.js').planModule,
): Promise<ModuleResult> {
  const t0 = performance.now();
  const base = { name: spec.name, stage: spec.stage, frequency: spec.frequency };
  if (await state.hasRun(spec.name, spec.frequency, iid)) {
    return { ...base, state: 'skipped', ok: true, failures: [], steps: 0, durationMs: 0 };
  }
  const plan = planModule(spec.name, input);
  if (plan.steps.length === 0 && plan.problems.length === 0) {
    // Nothing to do: a rerun after a crash would do nothing either, so the semaphore need not be
    // on disk before the next module's (cloud-state.ts).
    await state.markRun(spec.name, spec.frequency, iid, now(), { durable: false });
    return { ...base, state: 'no-config', ok: true, failures: [], steps: 0, durationMs: Math.round(performance.now() - t0) };
  }
  // The semaphore is taken before the module runs (cloud-init's FileSemaphores): a failed
  // per-instance module is reported, not retried at every boot.
  await state.markRun(spec.name, spec.frequency, iid, now());
  const outcomes = await run(plan.steps, spec.name);
  const failures = [...plan.problems];
  for (const o of outcomes) {
    if (o.status !== 'ok') failures.push(`${o.description}: ${o.reason ?? o.status}`);
  }
  for (const step of plan.steps) if (step.action === 'record') await handOff(step, state, iid, opts);
  opts.log.info({ module: spec.name, steps: plan.steps.length, failures: failures.length }, 'module ran');
  return { ...base, state: 'ran', ok: failures.length === 0, failures, steps: plan.steps.length, durationMs: Math.round(performance.now() - t0) };
}

/**
 * Record steps hand data to other parts of atomicd: the container engine reads
 * data/handoff/containers.json, the update agent atomic-update.json, and whoever owns the power
 * of the machine power-state.json (never acted on when provisioning a root tree).
 */
async function handOff(step: RecordStep, state: CloudState, iid: string, opts: ProvisionOptions): Promise<void> {
  if (step.what === 'final-message') {
    opts.log.info({ instanceId: iid }, step.data.message);
    process.stderr.write(`${step.data.message}\n`);
    return;
  }
  const dir = join(state.dir, 'data', 'handoff');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await writeFileAtomically(join(dir, `${step.what}.json`), JSON.stringify({ instanceId: iid, [step.what]: step.data }, null, 2) + '\n');
  if (step.what === 'power-state') opts.log.warn({ request: step.data }, 'power_state recorded; atomicd does not change the power state of a provisioned root tree');
}
