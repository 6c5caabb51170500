// The image layer against a real CNCF distribution registry on 127.0.0.1 (Debian docker-registry):
// pulls by tag and digest of OCI and Docker schema 2 images built offline with umoci and pushed
// with skopeo, platform selection from an index, digests checked while streaming, concurrent and
// shared layers, Range resume through a proxy that cuts a transfer, the plain-HTTP rule, token
// and basic auth, the overlay form under a real overlayfs mount, and rmi/gc with Docker's results.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createHash, randomBytes, sign } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore, type PullProgress } from '../../src/adapters/image-store/image-store.js';
import { isInsecureRegistry } from '../../src/adapters/registry/registry-host.js';
import { Cancelled, Conflict, DataLoss, FailedPrecondition, NotFound, PermissionDenied, Unavailable } from '../../src/lib/errors.js';
import {
  buildBusyboxLayout, craftImage, htpasswdLine, manifestDescriptor, pushCrafted, pushIndex, pushWithSkopeo, registryBlobDataPath, startLoopbackProxy, startRegistry,
  type BusyboxLayout, type CraftedImage, type RegistryServer,
} from '../fixtures/registry.js';
import { buildTar } from '../fixtures/tar-builder.js';
import { run, runOk } from '../helpers.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

let work: string;
let registry: RegistryServer;
let layout: BusyboxLayout;
let host: string;
let storeCount = 0;

function newStore(opts: Omit<ConstructorParameters<typeof ImageStore>[0], 'root'> = {}): ImageStore {
  const root = join(work, `store-${storeCount++}`);
  return new ImageStore({ root, ...opts });
}

/** One layer of incompressible data (so a gzip blob is about as big as `size`). */
function randomLayer(name: string, size: number): Buffer {
  return buildTar([{ path: 'data/', type: 'dir' }, { path: `data/${name}`, data: randomBytes(size) }]);
}

function hex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

interface StoreState {
  readonly blobs: string[];
  readonly layers: string[];
  readonly tmp: string[];
  readonly ingest: string[];
  readonly images: string | undefined;
}

function storeState(root: string): StoreState {
  const ls = (d: string): string[] => (existsSync(join(root, d)) ? readdirSync(join(root, d)).sort() : []);
  return {
    blobs: ls('blobs/sha256'),
    layers: ls('layers'),
    tmp: ls('tmp'),
    ingest: ls('ingest'),
    images: existsSync(join(root, 'images.json')) ? readFileSync(join(root, 'images.json'), 'utf8') : undefined,
  };
}

before(async () => {
  work = mkdtempSync(join(process.env.ATOMIC_TEST_TMP ?? tmpdir(), 'image-pull-'));
  registry = await startRegistry(work);
  host = registry.host;
  layout = buildBusyboxLayout(work);
  pushWithSkopeo(layout.layout, '1.36', host, 'busybox:1.36', 'oci');
  pushWithSkopeo(layout.layout, 'extra', host, 'busybox:extra', 'oci');
  pushWithSkopeo(layout.layout, '1.36', host, 'v2/busybox:1.36', 'v2s2');
  pushWithSkopeo(layout.layout, '1.36', host, 'multi:amd64', 'oci');
  pushWithSkopeo(layout.layout, 'arm64', host, 'multi:arm64', 'oci');
  const amd64 = await manifestDescriptor(registry.url, 'multi', 'amd64');
  const arm64 = await manifestDescriptor(registry.url, 'multi', 'arm64');
  await pushIndex(registry.url, 'multi', 'latest', [
    { ...arm64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { ...amd64, platform: { os: 'linux', architecture: 'amd64' } },
  ]);
});

after(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('pull', () => {
  test('by tag, an OCI image: images, inspect and config reflect the image config; the rootfs keeps links and modes', async () => {
    const store = newStore();
    const pushed = await manifestDescriptor(registry.url, 'busybox', '1.36');
    const manifest = JSON.parse(pushed.body.toString('utf8')) as { config: { digest: string } };
    const rec = await store.pull(`${host}/busybox:1.36`);
    assert.equal(rec.manifestMediaType, OCI_MANIFEST);
    assert.equal(rec.manifestDigest, pushed.digest);
    assert.equal(rec.id, manifest.config.digest, 'the image ID is the config digest');
    assert.deepEqual(rec.repoTags, [`${host}/busybox:1.36`]);
    assert.deepEqual(rec.repoDigests, [`${host}/busybox@${pushed.digest}`]);
    assert.deepEqual(rec.platform, { os: 'linux', architecture: 'amd64' });
    assert.ok(rec.sizeBytes > 100_000, 'size counts the unpacked content (static busybox)');

    const listed = await store.list();
    assert.deepEqual(listed.map((i) => i.id), [rec.id]);
    assert.equal((await store.inspect(`${host}/busybox:1.36`)).id, rec.id);
    assert.equal((await store.inspect(hex(rec.id).slice(0, 12))).id, rec.id, 'a unique ID prefix finds it');
    await assert.rejects(store.inspect(`${host}/busybox:nope`), (e: unknown) => e instanceof NotFound && /No such image/.test(e.message));

    const config = await store.config(`${host}/busybox:1.36`);
    assert.deepEqual(config.config?.Cmd, ['sh']);
    assert.ok(config.config?.Env?.includes('PATH=/bin'), JSON.stringify(config.config?.Env));
    assert.equal(config.config?.WorkingDir, '/root');
    assert.equal(config.architecture, 'amd64');

    const [dir] = store.layerDirs(rec);
    assert.ok(dir !== undefined && dir === store.layerPath(rec.diffIds[0]!));
    assert.equal(statSync(join(dir, 'bin/busybox')).ino, statSync(join(dir, 'bin/busybox.hard')).ino, 'the hard link survives');
    assert.equal(readlinkSync(join(dir, 'bin/sh')), 'busybox');
    assert.equal(statSync(join(dir, 'bin/suid')).mode & 0o7777, 0o4755, 'setuid survives');
    assert.equal(statSync(join(dir, 'tmp')).mode & 0o7777, 0o1777, 'sticky survives');
    assert.equal(statSync(join(dir, 'root')).mode & 0o7777, 0o700);
    assert.deepEqual(storeState(store.root).tmp, []);
    assert.deepEqual(storeState(store.root).ingest, []);
  });

  test('Entrypoint, Cmd, Env, User, WorkingDir, Labels, ExposedPorts and StopSignal come through config()', async () => {
    const processConfig = {
      Entrypoint: ['/bin/app', '--serve'],
      Cmd: ['--port', '8080'],
      Env: ['PATH=/usr/bin:/bin', 'APP_MODE=test'],
      User: '1000:1000',
      WorkingDir: '/srv',
      Labels: { 'org.opencontainers.image.title': 'app' },
      ExposedPorts: { '8080/tcp': {} },
      StopSignal: 'SIGINT',
    };
    const img = craftImage([buildTar([{ path: 'srv/', type: 'dir' }])], { config: processConfig });
    await pushCrafted(registry.url, 'app', 'v1', img);
    const store = newStore();
    const rec = await store.pull(`${host}/app:v1`);
    assert.equal(rec.id, img.configDigest);
    const config = await store.config(rec.id);
    assert.deepEqual(config.config, processConfig);
    assert.deepEqual(config.rootfs.diff_ids, img.diffIds);
  });

  test('by digest; the same image pulled again reuses its layer ("Already exists")', async () => {
    const store = newStore();
    const pushed = await manifestDescriptor(registry.url, 'busybox', '1.36');
    const byTag = await store.pull(`${host}/busybox:1.36`);
    const events: PullProgress[] = [];
    const byDigest = await store.pull(`${host}/busybox@${pushed.digest}`, { onProgress: (p) => events.push(p) });
    assert.equal(byDigest.id, byTag.id);
    assert.deepEqual(byDigest.repoTags, [`${host}/busybox:1.36`], 'pulling by digest adds no tag');
    assert.deepEqual(byDigest.repoDigests, [`${host}/busybox@${pushed.digest}`]);
    assert.deepEqual(events.map((e) => e.status), ['Already exists']);
    assert.equal((await store.inspect(`${host}/busybox@${pushed.digest}`)).id, byTag.id);
    await assert.rejects(store.pull(`${host}/busybox@sha256:${'0'.repeat(64)}`), NotFound);
  });

  test('a Docker v2 schema 2 manifest (skopeo --format v2s2) gives the same layers', async () => {
    const store = newStore();
    const oci = await store.pull(`${host}/busybox:1.36`);
    const pushed = await manifestDescriptor(registry.url, 'v2/busybox', '1.36');
    assert.equal(pushed.mediaType, DOCKER_MANIFEST);
    const v2 = await store.pull(`${host}/v2/busybox:1.36`);
    assert.equal(v2.manifestMediaType, DOCKER_MANIFEST);
    assert.equal(v2.manifestDigest, pushed.digest);
    assert.equal(v2.layers[0]!.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    assert.deepEqual(v2.diffIds, oci.diffIds);
    assert.deepEqual(store.layerDirs(v2), store.layerDirs(oci), 'one unpacked diff serves both');
    assert.deepEqual((await store.config(v2)).config?.Cmd, ['sh']);
  });

  test('an index: linux/amd64 chosen by default, an explicit platform honoured, a missing one refused', async () => {
    const store = newStore();
    const index = await manifestDescriptor(registry.url, 'multi', 'latest');
    const amd64 = await manifestDescriptor(registry.url, 'multi', 'amd64');
    const arm64 = await manifestDescriptor(registry.url, 'multi', 'arm64');
    const def = await store.pull(`${host}/multi:latest`);
    assert.equal(def.manifestDigest, amd64.digest);
    assert.equal(def.indexDigest, index.digest);
    assert.deepEqual(def.repoDigests, [`${host}/multi@${index.digest}`], 'the repo digest is the index digest, as Docker records');
    assert.equal((await store.config(def)).architecture, 'amd64');

    const arm = await store.pull(`${host}/multi:latest`, { platform: 'linux/arm64' });
    assert.equal(arm.manifestDigest, arm64.digest);
    assert.equal(arm.platform.architecture, 'arm64');
    assert.notEqual(arm.id, def.id);
    assert.deepEqual(arm.repoTags, [`${host}/multi:latest`], 'the tag moves to the image pulled last');
    assert.deepEqual((await store.inspect(def.id)).repoTags, []);

    const before = storeState(store.root);
    await assert.rejects(store.pull(`${host}/multi:latest`, { platform: 'linux/s390x' }), (e: unknown) => {
      assert.ok(e instanceof NotFound, String(e));
      assert.match(e.message, /no matching manifest for linux\/s390x in the manifest list entries/);
      return true;
    });
    await assert.rejects(store.pull(`${host}/busybox:1.36`, { platform: 'linux/arm64' }), (e: unknown) => {
      assert.ok(e instanceof NotFound, String(e));
      assert.match(e.message, /does not match the specified platform: wanted linux\/arm64, actual: linux\/amd64/);
      return true;
    });
    assert.equal(storeState(store.root).images, before.images);
  });
});

describe('digests checked while streaming', () => {
  test('a registry serving a tampered layer blob is refused naming the digest; nothing of it is kept', async () => {
    const store = newStore();
    await store.pull(`${host}/busybox:1.36`);
    const img = craftImage([randomLayer('tampered', 200_000)]);
    await pushCrafted(registry.url, 'tampered', 'v1', img);
    const layerDigest = img.layerDigests[0]!;
    const data = registryBlobDataPath(registry.storageDir, layerDigest);
    const original = readFileSync(data);
    const altered = Buffer.from(original);
    const mid = altered.length >> 1;
    altered[mid] = altered[mid]! ^ 0xff;
    writeFileSync(data, altered);
    try {
      const before = storeState(store.root);
      await assert.rejects(store.pull(`${host}/tampered:v1`), (e: unknown) => {
        assert.ok(e instanceof DataLoss, String(e));
        assert.ok(e.message.includes(layerDigest), e.message);
        assert.ok(e.message.includes(createHash('sha256').update(altered).digest('hex')), 'names the digest it got');
        return true;
      });
      const afterState = storeState(store.root);
      assert.equal(afterState.images, before.images, 'images.json unchanged');
      assert.ok(!afterState.blobs.includes(hex(layerDigest)), 'no blob of the tampered layer');
      assert.ok(!afterState.layers.includes(hex(img.diffIds[0]!)), 'no layer dir');
      assert.deepEqual(afterState.ingest, [], 'no partial download kept');
      assert.deepEqual(afterState.tmp, []);
      // The config blob was verified and may stay until gc, as Docker keeps verified content.
      assert.deepEqual(afterState.blobs.filter((b) => !before.blobs.includes(b)).filter((b) => b !== hex(img.configDigest)), []);
      const gc = await store.gc();
      assert.deepEqual(storeState(store.root).blobs, before.blobs, `gc leaves exactly what was there: ${JSON.stringify(gc)}`);
    } finally {
      writeFileSync(data, original);
    }
    // A blob longer than its descriptor is cut off at the descriptor's size, not stored.
    writeFileSync(data, Buffer.concat([original, Buffer.from('trailing bytes')]));
    try {
      await assert.rejects(store.pull(`${host}/tampered:v1`), (e: unknown) => e instanceof DataLoss && e.message.includes(layerDigest) && /descriptor says/.test(e.message));
      assert.ok(!storeState(store.root).blobs.includes(hex(layerDigest)));
      assert.deepEqual(storeState(store.root).ingest, []);
    } finally {
      writeFileSync(data, original);
    }
    const ok = await store.pull(`${host}/tampered:v1`);
    assert.deepEqual(ok.diffIds, img.diffIds, 'the same pull works once the registry serves the right bytes');
  });

  test('a manifest altered on the way (proxy) is refused against Docker-Content-Digest and against a digest reference', async () => {
    const flip = (b: Buffer): Buffer => Buffer.from(b.toString('utf8').replace('"schemaVersion":2', '"schemaVersion": 2'));
    const proxy = await startLoopbackProxy(registry.url, { plan: (r) => (r.path.includes('/manifests/') ? { action: 'transform', transform: flip } : { action: 'pass' }) });
    try {
      const pushed = await manifestDescriptor(registry.url, 'busybox', '1.36');
      const store = newStore();
      await assert.rejects(store.pull(`${proxy.host}/busybox:1.36`), (e: unknown) => {
        assert.ok(e instanceof DataLoss, String(e));
        assert.match(e.message, new RegExp(`Docker-Content-Digest says ${pushed.digest}`));
        return true;
      });
      await assert.rejects(store.pull(`${proxy.host}/busybox@${pushed.digest}`), (e: unknown) => {
        assert.ok(e instanceof DataLoss, String(e));
        assert.ok(e.message.includes(`busybox@${pushed.digest}`), e.message);
        return true;
      });
      const s = storeState(store.root);
      assert.deepEqual([s.blobs, s.layers, s.images], [[], [], undefined], 'a refused manifest fetches nothing more');
    } finally {
      await proxy.stop();
    }
  });

  test('a config altered on the way is refused naming its digest', async () => {
    const img = craftImage([randomLayer('cfg', 1000)]);
    await pushCrafted(registry.url, 'cfgtamper', 'v1', img);
    const proxy = await startLoopbackProxy(registry.url, {
      plan: (r) => (r.path.endsWith(`/blobs/${img.configDigest}`) ? { action: 'transform', transform: (b) => Buffer.from(b.toString('utf8').replace('"amd64"', '"arm64"')) } : { action: 'pass' }),
    });
    try {
      const store = newStore();
      await assert.rejects(store.pull(`${proxy.host}/cfgtamper:v1`), (e: unknown) => e instanceof DataLoss && e.message.includes(img.configDigest));
      assert.deepEqual(storeState(store.root).blobs, []);
    } finally {
      await proxy.stop();
    }
  });
});

describe('layers', () => {
  let a: CraftedImage;
  let b: CraftedImage;
  let base: Buffer;
  before(async () => {
    base = randomLayer('base', 300_000);
    a = craftImage([base, randomLayer('a1', 300_000), randomLayer('a2', 300_000)]);
    b = craftImage([base, randomLayer('b1', 300_000)]);
    await pushCrafted(registry.url, 'shared/a', 'v1', a);
    await pushCrafted(registry.url, 'shared/b', 'v1', b);
  });

  test('are downloaded concurrently; a layer shared by two images is unpacked once and reused', async () => {
    const proxy = await startLoopbackProxy(registry.url, { holdBlobsMs: 300 });
    try {
      const store = newStore({ layerConcurrency: 3 });
      const recA = await store.pull(`${proxy.host}/shared/a:v1`);
      assert.ok(proxy.maxBlobsInFlight() >= 2, `layer blobs were fetched ${proxy.maxBlobsInFlight()} at a time`);
      const baseDir = store.layerPath(a.diffIds[0]!);
      const st = statSync(baseDir);
      const fileSt = statSync(join(baseDir, 'data/base'));
      const events: PullProgress[] = [];
      const getsBefore = proxy.requests.length;
      const recB = await store.pull(`${proxy.host}/shared/b:v1`, { onProgress: (p) => events.push(p) });
      assert.equal(store.layerDirs(recB).at(-1), store.layerDirs(recA).at(-1), 'the same layers/<diff_id> dir');
      const baseEvents = events.filter((e) => e.digest === a.layerDigests[0]).map((e) => e.status);
      assert.deepEqual(baseEvents, ['Already exists']);
      const st2 = statSync(baseDir);
      const fileSt2 = statSync(join(baseDir, 'data/base'));
      assert.deepEqual([st2.ino, st2.ctimeMs, fileSt2.ino, fileSt2.ctimeMs], [st.ino, st.ctimeMs, fileSt.ino, fileSt.ctimeMs], 'not re-extracted');
      const newGets = proxy.requests.slice(getsBefore).filter((r) => r.path.includes('/blobs/')).map((r) => r.path.slice(r.path.lastIndexOf('/') + 1));
      assert.ok(!newGets.includes(a.layerDigests[0]!), 'the shared blob is not downloaded again');
    } finally {
      await proxy.stop();
    }
  });

  test('a pull cancelled mid-download stops with Cancelled and records nothing; the next pull completes', async () => {
    const proxy = await startLoopbackProxy(registry.url, { holdBlobsMs: 150 });
    try {
      const store = newStore();
      const controller = new AbortController();
      const started = store.pull(`${proxy.host}/shared/a:v1`, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.status === 'Waiting') setTimeout(() => controller.abort(), 50);
        },
      });
      await assert.rejects(started, (e: unknown) => e instanceof Cancelled);
      const s = storeState(store.root);
      assert.deepEqual([s.images, s.layers, s.tmp], [undefined, [], []]);
      const rec = await store.pull(`${proxy.host}/shared/a:v1`);
      assert.deepEqual(rec.diffIds, a.diffIds);
      assert.deepEqual(storeState(store.root).ingest, []);
    } finally {
      await proxy.stop();
    }
  });

  test('two pulls at once share the download and the unpack of their common layer', async () => {
    const proxy = await startLoopbackProxy(registry.url, { holdBlobsMs: 200 });
    try {
      const store = newStore();
      const events: PullProgress[] = [];
      const [recA, recB] = await Promise.all([
        store.pull(`${proxy.host}/shared/a:v1`, { onProgress: (p) => events.push(p) }),
        store.pull(`${proxy.host}/shared/b:v1`, { onProgress: (p) => events.push(p) }),
      ]);
      const baseGets = proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${a.layerDigests[0]}`));
      assert.equal(baseGets.length, 1, 'one download of the shared blob');
      const unpacked = events.filter((e) => e.digest === a.layerDigests[0] && e.status === 'Pull complete');
      assert.equal(unpacked.length, 1, 'one unpack of the shared layer');
      assert.equal(store.layerDirs(recA).at(-1), store.layerDirs(recB).at(-1));
      assert.deepEqual(storeState(store.root).layers.length, 4);
      assert.deepEqual(storeState(store.root).tmp, []);
    } finally {
      await proxy.stop();
    }
  });
});

describe('resume', () => {
  let img: CraftedImage;
  let content: Buffer;
  before(async () => {
    content = randomBytes(1024 * 1024);
    img = craftImage([buildTar([{ path: 'big', data: content }])]);
    await pushCrafted(registry.url, 'big', 'v1', img);
  });

  test('a pull cut mid-blob keeps its bytes; the next pull sends Range: bytes=N- and completes', async () => {
    const blobPath = `/blobs/${img.layerDigests[0]}`;
    let cuts = 0;
    const proxy = await startLoopbackProxy(registry.url, {
      plan: (r) => (r.method === 'GET' && r.path.endsWith(blobPath) && cuts++ === 0 ? { action: 'cut', bytes: 300_000 } : { action: 'pass' }),
    });
    try {
      const store = newStore({ registry: { retry: { maxAttempts: 1 } } });
      await assert.rejects(store.pull(`${proxy.host}/big:v1`), (e: unknown) => e instanceof Unavailable);
      const partial = join(store.root, 'ingest', `sha256-${hex(img.layerDigests[0]!)}.partial`);
      const kept = statSync(partial).size;
      assert.ok(kept > 0 && kept <= 300_000, `kept ${kept} bytes`);
      assert.equal(storeState(store.root).images, undefined);

      const rec = await store.pull(`${proxy.host}/big:v1`);
      const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(blobPath));
      assert.equal(gets.length, 2);
      assert.equal(gets[0]!.headers.range, undefined);
      assert.equal(gets[1]!.headers.range, `bytes=${kept}-`);
      assert.equal(gets[1]!.status, 206, 'the registry answered the range');
      assert.ok(readFileSync(join(store.layerDirs(rec)[0]!, 'big')).equals(content), 'the content is whole');
      assert.deepEqual(storeState(store.root).ingest, []);
    } finally {
      await proxy.stop();
    }
  });

  test('a partial download that does not belong to the blob is noticed and the blob fetched again from byte 0', async () => {
    const blobPath = `/blobs/${img.layerDigests[0]}`;
    const proxy = await startLoopbackProxy(registry.url);
    try {
      const store = newStore();
      mkdirSync(join(store.root, 'ingest'), { recursive: true });
      writeFileSync(join(store.root, 'ingest', `sha256-${hex(img.layerDigests[0]!)}.partial`), randomBytes(100_000));
      const rec = await store.pull(`${proxy.host}/big:v1`);
      const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(blobPath));
      assert.deepEqual(gets.map((r) => r.headers.range), ['bytes=100000-', undefined]);
      assert.ok(readFileSync(join(store.layerDirs(rec)[0]!, 'big')).equals(content));
    } finally {
      await proxy.stop();
    }
  });

  test('within one pull, the retry after a cut resumes with Range', async () => {
    const blobPath = `/blobs/${img.layerDigests[0]}`;
    let cuts = 0;
    const proxy = await startLoopbackProxy(registry.url, {
      plan: (r) => (r.method === 'GET' && r.path.endsWith(blobPath) && cuts++ === 0 ? { action: 'cut', bytes: 500_000 } : { action: 'pass' }),
    });
    try {
      const store = newStore({ registry: { retry: { initialDelayMs: 10, maxAttempts: 3 } } });
      const rec = await store.pull(`${proxy.host}/big:v1`);
      const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(blobPath));
      assert.equal(gets.length, 2);
      assert.match(String(gets[1]!.headers.range), /^bytes=[1-9][0-9]*-$/);
      assert.ok(readFileSync(join(store.layerDirs(rec)[0]!, 'big')).equals(content));
    } finally {
      await proxy.stop();
    }
  });
});

describe('plain HTTP', () => {
  function nonLoopbackAddress(): string | undefined {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
    return undefined;
  }

  test('the decision: loopback always, listed hosts (host:port, host, CIDR) only when listed', () => {
    assert.equal(isInsecureRegistry('127.0.0.1:5000', []), true);
    assert.equal(isInsecureRegistry('localhost:5000', []), true);
    assert.equal(isInsecureRegistry('[::1]:5000', []), true);
    assert.equal(isInsecureRegistry('10.1.2.3:5000', []), false);
    assert.equal(isInsecureRegistry('registry.example:5000', []), false);
    assert.equal(isInsecureRegistry('10.1.2.3:5000', ['10.1.2.3:5000']), true);
    assert.equal(isInsecureRegistry('10.1.2.3:5000', ['http://10.1.2.3:5000/']), true);
    assert.equal(isInsecureRegistry('10.1.2.3:5000', ['10.1.0.0/16']), true);
    assert.equal(isInsecureRegistry('10.2.2.3:5000', ['10.1.0.0/16']), false);
    assert.equal(isInsecureRegistry('registry.example:5000', ['registry.example']), true);
    assert.equal(isInsecureRegistry('registry.example:5001', ['registry.example:5000']), false);
  });

  test("a non-loopback address over plain HTTP is refused before any connection (this machine's own address)", async (t) => {
    const addr = nonLoopbackAddress();
    if (addr === undefined) {
      t.diagnostic('no non-loopback IPv4 address here: the decision test above covers the rule');
      return;
    }
    const store = newStore();
    const started = Date.now();
    await assert.rejects(store.pull(`http://${addr}:9/busybox:1.36`), (e: unknown) => {
      assert.ok(e instanceof FailedPrecondition, String(e));
      assert.match(e.message, /refusing plain HTTP to the registry .* not a loopback address and not listed as an insecure registry/);
      return true;
    });
    assert.ok(Date.now() - started < 2000, 'refused at once, not after connection attempts');
  });

  test('a blob redirect to plain HTTP on a non-loopback host is refused, not followed', async (t) => {
    const addr = nonLoopbackAddress() ?? '192.0.2.1';
    if (nonLoopbackAddress() === undefined) t.diagnostic('no non-loopback address here: a TEST-NET address stands in (never connected to)');
    const proxy = await startLoopbackProxy(registry.url, {
      plan: (r) => (r.path.includes('/blobs/') && !r.path.includes('/uploads/') ? { action: 'respond', status: 307, headers: { location: `http://${addr}:9${r.path}` } } : { action: 'pass' }),
    });
    try {
      const store = newStore();
      await assert.rejects(store.pull(`${proxy.host}/busybox:1.36`), (e: unknown) => {
        assert.ok(e instanceof FailedPrecondition, String(e));
        assert.match(e.message, new RegExp(`refusing a redirect to plain HTTP at ${addr.replace(/\./g, '\\.')}:9`));
        return true;
      });
    } finally {
      await proxy.stop();
    }
  });

  test('a token realm on plain HTTP at a non-loopback host is refused before asking it', async (t) => {
    const addr = nonLoopbackAddress() ?? '192.0.2.1';
    if (nonLoopbackAddress() === undefined) t.diagnostic('no non-loopback address here: a TEST-NET address stands in (never connected to)');
    const certPath = join(work, 'unused.crt');
    runOk('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(work, 'unused.key'), '-out', certPath, '-days', '1', '-subj', '/CN=unused']);
    const reg = await startRegistry(work, { name: 'far-realm', storageDir: registry.storageDir, tokenAuth: { realm: `http://${addr}:9/token`, service: 's', issuer: 'i', rootCertBundle: certPath } });
    try {
      await assert.rejects(newStore().pull(`${reg.host}/busybox:1.36`), (e: unknown) => {
        assert.ok(e instanceof FailedPrecondition, String(e));
        assert.match(e.message, /refusing to get a registry token over plain HTTP from .*: not a loopback address and not an insecure registry/);
        return true;
      });
    } finally {
      await reg.stop();
    }
  });

  test('a host name mapped to 127.0.0.1 (/etc/hosts) is not loopback by name: refused over HTTP unless listed, pulled when listed', async (t) => {
    const name = hostname();
    let resolved: string | undefined;
    try {
      resolved = (await lookup(name, { family: 4 })).address;
    } catch {
      resolved = undefined;
    }
    const port = host.slice(host.lastIndexOf(':') + 1);
    const named = `${name}:${port}`;
    const store = newStore();
    // Refused by its name, before any lookup or connection.
    await assert.rejects(store.pull(`http://${named}/busybox:1.36`), FailedPrecondition);
    assert.equal(storeState(store.root).images, undefined);
    if (resolved?.startsWith('127.') !== true) {
      t.diagnostic(`the host name ${name} resolves to ${resolved}, not to 127.x: the listed case cannot be pulled here`);
      return;
    }
    const rec = await store.pull(`http://${named}/busybox:1.36`, { insecureRegistries: [named] });
    assert.deepEqual(rec.repoTags, [`${named}/busybox:1.36`]);
    // Without a scheme, a listed registry is tried over HTTPS first, then over HTTP (Docker's order).
    const rec2 = await newStore({ registry: { insecureRegistries: [name] } }).pull(`${named}/busybox:1.36`);
    assert.equal(rec2.id, rec.id);
  });
});

describe('authentication', () => {
  let tokenRegistry: RegistryServer;
  let basicRegistry: RegistryServer;
  let tokenServer: Server;
  const tokenRequests: URL[] = [];
  const issuer = 'atomic-test-issuer';
  const service = 'atomic-test-registry';

  before(async () => {
    // Both registries serve the storage the open registry was pushed into.
    const keyPath = join(work, 'token.key');
    const certPath = join(work, 'token.crt');
    runOk('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=atomic test token signer']);
    const key = readFileSync(keyPath, 'utf8');
    const certDer = readFileSync(certPath, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');
    tokenServer = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      tokenRequests.push(url);
      const given = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
      if (given !== 'alice:wonderland') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
        return;
      }
      const now = Math.floor(Date.now() / 1000);
      const access = (url.searchParams.getAll('scope'))
        .map((s) => s.split(':'))
        .filter((p) => p[0] === 'repository')
        .map((p) => ({ type: 'repository', name: p[1], actions: (p[2] ?? '').split(',').filter((x) => x === 'pull') }));
      const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certDer] }));
      const claims = b64url(JSON.stringify({ iss: issuer, sub: 'alice', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
      const signature = b64url(sign('sha256', Buffer.from(`${head}.${claims}`), key));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: `${head}.${claims}.${signature}`, expires_in: 300 }));
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
    const tokenPort = (tokenServer.address() as { port: number }).port;
    tokenRegistry = await startRegistry(work, {
      name: 'token-registry',
      storageDir: registry.storageDir,
      tokenAuth: { realm: `http://127.0.0.1:${tokenPort}/token`, service, issuer, rootCertBundle: certPath },
    });
    const htpasswd = join(work, 'htpasswd');
    writeFileSync(htpasswd, `${htpasswdLine('bob', 'builder')}\n`);
    basicRegistry = await startRegistry(work, { name: 'basic-registry', storageDir: registry.storageDir, htpasswd: { realm: 'atomic-test', path: htpasswd } });
  });

  after(async () => {
    await tokenRegistry?.stop();
    await basicRegistry?.stop();
    await new Promise<void>((resolve) => (tokenServer === undefined ? resolve() : tokenServer.close(() => resolve())));
  });

  test('token auth: the token server is asked for repository:NAME:pull, and the pull works with the token', async () => {
    const store = newStore();
    const rec = await store.pull(`${tokenRegistry.host}/busybox:1.36`, { auth: { username: 'alice', password: 'wonderland' } });
    assert.deepEqual(rec.repoTags, [`${tokenRegistry.host}/busybox:1.36`]);
    const asked = tokenRequests.at(-1)!;
    assert.equal(asked.searchParams.get('service'), service);
    assert.equal(asked.searchParams.get('scope'), 'repository:busybox:pull');
    assert.equal(asked.searchParams.get('account'), 'alice');
  });

  test('a blob redirected to another origin (as to S3) is fetched without the registry credentials', async () => {
    const blobStore = await startLoopbackProxy(registry.url);
    const front = await startLoopbackProxy(basicRegistry.url, {
      plan: (r) => (r.method === 'GET' && r.path.includes('/blobs/sha256:') ? { action: 'respond', status: 307, headers: { location: `http://${blobStore.host}${r.path}` } } : { action: 'pass' }),
    });
    try {
      const rec = await newStore().pull(`${front.host}/busybox:1.36`, { auth: { username: 'bob', password: 'builder' } });
      assert.equal(rec.layers.length, 1);
      const redirected = blobStore.requests.filter((r) => r.path.includes('/blobs/'));
      assert.ok(redirected.length >= 2, 'config and layer came from the other origin');
      for (const r of redirected) assert.equal(r.headers.authorization, undefined, `${r.path} was sent credentials`);
      assert.ok(front.requests.some((r) => r.path.includes('/blobs/') && r.headers.authorization?.startsWith('Basic ')), 'the registry itself got them');
    } finally {
      await front.stop();
      await blobStore.stop();
    }
  });

  test('token auth: wrong credentials and no credentials are a clear permission error', async () => {
    const store = newStore();
    await assert.rejects(store.pull(`${tokenRegistry.host}/busybox:1.36`, { auth: { username: 'alice', password: 'nope' } }), (e: unknown) => {
      assert.ok(e instanceof PermissionDenied, String(e));
      assert.match(e.message, /token server refused the credentials of "alice" for repository:busybox:pull/);
      assert.ok(!e.message.includes('nope'), 'the password is not in the message');
      return true;
    });
    await assert.rejects(store.pull(`${tokenRegistry.host}/busybox:1.36`), (e: unknown) => e instanceof PermissionDenied && /anonymous access/.test(e.message));
    assert.equal(storeState(store.root).images, undefined);
  });

  test('basic auth (htpasswd): the right password pulls, a wrong one is refused as Docker says it', async () => {
    const store = newStore();
    const rec = await store.pull(`${basicRegistry.host}/busybox:1.36`, { auth: { username: 'bob', password: 'builder' } });
    assert.equal(rec.repoTags[0], `${basicRegistry.host}/busybox:1.36`);
    const other = newStore();
    await assert.rejects(other.pull(`${basicRegistry.host}/busybox:1.36`, { auth: { username: 'bob', password: 'wrong' } }), (e: unknown) => {
      assert.ok(e instanceof PermissionDenied, String(e));
      assert.match(e.message, /pull access denied for .*busybox, repository does not exist or may require authorization/);
      assert.ok(!e.message.includes('wrong'));
      return true;
    });
    await assert.rejects(other.pull(`${basicRegistry.host}/busybox:1.36`), PermissionDenied);
    assert.equal(storeState(other.root).images, undefined);
  });
});

describe('overlay form', () => {
  test('whiteout and opaque dir, stacked on the lower layer under a real overlayfs mount', async (t) => {
    const store = newStore();
    const rec = await store.pull(`${host}/busybox:extra`);
    const dirs = store.layerDirs(rec);
    // umoci makes one layer per insert: the busybox rootfs, /etc/extra, the whiteout, the opaque dir.
    assert.equal(dirs.length, 4);
    const wh = lstatSync(join(dirs[1]!, 'etc/group'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'the whiteout is a 0/0 character device');
    assert.equal(runOk('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', join(dirs[0]!, 'usr/share/misc')]).stdout, 'y');
    const mnt = join(work, `mnt-${storeCount}`);
    mkdirSync(mnt);
    runOk('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${dirs.join(':')}`, mnt]);
    t.after(() => run('umount', [mnt]));
    assert.equal(existsSync(join(mnt, 'etc/group')), false, 'the whited-out file is gone');
    assert.ok(readFileSync(join(mnt, 'etc/passwd'), 'utf8').startsWith('root:'), 'the rest of the lower layer shows');
    assert.equal(readFileSync(join(mnt, 'etc/extra'), 'utf8'), 'extra layer\n');
    assert.deepEqual(readdirSync(join(mnt, 'usr/share/misc')), ['new'], "the opaque directory hides the lower layer's content");
    assert.ok(statSync(join(mnt, 'bin/busybox')).isFile());
    assert.equal(readlinkSync(join(mnt, 'bin/sh')), 'busybox');
    assert.equal(statSync(join(mnt, 'bin/suid')).mode & 0o7777, 0o4755);
    assert.equal(runOk(join(mnt, 'bin/busybox'), ['echo', 'from the overlay']).stdout, 'from the overlay\n');
  });

  test('device nodes, a fifo, hard links, symlinks, setuid/setgid and a user.* xattr survive a pull', async () => {
    const img = craftImage([
      buildTar([
        { path: 'dev/', type: 'dir' },
        { path: 'dev/null', type: 'char', devMajor: 1, devMinor: 3, mode: 0o666 },
        { path: 'dev/loop9', type: 'block', devMajor: 7, devMinor: 9, mode: 0o660, gid: 6 },
        { path: 'dev/fifo', type: 'fifo', mode: 0o620 },
        { path: 'bin/', type: 'dir' },
        { path: 'bin/tool', data: 'tool\n', mode: 0o6755, pax: { 'SCHILY.xattr.user.origin': 'atomic-test' } },
        { path: 'bin/tool-link', type: 'hardlink', linkPath: 'bin/tool' },
        { path: 'bin/abs', type: 'symlink', linkPath: '/bin/tool' },
        { path: 'shared/', type: 'dir', mode: 0o2775, gid: 100 },
      ]),
    ]);
    await pushCrafted(registry.url, 'special', 'v1', img);
    const store = newStore();
    const rec = await store.pull(`${host}/special:v1`);
    const dir = store.layerDirs(rec)[0]!;
    const nul = statSync(join(dir, 'dev/null'));
    assert.ok(nul.isCharacterDevice());
    assert.deepEqual([nul.rdev, nul.mode & 0o7777], [(1 << 8) | 3, 0o666]);
    const loop = lstatSync(join(dir, 'dev/loop9'));
    assert.ok(loop.isBlockDevice());
    assert.deepEqual([loop.rdev, loop.gid], [(7 << 8) | 9, 6]);
    assert.ok(lstatSync(join(dir, 'dev/fifo')).isFIFO());
    assert.equal(statSync(join(dir, 'bin/tool')).mode & 0o7777, 0o6755);
    assert.equal(statSync(join(dir, 'bin/tool')).ino, statSync(join(dir, 'bin/tool-link')).ino);
    assert.equal(statSync(join(dir, 'bin/tool')).nlink, 2);
    assert.equal(readlinkSync(join(dir, 'bin/abs')), '/bin/tool', 'an absolute symlink is stored as is');
    assert.equal(runOk('getfattr', ['--only-values', '-n', 'user.origin', join(dir, 'bin/tool')]).stdout, 'atomic-test');
    assert.deepEqual([statSync(join(dir, 'shared')).mode & 0o7777, statSync(join(dir, 'shared')).gid], [0o2775, 100]);
  });
});

describe('rmi and gc', () => {
  const cid = 'c0ffee'.padEnd(64, '1');

  test("a reference in use is refused with Docker's words; force untags; an ID in use by a running container cannot be forced", async () => {
    const store = newStore();
    const rec = await store.pull(`${host}/busybox:1.36`);
    const ref = `${host}/busybox:1.36`;
    const running = { isInUse: (id: string) => (id === rec.id ? { containerId: cid, running: true } : undefined) };
    await assert.rejects(store.remove(ref, running), (e: unknown) => {
      assert.ok(e instanceof Conflict, String(e));
      assert.equal(e.message, `conflict: unable to remove repository reference "${ref}" (must force) - container ${cid.slice(0, 12)} is using its referenced image ${hex(rec.id).slice(0, 12)}`);
      return true;
    });
    assert.deepEqual((await store.inspect(rec.id)).repoTags, [ref], 'nothing changed');
    // Docker: forced, the reference goes; a running container keeps the image (untagged, not deleted).
    const forced = await store.remove(ref, { ...running, force: true });
    assert.deepEqual(forced, { untagged: [ref, `${host}/busybox@${rec.repoDigests[0]!.split('@')[1]}`], deleted: [] });
    const kept = await store.inspect(rec.id);
    assert.deepEqual([kept.repoTags, kept.repoDigests], [[], []]);
    assert.ok(existsSync(store.layerPath(rec.diffIds[0]!)));
    await assert.rejects(store.remove(rec.id, { ...running, force: true }), (e: unknown) => {
      assert.ok(e instanceof Conflict, String(e));
      assert.equal(e.message, `conflict: unable to delete ${hex(rec.id).slice(0, 12)} (cannot be forced) - image is being used by running container ${cid.slice(0, 12)}`);
      return true;
    });
    const stopped = { isInUse: (id: string) => (id === rec.id ? { containerId: cid, running: false } : undefined) };
    await assert.rejects(store.remove(rec.id, stopped), (e: unknown) => e instanceof Conflict && e.message === `conflict: unable to delete ${hex(rec.id).slice(0, 12)} (must be forced) - image is being used by stopped container ${cid.slice(0, 12)}`);
    const gone = await store.remove(rec.id, { ...stopped, force: true });
    assert.deepEqual(gone, { untagged: [], deleted: [rec.id, ...rec.diffIds] });
    assert.deepEqual(await store.list(), []);
    const s = storeState(store.root);
    assert.deepEqual([s.blobs, s.layers], [[], []], 'blobs and layers went with it');
  });

  test("a reference forced away from a stopped container's image: untagged, the image kept for the container to start from", async () => {
    const store = newStore();
    const rec = await store.pull(`${host}/busybox:1.36`);
    const ref = `${host}/busybox:1.36`;
    const stopped = { isInUse: (id: string) => (id === rec.id ? { containerId: cid, running: false } : undefined), force: true };
    const res = await store.remove(ref, stopped);
    // Docker reports Deleted here too, but keeps the layers for the container; this store has no
    // layer references of its own for containers, so the image (and its layers) stay.
    assert.deepEqual(res, { untagged: [ref, rec.repoDigests[0]], deleted: [] });
    assert.ok(existsSync(store.layerDirs(await store.inspect(rec.id))[0]!));
  });

  test('untag vs delete: a second name is untagged, the last name deletes; an ID with two repositories must be forced', async () => {
    const store = newStore();
    const rec = await store.pull(`${host}/busybox:1.36`);
    await store.tag(`${host}/busybox:1.36`, 'mine');
    await store.tag(rec.id, 'other/name:v2');
    assert.deepEqual((await store.inspect('mine')).repoTags, [`${host}/busybox:1.36`, 'docker.io/library/mine:latest', 'docker.io/other/name:v2']);
    assert.deepEqual(await store.remove('mine'), { untagged: ['mine:latest'], deleted: [] });
    await assert.rejects(store.remove(hex(rec.id).slice(0, 12)), (e: unknown) => e instanceof Conflict && e.message === `conflict: unable to delete ${hex(rec.id).slice(0, 12)} (must be forced) - image is referenced in multiple repositories`);
    assert.deepEqual(await store.remove('other/name:v2'), { untagged: ['other/name:v2'], deleted: [] });
    const last = await store.remove(`${host}/busybox:1.36`);
    assert.deepEqual(last, { untagged: [`${host}/busybox:1.36`, rec.repoDigests[0]], deleted: [rec.id, ...rec.diffIds] });
    await assert.rejects(store.inspect(rec.id), NotFound);
    await assert.rejects(store.remove('mine'), (e: unknown) => e instanceof NotFound && e.message === 'No such image: mine');
  });

  test('gc removes unreferenced blobs and layer dirs, keeps those another image shares, and clears leftovers', async () => {
    const base = randomLayer('gcbase', 50_000);
    const a = craftImage([base, randomLayer('gca', 50_000)]);
    const b = craftImage([base, randomLayer('gcb', 50_000)]);
    await pushCrafted(registry.url, 'gc/a', 'v1', a);
    await pushCrafted(registry.url, 'gc/b', 'v1', b);
    const store = newStore();
    const recA = await store.pull(`${host}/gc/a:v1`);
    const recB = await store.pull(`${host}/gc/b:v1`);
    assert.deepEqual(await store.gc(), { blobsRemoved: [], layersRemoved: [] }, 'nothing to collect while both are named');
    const stray = `sha256:${'ab'.repeat(32)}`;
    writeFileSync(store.blobPath(stray), 'stray');
    mkdirSync(join(store.root, 'tmp', 'unpack-leftover'));
    writeFileSync(join(store.root, 'ingest', 'sha256-leftover.partial'), 'x');
    const gc = await store.gc();
    assert.deepEqual(gc, { blobsRemoved: [stray], layersRemoved: [] });
    assert.deepEqual([storeState(store.root).tmp, storeState(store.root).ingest], [[], []]);

    const res = await store.remove(`${host}/gc/a:v1`);
    assert.deepEqual(res.deleted, [recA.id, a.diffIds[1]], "only A's own layer is deleted");
    const s = storeState(store.root);
    assert.deepEqual(s.layers, [hex(b.diffIds[0]!), hex(b.diffIds[1]!)].sort(), 'the shared base layer stays');
    for (const d of [a.layerDigests[1]!, a.configDigest, recA.manifestDigest]) assert.ok(!s.blobs.includes(hex(d)), `${d} removed`);
    for (const d of [b.layerDigests[0]!, b.layerDigests[1]!, b.configDigest, recB.manifestDigest]) assert.ok(s.blobs.includes(hex(d)), `${d} kept`);
    const mnt = store.layerDirs(await store.inspect(recB.id));
    assert.ok(existsSync(join(mnt[1]!, 'data/gcbase')));
  });
});
