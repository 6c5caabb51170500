// Kernel parameters through /proc/sys (what sysctl(8) does): the agent's namespace needs
// forwarding on, bridged frames sent through iptables, and route_localnet on each bridge.
import { readFile, writeFile } from 'node:fs/promises';
import { fromSystemError } from '../../lib/errors.js';

/** "net.ipv4.ip_forward" -> /proc/sys/net/ipv4/ip_forward; `parts` keeps an interface name intact. */
export function sysctlPath(...parts: readonly string[]): string {
  return `/proc/sys/${parts.join('/')}`;
}

export async function readSysctl(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromSystemError(e, path, 'reading a kernel parameter');
  }
}

/** Write only when different: /proc/sys writes can have side effects even when the value is the same. */
export async function writeSysctl(path: string, value: string): Promise<void> {
  if ((await readSysctl(path)) === value) return;
  try {
    await writeFile(path, `${value}\n`);
  } catch (e) {
    throw fromSystemError(e, path, `setting ${path} to ${value}`);
  }
}
