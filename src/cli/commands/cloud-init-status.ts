// atomic cloud-init status [--root DIR] [--state-dir DIR] [--wait] [--json]
// What the last provisioning pass did, from the agent's status file; like `cloud-init status
// --long`, but every failure names its module and step, and problems their part and line.
import { join } from 'node:path';
import { CloudState } from '../../adapters/cloud-state/cloud-state.js';
import { DeadlineExceeded } from '../../lib/errors.js';
import { formatProblem } from '../../core/cloud-config/validate.js';
import type { ProvisionStatus } from '../../core/provision/status.js';

export interface CloudInitStatusOptions {
  readonly root: string;
  readonly stateDir?: string;
  readonly wait?: boolean;
  readonly timeout?: string;
  readonly json?: boolean;
}

/** The agent's default state directory inside the root it provisions. */
export const DEFAULT_STATE_DIR = 'var/lib/atomicd/cloud';

const POLL_MS = 200;

export async function run(opts: CloudInitStatusOptions): Promise<void> {
  const state = new CloudState(opts.stateDir ?? join(opts.root, DEFAULT_STATE_DIR));
  let status = await state.readStatus();
  if (opts.wait === true) {
    const timeoutMs = opts.timeout === undefined ? Infinity : Number(opts.timeout) * 1000;
    const deadline = Date.now() + timeoutMs;
    while (status === undefined || status.state === 'running') {
      if (Date.now() >= deadline) throw new DeadlineExceeded(`provisioning did not finish within ${opts.timeout} s`, { subject: state.dir });
      if (opts.json !== true) process.stderr.write('.');
      await new Promise((r) => setTimeout(r, POLL_MS));
      status = await state.readStatus();
    }
    if (opts.json !== true) process.stderr.write('\n');
  }
  if (opts.json === true) process.stdout.write(JSON.stringify(status ?? { state: 'not run' }, null, 2) + '\n');
  else process.stdout.write(render(status));
  // Like cloud-init status: 1 when the pass failed, 0 otherwise (not run or still running included).
  if (status !== undefined && (status.state === 'error' || (status.state === 'done' && !status.ok))) process.exitCode = 1;
}

function render(s: ProvisionStatus | undefined): string {
  if (s === undefined) return 'status: not run\n';
  const out: string[] = [];
  const verdict = s.state === 'done' ? (s.ok ? 'done' : 'done, with errors') : s.state;
  out.push(`status: ${verdict}`);
  if (s.datasource !== undefined) {
    out.push(`datasource: ${s.datasource.name} (${s.datasource.source}), instance-id ${s.datasource.instanceId}${s.newInstance === true ? ' (new instance)' : ''}`);
  } else if (s.noDatasource !== undefined) {
    out.push(`datasource: none (${s.noDatasource.reasons.join('; ')})`);
  }
  out.push(`started: ${s.startedAt}${s.finishedAt === undefined ? '' : `, finished: ${s.finishedAt} (${s.durationMs ?? '?'} ms)`}`);
  const ran = s.modules.filter((m) => m.state === 'ran');
  const skipped = s.modules.filter((m) => m.state === 'skipped');
  const failed = s.modules.filter((m) => !m.ok);
  if (s.modules.length > 0) {
    out.push(`modules: ${ran.length} ran, ${skipped.length} skipped (already ran for this instance), ${failed.length} failed`);
    for (const m of s.modules) {
      const mark = !m.ok ? 'FAILED' : m.state === 'ran' ? 'ok' : m.state === 'skipped' ? 'skipped' : '-';
      out.push(`  ${m.stage.padEnd(7)} ${m.name.padEnd(22)} ${mark}${m.state === 'ran' ? ` (${m.steps} steps, ${m.durationMs} ms)` : ''}`);
    }
  }
  if (s.errors.length > 0) {
    out.push('errors:');
    for (const e of s.errors) out.push(`  ${e}`);
  }
  if (s.problems.length > 0) {
    out.push('problems:');
    for (const p of s.problems) out.push(`  ${p.severity}: ${formatProblem(p)}`);
  }
  return out.join('\n') + '\n';
}
