// `atomic image publish aws` end to end through the built CLI: a real GPT disk made with sfdisk is
// uploaded to a real S3-compatible store (OpenStack Swift's s3api, test/fixtures/swift-s3.ts) and
// imported and registered through the EC2 fake (test/fakes/ec2-fake.ts), which checks every
// request against the EC2 API reference and reads the uploaded object back from the store.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { EC2Client, ImportSnapshotCommand, RegisterImageCommand, type ImportSnapshotCommandInput, type RegisterImageCommandInput } from '@aws-sdk/client-ec2';
import { CLI, runCliAsync, runOk, tempDir, type RunResult } from '../helpers.js';
import { startEc2Fake, type Ec2Fake } from '../fakes/ec2-fake.js';
import { startSwiftS3, type SwiftS3 } from '../fixtures/swift-s3.js';

// The SDK's note that its 2027 releases need Node 22 is not about this test.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const BUCKET = 'atomic-images';
const MiB = 1024 * 1024;
let s3: SwiftS3;
let ec2: Ec2Fake;
let work: string;
let disk: string;

before(async () => {
  work = tempDir(undefined, 'atomic-aws-');
  s3 = await startSwiftS3(join(work, 'swift'));
  await s3.createBucket(BUCKET);
  ec2 = await startEc2Fake({ region: 'us-east-1', s3: s3, pollsToComplete: 3 });
  // 12 MiB: three parts at S3's 5 MiB minimum part size. A GPT with an EFI system partition,
  // written by sfdisk; no OS needed, EC2's import only copies the bytes.
  disk = join(work, 'disk.raw');
  runOk('truncate', ['-s', `${12 * MiB}`, disk]);
  runOk('sfdisk', ['--quiet', disk], { input: 'label: gpt\nsize=8MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=ESP\n' });
});

after(async () => {
  await ec2?.close();
  await s3?.stop();
  runOk('rm', ['-rf', work]);
});

const env = (): NodeJS.ProcessEnv => ({
  AWS_ACCESS_KEY_ID: s3.accessKeyId,
  AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  // Nothing from this machine's AWS set-up, and no IMDS probing for credentials or region.
  AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true', AWS_PROFILE: '', AWS_REGION: '',
});

function publish(args: readonly string[]): Promise<RunResult> {
  return runCliAsync(['image', 'publish', 'aws', '--region', 'us-east-1', '--s3-endpoint-url', s3.endpoint, '--ec2-endpoint-url', ec2.url, '--part-size', '5', '--poll-interval', '0.05', ...args], { env: env() });
}

async function objectExists(key: string): Promise<boolean> {
  try {
    await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (e) {
    if ((e as { name?: string }).name === 'NotFound') return false;
    throw e;
  }
}

/** SigV4 headers for a hand-made EC2 request (AWS General Reference, "Create a signed AWS API request"). */
function signV4(url: string, body: string): Record<string, string> {
  const host = new URL(url).host;
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const date = amzDate.slice(0, 8);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', host, 'x-amz-date': amzDate };
  const names = Object.keys(headers).sort();
  const sha = (x: string): string => createHash('sha256').update(x).digest('hex');
  const canonical = ['POST', '/', '', names.map((n) => `${n}:${headers[n]}\n`).join(''), names.join(';'), sha(body)].join('\n');
  const scope = `${date}/us-east-1/ec2/aws4_request`;
  let key: Buffer = createHmac('sha256', `AWS4${s3.secretAccessKey}`).update(date).digest();
  for (const part of ['us-east-1', 'ec2', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const signature = createHmac('sha256', key).update(['AWS4-HMAC-SHA256', amzDate, scope, sha(canonical)].join('\n')).digest('hex');
  const { host: _h, ...rest } = headers;
  return { ...rest, authorization: `AWS4-HMAC-SHA256 Credential=${s3.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}

const since = (n: number): Ec2Fake['requests'] => ec2.requests.slice(n);

test('publishes a raw GPT disk: multipart upload, ImportSnapshot RAW, tags, RegisterImage x86_64/uefi/ENA/IMDSv2; prints the AMI ID and deletes the upload', async () => {
  const mark = ec2.requests.length;
  const r = await publish([disk, '--bucket', BUCKET, '--name', 'atomic-test-1', '--description', 'atomic test image', '--tag', 'Name=atomic-test', '--tag', 'team=os']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ami-[0-9a-f]+\n$/, 'stdout is the AMI ID alone');
  const imageId = r.stdout.trim();
  // Not a terminal: one closing line per phase, no progress redraws.
  assert.ok(!r.stderr.includes('\r') && !r.stderr.includes('\u001b['), 'no carriage returns or ANSI escapes');
  assert.match(r.stderr, /uploaded disk\.raw to s3:\/\/atomic-images\/atomic-import\/atomic-test-1-\d{8}T\d{6}Z\.raw: 12\.0 MiB in 3 parts/);

  const reqs = since(mark);
  for (const q of reqs) assert.equal(q.status, 200, `${q.action} was refused by the EC2 fake: ${q.errorCode}: ${q.errorMessage}`);
  assert.deepEqual([...new Set(reqs.map((q) => q.action))], ['DescribeImages', 'ImportSnapshot', 'DescribeImportSnapshotTasks', 'CreateTags', 'RegisterImage']);

  const imp = reqs.find((q) => q.action === 'ImportSnapshot')!.params;
  const key = imp['DiskContainer.UserBucket.S3Key']!;
  assert.match(key, /^atomic-import\/atomic-test-1-\d{8}T\d{6}Z\.raw$/);
  assert.equal(imp['DiskContainer.Format'], 'RAW');
  assert.equal(imp['DiskContainer.UserBucket.S3Bucket'], BUCKET);
  assert.equal(imp.RoleName, 'vmimport');
  assert.equal(imp.Description, 'atomic test image');
  assert.ok(imp.ClientToken !== undefined && imp.ClientToken.length >= 32, 'an idempotency token');
  assert.equal(imp['TagSpecification.1.ResourceType'], 'import-snapshot-task');
  assert.deepEqual([imp['TagSpecification.1.Tag.1.Key'], imp['TagSpecification.1.Tag.1.Value'], imp['TagSpecification.1.Tag.2.Key'], imp['TagSpecification.1.Tag.2.Value']], ['Name', 'atomic-test', 'team', 'os']);

  // The fake read the object back from the store while importing: all 12 MiB, a GPT disk, and an
  // S3 multipart ETag ("MD5-3": three parts).
  const read = ec2.imports.find((i) => i.key === key);
  assert.ok(read !== undefined, 'the import read the uploaded object');
  assert.equal(read.sizeBytes, 12 * MiB);
  assert.equal(read.gpt, true);
  assert.match(read.etag ?? '', /^"?[0-9a-f]{32}-3"?$/);
  assert.ok(reqs.filter((q) => q.action === 'DescribeImportSnapshotTasks').length >= 3, 'polled until completed');

  const snapshotId = [...ec2.snapshots.keys()].find((id) => reqs.some((q) => q.action === 'CreateTags' && q.params['ResourceId.1'] === id));
  assert.ok(snapshotId !== undefined, 'the imported snapshot was tagged');
  assert.deepEqual(ec2.snapshots.get(snapshotId)!.tags, { Name: 'atomic-test', team: 'os' });

  const reg = reqs.find((q) => q.action === 'RegisterImage')!.params;
  assert.deepEqual(
    {
      Name: reg.Name, Architecture: reg.Architecture, BootMode: reg.BootMode, EnaSupport: reg.EnaSupport, ImdsSupport: reg.ImdsSupport,
      VirtualizationType: reg.VirtualizationType, RootDeviceName: reg.RootDeviceName, DeviceName: reg['BlockDeviceMapping.1.DeviceName'],
      SnapshotId: reg['BlockDeviceMapping.1.Ebs.SnapshotId'], VolumeType: reg['BlockDeviceMapping.1.Ebs.VolumeType'],
      DeleteOnTermination: reg['BlockDeviceMapping.1.Ebs.DeleteOnTermination'], Description: reg.Description,
      TagResourceType: reg['TagSpecification.1.ResourceType'], Tag1: `${reg['TagSpecification.1.Tag.1.Key']}=${reg['TagSpecification.1.Tag.1.Value']}`,
      Tag2: `${reg['TagSpecification.1.Tag.2.Key']}=${reg['TagSpecification.1.Tag.2.Value']}`,
    },
    {
      Name: 'atomic-test-1', Architecture: 'x86_64', BootMode: 'uefi', EnaSupport: 'true', ImdsSupport: 'v2.0', VirtualizationType: 'hvm',
      RootDeviceName: '/dev/xvda', DeviceName: '/dev/xvda', SnapshotId: snapshotId, VolumeType: 'gp3', DeleteOnTermination: 'true',
      Description: 'atomic test image', TagResourceType: 'image', Tag1: 'Name=atomic-test', Tag2: 'team=os',
    },
  );
  assert.equal(ec2.images.get(imageId)?.name, 'atomic-test-1', 'the printed ID is the registered image');

  assert.equal(await objectExists(key), false, 'the uploaded object was deleted after the import');
  assert.deepEqual(await s3.listMultipartUploads(BUCKET), [], 'no multipart upload left');
});

test('--json and --keep-upload; --endpoint-url serves S3 and EC2 unless one is split off; a name in use is refused before any upload', async () => {
  const r = await runCliAsync(
    ['image', 'publish', 'aws', disk, '--region', 'us-east-1', '--endpoint-url', s3.endpoint, '--ec2-endpoint-url', ec2.url, '--bucket', BUCKET,
      '--name', 'atomic-test-2', '--boot-mode', 'uefi-preferred', '--part-size', '8', '--poll-interval', '0.05', '--keep-upload', '--json'],
    { env: env() },
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { imageId: string; snapshotId: string; bootMode: string; upload: { key: string; partCount: number; sizeBytes: number; deleted: boolean } };
  assert.match(out.imageId, /^ami-/);
  assert.match(out.snapshotId, /^snap-/);
  assert.equal(out.bootMode, 'uefi-preferred');
  assert.deepEqual([out.upload.partCount, out.upload.sizeBytes, out.upload.deleted], [2, 12 * MiB, false]);
  assert.equal(await objectExists(out.upload.key), true, '--keep-upload keeps the object');
  assert.equal(ec2.images.get(out.imageId)?.params.BootMode, 'uefi-preferred');

  const mark = ec2.requests.length;
  const again = await publish([disk, '--bucket', BUCKET, '--name', 'atomic-test-2']);
  assert.equal(again.status, 2, again.stderr);
  assert.match(again.stderr, new RegExp(`atomic-test-2: an AMI of this name exists already: ${out.imageId}`));
  assert.deepEqual(since(mark).map((q) => q.action), ['DescribeImages'], 'nothing imported');
  assert.deepEqual(await s3.listMultipartUploads(BUCKET), []);
});

test('a qcow2 disk is refused (exit 2) with the file named and the way to a raw one; nothing is sent', async () => {
  const qcow2 = join(work, 'disk.qcow2');
  runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', disk, qcow2]);
  const mark = ec2.requests.length;
  const r = await publish([qcow2, '--bucket', BUCKET, '--name', 'atomic-test-qcow2']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`^atomic: ${qcow2.replace(/[.]/g, '\\.')}: is a qcow2 image, not a raw disk; .*atomic image build --format raw`));
  assert.equal(ec2.requests.length, mark);

  const blank = join(work, 'blank.raw');
  runOk('truncate', ['-s', `${6 * MiB}`, blank]);
  const b = await publish([blank, '--bucket', BUCKET, '--name', 'atomic-test-blank']);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /blank\.raw: has no partition table/);
});

test('bad flags are all reported at once (exit 2)', async () => {
  const r = await publish([disk, '--bucket', 'Bad_Bucket', '--name', 'x', '--tag', 'aws:owner=me', '--tag', 'novalue']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--tag "aws:owner": keys starting with aws: are reserved/);
  assert.match(r.stderr, /--tag "novalue": expected KEY=VALUE/);
  const o = await publish([disk, '--bucket', 'Bad_Bucket', '--name', 'x']);
  assert.equal(o.status, 2);
  assert.match(o.stderr, /--bucket: "Bad_Bucket" is not a valid S3 bucket name/);
  assert.match(o.stderr, /--name: "x" is not a valid AMI name/);
});

test('no AWS credentials: a clear error (exit 2) before anything is sent', async () => {
  const mark = ec2.requests.length;
  const r = await runCliAsync(['image', 'publish', 'aws', disk, '--region', 'us-east-1', '--endpoint-url', s3.endpoint, '--ec2-endpoint-url', ec2.url, '--bucket', BUCKET, '--name', 'atomic-test-nocreds'],
    { env: { ...env(), AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' } });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /no AWS credentials found \(set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE\)/);
  assert.equal(ec2.requests.length, mark);
});

test('a missing bucket: a clear error (exit 2), no import, no multipart upload left', async () => {
  const mark = ec2.requests.length;
  const r = await publish([disk, '--bucket', 'no-such-bucket', '--name', 'atomic-test-nobucket']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^atomic: s3:\/\/no-such-bucket\/atomic-import\/\S+: starting the upload to s3:\/\/no-such-bucket: NoSuchBucket/);
  assert.ok(!since(mark).some((q) => q.action === 'ImportSnapshot'));
  assert.deepEqual(await s3.listMultipartUploads(BUCKET), []);
});

test('an import task that fails: its StatusMessage, exit 1, the upload deleted, no image registered', async () => {
  const mark = ec2.requests.length;
  ec2.failNextImport('ClientError: Disk validation failed [Unsupported specified file format]');
  const r = await publish([disk, '--bucket', BUCKET, '--name', 'atomic-test-fails']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^atomic: import-snap-[0-9a-f]+: import snapshot task import-snap-[0-9a-f]+ deleted: ClientError: Disk validation failed \[Unsupported specified file format\]$/m);
  const reqs = since(mark);
  assert.ok(!reqs.some((q) => q.action === 'RegisterImage' || q.action === 'CreateTags'));
  const key = reqs.find((q) => q.action === 'ImportSnapshot')!.params['DiskContainer.UserBucket.S3Key']!;
  assert.equal(await objectExists(key), false, 'the upload of a failed import is deleted');
});

test('an import that does not finish in --import-timeout: exit 1, the task and its upload are left to run', async () => {
  const mark = ec2.requests.length;
  ec2.stallNextImport();
  const r = await publish([disk, '--bucket', BUCKET, '--name', 'atomic-test-stalls', '--import-timeout', '1']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /import snapshot task import-snap-[0-9a-f]+ has not finished within 1 s/);
  const key = since(mark).find((q) => q.action === 'ImportSnapshot')!.params['DiskContainer.UserBucket.S3Key']!;
  assert.match(r.stderr, new RegExp(`the upload s3://${BUCKET}/${key.replace(/[.]/g, '\\.')} is kept \\(import task import-snap-`));
  assert.equal(await objectExists(key), true, 'the running import still needs its object');
  assert.ok(!since(mark).some((q) => q.action === 'RegisterImage'));
});

test('Ctrl-C during the upload aborts the multipart upload: nothing is left in the bucket', async (t) => {
  // A loopback proxy in front of the store that holds the first UploadPart, so the upload is
  // surely in flight when SIGINT arrives; everything else passes through untouched (the Host
  // header too, which SigV4 signs).
  let held: (() => void) | undefined;
  const partSeen = new Promise<void>((resolve) => {
    held = resolve;
  });
  let holding = false;
  const proxy: Server = createServer((req, res) => {
    if (req.method === 'PUT' && /[?&]partNumber=/.test(req.url ?? '') && !holding) {
      holding = true;
      held?.();
      req.resume();
      return; // never answered: the client gives up on it when cancelled
    }
    const up = httpRequest(`${s3.endpoint}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    proxy.closeAllConnections();
    proxy.close(() => resolve());
  }));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const mark = ec2.requests.length;
  const child = spawn(process.execPath, [CLI, 'image', 'publish', 'aws', disk, '--region', 'us-east-1', '--s3-endpoint-url', proxyUrl, '--ec2-endpoint-url', ec2.url,
    '--bucket', BUCKET, '--name', 'atomic-test-cancel', '--part-size', '5', '--concurrency', '1'], { env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await partSeen;
  assert.equal((await s3.listMultipartUploads(BUCKET)).length, 1, 'the upload is in progress');
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 1, stderr);
  assert.match(stderr, /cancelled/);
  assert.deepEqual(await s3.listMultipartUploads(BUCKET), [], 'the multipart upload was aborted');
  assert.ok(!since(mark).some((q) => q.action === 'ImportSnapshot'));
});

test('the EC2 fake refuses what the EC2 API refuses (so the publish test above can fail)', async (t) => {
  const client = (region = 'us-east-1'): EC2Client => {
    const c = new EC2Client({ region, endpoint: ec2.url, maxAttempts: 1, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
    t.after(() => c.destroy());
    return c;
  };
  const c = client();
  const refused = async (input: RegisterImageCommandInput | ImportSnapshotCommandInput, code: string, about: RegExp): Promise<void> => {
    const command = 'DiskContainer' in input ? new ImportSnapshotCommand(input as ImportSnapshotCommandInput) : new RegisterImageCommand(input as RegisterImageCommandInput);
    await assert.rejects(c.send(command as RegisterImageCommand), (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(e.name, code, e.message);
      assert.equal(e.$metadata?.httpStatusCode, 400);
      assert.match(e.message, about);
      return true;
    });
  };
  const ok = { Name: 'fake-check', RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-0000000000000000' } }] };
  await refused({ ...ok, BootMode: 'bios' as never }, 'InvalidParameterValue', /BootMode/);
  await refused({ ...ok, ImdsSupport: 'v1.0' as never }, 'InvalidParameterValue', /ImdsSupport/);
  await refused({ ...ok, Architecture: 'x86-64' as never }, 'InvalidParameterValue', /Architecture/);
  await refused({ ...ok, BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-1', VolumeType: 'gp9' as never } }] }, 'InvalidParameterValue', /BlockDeviceMapping\.1\.Ebs\.VolumeType/);
  await refused({ ...ok, EnaSupport: 'yes' as never }, 'InvalidParameterValue', /EnaSupport/);
  await refused({ BlockDeviceMappings: ok.BlockDeviceMappings } as never, 'MissingParameter', /Name/);
  await refused({ ...ok, TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'a', Value: 'b' }] }] }, 'InvalidParameterValue', /snapshot/);
  await refused(ok, 'InvalidSnapshot.NotFound', /snap-0000000000000000/);
  await refused({ ...ok, Architecture: 'arm64', BootMode: 'legacy-bios' }, 'InvalidParameterCombination', /arm64/);
  const disk = { Format: 'RAW', UserBucket: { S3Bucket: BUCKET, S3Key: 'k' } };
  await refused({ DiskContainer: { ...disk, Format: 'QCOW2' } }, 'InvalidParameterValue', /DiskContainer\.Format/);
  await refused({ DiskContainer: disk, TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'a', Value: 'b' }] }] }, 'InvalidParameterValue', /image/);
  await assert.rejects(client('eu-west-1').send(new RegisterImageCommand(ok)), (e: Error) => e.name === 'AuthFailure');
  const wrongKey = new EC2Client({ region: 'us-east-1', endpoint: ec2.url, maxAttempts: 1, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'not-the-secret' } });
  t.after(() => wrongKey.destroy());
  await assert.rejects(wrongKey.send(new RegisterImageCommand(ok)), (e: Error) => e.name === 'AuthFailure' && /signature mismatch/.test(e.message));

  // A parameter the API does not have, in a request signed by hand (the SDK sends only known ones).
  const body = 'Action=RegisterImage&Version=2016-11-15&Name=fake-check&BootModes=uefi';
  const raw = await fetch(ec2.url, { method: 'POST', headers: signV4(ec2.url, body), body });
  assert.equal(raw.status, 400);
  assert.match(await raw.text(), /<Code>UnknownParameter<\/Code><Message>The parameter BootModes is not recognized/);
});
