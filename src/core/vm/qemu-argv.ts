// The qemu-system-x86_64 command line for one VM, planned without touching the world so every
// flag is unit-tested: q35 + OVMF (pflash code read-only, a per-VM copy of the variable store),
// the disk on virtio-blk, the seed as a CD on virtio-scsi, the serial console on a chardev the
// adapter reads and writes, QMP on a unix socket, and user networking restricted to loopback.
import { InvalidArgument } from '../../lib/errors.js';
import type { Accel } from './choose-accel.js';
import { checkForwards, type GuestForward, type PortForward } from './forward-spec.js';

export type DiskFormat = 'raw' | 'qcow2';

export interface QemuPlan {
  readonly accel: Accel;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly firmwareCode: string;
  /** The per-VM copy of the OVMF variable store (written by the guest: boot entries). */
  readonly firmwareVars: string;
  /** What QEMU opens as the boot disk: the image itself, or the qcow2 overlay over it. */
  readonly disk: { readonly path: string; readonly format: DiskFormat };
  readonly seedIso?: string | undefined;
  readonly qmpSocket: string;
  readonly forwards: readonly PortForward[];
  readonly guestForwards: readonly GuestForward[];
  /**
   * The program slirp runs for each guestfwd connection (argv, no spaces inside words: slirp
   * splits on spaces), given HOST and PORT appended; stdin/stdout are the guest connection.
   */
  readonly guestForwardCommand: readonly string[];
}

export const DEFAULT_MEMORY_MB = 1024;
export const DEFAULT_CPUS = 1;

/** QEMU's option parser splits on ',': a literal comma in a value is written ',,'. */
export function qemuOptValue(s: string): string {
  return s.replaceAll(',', ',,');
}

/** Memory and CPU counts QEMU's q35 accepts (checked before anything is created). */
export function checkVmSize(memoryMb: number, cpus: number): void {
  if (!Number.isInteger(memoryMb) || memoryMb < 64 || memoryMb > 1024 * 1024) {
    throw new InvalidArgument(`memory ${memoryMb} MB: expected a whole number of MiB from 64`, { subject: 'memoryMb' });
  }
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 256) {
    throw new InvalidArgument(`cpus ${cpus}: expected a whole number from 1 to 256`, { subject: 'cpus' });
  }
}

export function planQemuArgv(plan: QemuPlan): string[] {
  checkVmSize(plan.memoryMb, plan.cpus);
  checkForwards(plan.forwards, plan.guestForwards);
  for (const w of plan.guestForwardCommand) {
    if (/\s/.test(w) || w === '') throw new InvalidArgument(`guestfwd command word ${JSON.stringify(w)} is empty or has spaces (slirp splits on spaces)`, { subject: 'guestForwardCommand' });
  }
  const v = qemuOptValue;
  const argv = [
    // No default devices (VGA, parallel port, monitor on stdio, a NIC we did not configure) and
    // no user config files: the VM is exactly what this list says.
    '-nodefaults', '-no-user-config',
    '-machine', 'q35',
    '-accel', plan.accel,
    // TCG: `max` enables every feature TCG emulates (x86-64-v2+ userlands need them); KVM: pass
    // the host CPU through.
    '-cpu', plan.accel === 'kvm' ? 'host' : 'max',
    '-m', String(plan.memoryMb),
    '-smp', String(plan.cpus),
    '-display', 'none',
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${v(plan.firmwareCode)}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${v(plan.firmwareVars)}`,
    '-drive', `if=none,id=disk0,format=${plan.disk.format},discard=unmap,file=${v(plan.disk.path)}`,
    '-device', 'virtio-blk-pci,drive=disk0,bootindex=1',
  ];
  if (plan.seedIso !== undefined) {
    // OVMF connects only the devices in QEMU's boot order when there is one, so the CD gets a
    // bootindex too; without it the firmware (and GRUB) never see it. It has no El Torito image,
    // so it is never booted from.
    argv.push(
      '-device', 'virtio-scsi-pci,id=scsi0',
      '-drive', `if=none,id=seed0,media=cdrom,readonly=on,format=raw,file=${v(plan.seedIso)}`,
      '-device', 'scsi-cd,bus=scsi0.0,drive=seed0,bootindex=2',
    );
  }
  const net = ['user', 'id=net0', 'restrict=on'];
  for (const f of plan.forwards) net.push(`hostfwd=tcp:127.0.0.1:${f.hostPort}-:${f.guestPort}`);
  for (const g of plan.guestForwards) {
    net.push(`guestfwd=tcp:${g.guestAddr}:${g.guestPort}-cmd:${v([...plan.guestForwardCommand, g.host, String(g.hostPort)].join(' '))}`);
  }
  argv.push(
    '-netdev', net.join(','),
    // romfile=: no iPXE option ROM; OVMF's own virtio-net driver serves the firmware and
    // GRUB. bootindex=3 (after the disk and the seed) only so that OVMF connects the NIC at all
    // (it connects just the boot-order devices): GRUB's net/http then work, e.g. to fetch from a
    // guestfwd service.
    '-device', 'virtio-net-pci,netdev=net0,romfile=,bootindex=3',
    // Guests block on entropy at boot under TCG without a hardware RNG.
    '-device', 'virtio-rng-pci',
    // The serial console: QEMU's stdin/stdout, which the adapter holds as pipes. signal=off: a
    // Ctrl-C byte is the guest's keystroke, not a signal to QEMU.
    '-chardev', 'stdio,id=con0,signal=off',
    '-serial', 'chardev:con0',
    '-qmp', `unix:${v(plan.qmpSocket)},server=on,wait=off`,
  );
  return argv;
}
