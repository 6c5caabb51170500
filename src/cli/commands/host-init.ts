// atomic host init --sysroot DIR --os NAME: an empty sysroot for image building
// (ostree admin init-fs + os-init).
import { AtomicHost } from '../../adapters/ostree-host/atomic-host.js';
import { InvalidArgument } from '../../lib/errors.js';
import { withInterrupt } from './host-common.js';

export async function run(opts: { sysroot: string; os?: string }): Promise<void> {
  if (opts.os === undefined) throw new InvalidArgument('atomic host init needs --os NAME (the stateroot)');
  if (opts.sysroot === '/') throw new InvalidArgument('atomic host init makes a new sysroot: give --sysroot DIR');
  await withInterrupt((signal) => AtomicHost.init(opts.sysroot, opts.os!, signal));
  process.stdout.write(`Initialized ${opts.sysroot} with stateroot ${opts.os}.\n`);
}
