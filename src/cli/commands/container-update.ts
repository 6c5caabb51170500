// atomic update [--memory ...] [--memory-swap ...] [--cpu-shares N] [--cpus N] [--pids-limit N]
//               [--restart POLICY] ... CONTAINER...
// Change resource limits (applied at once to running containers) and the restart policy,
// printing each name as `docker update` does, and the agent's warnings on stderr.
import { updateFlagsToBody, type RunFlags } from '../../core/containers/run-flags.js';
import { containerPath, forEachContainer, type ContainerOptions } from './container-common.js';

export type UpdateOptions = ContainerOptions &
  Pick<RunFlags, 'memory' | 'memorySwap' | 'memoryReservation' | 'cpuShares' | 'cpus' | 'cpusetCpus' | 'blkioWeight' | 'pidsLimit' | 'restart'>;

export async function run(names: readonly string[], opts: UpdateOptions): Promise<void> {
  const body = updateFlagsToBody(opts);
  await forEachContainer(names, opts, async (client, name) => {
    const r = await client.json<{ Warnings?: string[] | null }>('POST', containerPath(name, '/update'), { body });
    for (const w of r?.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
  });
}
