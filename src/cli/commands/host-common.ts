// What every `atomic host` verb shares: opening the sysroot from --sysroot/--os, a pull progress
// line on a terminal, and cancellation on Ctrl-C (libostree operations are cancellable, and an
// interrupted pull resumes where it stopped).
import type { PullProgress } from '../../adapters/ostree/ostree-repo.js';
import { AtomicHost } from '../../adapters/ostree-host/atomic-host.js';

export interface HostCommandOptions {
  readonly sysroot: string;
  readonly os?: string;
  readonly json?: boolean;
}

export async function openHost(opts: HostCommandOptions, signal: AbortSignal): Promise<AtomicHost> {
  const progress = process.stderr.isTTY === true && opts.json !== true ? progressLine() : undefined;
  return AtomicHost.open({ sysroot: opts.sysroot, ...(opts.os === undefined ? {} : { stateroot: opts.os }), signal, ...(progress === undefined ? {} : { onProgress: progress }) });
}

/** An AbortSignal that fires on SIGINT/SIGTERM, for the duration of `fn`. */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function progressLine(): (p: PullProgress) => void {
  return (p) => {
    const mib = (p.bytesTransferred / 1048576).toFixed(1);
    const objects = p.requested > 0 ? `${p.fetched}/${p.requested} objects` : `${p.metadataFetched} metadata objects`;
    process.stderr.write(`\r\x1b[Kpulling: ${objects}, ${mib} MiB${p.status === '' ? '' : ` (${p.status})`}`);
  };
}

/** Ends a progress line before other output. */
export function endProgress(): void {
  if (process.stderr.isTTY === true) process.stderr.write('\r\x1b[K');
}

export function short(csum: string): string {
  return csum.slice(0, 12);
}
