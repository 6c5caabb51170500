import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../../helpers.js';
import { ANONYMOUS_LABEL, VolumeStore } from '../../../../src/adapters/volume-store/volume-store.js';
import { Conflict, DataLoss, InvalidArgument, NotFound } from '../../../../src/lib/errors.js';

test('create: a directory with _data and volume.json; a random 64-hex name without one; create is idempotent', async (t) => {
  const root = join(tempDir(t), 'volumes');
  const store = new VolumeStore({ root });
  const v = await store.create({ name: 'db', labels: { tier: 'db' }, options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
  assert.equal(v.mountpoint, join(root, 'db', '_data'));
  assert.ok(statSync(v.mountpoint).isDirectory());
  const doc = JSON.parse(readFileSync(join(root, 'db', 'volume.json'), 'utf8')) as { labels: unknown; options: unknown; driver: string };
  assert.deepEqual(doc.labels, { tier: 'db' });
  assert.deepEqual(doc.options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
  assert.equal(doc.driver, 'local');
  assert.match(v.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const anon = await store.create();
  assert.match(anon.name, /^[0-9a-f]{64}$/);
  assert.equal(anon.anonymous, false, 'an unnamed API create is not a container\'s anonymous volume');
  const again = await store.create({ name: 'db', labels: { other: 'x' } });
  assert.deepEqual(again.labels, { tier: 'db' }, 'an existing volume is returned unchanged');
  assert.deepEqual(readdirSync(root).sort(), [anon.name, 'db'].sort(), 'no temp directories left');
});

test('concurrent creates of one name make one volume', async (t) => {
  const store = new VolumeStore({ root: join(tempDir(t), 'volumes') });
  const all = await Promise.all(Array.from({ length: 8 }, () => store.create({ name: 'race' })));
  assert.equal(new Set(all.map((v) => v.createdAt)).size, 1);
  assert.deepEqual(readdirSync(store.root), ['race']);
});

test('names follow Docker\'s rule; options are the local driver\'s; drivers other than local are not found', async (t) => {
  const store = new VolumeStore({ root: join(tempDir(t), 'volumes') });
  for (const bad of ['a', '-x', '.hidden', '..', 'a/b', '../etc', 'x y', 'é1', 'a'.repeat(256)]) {
    await assert.rejects(store.create({ name: bad }), (e: unknown) => e instanceof InvalidArgument && /\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]|at most 255/.test(e.message), bad);
  }
  for (const good of ['ab', 'A_1.b-c', '0x']) assert.equal((await store.create({ name: good })).name, good);
  await assert.rejects(store.create({ name: 'o1', options: { nope: '1' } }), /invalid option: "nope"/);
  await assert.rejects(store.create({ name: 'o2', options: { type: 'nfs' } }), /missing required option: "device"/);
  await assert.rejects(store.create({ name: 'o3', driver: 'rexray' }), (e: unknown) => e instanceof NotFound && /plugin "rexray" not found/.test(e.message));
  assert.deepEqual(readdirSync(store.root).sort(), ['0x', 'A_1.b-c', 'ab']);
});

test('list filters: dangling, name, label (key and key=value), label!=; inspect and NotFound', async (t) => {
  const used = new Set(['web']);
  const store = new VolumeStore({ root: join(tempDir(t), 'volumes'), usedBy: (n) => (used.has(n) ? ['c1'] : []) });
  await store.create({ name: 'web', labels: { app: 'shop', tier: 'web' } });
  await store.create({ name: 'db', labels: { app: 'shop', tier: 'db' } });
  await store.create({ name: 'scratch' });
  const names = async (f: Parameters<VolumeStore['list']>[0]): Promise<string[]> => (await store.list(f)).map((v) => v.name);
  assert.deepEqual(await names({}), ['db', 'scratch', 'web']);
  assert.deepEqual(await names({ dangling: true }), ['db', 'scratch']);
  assert.deepEqual(await names({ dangling: false }), ['web']);
  assert.deepEqual(await names({ name: ['cr', 'we'] }), ['scratch', 'web']);
  assert.deepEqual(await names({ label: ['app'] }), ['db', 'web']);
  assert.deepEqual(await names({ label: ['app=shop', 'tier=db'] }), ['db']);
  assert.deepEqual(await names({ labelNot: ['tier=db'] }), ['scratch', 'web']);
  assert.equal((await store.inspect('db')).labels.tier, 'db');
  await assert.rejects(store.inspect('nosuch'), (e: unknown) => e instanceof NotFound && e.message === 'get nosuch: no such volume');
  await assert.rejects(store.inspect('../x'), NotFound);
});

test('remove: in use is a Conflict naming the containers; missing is NotFound unless forced; the data goes', async (t) => {
  const users = new Map<string, string[]>([['busy', ['aaa', 'bbb']]]);
  const store = new VolumeStore({ root: join(tempDir(t), 'volumes'), usedBy: (n) => users.get(n) ?? [] });
  await store.create({ name: 'busy' });
  const free = await store.create({ name: 'free' });
  writeFileSync(join(free.mountpoint, 'f'), 'data');
  await assert.rejects(store.remove('busy'), (e: unknown) => e instanceof Conflict && e.message === 'remove busy: volume is in use - [aaa bbb]');
  await assert.rejects(store.remove('busy', { force: true }), Conflict, 'force does not remove a volume in use');
  await store.remove('free');
  assert.ok(!existsSync(join(store.root, 'free')));
  await assert.rejects(store.remove('free'), (e: unknown) => e instanceof NotFound && /no such volume/.test(e.message));
  await store.remove('free', { force: true });
  assert.deepEqual(readdirSync(store.root), ['busy']);
});

test('prune: unused anonymous volumes by default, every unused one with all; sizes are reclaimed bytes', async (t) => {
  const store = new VolumeStore({ root: join(tempDir(t), 'volumes'), usedBy: (n) => (n === 'used' ? ['c'] : []) });
  const anon = await store.create({ anonymous: true });
  assert.equal(anon.labels[ANONYMOUS_LABEL], '');
  assert.equal(anon.anonymous, true);
  writeFileSync(join(anon.mountpoint, 'a'), 'x'.repeat(100));
  mkdirSync(join(anon.mountpoint, 'sub'));
  writeFileSync(join(anon.mountpoint, 'sub', 'b'), 'y'.repeat(23));
  await store.create({ name: 'named', labels: { keep: 'no' } });
  await store.create({ name: 'used' });
  const first = await store.prune();
  assert.deepEqual(first, { volumesDeleted: [anon.name], spaceReclaimedBytes: 123 });
  assert.deepEqual(await store.prune({ all: true, label: ['keep=yes'] }), { volumesDeleted: [], spaceReclaimedBytes: 0 });
  assert.deepEqual((await store.prune({ all: true })).volumesDeleted, ['named']);
  assert.deepEqual((await store.list()).map((v) => v.name), ['used']);
});

test('a crash leftover is cleaned at start; corrupt metadata and foreign files are DataLoss, not silence', async (t) => {
  const root = join(tempDir(t), 'volumes');
  mkdirSync(join(root, '.create-abc', '_data'), { recursive: true });
  mkdirSync(join(root, '.remove-def'), { recursive: true });
  const store = new VolumeStore({ root });
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(readdirSync(root), []);
  mkdirSync(join(root, 'broken', '_data'), { recursive: true });
  writeFileSync(join(root, 'broken', 'volume.json'), '{not json');
  await assert.rejects(store.inspect('broken'), DataLoss);
  await store.create({ name: 'good' });
  mkdirSync(join(root, 'bare', '_data'), { recursive: true });
  await assert.rejects(store.list(), DataLoss, 'a strict listing fails on damage');
  const scanned = await store.scan();
  assert.deepEqual(scanned.volumes.map((v) => v.name), ['good']);
  assert.deepEqual(scanned.damaged.map((e) => e.subject), [join(root, 'bare'), join(root, 'broken', 'volume.json')]);
  symlinkSync('/etc', join(root, 'link'));
  await assert.rejects(store.inspect('link'), (e: unknown) => e instanceof DataLoss && /symbolic link/.test(e.message));
});
