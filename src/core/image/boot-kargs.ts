// Kernel arguments of the images we build. The root is found by file system label (the disk
// helper labels the ext4 root `atomic-root`), `rw` because ostree writes to the physical root
// at /sysroot (deployments, the repo), and the serial console last so that /dev/console (where
// systemd and atomicd-provision print) is the serial port a headless VM or cloud console shows.
import { InvalidArgument } from '../../lib/errors.js';

export const ROOT_FS_LABEL = 'atomic-root';

export type ImageArch = 'x86_64' | 'aarch64';

export const SERIAL_CONSOLE: Readonly<Record<ImageArch, string>> = {
  x86_64: 'ttyS0,115200',
  // PL011 on QEMU virt, Graviton and most arm64 boards.
  aarch64: 'ttyAMA0,115200',
};

export function defaultKargs(arch: ImageArch): string[] {
  return [`root=LABEL=${ROOT_FS_LABEL}`, 'rw', 'console=tty0', `console=${SERIAL_CONSOLE[arch]}`];
}

/**
 * Kernel arguments as libostree takes them: no whitespace outside double quotes, no `ostree=`
 * (libostree writes that itself, per deployment) and one root=.
 */
export function checkKargs(kargs: readonly string[], field = 'kargs'): string[] {
  if (!Array.isArray(kargs)) throw new InvalidArgument(`${field}: expected an array of strings`);
  kargs.forEach((k, i) => {
    if (typeof k !== 'string' || k === '' || /\s/.test(k.replace(/"[^"]*"/g, '')) || k.includes('\0')) {
      throw new InvalidArgument(`${field}[${i}]: ${JSON.stringify(k)} is not one kernel argument`);
    }
    if (k.startsWith('ostree=')) throw new InvalidArgument(`${field}[${i}]: ostree= is written by libostree for each deployment; leave it out`);
  });
  const roots = kargs.filter((k) => k.startsWith('root='));
  if (roots.length !== 1) throw new InvalidArgument(`${field}: expected exactly one root= argument, got ${roots.length}`);
  return [...kargs];
}
