// user-data and vendor-data of an instance turned into what the modules act on: parts (with
// #include content fetched in place), the merged cloud-config, and every problem, located. The
// same code serves `atomicd provision` and `atomic cloud-init render`, so what render shows is
// what provisioning applies.
import { mergeCloudConfigPart, type PlainObject } from '../../core/cloud-config/merge-cloud-config.js';
import { parseUserData, validateNetworkConfig, validateUserDataParts, type Problem, type UserDataPart } from '../../core/cloud-config/validate.js';
import type { InstanceData } from '../../core/provision/model.js';
import { expandIncludes } from './expand-includes.js';

/** user-data and its includes are refused above this (cloud-init has no cap). */
export const MAX_USER_DATA_BYTES = 16 * 1024 * 1024;

export interface ProcessedUserData {
  readonly vendorParts: readonly UserDataPart[];
  readonly userParts: readonly UserDataPart[];
  /** vendor-data's cloud-config overridden by user-data's, as cloud-init layers them. */
  readonly config: PlainObject;
  readonly problems: readonly Problem[];
}

export interface ProcessOptions {
  /** Host directory for #include-once content (per instance). */
  readonly includeCacheDir: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

export async function processUserData(instance: InstanceData, opts: ProcessOptions): Promise<ProcessedUserData> {
  const problems: Problem[] = [];
  const one = async (data: Uint8Array | undefined, name: 'user-data' | 'vendor-data'): Promise<{ parts: readonly UserDataPart[]; config?: PlainObject }> => {
    if (data === undefined || data.length === 0) return { parts: [] };
    const parsed = parseUserData(data, name, { maxDecompressedBytes: MAX_USER_DATA_BYTES });
    const expanded = await expandIncludes(parsed.parts, { cacheDir: opts.includeCacheDir, maxBytes: MAX_USER_DATA_BYTES, timeoutMs: opts.timeoutMs, signal: opts.signal });
    const report = validateUserDataParts(expanded.parts, name, [...parsed.problems, ...expanded.problems]);
    problems.push(...report.problems);
    return { parts: report.parts, ...(report.config === undefined ? {} : { config: report.config }) };
  };
  const vendor = await one(instance.vendorData, 'vendor-data');
  const user = await one(instance.userData, 'user-data');
  if (instance.networkConfig !== undefined) {
    // Parsed by the datasource already; validated again here for the report.
    problems.push(...validateNetworkConfig(Buffer.from(JSON.stringify(instance.networkConfig)), 'network-config').problems);
  }
  const config =
    vendor.config === undefined ? (user.config ?? {})
      : user.config === undefined ? vendor.config
        : mergeCloudConfigPart(vendor.config, user.config, undefined).merged;
  return { vendorParts: vendor.parts, userParts: user.parts, config, problems };
}
