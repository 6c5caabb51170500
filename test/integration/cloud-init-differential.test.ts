// Debian's real cloud-init (22.4, /usr/bin/python3) as the oracle:
//   (a) the parts (types and payloads) and the merged cloud-config our user-data parser finds equal
//       what cloud-init's UserDataProcessor and CloudConfigPartHandler produce, for every sample in
//       test/fixtures/user-data (includes served from a loopback HTTP server);
//   (b) `cloud-init schema -c FILE` and our validator agree on valid vs invalid for the modules we
//       both check, and point at the same places; the deliberate differences are listed with why;
//   (c) `atomic cloud-init mime` output read by cloud-init gives back the parts and payloads;
//   plus: YAML 1.1 scalars resolve as PyYAML resolves them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { LineIndex, ProblemReport } from '../../src/core/cloud-config/problem.js';
import { parseUserData, validateUserData, type UserDataPart } from '../../src/core/cloud-config/validate.js';
import { parseYaml } from '../../src/core/cloud-config/yaml-document.js';
import { REPO, run, runCli, tempDir } from '../helpers.js';

const PYTHON = '/usr/bin/python3';
const FIXTURES = join(REPO, 'test', 'fixtures', 'user-data');
const execFileAsync = promisify(execFile);

// UserDataProcessor and CloudConfigPartHandler with every cloud-init path in a temp dir (the way
// /work/shared/reference/nocloud-oracle.py builds Paths), so nothing on the host is touched.
const ORACLE = String.raw`
import base64, json, os, sys
from cloudinit import helpers, util
from cloudinit.user_data import UserDataProcessor
from cloudinit.handlers.cloud_config import CloudConfigPartHandler

class Datasource:
    def get_instance_id(self):
        return "iid-oracle"

tmp, files = sys.argv[1], sys.argv[2:]
result = {}
for i, fn in enumerate(files):
    paths = helpers.Paths({"cloud_dir": f"{tmp}/cloud{i}", "run_dir": f"{tmp}/run{i}", "templates_dir": "/etc/cloud/templates"})
    paths.datasource = Datasource()
    msg = UserDataProcessor(paths).process(open(fn, "rb").read())
    handler = CloudConfigPartHandler(paths)
    handler.handle_part(None, "__begin__", None, None, None, None)
    parts = []
    for p in msg.walk():
        if p.is_multipart():
            continue
        payload = p.get_payload(decode=True) or b""
        parts.append({"type": p.get_content_type(), "payload": base64.b64encode(payload).decode()})
        if p.get_content_type() == "text/cloud-config":
            handler.handle_part(None, p.get_content_type(), p.get_filename(), util.fully_decoded_payload(p), None, dict(p.items()))
    handler.handle_part(None, "__end__", None, None, None, None)
    config = util.load_yaml(util.load_file(handler.cloud_fn)) if os.path.exists(handler.cloud_fn) else None
    result[fn] = {"parts": parts, "config": config}
print(json.dumps(result, default=str))
`;

interface OraclePart {
  readonly type: string;
  readonly payload: string;
}
type OracleResult = Record<string, { parts: OraclePart[]; config: unknown }>;

async function oracle(dir: string, files: readonly string[]): Promise<OracleResult> {
  const script = join(dir, 'oracle.py');
  writeFileSync(script, ORACLE);
  // Loopback includes must not go through a proxy from the environment.
  const env = { ...process.env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost', http_proxy: '', https_proxy: '', HTTP_PROXY: '', HTTPS_PROXY: '' };
  const { stdout } = await execFileAsync(PYTHON, [script, join(dir, 'oracle'), ...files], { env, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as OracleResult;
}

/** Our parts as cloud-init attaches them: includes replaced by what they fetch, archives by their entries. */
function attached(parts: readonly UserDataPart[], fetch: (url: string) => Uint8Array): OraclePart[] {
  return parts.flatMap((p): OraclePart[] => {
    if (p.kind === 'cloud-config-archive') return [];
    if (p.includes !== undefined) return p.includes.flatMap((i) => attached(parseUserData(fetch(i.url)).parts, fetch));
    return [{ type: p.contentType, payload: Buffer.from(p.data).toString('base64') }];
  });
}

test('(a) user-data parts and merged cloud-config equal cloud-init\'s, for every fixture', async (t) => {
  const dir = tempDir(t);
  const served: Record<string, Buffer> = {
    '/one.yaml': Buffer.from('#cloud-config\nhostname: included\n'),
    '/two.sh': Buffer.from('#!/bin/sh\necho included once\n'),
  };
  const server = createServer((req, res) => {
    const body = served[req.url ?? ''];
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const samples = readdirSync(FIXTURES).sort().map((name) => {
    const path = join(dir, name);
    writeFileSync(path, Buffer.from(readFileSync(join(FIXTURES, name)).toString('latin1').replaceAll('@BASE_URL@', base), 'latin1'));
    return path;
  });
  assert.ok(samples.length >= 19, `corpus: ${samples.length} samples`);
  const theirs = await oracle(dir, samples);
  const fetch = (url: string): Uint8Array => served[new URL(url).pathname] ?? Buffer.alloc(0);
  for (const s of samples) {
    const ours = validateUserData(readFileSync(s), s);
    const expected = theirs[s];
    assert.ok(expected !== undefined, s);
    assert.deepEqual(attached(ours.parts, fetch), expected.parts, `parts of ${s}`);
    // Includes are not fetched by us, so there is no merged config to compare for them.
    if (!ours.parts.some((p) => p.includes !== undefined)) {
      assert.deepEqual(JSON.parse(JSON.stringify(ours.config ?? null)), expected.config, `merged cloud-config of ${s}`);
    }
  }
});

interface SchemaCase {
  readonly body: string;
  readonly ours: 'valid' | 'invalid';
  readonly cloudInit: 'valid' | 'invalid';
  /** Why the verdicts differ, when they do. */
  readonly why?: string;
}

const gzB64 = gzipSync('hello\n').toString('base64');
const SCHEMA_CASES: readonly SchemaCase[] = [
  { body: readFileSync(join(FIXTURES, 'cloud-config-all-modules.yaml'), 'utf8'), ours: 'valid', cloudInit: 'valid' },
  { body: 'bootcmd: [ls, [echo, a]]\nruncmd: [ls, null, [touch, /x]]\n', ours: 'valid', cloudInit: 'valid' },
  { body: 'users: alice, bob\ngroups: {admins: [alice]}\n', ours: 'valid', cloudInit: 'valid' },
  { body: 'users:\n  alice: {gecos: A}\n  bob: true\n', ours: 'valid', cloudInit: 'valid' },
  { body: `write_files:\n  - {path: /a, permissions: '0600', encoding: gz+b64, content: ${gzB64}, defer: true}\n`, ours: 'valid', cloudInit: 'valid' },
  { body: 'power_state: {mode: poweroff, delay: now, condition: [test, -f, /x]}\nmanage_etc_hosts: localhost\nssh_pwauth: yes\n', ours: 'valid', cloudInit: 'valid' },
  { body: 'chpasswd: {expire: false, users: [{name: a, type: RANDOM}, {name: b, password: x}]}\n', ours: 'valid', cloudInit: 'valid' },
  { body: 'bootcmd: []\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'bootcmd: [1]\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'runcmd: ls\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'runcmd: [[ls, 1]]\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'write_files: [{content: x}]\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'write_files: [{path: /a, encoding: base65}]\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'write_files: [{path: /a, append: "yes"}]\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'write_files: [{path: /a, permissions: 644}]\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'write_files: [{path: /a, owner: [root]}]\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'users: [{name: a, lock_passwd: maybe}]\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'users: [{gecos: no name}]\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'users: [{name: a, ssh-authorized-keys: [x]}]\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'users: [{name: a, uid: [1]}]\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'groups: {admins: }\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'ssh_authorized_keys: []\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'disable_root: "no"\npreserve_hostname: 1\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'power_state: {delay: 5}\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'power_state: {mode: sleep}\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'power_state: {mode: reboot, mesage: x}\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'power_state: {mode: reboot, delay: soon}\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'chpasswd: {expires: true}\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'hostname: 42\nfqdn: [a]\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'timezone: [UTC]\nfinal_message: {a: b}\n', ours: 'invalid', cloudInit: 'invalid' },
  { body: 'manage_etc_hosts: sometimes\n', ours: 'invalid', cloudInit: 'invalid' },
  // Deliberate differences (schema.ts): the runtime, not the 22.4 schema, decides.
  { body: 'write_files: [{path: /a, permissions: 0644}]\n', ours: 'valid', cloudInit: 'invalid', why: 'the octal integer 420 is applied correctly by cc_write_files; we warn' },
  { body: "users: [{name: a, sudo: ['ALL=(ALL) ALL']}]\n", ours: 'valid', cloudInit: 'invalid', why: 'distros write_sudo_rules takes a list' },
  { body: 'users: [{name: a, expiredate: 2030-01-01}]\n', ours: 'valid', cloudInit: 'invalid', why: 'useradd gets the date either way; we warn to quote it' },
  { body: 'users: [{name: a, inactive: 5}]\n', ours: 'valid', cloudInit: 'invalid', why: 'useradd gets str(5); we warn' },
  { body: 'write_files: [{path: /a, source: {uri: "http://x/y"}}]\n', ours: 'valid', cloudInit: 'invalid', why: 'source is a 23.1 key; we warn that atomicd does not apply it' },
  { body: 'users: [{name: a, sudo: true}]\n', ours: 'invalid', cloudInit: 'valid', why: "the schema calls it deprecated, but write_sudo_rules raises 'Can not create sudoers rule addition with type bool'" },
  { body: 'write_files: [{path: relative/a}]\n', ours: 'invalid', cloudInit: 'valid', why: 'a relative path lands relative to cloud-init\'s working directory' },
  { body: 'write_files: [{path: /a, encoding: b64, content: aGVsbG8}]\n', ours: 'invalid', cloudInit: 'valid', why: 'the schema does not decode content; base64.b64decode fails at boot (incorrect padding)' },
  { body: "merge_how: 'set()'\n", ours: 'invalid', cloudInit: 'valid', why: 'merge_how is outside the schema; the merger import fails at boot' },
  { body: 'containers: [{name: web}]\n', ours: 'invalid', cloudInit: 'valid', why: 'containers is our key: cloud-init ignores unknown keys, we validate it strictly' },
];

/** `/write_files/0/permissions` -> `write_files.0.permissions` (cloud-init's path notation). */
function dotted(pointer: string): string {
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
}

test('(b) cloud-init schema and our validator agree on the schema errors both check', (t) => {
  const dir = tempDir(t);
  SCHEMA_CASES.forEach((c, i) => {
    const file = join(dir, `case-${i}.yaml`);
    const text = c.body.startsWith('#cloud-config') ? c.body : `#cloud-config\n${c.body}`;
    writeFileSync(file, text);
    const theirs = run('cloud-init', ['schema', '-c', file]);
    const theirOutput = theirs.stdout + theirs.stderr;
    const ours = validateUserData(Buffer.from(text), file).problems.filter((p) => p.severity === 'error');
    const label = `${c.body.trim()}${c.why === undefined ? '' : ` (${c.why})`}`;
    assert.equal(theirs.status === 0 ? 'valid' : 'invalid', c.cloudInit, `cloud-init schema on ${label}:\n${theirOutput}`);
    assert.equal(ours.length === 0 ? 'valid' : 'invalid', c.ours, `ours on ${label}: ${JSON.stringify(ours)}`);
    if (c.ours === 'invalid' && c.cloudInit === 'invalid') {
      // Each of our errors is at or below a path cloud-init names (it stops at oneOf alternatives).
      for (const p of ours) {
        const segments = dotted(p.path).split('.');
        const named = segments.some((_, k) => theirOutput.includes(`${segments.slice(0, k + 1).join('.')}: `));
        assert.ok(named, `cloud-init names ${p.path} or a parent; it said:\n${theirOutput}`);
      }
    }
  });
});

// For an unclosed flow collection or quote cloud-init reports where it opened (PyYAML's context
// mark) and we report where the document breaks; errors without a context agree on the line.
test('(b) a YAML syntax error is on the line cloud-init reports', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'broken.yaml');
  writeFileSync(file, '#cloud-config\nhostname: a\nruncmd: ls: -l\nfinal_message: x\n');
  const theirs = run('cloud-init', ['schema', '-c', file]);
  assert.notEqual(theirs.status, 0);
  const m = /format-l(\d+)\.c(\d+)/.exec(theirs.stdout + theirs.stderr);
  assert.ok(m !== null, theirs.stdout + theirs.stderr);
  const ours = validateUserData(readFileSync(file), file).problems;
  assert.equal(ours.length, 1);
  assert.equal(ours[0]?.line, Number(m[1]));
});

test('(c) atomic cloud-init mime output gives cloud-init back the parts, types and payloads', async (t) => {
  const dir = tempDir(t);
  const inputs: [string, string, string][] = [
    ['config.yaml', 'cloud-config', '#cloud-config\nhostname: from-mime\nruncmd: [[echo, été]]\n'],
    ['setup.sh', 'x-shellscript', '#!/bin/sh\necho "ünïcödé script"\n'],
    ['hook.txt', 'cloud-boothook', '#cloud-boothook\n#!/bin/sh\necho boot\n'],
    ['per-boot.sh', 'x-shellscript-per-boot', '#!/bin/sh\necho every boot'],
    ['notes.txt', 'text/plain', 'no newline at the end'],
  ];
  for (const [name, , content] of inputs) writeFileSync(join(dir, name), content);
  const out = join(dir, 'user-data');
  const r = runCli(['cloud-init', 'mime', '-o', out, ...inputs.map(([name, type]) => `${join(dir, name)}:${type}`)]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /notes\.txt\).*cloud-init ignores this part/, 'the text/plain part is reported as ignored');
  const theirs = (await oracle(dir, [out]))[out];
  assert.deepEqual(
    theirs?.parts.map((p) => [p.type, Buffer.from(p.payload, 'base64').toString('utf8')]),
    inputs.map(([, type, content]) => [type.includes('/') ? type : `text/${type}`, content]),
  );
  assert.deepEqual(theirs?.config, { hostname: 'from-mime', runcmd: [['echo', 'été']] });
});

test('YAML 1.1 scalars resolve to what PyYAML constructs', () => {
  const scalars = [
    'yes', 'No', 'ON', 'off', 'y', 'n', 'true', 'False', '~', 'null', '', '0644', '0o644', '0x1f', '0b11', '09', '1_000', '-12', '+7', '1:20', '22:22', '52:54:00:12:34:56',
    '00:16:3e:aa:bb:cc', '1.5', '1.', '.5', '1e3', '1.0e3', '1.0e+3', '6.8523015e+5', '.inf', '-.Inf', '.nan', '190:20:30.15', '2001-12-14', '2001-12-14t21:59:43.10-05:00',
    '2001-1-1', '12:30', '3:05', '"quoted"', "'0644'", '!!str 123', '!!int "42"', '!!float 1', 'abc', '1.2.3', '0.', '-0', '0', '=', '<<',
  ];
  const py = run(PYTHON, ['-c', String.raw`
import json, sys, yaml, datetime
out = []
for s in json.load(sys.stdin):
    try:
        v = yaml.safe_load("v: " + s)["v"]
    except Exception as e:
        out.append(["error", None]); continue
    t = type(v).__name__
    if isinstance(v, float):
        v = repr(v)
    elif isinstance(v, (datetime.date, datetime.datetime)):
        v = None
    out.append([t, v])
print(json.dumps(out))
`], { input: JSON.stringify(scalars) });
  assert.equal(py.status, 0, py.stderr);
  const theirs = JSON.parse(py.stdout) as [string, unknown][];
  scalars.forEach((s, i) => {
    const report = new ProblemReport('s', new LineIndex(`v: ${s}`));
    const { root } = parseYaml(`v: ${s}`, report);
    const node = root?.kind === 'map' ? root.entries[0]?.value : undefined;
    let ours: [string, unknown] = ['error', null];
    if (node?.kind === 'scalar') {
      const v = node.value;
      if (v === null) ours = ['NoneType', null];
      else if (typeof v === 'boolean') ours = ['bool', v];
      else if (typeof v === 'string') ours = ['str', v];
      else if (typeof v === 'number' && node.float) ours = ['float', Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : Number.isInteger(v) ? `${v}.0` : String(v)];
      else if (typeof v === 'number') ours = ['int', v];
      else if (v instanceof Date) ours = [/t|:/i.test(s) ? 'datetime' : 'date', null];
    }
    assert.deepEqual(ours, theirs[i], `v: ${s}`);
  });
});
