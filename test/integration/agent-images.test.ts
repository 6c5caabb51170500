// The agent's image endpoints with real components: `atomicd run`, a real distribution registry
// on loopback holding a busybox image built with umoci and pushed with skopeo, driven by our
// `atomic` CLI and by the real docker CLI, checked against each other and against the store.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { runCliAsync, type RunResult } from '../helpers.js';
import { agentHttp, docker as dockerCli, startAgent, type AgentProcess } from '../fixtures/agent-process.js';
import {
  buildBusyboxLayout, craftImage, htpasswdLine, pushCrafted, manifestDescriptor, pushWithSkopeo, startRegistry, type RegistryServer,
} from '../fixtures/registry.js';
import { ImageStore } from '../../src/adapters/image-store/image-store.js';
import { AgentClient } from '../../src/adapters/agent-client/agent-client.js';
import { Router } from '../../src/agent/api/router.js';
import { startApiServer } from '../../src/agent/api/server.js';
import { imageRoutes } from '../../src/agent/api/compat/images.js';
import { Conflict } from '../../src/lib/errors.js';

let work: string;
let registry: RegistryServer;
let authRegistry: RegistryServer;
let host: string;
let agent: AgentProcess;
let socket: string;
let stateDir: string;
let manifestDigest: string;
let configDigest: string;
let extraConfigDigest: string;

before(async () => {
  work = mkdtempSync(join(process.env.ATOMIC_TEST_TMP ?? tmpdir(), 'agent-images-'));
  registry = await startRegistry(work);
  host = registry.host;
  const layout = buildBusyboxLayout(work);
  pushWithSkopeo(layout.layout, '1.36', host, 'busybox:latest', 'oci');
  pushWithSkopeo(layout.layout, 'extra', host, 'busybox:extra', 'oci');
  const pushed = await manifestDescriptor(registry.url, 'busybox', 'latest');
  manifestDigest = pushed.digest;
  configDigest = (JSON.parse(pushed.body.toString('utf8')) as { config: { digest: string } }).config.digest;
  const extra = await manifestDescriptor(registry.url, 'busybox', 'extra');
  extraConfigDigest = (JSON.parse(extra.body.toString('utf8')) as { config: { digest: string } }).config.digest;
  const htpasswd = join(work, 'htpasswd');
  writeFileSync(htpasswd, `${htpasswdLine('bob', 'builder')}\n`);
  authRegistry = await startRegistry(work, { name: 'auth-registry', storageDir: registry.storageDir, htpasswd: { realm: 'atomic-test', path: htpasswd } });

  agent = await startAgent({ work, name: 'images', runtime: 'crun' });
  socket = agent.socket;
  stateDir = agent.stateDir;
});

after(async () => {
  await agent?.kill();
  await registry?.stop();
  await authRegistry?.stop();
  rmSync(work, { recursive: true, force: true });
});

const atomic = (args: readonly string[]): Promise<RunResult> => runCliAsync(['-H', `unix://${socket}`, ...args]);
const docker = (args: readonly string[]): Promise<RunResult> => dockerCli(agent, args);


function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.status, 0, `${what} exited ${r.status}\n${r.stderr}${r.stdout}`);
  return r;
}

const http = (method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> => agentHttp(agent, method, path, { headers });

/** The agent's own store, read from its state directory (reads only). */
const store = (): ImageStore => new ImageStore({ root: join(stateDir, 'images') });

test('atomic pull shows Docker\'s progress, the digest and the canonical reference; a second pull is up to date', async () => {
  const ref = `${host}/busybox:latest`;
  const r = ok(await atomic(['pull', ref]), 'atomic pull');
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], 'latest: Pulling from busybox', 'docker\'s non-terminal form: ID: STATUS');
  assert.match(r.stdout, /^[0-9a-f]{12}: Pull complete$/m);
  assert.ok(lines.includes(`Digest: ${manifestDigest}`), r.stdout);
  assert.ok(lines.includes(`Status: Downloaded newer image for ${ref}`), r.stdout);
  assert.equal(lines.at(-1), ref, 'ends with the canonical reference');
  const again = ok(await atomic(['pull', ref]), 'second pull');
  assert.match(again.stdout, /^[0-9a-f]{12}: Already exists$/m);
  assert.match(again.stdout, new RegExp(`^Status: Image is up to date for ${ref.replace(/[.]/g, '\\.')}$`, 'm'));
  const img = await store().inspect(ref);
  assert.equal(img.id, configDigest);
  assert.deepEqual(img.repoDigests, [`${host}/busybox@${manifestDigest}`]);
});

test('docker pull through the agent; docker images, atomic images and the store agree', async () => {
  const ref = `${host}/busybox:extra`;
  const d = ok(await docker(['pull', ref]), 'docker pull');
  assert.match(d.stdout, /Digest: sha256:[0-9a-f]{64}/);
  assert.match(d.stdout, new RegExp(`Downloaded newer image for ${host.replace(/[.]/g, '\\.')}/busybox:extra`));
  assert.ok(d.stdout.trim().endsWith(ref), d.stdout);
  assert.equal((await store().inspect(ref)).id, extraConfigDigest);

  const dockerRows = ok(await docker(['images', '--format', '{{.Repository}} {{.Tag}} {{.ID}}']), 'docker images').stdout.trim().split('\n').sort();
  const stored = (await store().list()).flatMap((i) => i.repoTags.map((t) => `${t.slice(0, t.lastIndexOf(':'))} ${t.slice(t.lastIndexOf(':') + 1)} ${i.id.slice(7, 19)}`)).sort();
  assert.deepEqual(dockerRows, stored);
  const table = ok(await atomic(['images']), 'atomic images').stdout.trim().split('\n');
  assert.match(table[0]!, /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$/);
  const rows = table.slice(1).map((l) => l.split(/ {3,}/));
  assert.deepEqual(rows.map((c) => `${c[0]} ${c[1]} ${c[2]}`).sort(), stored);
  for (const c of rows) {
    assert.match(c[2]!, /^[0-9a-f]{12}$/);
    assert.match(c[3]!, /^(\d+ (seconds|minutes|hours|days|weeks|months|years)|About an? (minute|hour)|Less than a second|1 second) ago$/);
    assert.match(c[4]!, /^\d+(\.\d+)?(B|kB|MB)$/);
  }
  // The size column is the store's size in Docker's decimal units, as docker shows it.
  const dockerSizes = ok(await docker(['images', '--format', '{{.ID}} {{.Size}}']), 'docker sizes').stdout.trim().split('\n').sort();
  assert.deepEqual(rows.map((c) => `${c[2]} ${c[4]}`).sort(), dockerSizes);
  const quiet = ok(await atomic(['images', '-q']), 'images -q').stdout.trim().split('\n').sort();
  assert.deepEqual(quiet, [...new Set((await store().list()).map((i) => i.id.slice(7, 19)))].sort());
  const digests = ok(await atomic(['images', '--digests', `${host}/busybox:latest`]), 'images --digests').stdout;
  assert.match(digests, /DIGEST/);
  assert.ok(digests.includes(manifestDigest), digests);
  const count = (await store().list()).length;
  assert.equal(ok(await docker(['info', '--format', '{{.Images}}']), 'docker info').stdout.trim(), String(count));
  assert.equal((JSON.parse(ok(await atomic(['info', '--json']), 'atomic info').stdout) as { Server: { Images: number } }).Server.Images, count);
  const json = JSON.parse(ok(await atomic(['images', '--json']), 'images --json').stdout) as { Id: string; RepoTags: string[] }[];
  assert.deepEqual(json.map((i) => i.Id).sort(), (await store().list()).map((i) => i.id).sort());
  const inspected = JSON.parse(ok(await docker(['image', 'inspect', ref]), 'docker image inspect').stdout) as { Id: string; RootFS: { Layers: string[] }; Architecture: string; Os: string; Config: { Cmd: string[] } }[];
  assert.equal(inspected[0]!.Id, extraConfigDigest);
  assert.deepEqual(inspected[0]!.RootFS.Layers, (await store().inspect(ref)).diffIds);
  assert.equal(inspected[0]!.Architecture, 'amd64');
  assert.deepEqual(inspected[0]!.Config.Cmd, ['sh']);
});

test('tag and rmi with both CLIs: names come and go in the store; the last name deletes the image', async () => {
  const src = `${host}/busybox:latest`;
  ok(await atomic(['tag', src, 'mine/app:v1']), 'atomic tag');
  ok(await docker(['tag', src, 'other:v2']), 'docker tag');
  const tags = (await store().inspect(src)).repoTags;
  assert.ok(tags.includes('docker.io/mine/app:v1') && tags.includes('docker.io/library/other:v2'), tags.join(' '));
  const listed = ok(await docker(['images', '--format', '{{.Repository}}:{{.Tag}}']), 'docker images').stdout;
  assert.match(listed, /^mine\/app:v1$/m);
  assert.match(listed, /^other:v2$/m);

  const d = ok(await docker(['rmi', 'other:v2']), 'docker rmi');
  assert.equal(d.stdout.trim(), 'Untagged: other:v2');
  const a = ok(await atomic(['rmi', 'mine/app:v1']), 'atomic rmi');
  assert.equal(a.stdout.trim(), 'Untagged: mine/app:v1');
  assert.deepEqual((await store().inspect(src)).repoTags, [src]);

  // The only name of `extra`: untagged, then deleted with its own layer.
  const gone = ok(await atomic(['rmi', `${host}/busybox:extra`]), 'atomic rmi last name');
  assert.match(gone.stdout, new RegExp(`^Untagged: ${host.replace(/[.]/g, '\\.')}/busybox:extra$`, 'm'));
  assert.match(gone.stdout, new RegExp(`^Deleted: ${extraConfigDigest}$`, 'm'));
  await assert.rejects(store().inspect(extraConfigDigest), /No such image/);
});

test('bad input: unknown images, malformed references and bad tags are refused with Docker\'s words', async () => {
  const r = await atomic(['rmi', 'nosuch:1']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /No such image: nosuch:1/);
  const d = await docker(['rmi', 'nosuch:1']);
  assert.equal(d.status, 1);
  assert.match(d.stderr, /No such image: nosuch:1/);
  const i = await docker(['image', 'inspect', 'nosuch:1']);
  assert.notEqual(i.status, 0);
  assert.match(i.stderr, /No such image: nosuch:1/);
  const t = await atomic(['tag', 'nosuch:1', 'x:y']);
  assert.notEqual(t.status, 0);
  assert.match(t.stderr, /No such image: nosuch:1/);

  const bad = await atomic(['pull', 'Bad//Ref']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /Bad\/\/Ref.*invalid reference format/);
  const raw = await http('POST', `/v1.43/images/create?fromImage=${encodeURIComponent('Bad//Ref')}&tag=latest`);
  assert.equal(raw.status, 400);
  assert.match((JSON.parse(raw.body) as { message: string }).message, /Bad\/\/Ref.*invalid reference format/);
  const badTag = await atomic(['tag', `${host}/busybox:latest`, 'ok/name:bad tag']);
  assert.equal(badTag.status, 2);
  assert.match(badTag.stderr, /ok\/name:bad tag/);

  // An image the registry does not have: an HTTP 404 before any progress, as dockerd answers.
  const missing = await http('POST', `/v1.43/images/create?fromImage=${host}/nothere&tag=1`);
  assert.equal(missing.status, 404, missing.body);
  const dm = await docker(['pull', `${host}/nothere:1`]);
  assert.equal(dm.status, 1);
  assert.match(dm.stderr, /Error response from daemon: .*nothere/);
});

test('X-Registry-Auth carries credentials to the registry; wrong ones are refused', async () => {
  const auth = (u: string, p: string): string => Buffer.from(JSON.stringify({ username: u, password: p, serveraddress: authRegistry.host })).toString('base64url');
  const path = `/v1.43/images/create?fromImage=${authRegistry.host}/busybox&tag=latest`;
  const good = await http('POST', path, { 'X-Registry-Auth': auth('bob', 'builder') });
  assert.equal(good.status, 200);
  const lines = good.body.trim().split('\n').map((l) => JSON.parse(l) as { status?: string; error?: string });
  assert.equal(lines.find((l) => l.error !== undefined), undefined, good.body);
  assert.equal(lines.at(-1)!.status, `Status: Downloaded newer image for ${authRegistry.host}/busybox:latest`);
  const wrong = await http('POST', path.replace('latest', 'extra'), { 'X-Registry-Auth': auth('bob', 'nope') });
  assert.equal(wrong.status, 403, wrong.body);
  assert.doesNotMatch(wrong.body, /nope/);
  const malformed = await http('POST', path, { 'X-Registry-Auth': '!!!' });
  assert.equal(malformed.status, 400);
  assert.match(malformed.body, /X-Registry-Auth/);
});

test('DELETE /images with an imageInUse hook: Docker\'s 409 conflicts, and force keeps a running container\'s image', async (t) => {
  // An in-process API over a store of its own, with a container engine stand-in answering "in use".
  const root = mkdtempSync(join(work, 'inuse-'));
  const images = new ImageStore({ root });
  const ref = `${host}/busybox:latest`;
  const rec = await images.pull(ref);
  const router = new Router();
  const containerId = 'c'.repeat(64);
  imageRoutes(router, images, { imageInUse: (id) => (id === rec.id ? { containerId, running: true } : undefined) });
  const sock = join(root, 'api.sock');
  const server = await startApiServer(router, { kind: 'unix', path: sock }, pino({ level: 'silent' }));
  t.after(() => server.close());
  const client = new AgentClient({ kind: 'unix', path: sock });
  await assert.rejects(client.json('DELETE', `/images/${ref}`), (e: unknown) => {
    assert.ok(e instanceof Conflict, String(e));
    assert.equal(e.message, `conflict: unable to remove repository reference "${ref}" (must force) - container cccccccccccc is using its referenced image ${rec.id.slice(7, 19)}`);
    return true;
  });
  await assert.rejects(client.json('DELETE', `/images/${rec.id}`, { query: { force: '1' } }), (e: unknown) => e instanceof Conflict && /cannot be forced\) - image is being used by running container cccccccccccc/.test(e.message));
  const forced = await client.json<{ Untagged?: string }[]>('DELETE', `/images/${ref}`, { query: { force: '1' } });
  assert.deepEqual(forced, [{ Untagged: ref }, { Untagged: `${host}/busybox@${manifestDigest}` }]);
  assert.equal((await images.inspect(rec.id)).repoTags.length, 0, 'untagged, but kept for the running container');
  const pruned = await client.json<{ ImagesDeleted: unknown }>('POST', '/images/prune');
  assert.equal(pruned.ImagesDeleted, null, 'prune leaves an image a container uses');
});

test('a pull that fails after progress began ends the stream with Docker\'s errorDetail; both CLIs fail with the message', async () => {
  // An empty tar layer whose config names another diff_id: refused while unpacking, after "Downloading".
  const wrong = `sha256:${'0'.repeat(64)}`;
  await pushCrafted(registry.url, 'corrupt', 'v1', craftImage([Buffer.alloc(1024)], { diffIds: [wrong] }));
  const raw = await http('POST', `/v1.43/images/create?fromImage=${host}/corrupt&tag=v1`);
  assert.equal(raw.status, 200, 'the stream had started');
  const lines = raw.body.trim().split('\n').map((l) => JSON.parse(l) as { status?: string; error?: string; errorDetail?: { code?: number; message?: string } });
  assert.ok(lines.some((l) => l.status === 'Downloading' || l.status === 'Extracting' || l.status === 'Download complete'), raw.body);
  const last = lines.at(-1)!;
  assert.match(last.error ?? '', new RegExp(`diff_id is ${wrong}`));
  assert.equal(last.errorDetail?.message, last.error);
  const a = await atomic(['pull', `${host}/corrupt:v1`]);
  assert.equal(a.status, 1);
  assert.match(a.stderr, /diff_id is sha256:0{64}/);
  const d = await docker(['pull', `${host}/corrupt:v1`]);
  assert.equal(d.status, 1);
  assert.match(d.stderr, /diff_id is sha256:0{64}/);
  await assert.rejects(store().inspect(`${host}/corrupt:v1`), /No such image/);
});
