// The EC2 requests that turn an uploaded raw disk into an AMI, built from checked settings. Field
// names are the EC2 API's (API Reference, ImportSnapshot, CreateTags, RegisterImage), so an
// adapter hands these objects to the SDK unchanged; core itself knows nothing of the SDK.
import { InvalidArgument } from '../../lib/errors.js';
import type { AwsTag } from './aws-tags.js';

export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];
/** RegisterImage BootMode (BootModeValues). */
export const BOOT_MODES = ['uefi', 'legacy-bios', 'uefi-preferred'] as const;
export type BootMode = (typeof BOOT_MODES)[number];

/** The root device of the AMI: Nitro instances expose it as an NVMe disk whatever the name, `/dev/xvda` is the usual one. */
export const ROOT_DEVICE_NAME = '/dev/xvda';
/** VM Import's default service role (VM Import/Export User Guide, "Required service role"). */
export const DEFAULT_ROLE_NAME = 'vmimport';

export interface AwsPublishSettings {
  readonly region: string;
  readonly bucket: string;
  /** The S3 object key the disk is uploaded to. */
  readonly key: string;
  /** AMI name. */
  readonly name: string;
  readonly description?: string;
  readonly architecture: Architecture;
  readonly bootMode: BootMode;
  readonly roleName: string;
  readonly tags: readonly AwsTag[];
}

export interface AwsPublishInput {
  readonly region: string;
  readonly bucket: string;
  readonly keyPrefix: string;
  readonly name: string;
  readonly description?: string;
  readonly architecture: string;
  readonly bootMode: string;
  readonly roleName: string;
  readonly tags: readonly AwsTag[];
}

// RegisterImage Name: "3-128 alphanumeric characters, parentheses (()), square brackets ([]),
// spaces ( ), periods (.), slashes (/), dashes (-), single quotes ('), at-signs (@), or underscores(_)".
const AMI_NAME = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;
// S3 User Guide, "General purpose bucket naming rules": 3-63 characters, lowercase letters,
// digits, dots and hyphens, beginning and ending with a letter or digit, not an IP address.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;
// Region codes such as us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5.
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
// IAM role names: "alphanumeric and '+=,.@-_' characters", 1-64 (IAM User Guide, IAM quotas).
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** RegisterImage Description: up to 255 characters. */
const MAX_DESCRIPTION_CHARS = 255;

/**
 * Check what the caller asked for and name the S3 object the disk goes to; every problem is
 * reported at once, each naming its flag.
 */
export function awsPublishSettings(input: AwsPublishInput, uploadStamp: string): AwsPublishSettings {
  const problems: string[] = [];
  const bad = (flag: string, message: string): void => {
    problems.push(`atomic: ${flag}: ${message}`);
  };
  if (!REGION.test(input.region)) bad('--region', `${JSON.stringify(input.region)} is not a region code such as us-east-1`);
  if (!BUCKET_NAME.test(input.bucket) || input.bucket.includes('..') || IPV4.test(input.bucket)) {
    bad('--bucket', `${JSON.stringify(input.bucket)} is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)`);
  }
  if (!AMI_NAME.test(input.name)) {
    bad('--name', `${JSON.stringify(input.name)} is not a valid AMI name (3-128 letters, digits and ()[] ./-'@_)`);
  }
  if (input.description !== undefined && [...input.description].length > MAX_DESCRIPTION_CHARS) bad('--description', `longer than ${MAX_DESCRIPTION_CHARS} characters`);
  if (!(ARCHITECTURES as readonly string[]).includes(input.architecture)) bad('--architecture', `${JSON.stringify(input.architecture)}: expected one of ${ARCHITECTURES.join(', ')}`);
  if (!(BOOT_MODES as readonly string[]).includes(input.bootMode)) bad('--boot-mode', `${JSON.stringify(input.bootMode)}: expected one of ${BOOT_MODES.join(', ')}`);
  // Amazon EC2 User Guide, "Boot modes": Graviton (arm64) instances support UEFI only.
  if (input.architecture === 'arm64' && input.bootMode !== 'uefi') bad('--boot-mode', `${input.bootMode} does not boot arm64 instances: they support uefi only`);
  if (!ROLE_NAME.test(input.roleName)) bad('--role-name', `${JSON.stringify(input.roleName)} is not an IAM role name`);
  if (input.keyPrefix.startsWith('/')) bad('--key-prefix', 'an S3 key does not start with "/"');
  if (problems.length > 0) throw new InvalidArgument(`invalid options: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, { problems });
  return {
    region: input.region,
    bucket: input.bucket,
    key: uploadKey(input.keyPrefix, input.name, uploadStamp),
    name: input.name,
    ...(input.description === undefined ? {} : { description: input.description }),
    architecture: input.architecture as Architecture,
    bootMode: input.bootMode as BootMode,
    roleName: input.roleName,
    tags: input.tags,
  };
}

/** `PREFIX` + the AMI name made key-safe + a stamp, so two publishes of one name do not share an object. */
export function uploadKey(prefix: string, name: string, stamp: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  const dir = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  return `${dir}${safe}-${stamp}.raw`;
}

/** The resource types our requests tag (EC2 ResourceType values). */
export type TaggedResourceType = 'import-snapshot-task' | 'image';

export interface TagSpecification {
  readonly ResourceType: TaggedResourceType;
  readonly Tags: AwsTag[];
}

export interface ImportSnapshotRequest {
  readonly ClientToken: string;
  readonly Description?: string;
  readonly DiskContainer: {
    readonly Description?: string;
    readonly Format: 'RAW';
    readonly UserBucket: { readonly S3Bucket: string; readonly S3Key: string };
  };
  readonly RoleName: string;
  readonly TagSpecifications?: TagSpecification[];
}

export interface CreateTagsRequest {
  readonly Resources: string[];
  readonly Tags: AwsTag[];
}

export interface RegisterImageRequest {
  readonly Name: string;
  readonly Description?: string;
  readonly Architecture: Architecture;
  readonly RootDeviceName: string;
  readonly BlockDeviceMappings: {
    readonly DeviceName: string;
    readonly Ebs: { readonly SnapshotId: string; readonly VolumeType: 'gp3'; readonly DeleteOnTermination: boolean };
  }[];
  readonly VirtualizationType: 'hvm';
  readonly EnaSupport: boolean;
  readonly BootMode: BootMode;
  readonly ImdsSupport: 'v2.0';
  readonly TagSpecifications?: TagSpecification[];
}

const tagSpecifications = (resourceType: TaggedResourceType, tags: readonly AwsTag[]): { TagSpecifications?: TagSpecification[] } =>
  tags.length === 0 ? {} : { TagSpecifications: [{ ResourceType: resourceType, Tags: tags.map((t) => ({ Key: t.Key, Value: t.Value })) }] };

/**
 * ImportSnapshot of the uploaded object. The API takes tags for the import task only
 * (ResourceType import-snapshot-task); the snapshot is tagged with CreateTags once it exists.
 * `clientToken` makes a retried request start one task, not two (EC2 idempotency).
 */
export function importSnapshotRequest(s: AwsPublishSettings, clientToken: string): ImportSnapshotRequest {
  const description = s.description ?? s.name;
  return {
    ClientToken: clientToken,
    Description: description,
    // Format: "VHD | VMDK | RAW" (SnapshotDiskContainer); the disk was checked to be raw.
    DiskContainer: { Description: description, Format: 'RAW', UserBucket: { S3Bucket: s.bucket, S3Key: s.key } },
    RoleName: s.roleName,
    ...tagSpecifications('import-snapshot-task', s.tags),
  };
}

/** Tags for the imported snapshot (none asked: no request). */
export function snapshotTagsRequest(s: AwsPublishSettings, snapshotId: string): CreateTagsRequest | undefined {
  if (s.tags.length === 0) return undefined;
  return { Resources: [snapshotId], Tags: s.tags.map((t) => ({ Key: t.Key, Value: t.Value })) };
}

/**
 * RegisterImage of an EBS-backed HVM AMI whose root volume comes from the snapshot: gp3, deleted
 * with the instance, ENA on (current instance types need it), IMDSv2 required on instances
 * launched from it (ImdsSupport v2.0: HttpTokens=required), tags on the image.
 */
export function registerImageRequest(s: AwsPublishSettings, snapshotId: string): RegisterImageRequest {
  return {
    Name: s.name,
    ...(s.description === undefined ? {} : { Description: s.description }),
    Architecture: s.architecture,
    RootDeviceName: ROOT_DEVICE_NAME,
    BlockDeviceMappings: [{ DeviceName: ROOT_DEVICE_NAME, Ebs: { SnapshotId: snapshotId, VolumeType: 'gp3', DeleteOnTermination: true } }],
    VirtualizationType: 'hvm',
    EnaSupport: true,
    BootMode: s.bootMode,
    ImdsSupport: 'v2.0',
    ...tagSpecifications('image', s.tags),
  };
}
