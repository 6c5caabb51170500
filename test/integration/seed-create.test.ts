// `atomic seed create` checked by independent readers: blkid, isoinfo, xorriso, mtools, tar and
// Debian's real cloud-init (its NoCloud datasource reading what those tools extracted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runCli, runOk, tempDir } from '../helpers.js';
import { nocloudOracle } from '../oracles/nocloud.js';
import { sha256File } from '../tree-snapshot.js';

const EXAMPLE = join(REPO, 'cloud-init', 'examples', 'web-host');
const USER_DATA = join(EXAMPLE, 'user-data');
const NETWORK_CONFIG = join(EXAMPLE, 'network-config');

function extractIso(iso: string, dir: string): void {
  runOk('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', dir]);
  // xorriso restores the image's read-only modes; cloud-init only needs to read them.
  chmodSync(dir, 0o755);
}

test('ISO seed: blkid sees cidata/iso9660, isoinfo Joliet + Rock Ridge, xorriso gives the files back byte for byte', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'seed.iso');
  const r = runCli(['seed', 'create', '-o', out, '--user-data', USER_DATA, '--network-config', NETWORK_CONFIG, '--hostname', 'web-01', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { instanceId: string; format: string; label: string; files: { name: string }[] };
  assert.equal(summary.format, 'iso');
  assert.equal(summary.label, 'cidata');
  assert.match(summary.instanceId, /^iid-[0-9a-f-]{36}$/);
  assert.deepEqual(summary.files.map((f) => f.name), ['user-data', 'meta-data', 'network-config']);

  assert.match(runOk('blkid', [out]).stdout, /LABEL="cidata" TYPE="iso9660"/);
  const info = runOk('isoinfo', ['-d', '-i', out]).stdout;
  assert.match(info, /Volume id: cidata/);
  assert.match(info, /Joliet with UCS level 3 found/);
  assert.match(info, /Rock Ridge signatures version 1 found/);

  const x = join(dir, 'x');
  extractIso(out, x);
  assert.deepEqual(readdirSync(x).sort(), ['meta-data', 'network-config', 'user-data']);
  assert.deepEqual(readFileSync(join(x, 'user-data')), readFileSync(USER_DATA));
  assert.deepEqual(readFileSync(join(x, 'network-config')), readFileSync(NETWORK_CONFIG));
  assert.equal(readFileSync(join(x, 'meta-data'), 'utf8'), `instance-id: "${summary.instanceId}"\nlocal-hostname: "web-01"\n`);
});

test("Debian's cloud-init finds our ISO seed's user-data, meta-data and network-config with our instance-id", (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'seed.iso');
  const r = runCli(['seed', 'create', '-o', out, '--user-data', USER_DATA, '--network-config', NETWORK_CONFIG, '--hostname', 'web-01', '--instance-id', 'iid-oracle-42']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /instance-id iid-oracle-42/);
  const x = join(dir, 'x');
  extractIso(out, x);
  const view = nocloudOracle(x, join(dir, 'oracle'));
  assert.equal(view.found, true);
  assert.equal(view.instance_id, 'iid-oracle-42');
  assert.equal(view.hostname, 'web-01');
  assert.equal(view.userdata_raw, readFileSync(USER_DATA, 'utf8'));
  assert.deepEqual(view.parts, ['text/cloud-config']);
  assert.deepEqual(view.network_config, {
    version: 2,
    ethernets: {
      primary: {
        match: { name: 'en*' },
        dhcp4: false,
        addresses: ['192.0.2.10/24'],
        routes: [{ to: 'default', via: '192.0.2.1' }],
        nameservers: { addresses: ['192.0.2.53'], search: ['example.internal'] },
      },
    },
  });
});

test('every seed gets a fresh instance-id unless one is given', (t) => {
  const dir = tempDir(t);
  const ids = [1, 2].map((n) => {
    const r = runCli(['seed', 'create', '-o', join(dir, `s${n}.iso`), '--user-data', USER_DATA, '--json']);
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { instanceId: string }).instanceId;
  });
  assert.notEqual(ids[0], ids[1]);
});

test("cloud-localds's positional form: OUT USER_DATA META_DATA keeps the given meta-data", (t) => {
  const dir = tempDir(t);
  const md = join(dir, 'md');
  writeFileSync(md, 'instance-id: iid-local01\nlocal-hostname: legacy\n');
  const out = join(dir, 'seed.img');
  const r = runCli(['seed', 'create', out, USER_DATA, md]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /instance-id iid-local01/);
  const x = join(dir, 'x');
  extractIso(out, x);
  assert.deepEqual(readFileSync(join(x, 'meta-data')), readFileSync(md));
  assert.equal(nocloudOracle(x, join(dir, 'oracle')).instance_id, 'iid-local01');
});

test('vfat seed: blkid sees a cidata FAT volume; mtools reads the files back; cloud-init finds them', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'seed.vfat');
  const r = runCli(['seed', 'create', '--format', 'vfat', '-o', out, '--user-data', USER_DATA, '--network-config', NETWORK_CONFIG, '--instance-id', 'iid-vfat-1']);
  assert.equal(r.status, 0, r.stderr);
  const blkid = runOk('blkid', [out]).stdout;
  assert.match(blkid, /LABEL="cidata"/);
  assert.match(blkid, /TYPE="vfat"/);
  const x = join(dir, 'x');
  mkdirSync(x);
  runOk('mcopy', ['-n', '-i', out, '::/user-data', '::/meta-data', '::/network-config', x], { env: { MTOOLS_SKIP_CHECK: '1' } });
  assert.deepEqual(readFileSync(join(x, 'user-data')), readFileSync(USER_DATA));
  assert.deepEqual(readFileSync(join(x, 'network-config')), readFileSync(NETWORK_CONFIG));
  const view = nocloudOracle(x, join(dir, 'oracle'));
  assert.equal(view.instance_id, 'iid-vfat-1');
});

test('tar seed: the NoCloud seed directory layout, readable by tar and cloud-init', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'seed.tar');
  const r = runCli(['seed', 'create', '--format', 'tar', '-o', out, '--user-data', USER_DATA, '--instance-id', 'iid-tar-1', '--hostname', 'tarhost']);
  assert.equal(r.status, 0, r.stderr);
  const listing = runOk('tar', ['-tvf', out]).stdout;
  assert.match(listing, /var\/lib\/cloud\/seed\/nocloud\/user-data/);
  assert.match(listing, /var\/lib\/cloud\/seed\/nocloud\/meta-data/);
  const x = join(dir, 'x');
  mkdirSync(x);
  runOk('tar', ['-xf', out, '-C', x]);
  const seedDir = join(x, 'var', 'lib', 'cloud', 'seed', 'nocloud');
  assert.deepEqual(readFileSync(join(seedDir, 'user-data')), readFileSync(USER_DATA));
  const view = nocloudOracle(seedDir, join(dir, 'oracle'));
  assert.equal(view.instance_id, 'iid-tar-1');
  assert.equal(view.hostname, 'tarhost');
});

test('same inputs, instance-id and SOURCE_DATE_EPOCH give byte-identical seeds in every format', async (t) => {
  const dir = tempDir(t);
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  const build = async (round: number): Promise<string[]> => {
    const digests: string[] = [];
    for (const format of ['iso', 'vfat', 'tar']) {
      const out = join(dir, `${format}-${round}`);
      const r = runCli(['seed', 'create', '--format', format, '-o', out, '--user-data', USER_DATA, '--instance-id', 'iid-repro'], { env });
      assert.equal(r.status, 0, r.stderr);
      digests.push(await sha256File(out));
    }
    return digests;
  };
  const first = await build(1);
  // More than a second apart, so anything stamped with the current time shows up as a difference.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.deepEqual(await build(2), first, 'iso, vfat, tar digests');
});

test('--no-validate writes a seed whose user-data does not validate', (t) => {
  const dir = tempDir(t);
  const ud = join(dir, 'ud');
  writeFileSync(ud, '#cloud-config\nruncmd: "not a list"\n');
  const refused = runCli(['seed', 'create', '-o', join(dir, 'a.iso'), '--user-data', ud]);
  assert.equal(refused.status, 2);
  assert.throws(() => statSync(join(dir, 'a.iso')));
  const r = runCli(['seed', 'create', '--no-validate', '-o', join(dir, 'b.iso'), '--user-data', ud]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(statSync(join(dir, 'b.iso')).size > 0);
});

/** A failed command: exit 2, one line on stderr naming `subject`, nothing left in `dir` but `keep`. */
function assertRefused(r: { status: number; stderr: string; stdout: string }, dir: string, keep: readonly string[], pattern: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.equal(r.stdout, '');
  assert.deepEqual(readdirSync(dir).sort(), [...keep].sort(), 'no output and no temp files left behind');
}

test('bad input: one line, exit 2, no partial output', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'seed.iso');
  const ud = join(dir, 'ud');
  writeFileSync(ud, '#cloud-config\nhostname: ok\n');

  assertRefused(runCli(['seed', 'create', '-o', out, '--user-data', join(dir, 'missing')]), dir, ['ud'], /missing: reading: no such file or directory/);

  // A directory where a file is expected (as root, file modes cannot make a file unreadable).
  mkdirSync(join(dir, 'adir'));
  assertRefused(runCli(['seed', 'create', '-o', out, '--user-data', join(dir, 'adir')]), dir, ['adir', 'ud'], /adir: reading: is a directory/);

  if (process.getuid?.() !== 0) {
    const locked = join(dir, 'locked');
    writeFileSync(locked, '#cloud-config\n', { mode: 0o000 });
    assertRefused(runCli(['seed', 'create', '-o', out, '--user-data', locked]), dir, ['adir', 'locked', 'ud'], /locked: reading: permission denied/);
  }

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, '#cloud-config\nhostname: web\nruncmd:\n  - echo hi\n  - [ls, -l\nfinal_message: x\n');
  const yamlErr = runCli(['seed', 'create', '-o', out, '--user-data', bad]);
  // PyYAML notices the unclosed '[' on line 6 too ("expected ',' or ']'").
  assertRefused(yamlErr, dir, ['adir', 'bad.yaml', 'ud'], /bad\.yaml:6:\d+: \/: YAML: /);

  assertRefused(runCli(['seed', 'create', '-o', out, '--user-data', ud, '--instance-id', '']), dir, ['adir', 'bad.yaml', 'ud'], /--instance-id must not be empty/);

  const r = runCli(['seed', 'create', '-o', join(dir, 'no', 'such', 'dir', 'seed.iso'), '--user-data', ud]);
  assertRefused(r, dir, ['adir', 'bad.yaml', 'ud'], /output directory .*no such file or directory/);
});
