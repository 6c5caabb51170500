// A FAKE of the Amazon EC2 API (EC2 cannot run here): a loopback node:http server speaking EC2's
// Query protocol (form-encoded POST with Action=...&Version=2016-11-15, XML answers in the
// http://ec2.amazonaws.com/doc/2016-11-15/ namespace) for the five actions `atomic image publish
// aws` uses: ImportSnapshot, DescribeImportSnapshotTasks, CreateTags, RegisterImage, DescribeImages.
//
// Every request is checked against the EC2 API Reference before it is answered: its SigV4
// signature (the fake's key pair, region and service ec2), known parameters only (UnknownParameter), required ones
// present (MissingParameter), types (booleans, integers) and enumerations (InvalidParameterValue).
// The enumerations come from @aws-sdk/client-ec2, which is generated from the EC2 API model, so
// they are AWS's lists, not ours. Violations get 400 and EC2's error document.
//
// An import task reads its object from the S3 server it is given (HeadObject and the first
// sectors), so a completed import proves the upload is really there; it moves pending -> active
// (with Progress) -> completed over `pollsToComplete` DescribeImportSnapshotTasks, or to deleted
// with a StatusMessage when the object is missing, is not a GPT disk, or failNextImport() was called.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ArchitectureValues, BootModeValues, DiskImageFormat, ImdsSupportValues, ResourceType, TpmSupportValues, VolumeType } from '@aws-sdk/client-ec2';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';

export const EC2_API_VERSION = '2016-11-15';
const NS = `http://ec2.amazonaws.com/doc/${EC2_API_VERSION}/`;

export interface Ec2FakeOptions {
  readonly region: string;
  /** The one key pair whose signatures are accepted (the S3 store's, by default). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Where import tasks read uploaded disks from. */
  readonly s3: { readonly endpoint: string; readonly region: string; readonly accessKeyId: string; readonly secretAccessKey: string };
  /** DescribeImportSnapshotTasks calls until a task is completed (default 3). */
  readonly pollsToComplete?: number;
}

export interface RecordedEc2Request {
  readonly action: string;
  /** The form parameters as sent (`TagSpecification.1.Tag.1.Key` -> value). */
  readonly params: Readonly<Record<string, string>>;
  readonly status: number;
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

export interface ImportedObject {
  readonly importTaskId: string;
  readonly bucket: string;
  readonly key: string;
  readonly sizeBytes?: number;
  /** The S3 ETag; a multipart upload's is "MD5-PARTCOUNT". */
  readonly etag?: string;
  readonly gpt?: boolean;
  readonly error?: string;
}

export interface Ec2Fake {
  readonly url: string;
  readonly requests: RecordedEc2Request[];
  readonly imports: ImportedObject[];
  /** AMIs registered, by ID. */
  readonly images: Map<string, { readonly name: string; readonly params: Readonly<Record<string, string>> }>;
  /** Snapshots that exist (completed imports), with their tags. */
  readonly snapshots: Map<string, { tags: Record<string, string> }>;
  /** The next import task ends `deleted` with this StatusMessage. */
  failNextImport(statusMessage: string): void;
  /** The next import task stays active (converting) forever. */
  stallNextImport(): void;
  close(): Promise<void>;
}

/**
 * SigV4 (AWS General Reference, "Create a signed AWS API request"): rebuild the canonical request
 * from what arrived and compare signatures. Refuses with AuthFailure like EC2 does.
 */
function verifySigV4(req: IncomingMessage, body: string, region: string, creds: { accessKeyId: string; secretAccessKey: string }): void {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (m === null) throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
  const [, keyId, date, scopeRegion, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string, string];
  if (service !== 'ec2' || scopeRegion !== region) throw new Ec2Error('AuthFailure', `Credential should be scoped to a valid region and service ec2 (got ${scopeRegion}/${service})`, 401);
  if (keyId !== creds.accessKeyId) throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date)) throw new Ec2Error('AuthFailure', 'X-Amz-Date does not match the credential scope date', 401);
  const names = signedHeaders.split(';');
  if (!names.includes('host')) throw new Ec2Error('AuthFailure', 'the host header must be signed', 401);
  const [path, query = ''] = (req.url ?? '/').split('?') as [string, string?];
  const canonicalQuery = query === '' ? '' : query.split('&').sort().join('&');
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const hash = (x: string): string => createHash('sha256').update(x).digest('hex');
  const canonicalRequest = [req.method ?? '', path, canonicalQuery, canonicalHeaders, signedHeaders, hash(body)].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, `${date}/${scopeRegion}/${service}/aws4_request`, hash(canonicalRequest)].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${creds.secretAccessKey}`).update(date).digest();
  for (const part of [scopeRegion, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  if (createHmac('sha256', key).update(stringToSign).digest('hex') !== signature) {
    throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials (signature mismatch)', 401);
  }
}

// --- the parameter schema (EC2 API Reference, "Request Parameters" of each action) -------------

type Spec =
  | { readonly t: 'string'; readonly enum?: readonly string[]; readonly ignoreCase?: boolean }
  | { readonly t: 'boolean' }
  | { readonly t: 'integer' }
  | { readonly t: 'double' }
  | { readonly t: 'struct'; readonly members: Readonly<Record<string, Member>> }
  /** EC2 lists are flattened: Name.1, Name.2, ... (1-based). */
  | { readonly t: 'list'; readonly item: Spec };
interface Member {
  readonly spec: Spec;
  readonly required?: boolean;
}

const str = (values?: Readonly<Record<string, string>>, ignoreCase = false): Spec => ({ t: 'string', ...(values === undefined ? {} : { enum: Object.values(values), ignoreCase }) });
const bool: Spec = { t: 'boolean' };
const int: Spec = { t: 'integer' };
const struct = (members: Record<string, Member | Spec>): Spec => ({
  t: 'struct',
  members: Object.fromEntries(Object.entries(members).map(([k, v]) => [k, 'spec' in v ? v : { spec: v }])),
});
const list = (item: Spec): Spec => ({ t: 'list', item });
const required = (spec: Spec): Member => ({ spec, required: true });

const TAG = struct({ Key: str(), Value: str() });
const TAG_SPECIFICATION = struct({ ResourceType: str(ResourceType), Tag: list(TAG) });
const FILTER = struct({ Name: str(), Value: list(str()) });

const ACTIONS: Readonly<Record<string, Spec>> = {
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ImportSnapshot.html
  ImportSnapshot: struct({
    ClientData: struct({ Comment: str(), UploadEnd: str(), UploadSize: { t: 'double' }, UploadStart: str() }),
    ClientToken: str(),
    Description: str(),
    // SnapshotDiskContainer: Format "VHD | VMDK | RAW"; the service takes them in any case.
    DiskContainer: struct({ Description: str(), Format: str(DiskImageFormat, true), Url: str(), UserBucket: struct({ S3Bucket: str(), S3Key: str() }) }),
    DryRun: bool,
    Encrypted: bool,
    KmsKeyId: str(),
    RoleName: str(),
    TagSpecification: list(TAG_SPECIFICATION),
  }),
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImportSnapshotTasks.html
  DescribeImportSnapshotTasks: struct({ DryRun: bool, Filters: list(FILTER), ImportTaskId: list(str()), MaxResults: int, NextToken: str() }),
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html
  CreateTags: struct({ DryRun: bool, ResourceId: required(list(str())), Tag: required(list(TAG)) }),
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RegisterImage.html
  RegisterImage: struct({
    Name: required(str()),
    Architecture: str(ArchitectureValues),
    BillingProduct: list(str()),
    BlockDeviceMapping: list(struct({
      DeviceName: str(),
      NoDevice: str(),
      VirtualName: str(),
      Ebs: struct({
        AvailabilityZone: str(), AvailabilityZoneId: str(), DeleteOnTermination: bool, EbsCardIndex: int, Encrypted: bool, Iops: int, KmsKeyId: str(),
        OutpostArn: str(), SnapshotId: str(), Throughput: int, VolumeInitializationRate: int, VolumeSize: int, VolumeType: str(VolumeType),
      }),
    })),
    BootMode: str(BootModeValues),
    Description: str(),
    DryRun: bool,
    EnaSupport: bool,
    ImageLocation: str(),
    ImdsSupport: str(ImdsSupportValues),
    KernelId: str(),
    RamdiskId: str(),
    RootDeviceName: str(),
    SriovNetSupport: str(),
    TagSpecification: list(TAG_SPECIFICATION),
    TpmSupport: str(TpmSupportValues),
    UefiData: str(),
    VirtualizationType: str({ hvm: 'hvm', paravirtual: 'paravirtual' }),
  }),
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html
  DescribeImages: struct({
    DryRun: bool, ExecutableBy: list(str()), Filter: list(FILTER), ImageId: list(str()), IncludeDeprecated: bool, IncludeDisabled: bool,
    MaxResults: int, NextToken: str(), Owner: list(str()),
  }),
};

class Ec2Error extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
  }
}

type Tree = string | { [k: string]: Tree };

/** `A.1.B=x` -> { A: { 1: { B: 'x' } } }. */
function toTree(params: Record<string, string>): { [k: string]: Tree } {
  const root: { [k: string]: Tree } = {};
  for (const [name, value] of Object.entries(params)) {
    const parts = name.split('.');
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i]!;
      const next = node[p];
      if (typeof next === 'string') throw new Ec2Error('UnknownParameter', `The parameter ${parts.slice(0, i + 2).join('.')} is not recognized`);
      node = (node[p] ??= {}) as { [k: string]: Tree };
    }
    const last = parts[parts.length - 1]!;
    if (typeof node[last] === 'object') throw new Ec2Error('UnknownParameter', `The parameter ${name} is not recognized`);
    node[last] = value;
  }
  return root;
}

function check(value: Tree, spec: Spec, path: string): void {
  switch (spec.t) {
    case 'struct': {
      if (typeof value === 'string') throw new Ec2Error('InvalidParameterValue', `Value (${value}) for parameter ${path} is invalid: a structure is expected`);
      for (const [k, v] of Object.entries(value)) {
        const m = spec.members[k];
        if (m === undefined) throw new Ec2Error('UnknownParameter', `The parameter ${path === '' ? k : `${path}.${k}`} is not recognized`);
        check(v, m.spec, path === '' ? k : `${path}.${k}`);
      }
      for (const [k, m] of Object.entries(spec.members)) {
        if (m.required === true && value[k] === undefined) throw new Ec2Error('MissingParameter', `The request must contain the parameter ${path === '' ? k : `${path}.${k}`}`);
      }
      return;
    }
    case 'list': {
      if (typeof value === 'string') throw new Ec2Error('InvalidParameterValue', `Value (${value}) for parameter ${path} is invalid: give it as ${path}.N`);
      const indexes = Object.keys(value);
      for (const i of indexes) {
        if (!/^[1-9]\d*$/.test(i)) throw new Ec2Error('UnknownParameter', `The parameter ${path}.${i} is not recognized`);
        check(value[i]!, spec.item, `${path}.${i}`);
      }
      return;
    }
    case 'string': {
      if (typeof value !== 'string') throw new Ec2Error('UnknownParameter', `The parameter ${path}.${Object.keys(value)[0] ?? ''} is not recognized`);
      if (spec.enum !== undefined) {
        const ok = spec.ignoreCase === true ? spec.enum.some((e) => e.toLowerCase() === value.toLowerCase()) : spec.enum.includes(value);
        if (!ok) throw new Ec2Error('InvalidParameterValue', `Value (${value}) for parameter ${path} is invalid. Valid values: ${spec.enum.join(', ')}`);
      }
      return;
    }
    case 'boolean':
      if (value !== 'true' && value !== 'false') throw new Ec2Error('InvalidParameterValue', `Value (${String(value)}) for parameter ${path} is invalid. Expected: 'true' or 'false'.`);
      return;
    case 'integer':
      if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw new Ec2Error('InvalidParameterValue', `Value (${String(value)}) for parameter ${path} is invalid. Expected an integer.`);
      return;
    case 'double':
      if (typeof value !== 'string' || !Number.isFinite(Number(value))) throw new Ec2Error('InvalidParameterValue', `Value (${String(value)}) for parameter ${path} is invalid. Expected a number.`);
      return;
  }
}

/** Items of a flattened list parameter, in index order. */
function items(params: Record<string, string>, prefix: string, suffix = ''): string[] {
  const out: [number, string][] = [];
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)${suffix.replace(/\./g, '\\.')}$`);
  for (const [k, v] of Object.entries(params)) {
    const m = re.exec(k);
    if (m !== null) out.push([Number(m[1]), v]);
  }
  return out.sort((a, b) => a[0] - b[0]).map((x) => x[1]);
}

function tagsOf(params: Record<string, string>, prefix: string): Record<string, string> {
  const keys = Object.keys(params).filter((k) => new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.\\d+\\.Key$`).test(k));
  return Object.fromEntries(keys.map((k) => [params[k]!, params[k.replace(/Key$/, 'Value')] ?? '']));
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const el = (name: string, value: string | number | undefined): string => (value === undefined ? '' : `<${name}>${esc(String(value))}</${name}>`);
const tagSetXml = (tags: Record<string, string>): string =>
  `<tagSet>${Object.entries(tags).map(([k, v]) => `<item>${el('key', k)}${el('value', v)}</item>`).join('')}</tagSet>`;

interface Task {
  readonly id: string;
  readonly description: string;
  readonly bucket: string;
  readonly key: string;
  readonly format: string;
  readonly tags: Record<string, string>;
  polls: number;
  /** Set once the object was read: undefined while the read is running. */
  check?: { sizeBytes?: number; error?: string };
  failWith?: string;
  stalled?: boolean;
  snapshotId?: string;
}

export async function startEc2Fake(opts: Ec2FakeOptions): Promise<Ec2Fake> {
  const pollsToComplete = opts.pollsToComplete ?? 3;
  const s3 = new S3Client({
    region: opts.s3.region, endpoint: opts.s3.endpoint, forcePathStyle: true, maxAttempts: 2,
    credentials: { accessKeyId: opts.s3.accessKeyId, secretAccessKey: opts.s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const requests: RecordedEc2Request[] = [];
  const imports: ImportedObject[] = [];
  const images = new Map<string, { name: string; params: Record<string, string> }>();
  const snapshots = new Map<string, { tags: Record<string, string> }>();
  const tasks = new Map<string, Task>();
  let failNext: string | undefined;
  let stallNext = false;
  const pending = new Set<Promise<void>>();
  const hex = (n: number): string => randomBytes(n).toString('hex');

  // What VM Import does first: read the object. Size, ETag and the GPT signature are recorded.
  const readObject = async (task: Task): Promise<void> => {
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: task.bucket, Key: task.key }));
      const first = await s3.send(new GetObjectCommand({ Bucket: task.bucket, Key: task.key, Range: 'bytes=0-1023' }));
      const bytes = Buffer.from(await first.Body!.transformToByteArray());
      const gpt = bytes.length >= 520 && bytes[510] === 0x55 && bytes[511] === 0xaa && bytes.toString('latin1', 512, 520) === 'EFI PART';
      imports.push({ importTaskId: task.id, bucket: task.bucket, key: task.key, sizeBytes: head.ContentLength ?? 0, etag: head.ETag ?? '', gpt });
      task.check = gpt ? { sizeBytes: head.ContentLength ?? 0 } : { sizeBytes: head.ContentLength ?? 0, error: 'ClientError: Disk validation failed [Unsupported specified file format]' };
    } catch (e) {
      const name = (e as { name?: string }).name ?? String(e);
      imports.push({ importTaskId: task.id, bucket: task.bucket, key: task.key, error: name });
      task.check = { error: `ClientError: Unable to access the S3 object s3://${task.bucket}/${task.key} (${name})` };
    }
  };

  const taskDetailXml = (t: Task): string => {
    const common = `${el('description', t.description)}${el('format', t.format.toUpperCase())}<userBucket>${el('s3Bucket', t.bucket)}${el('s3Key', t.key)}</userBucket>`;
    if (t.snapshotId !== undefined) {
      return `<snapshotTaskDetail>${common}${el('diskImageSize', t.check?.sizeBytes)}${el('progress', undefined)}${el('snapshotId', t.snapshotId)}${el('status', 'completed')}</snapshotTaskDetail>`;
    }
    const failure = t.failWith ?? (t.polls >= 2 ? t.check?.error : undefined);
    if (failure !== undefined && t.polls >= 2) return `<snapshotTaskDetail>${common}${el('status', 'deleted')}${el('statusMessage', failure)}</snapshotTaskDetail>`;
    if (t.polls === 0) return `<snapshotTaskDetail>${common}${el('progress', '0')}${el('status', 'active')}${el('statusMessage', 'pending')}</snapshotTaskDetail>`;
    const progress = Math.min(99, Math.round((t.polls / pollsToComplete) * 100));
    return `<snapshotTaskDetail>${common}${el('progress', String(progress))}${el('status', 'active')}${el('statusMessage', t.polls === 1 ? 'validating' : 'converting')}</snapshotTaskDetail>`;
  };

  /** One poll moves a task one step; the object must have been read before it can complete. */
  const advance = async (t: Task): Promise<void> => {
    if (t.snapshotId !== undefined) return;
    if (t.check === undefined) await Promise.all(pending);
    t.polls++;
    if (t.polls >= pollsToComplete && t.failWith === undefined && t.check?.error === undefined && t.stalled !== true) {
      t.snapshotId = `snap-${hex(8)}`;
      snapshots.set(t.snapshotId, { tags: {} });
    }
  };

  const actions: Record<string, (p: Record<string, string>) => Promise<string>> = {
    ImportSnapshot: async (p) => {
      if (p['DiskContainer.Url'] === undefined && p['DiskContainer.UserBucket.S3Bucket'] === undefined) {
        throw new Ec2Error('MissingParameter', 'The request must contain the parameter DiskContainer.UserBucket or DiskContainer.Url');
      }
      if (p['DiskContainer.UserBucket.S3Bucket'] === undefined || p['DiskContainer.UserBucket.S3Key'] === undefined) {
        throw new Ec2Error('MissingParameter', 'The request must contain the parameters DiskContainer.UserBucket.S3Bucket and DiskContainer.UserBucket.S3Key');
      }
      if (p['DiskContainer.Format'] === undefined) throw new Ec2Error('MissingParameter', 'The request must contain the parameter DiskContainer.Format');
      // "The tags to apply to the import snapshot task during creation."
      for (const rt of items(p, 'TagSpecification', '.ResourceType')) {
        if (rt !== 'import-snapshot-task') throw new Ec2Error('InvalidParameterValue', `'${rt}' is not a valid taggable resource type for this operation.`);
      }
      // ClientToken idempotency: the same token answers with the same task.
      const again = p.ClientToken === undefined ? undefined : [...tasks.values()].find((t) => (t as Task & { token?: string }).token === p.ClientToken);
      const task: Task & { token?: string } = again ?? {
        id: `import-snap-${hex(8)}`,
        description: p.Description ?? '',
        bucket: p['DiskContainer.UserBucket.S3Bucket']!,
        key: p['DiskContainer.UserBucket.S3Key']!,
        format: p['DiskContainer.Format']!,
        tags: tagsOf(p, 'TagSpecification.1.Tag'),
        polls: 0,
        ...(p.ClientToken === undefined ? {} : { token: p.ClientToken }),
      };
      if (again === undefined) {
        if (failNext !== undefined) {
          task.failWith = failNext;
          failNext = undefined;
        }
        if (stallNext) {
          task.stalled = true;
          stallNext = false;
        }
        tasks.set(task.id, task);
        const read = readObject(task);
        pending.add(read);
        void read.finally(() => pending.delete(read));
      }
      return `${el('description', task.description)}${el('importTaskId', task.id)}${taskDetailXml(task)}${tagSetXml(task.tags)}`;
    },
    DescribeImportSnapshotTasks: async (p) => {
      const ids = items(p, 'ImportTaskId');
      const chosen = ids.length === 0 ? [...tasks.values()] : ids.map((id) => {
        const t = tasks.get(id);
        if (t === undefined) throw new Ec2Error('InvalidConversionTaskId.Malformed', `The import task ID '${id}' is malformed or does not exist`);
        return t;
      });
      for (const t of chosen) await advance(t);
      return `<importSnapshotTaskSet>${chosen.map((t) => `<item>${el('description', t.description)}${el('importTaskId', t.id)}${taskDetailXml(t)}${tagSetXml(t.tags)}</item>`).join('')}</importSnapshotTaskSet>`;
    },
    CreateTags: async (p) => {
      const ids = items(p, 'ResourceId');
      const tags = tagsOf(p, 'Tag');
      for (const id of ids) {
        if (id.startsWith('snap-') && !snapshots.has(id)) throw new Ec2Error('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
        if (id.startsWith('ami-') && !images.has(id)) throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
        if (!id.startsWith('snap-') && !id.startsWith('ami-')) throw new Ec2Error('InvalidID', `The ID '${id}' is not valid`);
      }
      for (const id of ids) if (snapshots.has(id)) Object.assign(snapshots.get(id)!.tags, tags);
      return el('return', 'true');
    },
    RegisterImage: async (p) => {
      const name = p.Name!;
      // "3-128 alphanumeric characters, parentheses (()), square brackets ([]), spaces ( ),
      // periods (.), slashes (/), dashes (-), single quotes ('), at-signs (@), or underscores(_)"
      if (!/^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/.test(name)) throw new Ec2Error('InvalidAMIName.Malformed', `AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'`);
      if ([...images.values()].some((i) => i.name === name)) throw new Ec2Error('InvalidAMIName.Duplicate', `AMI name ${name} is already in use by AMI ${[...images.entries()].find(([, i]) => i.name === name)![0]}`);
      // "To tag the AMI, the value for ResourceType must be image. If you specify another value
      // for ResourceType, the request fails."
      for (const rt of items(p, 'TagSpecification', '.ResourceType')) {
        if (rt !== 'image') throw new Ec2Error('InvalidParameterValue', `'${rt}' is not a valid taggable resource type for this operation.`);
      }
      const devices = items(p, 'BlockDeviceMapping', '.DeviceName');
      if (p.RootDeviceName !== undefined && !devices.includes(p.RootDeviceName)) {
        throw new Ec2Error('InvalidBlockDeviceMapping', `The device '${p.RootDeviceName}' is the root device but has no block device mapping`);
      }
      // Amazon EC2 User Guide, "Boot modes": Graviton instance types support UEFI only.
      if (p.Architecture === 'arm64' && p.BootMode !== undefined && p.BootMode !== 'uefi') {
        throw new Ec2Error('InvalidParameterCombination', `The boot mode '${p.BootMode}' is not supported for the architecture 'arm64'.`);
      }
      for (const snap of items(p, 'BlockDeviceMapping', '.Ebs.SnapshotId')) {
        if (!snapshots.has(snap)) throw new Ec2Error('InvalidSnapshot.NotFound', `The snapshot '${snap}' does not exist.`);
      }
      if (p.ImageLocation === undefined && devices.length === 0) throw new Ec2Error('MissingParameter', 'Either ImageLocation or BlockDeviceMapping must be given');
      const id = `ami-${hex(8)}`;
      images.set(id, { name, params: { ...p } });
      return el('imageId', id);
    },
    DescribeImages: async (p) => {
      const owners = items(p, 'Owner');
      const nameFilter = Object.keys(p).find((k) => /^Filter\.\d+\.Name$/.test(k) && p[k] === 'name');
      const names = nameFilter === undefined ? undefined : items(p, nameFilter.replace(/\.Name$/, '.Value'));
      const ids = items(p, 'ImageId');
      for (const o of owners) if (!['self', 'amazon', 'aws-marketplace'].includes(o) && !/^\d{12}$/.test(o)) throw new Ec2Error('InvalidUserID.Malformed', `Invalid user id: "${o}"`);
      const found = [...images.entries()].filter(([id, i]) => (names === undefined || names.includes(i.name)) && (ids.length === 0 || ids.includes(id)));
      return `<imagesSet>${found.map(([id, i]) => `<item>${el('imageId', id)}${el('name', i.name)}${el('imageState', 'available')}${el('architecture', i.params.Architecture)}${el('bootMode', i.params.BootMode)}</item>`).join('')}</imagesSet>`;
    },
  };

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const params = Object.fromEntries(new URLSearchParams(body));
    const action = params.Action ?? '';
    const requestId = `${hex(4)}-${hex(2)}-${hex(2)}-${hex(2)}-${hex(6)}`;
    const send = (status: number, xml: string, error?: Ec2Error): void => {
      const { Action: _a, Version: _v, ...rest } = params;
      requests.push({ action, params: rest, status, ...(error === undefined ? {} : { errorCode: error.code, errorMessage: error.message }) });
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'content-length': String(Buffer.byteLength(xml)) });
      res.end(xml);
    };
    try {
      if (req.method !== 'POST') throw new Ec2Error('InvalidHttpRequest', 'The EC2 Query API takes form-encoded POST requests here');
      if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) throw new Ec2Error('InvalidHttpRequest', 'Content-Type must be application/x-www-form-urlencoded');
      // Every request is signed with the one key pair, for this region and service ec2.
      verifySigV4(req, body, opts.region, opts.credentials ?? opts.s3);
      if (params.Version !== EC2_API_VERSION) throw new Ec2Error('InvalidParameterValue', `Version ${params.Version ?? '(none)'} is not ${EC2_API_VERSION}`);
      const spec = ACTIONS[action];
      const handler = actions[action];
      if (spec === undefined || handler === undefined) throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
      const { Action: _a, Version: _v, ...rest } = params;
      check(toTree(rest), spec, '');
      if (rest.DryRun === 'true') throw new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
      const inner = await handler(rest);
      send(200, `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}">${el('requestId', requestId)}${inner}</${action}Response>`);
    } catch (e) {
      const err = e instanceof Ec2Error ? e : new Ec2Error('InternalError', e instanceof Error ? e.message : String(e), 500);
      send(err.status, `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${el('Code', err.code)}${el('Message', err.message)}</Error></Errors>${el('RequestID', requestId)}</Response>`, err);
    }
  };

  const server = createServer((req, res) => void answer(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    imports,
    images,
    snapshots,
    failNextImport: (m) => {
      failNext = m;
    },
    stallNextImport: () => {
      stallNext = true;
    },
    close: async () => {
      await Promise.all(pending);
      s3.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
