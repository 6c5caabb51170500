// What goes into a NoCloud seed, decided without touching the world: the file set, generated
// meta-data and the checks on what the user gave. Writing it as ISO, vfat or tar is the caller's.
import { InvalidArgument } from '../../lib/errors.js';

/** cloud-init's NoCloud reads these names from a volume labelled cidata (or CIDATA on vfat). */
export const SEED_LABEL = 'cidata';
export type SeedFileName = 'user-data' | 'meta-data' | 'network-config' | 'vendor-data';
/** The files NoCloud reads from a seed, in the order cloud-init looks at them. */
export const NOCLOUD_FILES: readonly SeedFileName[] = ['user-data', 'meta-data', 'vendor-data', 'network-config'];

/** Where `--format tar` puts the files: the seed directory NoCloud reads without any device. */
export const SEED_DIRECTORY = 'var/lib/cloud/seed/nocloud';

export interface SeedFile {
  readonly name: SeedFileName;
  readonly data: Uint8Array;
  /** The path the content came from, for reports; undefined for generated meta-data. */
  readonly origin?: string;
}

export interface SeedInputs {
  readonly userData: { readonly data: Uint8Array; readonly origin: string };
  readonly metaData?: { readonly data: Uint8Array; readonly origin: string };
  readonly networkConfig?: { readonly data: Uint8Array; readonly origin: string };
  readonly vendorData?: { readonly data: Uint8Array; readonly origin: string };
  readonly hostname?: string;
  readonly instanceId?: string;
}

/**
 * The seed's files in a fixed order. Without meta-data, one is generated with `instanceId` (the
 * caller passes a fresh random one by default: cloud-localds's fixed `iid-local01` is why
 * cloud-init silently skips re-provisioning a rebuilt machine).
 */
export function seedFiles(inputs: SeedInputs, freshInstanceId: () => string): { files: SeedFile[]; generatedInstanceId?: string } {
  if (inputs.metaData !== undefined && (inputs.hostname !== undefined || inputs.instanceId !== undefined)) {
    throw new InvalidArgument('--hostname and --instance-id generate meta-data; with --meta-data set them in that file instead');
  }
  const files: SeedFile[] = [{ name: 'user-data', data: inputs.userData.data, origin: inputs.userData.origin }];
  let generatedInstanceId: string | undefined;
  if (inputs.metaData !== undefined) {
    files.push({ name: 'meta-data', data: inputs.metaData.data, origin: inputs.metaData.origin });
  } else {
    generatedInstanceId = inputs.instanceId ?? freshInstanceId();
    files.push({ name: 'meta-data', data: generateMetaData(generatedInstanceId, inputs.hostname) });
  }
  if (inputs.networkConfig !== undefined) files.push({ name: 'network-config', ...inputs.networkConfig });
  if (inputs.vendorData !== undefined) files.push({ name: 'vendor-data', ...inputs.vendorData });
  return generatedInstanceId === undefined ? { files } : { files, generatedInstanceId };
}

export function generateMetaData(instanceId: string, hostname: string | undefined): Uint8Array {
  checkInstanceId(instanceId);
  if (hostname !== undefined) checkHostname(hostname);
  // JSON strings are YAML scalars, so quoting this way is safe for any accepted value.
  const lines = [`instance-id: ${JSON.stringify(instanceId)}`];
  if (hostname !== undefined) lines.push(`local-hostname: ${JSON.stringify(hostname)}`);
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}

export function checkInstanceId(id: string): void {
  if (id.trim() === '') throw new InvalidArgument('--instance-id must not be empty: cloud-init uses it to decide whether this is a new instance');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f/]/.test(id) || id.length > 255) {
    throw new InvalidArgument(`--instance-id ${JSON.stringify(id)}: use at most 255 printable characters without '/' (cloud-init makes it a directory name)`);
  }
}

/** RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens. */
export function checkHostname(name: string): void {
  const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  if (name.length === 0 || name.length > 253 || !name.split('.').every((l) => label.test(l))) {
    throw new InvalidArgument(`--hostname ${JSON.stringify(name)}: not a valid host name (RFC 1123: labels of letters, digits and '-', up to 63 characters)`);
  }
}
