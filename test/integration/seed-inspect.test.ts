// `atomic seed inspect` on seeds made by us and by others (cloud-localds, genisoimage, mkfs.vfat +
// mcopy, tar), in every medium; user-data made by cloud-init's own make-mime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runCli, runOk, tempDir } from '../helpers.js';

const EXAMPLES = join(REPO, 'cloud-init', 'examples');

interface Inspection {
  format: string;
  label?: string;
  labelMatches?: boolean;
  files: { name: string; sizeBytes: number }[];
  instanceId?: string;
  metaData?: Record<string, unknown>;
  userData?: { parts: { index: number; kind: string; contentType: string; filename?: string; compressed: boolean }[] };
  networkConfig?: { version?: number };
  problems: { severity: string; message: string }[];
}

function inspectJson(seed: string): Inspection {
  const r = runCli(['seed', 'inspect', '--json', seed]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Inspection;
}

test("cloud-localds's seed: files, meta-data and a MIME multipart user-data made by cloud-init make-mime", (t) => {
  const dir = tempDir(t);
  const mp = join(EXAMPLES, 'multipart');
  const ud = join(dir, 'user-data');
  // make-mime names each part after the path it is given: run it beside the files.
  writeFileSync(ud, runOk('cloud-init', ['devel', 'make-mime', '-a', 'base.yaml:cloud-config', '-a', 'extra.yaml:cloud-config', '-a', 'setup.sh:x-shellscript'], { cwd: mp }).stdout);
  const md = join(dir, 'meta-data');
  writeFileSync(md, 'instance-id: iid-peer-7\nlocal-hostname: worker-7\n');
  const seed = join(dir, 'seed.iso');
  runOk('cloud-localds', [seed, ud, md]);

  const v = inspectJson(seed);
  assert.equal(v.format, 'iso9660');
  assert.equal(v.label, 'cidata');
  assert.equal(v.labelMatches, true);
  assert.deepEqual(v.files.map((f) => f.name), ['meta-data', 'user-data']);
  assert.equal(v.instanceId, 'iid-peer-7');
  assert.deepEqual(v.metaData, { 'instance-id': 'iid-peer-7', 'local-hostname': 'worker-7' });
  assert.deepEqual(v.userData?.parts.map((p) => [p.kind, p.contentType, p.filename]), [
    ['cloud-config', 'text/cloud-config', 'base.yaml'],
    ['cloud-config', 'text/cloud-config', 'extra.yaml'],
    ['x-shellscript', 'text/x-shellscript', 'setup.sh'],
  ]);
  assert.deepEqual(v.problems, []);

  const text = runCli(['seed', 'inspect', seed]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /iso9660 seed, label "cidata"/);
  assert.match(text.stdout, /user-data: 3 parts/);
  assert.match(text.stdout, /3\. x-shellscript "setup\.sh" \(text\/x-shellscript\)/);
});

test('our seeds in every format read back with the same files and instance-id', (t) => {
  const dir = tempDir(t);
  for (const format of ['iso', 'vfat', 'tar']) {
    const seed = join(dir, `seed.${format}`);
    const r = runCli(['seed', 'create', '--format', format, '-o', seed, '--user-data', join(EXAMPLES, 'minimal', 'user-data'), '--instance-id', `iid-${format}`, '--hostname', 'node-1']);
    assert.equal(r.status, 0, r.stderr);
    const v = inspectJson(seed);
    assert.equal(v.format, { iso: 'iso9660', vfat: 'vfat', tar: 'tar' }[format]);
    assert.equal(v.instanceId, `iid-${format}`);
    assert.deepEqual(v.files.map((f) => f.name), ['meta-data', 'user-data']);
    assert.deepEqual(v.userData?.parts.map((p) => p.kind), ['cloud-config']);
    assert.equal(v.metaData?.['local-hostname'], 'node-1');
  }
});

test('a seed directory and a FAT image built by hand with mkfs.vfat + mcopy', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'user-data'), gzipSync('#!/bin/sh\necho compressed script\n'));
  writeFileSync(join(src, 'meta-data'), '{"instance-id": "iid-json", "local-hostname": "fat-host"}\n');
  writeFileSync(join(src, 'network-config'), 'version: 1\nconfig:\n  - type: physical\n    name: eth0\n    subnets:\n      - type: dhcp\n');
  const fromDir = inspectJson(src);
  assert.equal(fromDir.format, 'directory');
  assert.equal(fromDir.instanceId, 'iid-json');
  assert.deepEqual(fromDir.userData?.parts.map((p) => [p.kind, p.compressed]), [['x-shellscript', true]]);
  assert.equal(fromDir.networkConfig?.version, 1);

  const img = join(dir, 'seed.img');
  runOk('truncate', ['-s', '2M', img]);
  runOk('mkfs.vfat', ['-n', 'CIDATA', img]);
  runOk('mcopy', ['-i', img, join(src, 'user-data'), join(src, 'meta-data'), join(src, 'network-config'), '::'], { env: { MTOOLS_SKIP_CHECK: '1' } });
  const fromFat = inspectJson(img);
  assert.equal(fromFat.format, 'vfat');
  assert.equal(fromFat.label, 'CIDATA');
  assert.equal(fromFat.labelMatches, true);
  assert.equal(fromFat.instanceId, 'iid-json');
  assert.deepEqual(fromFat.userData?.parts.map((p) => p.kind), ['x-shellscript']);
});

test('problems are reported, not fatal: wrong label, missing meta-data, invalid cloud-config', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'user-data'), '#cloud-config\nruncmd: 42\n');
  const iso = join(dir, 'x.iso');
  runOk('genisoimage', ['-quiet', '-J', '-R', '-V', 'NOTCIDATA', '-o', iso, src]);
  const v = inspectJson(iso);
  assert.equal(v.label, 'NOTCIDATA');
  assert.equal(v.labelMatches, false);
  const messages = v.problems.map((p) => `${p.severity}: ${p.message}`).join('\n');
  assert.match(messages, /only finds volumes labelled cidata/);
  assert.match(messages, /no meta-data/);
  assert.match(messages, /^error: /m);
});

test('not a seed, or no such file: one line, exit 2', (t) => {
  const dir = tempDir(t);
  const junk = join(dir, 'junk.bin');
  writeFileSync(junk, Buffer.alloc(70_000, 0x5a));
  for (const [path, pattern] of [[junk, /junk\.bin: not a seed/], [join(dir, 'nope'), /nope: reading the seed: no such file or directory/]] as const) {
    const r = runCli(['seed', 'inspect', path]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }
});
