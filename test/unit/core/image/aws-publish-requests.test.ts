import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  awsPublishSettings, importSnapshotRequest, registerImageRequest, snapshotTagsRequest, uploadKey, type AwsPublishInput,
} from '../../../../src/core/image/aws-publish-requests.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

const INPUT: AwsPublishInput = {
  region: 'eu-central-1', bucket: 'my-images', keyPrefix: 'atomic-import/', name: 'atomic 2026.12 (x86_64)', architecture: 'x86_64',
  bootMode: 'uefi', roleName: 'vmimport', tags: [{ Key: 'Name', Value: 'atomic' }],
};
const STAMP = '20261207T093000Z';

test('ImportSnapshot: RAW from the bucket and key, the role, tags on the import task, an idempotency token', () => {
  const s = awsPublishSettings(INPUT, STAMP);
  assert.equal(s.key, 'atomic-import/atomic-2026.12-x86_64-20261207T093000Z.raw');
  assert.deepEqual(importSnapshotRequest(s, 'token-1'), {
    ClientToken: 'token-1',
    Description: 'atomic 2026.12 (x86_64)',
    DiskContainer: { Description: 'atomic 2026.12 (x86_64)', Format: 'RAW', UserBucket: { S3Bucket: 'my-images', S3Key: s.key } },
    RoleName: 'vmimport',
    TagSpecifications: [{ ResourceType: 'import-snapshot-task', Tags: [{ Key: 'Name', Value: 'atomic' }] }],
  });
  assert.equal(importSnapshotRequest({ ...s, tags: [] }, 't').TagSpecifications, undefined);
});

test('RegisterImage: EBS gp3 root from the snapshot at /dev/xvda, hvm, ENA, boot mode, IMDSv2, tags on the image', () => {
  const s = awsPublishSettings({ ...INPUT, description: 'd' }, STAMP);
  assert.deepEqual(registerImageRequest(s, 'snap-1'), {
    Name: 'atomic 2026.12 (x86_64)',
    Description: 'd',
    Architecture: 'x86_64',
    RootDeviceName: '/dev/xvda',
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-1', VolumeType: 'gp3', DeleteOnTermination: true } }],
    VirtualizationType: 'hvm',
    EnaSupport: true,
    BootMode: 'uefi',
    ImdsSupport: 'v2.0',
    TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'Name', Value: 'atomic' }] }],
  });
  assert.deepEqual(snapshotTagsRequest(s, 'snap-1'), { Resources: ['snap-1'], Tags: [{ Key: 'Name', Value: 'atomic' }] });
  assert.equal(snapshotTagsRequest({ ...s, tags: [] }, 'snap-1'), undefined);
  assert.equal(registerImageRequest(awsPublishSettings({ ...INPUT, bootMode: 'legacy-bios' }, STAMP), 'snap-1').BootMode, 'legacy-bios');
});

test('settings: every bad flag is reported at once, each naming its flag', () => {
  try {
    awsPublishSettings({ ...INPUT, region: 'Frankfurt', bucket: 'My_Bucket', name: 'ab', architecture: 'arm64', bootMode: 'legacy-bios', roleName: 'a b', keyPrefix: '/x' }, STAMP);
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof InvalidArgument);
    const text = e.problems.join('\n');
    for (const flag of ['--region', '--bucket', '--name', '--boot-mode', '--role-name', '--key-prefix']) assert.match(text, new RegExp(`atomic: ${flag}: `));
    assert.match(text, /arm64 instances: they support uefi only/);
  }
  assert.throws(() => awsPublishSettings({ ...INPUT, bucket: '192.168.1.1' }, STAMP), InvalidArgument);
  assert.throws(() => awsPublishSettings({ ...INPUT, bucket: 'a..b' }, STAMP), InvalidArgument);
  assert.throws(() => awsPublishSettings({ ...INPUT, architecture: 'i386' }, STAMP), InvalidArgument);
  assert.throws(() => awsPublishSettings({ ...INPUT, description: 'x'.repeat(256) }, STAMP), InvalidArgument);
  assert.equal(awsPublishSettings({ ...INPUT, region: 'us-gov-west-1', architecture: 'arm64' }, STAMP).architecture, 'arm64');
});

test('upload keys: the prefix gets its slash, names are made key-safe', () => {
  assert.equal(uploadKey('', 'a b/c', 'S'), 'a-b-c-S.raw');
  assert.equal(uploadKey('images', "it's@x", 'S'), 'images/it-s-x-S.raw');
  assert.equal(uploadKey('images/', 'n', 'S'), 'images/n-S.raw');
});
