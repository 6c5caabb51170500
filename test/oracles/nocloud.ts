// Debian's real cloud-init as an oracle: what its NoCloud datasource makes of a seed directory.
import { join } from 'node:path';
import { REPO, runOk } from '../helpers.js';

export interface NoCloudView {
  readonly found: boolean;
  readonly instance_id?: string;
  readonly hostname?: string;
  readonly metadata?: Record<string, unknown>;
  readonly network_config?: unknown;
  readonly userdata_raw?: string;
  readonly vendordata_raw?: string;
  readonly parts?: string[];
  /** cloud-init's merged cloud-config of the user-data. */
  readonly cloud_config?: unknown;
}

/** Needs /usr/bin/python3 with Debian's cloud-init package (scripts/setup installs it). */
export function nocloudOracle(seedDir: string, workDir: string): NoCloudView {
  const r = runOk('/usr/bin/python3', [join(REPO, 'test', 'oracles', 'nocloud.py'), seedDir, workDir]);
  return JSON.parse(r.stdout) as NoCloudView;
}
