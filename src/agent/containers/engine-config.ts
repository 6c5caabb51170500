// Engine API create fields the engine reads itself, beyond what the container spec models:
// HostConfig.AutoRemove (`docker run --rm`), HostConfig.LogConfig (json-file --log-opt) and
// Config.StopTimeout (`docker run --stop-timeout`). Checked at create, with Docker's texts.
import type { ContainerConfig, HostConfig, LogConfig } from '../../core/containers/container-spec.js';
import { memoryBytes } from '../../core/containers/memory-bytes.js';
import { InvalidArgument } from '../../lib/errors.js';

export interface LogRotation {
  /** 0 = no rotation. */
  readonly maxSizeBytes: number;
  readonly maxFiles: number;
}

/** What json-file's max-size takes: go-units RAMInBytes ("10m" = 10 MiB, "512k", "1g", "100" bytes). */
export function parseLogSize(text: string): number {
  const bytes = memoryBytes(text.trim());
  if (bytes === undefined) throw new InvalidArgument(`invalid size: '${text}'`, { subject: 'LogConfig.Config.max-size' });
  return bytes;
}

/** Check LogConfig (json-file only; options max-size and max-file) and return the monitor's rotation. */
export function logRotationOf(lc: LogConfig | undefined): LogRotation {
  const type = lc?.Type ?? '';
  if (type !== '' && type !== 'json-file') {
    throw new InvalidArgument(`logging driver "${type}" is not supported: atomicd writes json-file logs`, { subject: 'HostConfig.LogConfig.Type' });
  }
  let maxSizeBytes = 0;
  let maxFiles = 1;
  for (const [k, v] of Object.entries(lc?.Config ?? {})) {
    if (k === 'max-size') {
      maxSizeBytes = v === '-1' ? 0 : parseLogSize(v);
    } else if (k === 'max-file') {
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgument(`max-file must be a positive integer, got "${v}"`, { subject: 'HostConfig.LogConfig.Config.max-file' });
      maxFiles = Number(v);
    } else if (k !== 'compress' && k !== 'labels' && k !== 'env' && k !== 'tag') {
      throw new InvalidArgument(`unknown log opt '${k}' for json-file log driver`, { subject: `HostConfig.LogConfig.Config.${k}` });
    }
  }
  if (maxFiles > 1 && maxSizeBytes === 0) throw new InvalidArgument('max-file cannot be set without max-size', { subject: 'HostConfig.LogConfig.Config.max-file' });
  return { maxSizeBytes, maxFiles };
}

/** Docker refuses --rm with a restart policy ("Conflicting options: --restart and --rm"). */
export function checkAutoRemove(hc: HostConfig): void {
  const name = hc.RestartPolicy?.Name ?? '';
  if (hc.AutoRemove === true && name !== '' && name !== 'no') {
    throw new InvalidArgument(`can't create 'AutoRemove' container with restart policy`, { subject: 'HostConfig.AutoRemove' });
  }
}

export function checkStopTimeout(c: ContainerConfig): void {
  if (c.StopTimeout !== undefined && c.StopTimeout !== null && !Number.isInteger(c.StopTimeout)) {
    throw new InvalidArgument(`Config.StopTimeout must be an integer number of seconds, got ${String(c.StopTimeout)}`, { subject: 'Config.StopTimeout' });
  }
}
