// The agent's volume endpoints with the real `atomicd run`, driven by our `atomic` CLI and the real
// docker CLI; both must agree with each other and with what is on disk under STATE/volumes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT, runCliAsync, runOk, type RunResult } from '../helpers.js';
import { freePort } from '../fixtures/registry.js';
import { agentHttp, docker as dockerCli, startAgent, type AgentProcess } from '../fixtures/agent-process.js';
import { VolumeStore } from '../../src/adapters/volume-store/volume-store.js';

let work: string;
let agent: AgentProcess;
let socket: string;
let volumesDir: string;

before(async () => {
  work = mkdtempSync(join(process.env.ATOMIC_TEST_TMP ?? tmpdir(), 'agent-volumes-'));
  agent = await startAgent({ work, name: 'volumes' });
  socket = agent.socket;
  volumesDir = join(agent.stateDir, 'volumes');
});

after(async () => {
  await agent?.kill();
  rmSync(work, { recursive: true, force: true });
});

// ATOMIC_HOST here, -H in the images test: both ways of naming the agent are exercised.
const atomic = (args: readonly string[]): Promise<RunResult> => runCliAsync(args, { env: { ATOMIC_HOST: `unix://${socket}` } });

const docker = (args: readonly string[]): Promise<RunResult> => dockerCli(agent, args);

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.status, 0, `${what} exited ${r.status}\n${r.stderr}${r.stdout}`);
  return r;
}

const http = (method: string, path: string, body?: string): Promise<{ status: number; body: string }> => agentHttp(agent, method, path, body === undefined ? {} : { body });

const onDisk = (): string[] => readdirSync(volumesDir).filter((n) => !n.startsWith('.')).sort();

test('create, ls, inspect with both CLIs; each volume is a directory with _data and its metadata', async () => {
  ok(await atomic(['volume', 'create', '--label', 'tier=db', '--label', 'bare', 'data1']), 'atomic volume create');
  ok(await docker(['volume', 'create', '--label', 'tier=web', 'data2']), 'docker volume create');
  const anon = ok(await atomic(['volume', 'create']), 'anonymous create').stdout.trim();
  assert.match(anon, /^[0-9a-f]{64}$/, 'a volume without a name gets 64 hex digits');
  assert.deepEqual(onDisk(), [anon, 'data1', 'data2'].sort());
  for (const n of onDisk()) {
    assert.ok(statSync(join(volumesDir, n, '_data')).isDirectory());
    assert.ok(existsSync(join(volumesDir, n, 'volume.json')));
  }
  assert.deepEqual(readdirSync(volumesDir).filter((n) => n.startsWith('.')), [], 'no temp directories left');

  const table = ok(await atomic(['volume', 'ls']), 'atomic volume ls').stdout.trim().split('\n');
  assert.match(table[0]!, /^DRIVER +VOLUME NAME$/);
  assert.deepEqual(table.slice(1).map((l) => l.split(/ +/)).map(([d, n]) => `${d} ${n}`).sort(), onDisk().map((n) => `local ${n}`));
  const dockerLs = ok(await docker(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']), 'docker volume ls').stdout.trim().split('\n').sort();
  assert.deepEqual(dockerLs, onDisk().map((n) => `local ${n}`));
  assert.deepEqual(ok(await atomic(['volume', 'ls', '-q', '-f', 'label=tier=db']), 'ls -f label').stdout.trim().split('\n'), ['data1']);
  assert.deepEqual(ok(await docker(['volume', 'ls', '-q', '-f', 'name=data']), 'docker ls -f name').stdout.trim().split('\n').sort(), ['data1', 'data2']);
  // No container engine yet: every volume is dangling (unused).
  assert.deepEqual(ok(await atomic(['volume', 'ls', '-q', '-f', 'dangling=true']), 'ls dangling').stdout.trim().split('\n').sort(), onDisk());
  assert.equal(ok(await atomic(['volume', 'ls', '-q', '-f', 'dangling=false']), 'ls not dangling').stdout, '');

  const [d] = JSON.parse(ok(await docker(['volume', 'inspect', 'data1']), 'docker volume inspect').stdout) as { Name: string; Driver: string; Mountpoint: string; Labels: Record<string, string>; Scope: string; CreatedAt: string }[];
  assert.equal(d!.Name, 'data1');
  assert.equal(d!.Driver, 'local');
  assert.equal(d!.Scope, 'local');
  assert.equal(d!.Mountpoint, join(volumesDir, 'data1', '_data'));
  assert.deepEqual(d!.Labels, { tier: 'db', bare: '' });
  assert.ok(!Number.isNaN(Date.parse(d!.CreatedAt)));
  const [a] = JSON.parse(ok(await atomic(['volume', 'inspect', 'data1']), 'atomic volume inspect').stdout) as unknown[];
  assert.deepEqual(a, d);
  // The store reading the same directory sees the same thing.
  const stored = await new VolumeStore({ root: volumesDir }).inspect('data1');
  assert.equal(stored.mountpoint, d!.Mountpoint);
  assert.deepEqual(stored.labels, d!.Labels);

  // Creating an existing name again is not an error and changes nothing (Docker's behaviour).
  ok(await docker(['volume', 'create', 'data1']), 'create again');
  assert.deepEqual((await new VolumeStore({ root: volumesDir }).inspect('data1')).labels, { tier: 'db', bare: '' });
});

test('rm and prune with both CLIs: data goes with the volume; prune takes anonymous ones unless -a', async () => {
  ok(await atomic(['volume', 'create', 'keep1']), 'create keep1');
  ok(await atomic(['volume', 'create', 'gone1']), 'create gone1');
  ok(await docker(['volume', 'create', 'gone2']), 'create gone2');
  writeFileSync(join(volumesDir, 'gone1', '_data', 'file'), 'x'.repeat(1000));
  assert.equal(ok(await atomic(['volume', 'rm', 'gone1']), 'atomic volume rm').stdout.trim(), 'gone1');
  assert.equal(ok(await docker(['volume', 'rm', 'gone2']), 'docker volume rm').stdout.trim(), 'gone2');
  assert.ok(!onDisk().includes('gone1') && !onDisk().includes('gone2'));

  // A volume made for a container's anonymous mount carries Docker's label; plain prune takes only those.
  const anonymous = await new VolumeStore({ root: volumesDir }).create({ anonymous: true });
  writeFileSync(join(anonymous.mountpoint, 'f'), 'y'.repeat(36));
  const p = ok(await docker(['volume', 'prune', '-f']), 'docker volume prune');
  assert.match(p.stdout, new RegExp(`Deleted Volumes:\\n${anonymous.name}\\n`));
  assert.match(p.stdout, /Total reclaimed space: 36B/);
  assert.ok(onDisk().includes('keep1'), 'a named volume survives prune without -a');

  ok(await atomic(['volume', 'create', '--label', 'prune=yes', 'lab1']), 'create lab1');
  const byLabel = ok(await atomic(['volume', 'prune', '-a', '-f', '--filter', 'label=prune=yes']), 'prune by label').stdout;
  assert.match(byLabel, /Deleted Volumes:\nlab1\n/);
  assert.ok(onDisk().includes('keep1'));
  const all = ok(await atomic(['volume', 'prune', '-a', '-f', '--json']), 'prune -a').stdout;
  const r = JSON.parse(all) as { volumesDeleted: string[] };
  assert.ok(r.volumesDeleted.includes('keep1'));
  assert.deepEqual(onDisk(), []);
  assert.deepEqual(ok(await docker(['volume', 'ls', '-q']), 'ls after prune').stdout.trim(), '');
  // No -f and no terminal: refused, nothing removed.
  ok(await atomic(['volume', 'create', 'stay']), 'create stay');
  const refused = await atomic(['volume', 'prune', '-a']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /pass -f/);
  assert.deepEqual(onDisk(), ['stay']);
});

test('bad input: invalid names name the rule (400 / exit 2); missing volumes are 404 / exit 1; rm -f of a missing one is fine', async () => {
  const bad = await atomic(['volume', 'create', 'bad/name']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /"bad\/name" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed/);
  const dbad = await docker(['volume', 'create', '-x']);
  assert.notEqual(dbad.status, 0);
  const raw = await http('POST', '/v1.43/volumes/create', JSON.stringify({ Name: '..' }));
  assert.equal(raw.status, 400);
  assert.match((JSON.parse(raw.body) as { message: string }).message, /\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]/);
  const notJson = await http('POST', '/v1.43/volumes/create', '{nope');
  assert.equal(notJson.status, 400);
  const badOpt = await http('POST', '/v1.43/volumes/create', JSON.stringify({ Name: 'opt1', DriverOpts: { bogus: '1' } }));
  assert.equal(badOpt.status, 400);
  assert.match(badOpt.body, /invalid option: \\"bogus\\"/);
  const badDriver = await atomic(['volume', 'create', '-d', 'nfs-plugin', 'drv1']);
  assert.notEqual(badDriver.status, 0);
  assert.match(badDriver.stderr, /plugin "nfs-plugin" not found/);
  const badFilter = await http('GET', `/v1.43/volumes?filters=${encodeURIComponent('{"colour":{"red":true}}')}`);
  assert.equal(badFilter.status, 400);
  assert.match(badFilter.body, /invalid filter 'colour'/);
  assert.deepEqual(onDisk().filter((n) => n.startsWith('opt') || n.startsWith('drv') || n === 'bad'), [], 'nothing half-made');

  const missing = await atomic(['volume', 'inspect', 'nosuchvol']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /get nosuchvol: no such volume/);
  const drm = await docker(['volume', 'rm', 'nosuchvol']);
  assert.equal(drm.status, 1);
  assert.match(drm.stderr, /no such volume/);
  const get = await http('GET', '/v1.43/volumes/nosuchvol');
  assert.equal(get.status, 404);
  ok(await atomic(['volume', 'rm', '-f', 'nosuchvol']), 'rm -f of a missing volume');

  // A damaged volume (no metadata) does not hide the others: it is a warning of the listing.
  mkdirSync(join(volumesDir, 'damaged', '_data'), { recursive: true });
  const ls = ok(await atomic(['volume', 'ls', '-q']), 'ls with a damaged volume');
  assert.ok(ls.stdout.split('\n').includes('stay'), ls.stdout);
  assert.match(ls.stderr, /WARNING: .*damaged: volume damaged has no volume\.json/);
  assert.match(ok(await docker(['volume', 'ls']), 'docker ls with a damaged volume').stdout, /stay/);
  rmSync(join(volumesDir, 'damaged'), { recursive: true });
});

test('version and info: client and agent, as JSON and as text; no agent is a clear error after the client part', async () => {
  const v = JSON.parse(ok(await atomic(['version', '--format', 'json']), 'atomic version').stdout) as { Client: { Version: string; ApiVersion: string }; Server: { Version: string; ApiVersion: string } };
  const dockerV = ok(await docker(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}']), 'docker version').stdout.trim();
  assert.equal(`${v.Server.Version} ${v.Server.ApiVersion}`, dockerV);
  assert.equal(v.Client.ApiVersion, '1.43');
  const text = ok(await atomic(['version']), 'atomic version text').stdout;
  assert.match(text, /^Client:\n Version: +\d+\.\d+\.\d+/);
  assert.match(text, /^Server: atomicd\n Version: /m);
  const info = JSON.parse(ok(await atomic(['info', '--json']), 'atomic info').stdout) as { Client: { Host: string }; Server: { DockerRootDir: string; OSType: string } };
  assert.equal(info.Client.Host, `unix://${socket}`);
  assert.equal(info.Server.DockerRootDir, agent.stateDir);
  assert.match(ok(await atomic(['info']), 'atomic info text').stdout, /^ Docker Root Dir: /m);
  const none = await runCliAsync(['-H', `unix://${join(work, 'nothing.sock')}`, 'version']);
  assert.equal(none.status, 1);
  assert.match(none.stdout, /^Client:/);
  assert.match(none.stderr, /cannot connect to the atomic agent at unix:\/\/.*nothing\.sock: no socket there\. Is atomicd running\?/);
  const badHost = await runCliAsync(['-H', 'ftp://x:1', 'info']);
  assert.equal(badHost.status, 2);
  assert.match(badHost.stderr, /-H "ftp:\/\/x:1": unsupported scheme/);
});

test('the CLI reaches a tcp:// agent with mutual TLS given --tls-ca/--tls-cert/--tls-key; without them it is refused', async (t) => {
  const dir = mkdtempSync(join(work, 'tls-'));
  const p = (n: string): string => join(dir, n);
  const ssl = (args: readonly string[]): void => void runOk('openssl', args);
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test CA', '-keyout', p('ca-key.pem'), '-out', p('ca.pem')]);
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, ext] of [['server', 'server.ext'], ['client', 'client.ext']] as const) {
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', p(`${name}-key.pem`), '-out', p(`${name}.csr`)]);
    ssl(['x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca-key.pem'), '-CAcreateserial', '-days', '2', '-extfile', p(ext), '-out', p(`${name}.pem`)]);
  }
  const port = await freePort();
  let log = '';
  const tlsAgent = spawn(process.execPath, [AGENT, 'run', '--state-dir', join(dir, 'state'), '--socket', join(dir, 'a.sock'), '--bridge', 'none', '--exec-root', join(dir, 'exec'), '--tcp', `127.0.0.1:${port}`, '--tls-cert', p('server.pem'), '--tls-key', p('server-key.pem'), '--tls-ca', p('ca.pem')], { stdio: ['ignore', 'ignore', 'pipe'] });
  tlsAgent.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  t.after(() => tlsAgent.kill('SIGKILL'));
  for (let i = 0; i < 200 && !log.includes('atomicd running'); i++) await new Promise((r) => setTimeout(r, 25));
  assert.match(log, /atomicd running/);
  const tls = ['--tls-ca', p('ca.pem'), '--tls-cert', p('client.pem'), '--tls-key', p('client-key.pem')];
  ok(await runCliAsync([...tls, '-H', `tcp://127.0.0.1:${port}`, 'volume', 'create', 'overtls']), 'volume create over TLS');
  const listed = ok(await runCliAsync(['-H', `tcp://127.0.0.1:${port}`, ...tls, 'volume', 'ls', '-q']), 'volume ls over TLS').stdout.trim();
  assert.equal(listed, 'overtls');
  const plain = await runCliAsync(['-H', `tcp://127.0.0.1:${port}`, 'volume', 'ls']);
  assert.equal(plain.status, 1, 'plain HTTP to the TLS port fails');
  const partial = await runCliAsync(['--tls-ca', p('ca.pem'), '-H', `tcp://127.0.0.1:${port}`, 'volume', 'ls']);
  assert.equal(partial.status, 2);
  assert.match(partial.stderr, /needs all of --tls-ca, --tls-cert and --tls-key/);
});
