// What the host offers for hardware acceleration, read from /proc and /sys for chooseAccel (core).
import { access, open, readFile } from 'node:fs/promises';
import type { AccelProbe } from '../../core/vm/choose-accel.js';

export async function probeAccel(paths = { cpuinfo: '/proc/cpuinfo', kvmPvm: '/sys/module/kvm_pvm', devKvm: '/dev/kvm' }): Promise<AccelProbe> {
  const cpuinfo = await readFile(paths.cpuinfo, 'utf8').catch(() => '');
  const kvmPvmLoaded = await access(paths.kvmPvm).then(() => true, () => false);
  // Opening /dev/kvm has no side effect; permission or a missing node both mean "not usable".
  const devKvmUsable = await open(paths.devKvm, 'r+').then(async (fh) => {
    await fh.close();
    return true;
  }, () => false);
  return { cpuinfo, kvmPvmLoaded, devKvmUsable };
}
