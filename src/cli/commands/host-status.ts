// atomic host status [--sysroot DIR] [--os NAME] [--json]
// Deployments in boot order, like rpm-ostree status: index, stateroot, checksum, version, origin,
// commit time, and the marks that matter (default, booted, staged, pinned, rollback), then the
// last update error if the previous operation failed.
import { openHost, withInterrupt, type HostCommandOptions } from './host-common.js';

export async function run(opts: HostCommandOptions): Promise<void> {
  await withInterrupt(async (signal) => {
    const host = await openHost(opts, signal);
    const s = await host.status();
    if (opts.json === true) {
      process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      return;
    }
    const out: string[] = [`sysroot: ${s.sysroot}${s.booted ? ' (booted)' : ''}`];
    if (s.deployments.length === 0) out.push('no deployments');
    for (const d of s.deployments) {
      const marks = [d.default ? 'default' : '', d.booted ? 'booted' : '', d.staged ? 'staged' : '', d.pinned ? 'pinned' : '', d.rollback ? 'rollback' : ''].filter((m) => m !== '');
      out.push(`${d.booted ? '●' : ' '} ${d.index} ${d.stateroot} ${d.csum}.${d.deployserial}${marks.length > 0 ? ` [${marks.join(', ')}]` : ''}`);
      out.push(`      Version: ${d.version ?? '(none)'}${d.timestamp === undefined ? '' : ` (${d.timestamp})`}`);
      out.push(`       Origin: ${d.originRefspec ?? '(none)'}`);
    }
    if (s.lastError !== undefined) out.push(`last update error: ${s.lastError.operation} at ${s.lastError.at}: ${s.lastError.message}`);
    process.stdout.write(out.join('\n') + '\n');
  });
}
