// atomic host upgrade [--check] [--download-only] [--stage] [--reboot]
// atomic host deploy VERSION|CHECKSUM [...]     atomic host rebase REMOTE:REF [...]
// --check exits 77 when there is no update (rpm-ostree's convention), 0 when there is one.
import { spawnSync } from 'node:child_process';
import { FailedPrecondition, Internal } from '../../lib/errors.js';
import type { UpdateOutcome } from '../../adapters/ostree-host/atomic-host.js';
import { endProgress, openHost, short, withInterrupt, type HostCommandOptions } from './host-common.js';

export interface UpdateOptions extends HostCommandOptions {
  readonly check?: boolean;
  readonly downloadOnly?: boolean;
  readonly stage?: boolean;
  readonly reboot?: boolean;
}

/** rpm-ostree upgrade --check: "no update available". */
export const EXIT_NO_UPDATE = 77;

export async function run(verb: 'upgrade' | 'deploy' | 'rebase', target: string | undefined, opts: UpdateOptions): Promise<void> {
  if (opts.reboot === true && opts.sysroot !== '/') throw new FailedPrecondition('--reboot only applies to the running host (--sysroot /)');
  const outcome = await withInterrupt(async (signal) => {
    const host = await openHost(opts, signal);
    const flags = { check: opts.check === true, downloadOnly: opts.downloadOnly === true, stage: opts.stage === true };
    try {
      return verb === 'upgrade' ? await host.upgrade(flags) : verb === 'deploy' ? await host.deploy(target!, flags) : await host.rebase(target!, flags);
    } finally {
      endProgress();
    }
  });
  if (opts.json === true) process.stdout.write(JSON.stringify(outcome) + '\n');
  else process.stdout.write(describe(outcome) + '\n');
  if (outcome.kind === 'no-update' && opts.check === true) process.exitCode = EXIT_NO_UPDATE;
  if (opts.reboot === true && outcome.kind === 'deployed') reboot();
}

function describe(o: UpdateOutcome): string {
  const v = o.version === undefined ? '' : ` (version ${o.version})`;
  switch (o.kind) {
    case 'no-update':
      return `No update available: ${short(o.csum)}${v} is deployed.`;
    case 'available':
      return `Update available: ${short(o.from)} -> ${short(o.to)}${v}.`;
    case 'downloaded':
      return `Downloaded ${short(o.csum)}${v}; deploy it with atomic host upgrade.`;
    case 'deployed':
      return o.staged
        ? `Staged ${short(o.csum)}${v}; it becomes the default at the next shutdown.`
        : `Deployed ${short(o.csum)}${v} as the default; reboot to use it (rollback: atomic host rollback).`;
  }
}

function reboot(): void {
  const r = spawnSync('systemctl', ['reboot'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Internal(`systemctl reboot failed (${r.error?.message ?? `exit ${r.status}`})`);
}
