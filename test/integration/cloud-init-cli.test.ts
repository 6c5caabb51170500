// `atomic cloud-init validate` and `atomic cloud-init mime` as people and scripts run them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseUserData } from '../../src/core/cloud-config/validate.js';
import { REPO, runCli, tempDir } from '../helpers.js';

const FIXTURES = join(REPO, 'test', 'fixtures', 'user-data');

test('validate: a clean file exits 0 with a one-line summary', () => {
  const r = runCli(['cloud-init', 'validate', join(FIXTURES, 'cloud-config-all-modules.yaml')]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '0 errors, 0 warnings in 1 file\n');
  assert.equal(r.stderr, '');
});

test('validate: invalid YAML is reported as file:line:column and exits 2', (t) => {
  const dir = tempDir(t);
  const f = join(dir, 'user-data');
  writeFileSync(f, '#cloud-config\nruncmd:\n  - [ls, -l\nhostname: x\n');
  const r = runCli(['cloud-init', 'validate', f]);
  assert.equal(r.status, 2);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', new RegExp(`^error: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:1: /: YAML: `));
  assert.equal(lines[1], '1 error, 0 warnings in 1 file');
});

test('validate: warnings alone exit 0; errors and warnings are marked and counted over files', (t) => {
  const dir = tempDir(t);
  const warn = join(dir, 'w.yaml');
  const bad = join(dir, 'b.yaml');
  writeFileSync(warn, '#cloud-config\nruncmnd: [ls]\n');
  writeFileSync(bad, '#cloud-config\nwrite_files:\n  - permissions: 644\n');
  const w = runCli(['cloud-init', 'validate', warn]);
  assert.equal(w.status, 0);
  assert.equal(w.stdout, `warning: ${warn}:2:1: /runcmnd: unknown key 'runcmnd' (did you mean 'runcmd'?): cloud-init and atomicd ignore it\n0 errors, 1 warning in 1 file\n`);
  const both = runCli(['cloud-init', 'validate', warn, bad]);
  assert.equal(both.status, 2);
  assert.deepEqual(both.stdout.trimEnd().split('\n'), [
    `warning: ${warn}:2:1: /runcmnd: unknown key 'runcmnd' (did you mean 'runcmd'?): cloud-init and atomicd ignore it`,
    `error: ${bad}:3:5: /write_files/0: missing required key 'path'`,
    `error: ${bad}:3:18: /write_files/0/permissions: 644 is the decimal integer 644, which cloud-init applies as mode 0o1204; write '0644' (quoted)`,
    '2 errors, 1 warning in 2 files',
  ]);
});

test('validate --json: the full report, kinds detected by name and content', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'network-config'), 'version: 2\nethernets: {eth0: {dhcp4: true}}\n');
  writeFileSync(join(dir, 'net.yaml'), 'network:\n  version: 1\n  config: []\n');
  writeFileSync(join(dir, 'md.yaml'), 'instance-id: i-1\nlocal-hostname: bad_name\n');
  const files = ['network-config', 'net.yaml', 'md.yaml'].map((f) => join(dir, f));
  const r = runCli(['cloud-init', 'validate', '--json', ...files, join(FIXTURES, 'mime-mixed.txt')]);
  assert.equal(r.status, 2, r.stderr);
  const report = JSON.parse(r.stdout) as {
    files: { file: string; kind: string; version?: number; errors: number; warnings: number; problems: { severity: string; path: string; line: number; column: number }[]; parts?: { kind: string; filename?: string }[] }[];
    errors: number;
    warnings: number;
  };
  assert.deepEqual(report.files.map((f) => [f.kind, f.version ?? null, f.errors]), [
    ['network-config', 2, 0],
    ['network-config', 1, 0],
    ['meta-data', null, 1],
    ['user-data', null, 0],
  ]);
  assert.deepEqual(report.files[2]?.problems.map((p) => [p.severity, p.path, p.line, p.column]), [['error', '/local-hostname', 2, 17]]);
  assert.deepEqual(report.files[3]?.parts?.map((p) => p.kind), ['cloud-config', 'x-shellscript', 'cloud-config', 'cloud-config', 'cloud-config']);
  assert.equal(report.errors, 1);
  assert.equal(report.warnings, 1);
});

test('validate --kind overrides detection; - reads standard input', () => {
  const r = runCli(['cloud-init', 'validate', '--kind', 'meta-data', '--json', join(FIXTURES, 'script.sh')]);
  assert.equal(r.status, 2);
  assert.equal((JSON.parse(r.stdout) as { files: { kind: string }[] }).files[0]?.kind, 'meta-data');
  const s = runCli(['cloud-init', 'validate', '-'], { input: '#cloud-config\nhostname: [x]\n' });
  assert.equal(s.status, 2);
  assert.match(s.stdout, /^error: <stdin>:2:11: \/hostname: expected a string, got a list/);
});

test('validate: a missing file is one line on stderr and exit 2, before any report', () => {
  const r = runCli(['cloud-init', 'validate', join(FIXTURES, 'script.sh'), '/nonexistent/user-data']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'atomic: /nonexistent/user-data: reading: no such file or directory\n');
});

test('mime: writes make-mime user-data that parses back; same input, same bytes', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'user-data');
  const r = runCli(['cloud-init', 'mime', '-o', out, `${join(FIXTURES, 'cloud-config-all-modules.yaml')}:cloud-config`, `${join(FIXTURES, 'script.sh')}:x-shellscript`, `${join(FIXTURES, 'boothook.txt')}:text/cloud-boothook`]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  const bytes = readFileSync(out);
  assert.deepEqual(parseUserData(bytes).parts.map((p) => [p.kind, p.filename]), [
    ['cloud-config', 'cloud-config-all-modules.yaml'],
    ['x-shellscript', 'script.sh'],
    ['cloud-boothook', 'boothook.txt'],
  ]);
  const again = runCli(['cloud-init', 'mime', '-o', '-', `${join(FIXTURES, 'cloud-config-all-modules.yaml')}:cloud-config`, `${join(FIXTURES, 'script.sh')}:x-shellscript`, `${join(FIXTURES, 'boothook.txt')}:text/cloud-boothook`]);
  assert.equal(again.status, 0);
  assert.equal(again.stdout, bytes.toString('utf8'));
});

test('mime: an invalid part is refused with located problems and nothing is written', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'user-data');
  const r = runCli(['cloud-init', 'mime', '-o', out, `${join(FIXTURES, 'cloud-config-invalid.yaml')}:cloud-config`]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: user-data#part-1\(cloud-config-invalid\.yaml\):4:15: \/write_files\/0\/encoding: /m);
  assert.deepEqual(readdirSync(dir), [], 'no output and no temp file left');
  const forced = runCli(['cloud-init', 'mime', '--no-validate', '-o', out, `${join(FIXTURES, 'cloud-config-invalid.yaml')}:cloud-config`]);
  assert.equal(forced.status, 0, forced.stderr);
  assert.ok(existsSync(out));
});

test('mime: bad specs, unknown types and missing files exit 2 with one line', () => {
  const missing = runCli(['cloud-init', 'mime', '-o', '-', '/nonexistent/x.yaml:cloud-config']);
  assert.deepEqual([missing.status, missing.stderr, missing.stdout], [2, 'atomic: /nonexistent/x.yaml: reading: no such file or directory\n', '']);
  const noType = runCli(['cloud-init', 'mime', '-o', '-', join(FIXTURES, 'script.sh')]);
  assert.equal(noType.status, 2);
  assert.match(noType.stderr, /expected FILE:TYPE/);
  const unknown = runCli(['cloud-init', 'mime', '-o', '-', `${join(FIXTURES, 'script.sh')}:shellscript`]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown part type 'shellscript'; use one of cloud-config, x-shellscript/);
});
