// The engine's parts that need no runtime: the record store, the Docker-shaped views (inspect,
// ps, stats), the exit watcher and restart scheduler, events, and signal names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { signalNumberOf } from '../../../../src/agent/containers/container-engine.js';
import { ContainerEvents, type ContainerEvent } from '../../../../src/agent/containers/container-events.js';
import { inspectJSON, statusText, summaryJSON } from '../../../../src/agent/containers/container-inspect.js';
import { statsJSON } from '../../../../src/agent/containers/container-stats.js';
import { ContainerStore, type ContainerRecord } from '../../../../src/agent/containers/container-store.js';
import { ExitWatcher, RestartScheduler, type WatchedExit } from '../../../../src/agent/containers/supervisor.js';
import { HostOrNoneNetworking } from '../../../../src/agent/containers/container-networking.js';
import { checkAutoRemove, checkStopTimeout, logRotationOf, parseLogSize } from '../../../../src/agent/containers/engine-config.js';
import { monitorFiles } from '../../../../src/adapters/oci-runtime/monitor.js';
import { resolveContainerSpec } from '../../../../src/core/containers/container-spec.js';
import { createdState, toExited, toRestarting, toRunning } from '../../../../src/core/containers/container-state.js';
import { DataLoss, InvalidArgument } from '../../../../src/lib/errors.js';
import { tempDir } from '../../../helpers.js';
import { humanDuration } from '../../../../src/lib/human-units.js';

const ID = 'a'.repeat(64);

/** Poll `check` (the machine is shared: no fixed sleeps for asynchronous results). */
async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

function record(over: Partial<ContainerRecord> = {}): ContainerRecord {
  const hostConfig = { NetworkMode: 'none', RestartPolicy: { Name: 'no' as const, MaximumRetryCount: 0 }, Binds: ['/srv:/data:ro'] };
  const spec = resolveContainerSpec(ID, { Cmd: ['sh'], Env: ['PATH=/bin'], WorkingDir: '/root' }, { Image: 'busybox', Cmd: ['echo', 'hi'], Labels: { a: 'b' } }, hostConfig, '/web');
  return {
    schemaVersion: 1, id: ID, name: '/web', created: '2026-01-01T00:00:00.000Z', imageId: 'sha256:' + 'b'.repeat(64), imageRef: 'busybox',
    config: { Image: 'busybox', Cmd: ['echo', 'hi'] }, hostConfig, spec, state: createdState(), restartCount: 0, manuallyStopped: false, startedBefore: false, ...over,
  };
}

test('store: atomic records survive a reload; orphans and corrupt records are told apart', async (t) => {
  const dir = tempDir(t);
  const store = new ContainerStore(dir);
  const r = record();
  await store.save(r);
  await store.save({ ...r, restartCount: 2 });
  const other = 'c'.repeat(64);
  mkdirSync(join(dir, 'containers', other));
  mkdirSync(join(dir, 'containers', 'not-an-id'));
  const { records, orphans } = await store.loadAll();
  assert.deepEqual(records.map((x) => [x.id, x.restartCount]), [[ID, 2]]);
  assert.deepEqual(orphans, [other]);
  writeFileSync(join(dir, 'containers', ID, 'config.v2.json'), '{"half');
  await assert.rejects(store.loadAll(), (e) => e instanceof DataLoss && e.subject === join(dir, 'containers', ID, 'config.v2.json'));
  writeFileSync(join(dir, 'containers', ID, 'config.v2.json'), JSON.stringify({ ...r, id: 'd'.repeat(64) }));
  await assert.rejects(store.loadAll(), DataLoss);
  await store.remove(ID);
  assert.deepEqual((await store.loadAll()).records, []);
});

test("inspect and ps views: Docker's field names, types and status texts", () => {
  const running = record({ state: toRunning(createdState(), { pid: 42, monitorPid: 41, startedAt: '2026-01-01T00:00:01.000Z' }) });
  const nets = new HostOrNoneNetworking().describe({ id: ID, name: '/web', hostConfig: running.hostConfig });
  const volumeSource = (name: string): string => `/state/volumes/${name}/_data`;
  const j = inspectJSON(running, '/state/containers/' + ID, { ...nets }, volumeSource);
  assert.equal(j.Name, '/web');
  assert.equal(j.Path, 'echo');
  assert.deepEqual(j.Args, ['hi']);
  assert.deepEqual(j.State, {
    Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 42, ExitCode: 0, Error: '',
    StartedAt: '2026-01-01T00:00:01.000Z', FinishedAt: '0001-01-01T00:00:00Z',
  });
  assert.equal(j.LogPath, `/state/containers/${ID}/${ID}-json.log`);
  assert.equal(j.Config.WorkingDir, '/root', 'the image config merged in, as dockerd shows it');
  assert.deepEqual(j.Config.Env, ['PATH=/bin']);
  assert.deepEqual(j.Mounts, [{ Type: 'bind', Source: '/srv', Destination: '/data', Mode: 'ro', RW: false, Propagation: 'rprivate' }]);
  // Named volumes: the volume store's directory as Source, Docker's Name/Driver/Mode ("z" for -v without a mode).
  const withVolumes = record({ hostConfig: { Binds: ['cache:/cache', 'db:/db:ro'], Mounts: [{ Type: 'volume', Source: 'logs', Target: '/logs' }, { Type: 'tmpfs', Target: '/tmp' }] } });
  assert.deepEqual(inspectJSON(withVolumes, '/state/containers/' + ID, { ...nets }, volumeSource).Mounts, [
    { Type: 'volume', Name: 'cache', Source: '/state/volumes/cache/_data', Destination: '/cache', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
    { Type: 'volume', Name: 'db', Source: '/state/volumes/db/_data', Destination: '/db', Driver: 'local', Mode: 'ro', RW: false, Propagation: '' },
    { Type: 'volume', Name: 'logs', Source: '/state/volumes/logs/_data', Destination: '/logs', Driver: 'local', Mode: '', RW: true, Propagation: '' },
    { Type: 'tmpfs', Source: '', Destination: '/tmp', Mode: '', RW: true, Propagation: '' },
  ]);
  assert.deepEqual(Object.keys(j.NetworkSettings.Networks), ['none']);
  assert.equal(j.Config.StopSignal, undefined);

  const now = Date.parse('2026-01-01T00:00:06.000Z');
  assert.equal(statusText(running, now), 'Up 5 seconds');
  const exited = record({ state: toExited(running.state, { exitCode: 3, oomKilled: false, finishedAt: '2026-01-01T00:00:05.000Z' }) });
  assert.equal(statusText(exited, now + 3_600_000), 'Exited (3) About an hour ago');
  const restarting = record({ state: toRestarting(running.state, { exitCode: 1, oomKilled: false, finishedAt: '2026-01-01T00:00:05.000Z' }) });
  assert.equal(statusText(restarting, now), 'Restarting (1) 1 second ago');
  assert.equal(statusText(record(), now), 'Created');
  const s = summaryJSON(exited, now, { ...nets }, volumeSource);
  assert.deepEqual([s.Names, s.Command, s.Created, s.State, s.Image, s.HostConfig.NetworkMode], [['/web'], 'echo hi', 1767225600, 'exited', 'busybox', 'none']);
  assert.deepEqual(
    [0, 999, 1000, 59_000, 60_000, 90_000, 45 * 60_000, 3_600_000, 5 * 3_600_000, 3 * 86_400_000, 20 * 86_400_000, 100 * 86_400_000, 800 * 86_400_000].map(humanDuration),
    ['Less than a second', 'Less than a second', '1 second', '59 seconds', 'About a minute', 'About a minute', '45 minutes', 'About an hour', '5 hours', '3 days', '2 weeks', '3 months', '2 years'],
  );
});

test('stats JSON: Docker shape, precpu from the previous sample, host memory without a limit', () => {
  const cgroup = { cpu: { usageNs: 5000, userNs: 3000, systemNs: 2000, periods: 1, throttledPeriods: 0, throttledNs: 0 }, memory: { usageBytes: 1024, stat: { cache: 4 } }, pids: { current: 2 } };
  const first = statsJSON({ id: ID, name: '/web', now: 't1', cgroup, systemCpuNs: 1e9, onlineCpus: 2, hostMemoryBytes: 8e9, previous: undefined });
  assert.equal(first.stats.preread, '0001-01-01T00:00:00Z');
  assert.equal(first.stats.precpu_stats.cpu_usage.total_usage, 0);
  assert.deepEqual(first.stats.cpu_stats.cpu_usage, { total_usage: 5000, usage_in_kernelmode: 2000, usage_in_usermode: 3000 });
  assert.deepEqual(first.stats.memory_stats, { usage: 1024, stats: { cache: 4 }, limit: 8e9 });
  assert.deepEqual(first.stats.pids_stats, { current: 2 });
  assert.equal(first.stats.blkio_stats.io_service_bytes_recursive, null);
  const second = statsJSON({ id: ID, name: '/web', now: 't2', cgroup: { ...cgroup, memory: { ...cgroup.memory, limitBytes: 64 } }, systemCpuNs: 2e9, onlineCpus: 2, hostMemoryBytes: 8e9, previous: first.sample });
  assert.equal(second.stats.preread, 't1');
  assert.deepEqual(second.stats.precpu_stats, first.stats.cpu_stats);
  assert.equal(second.stats.memory_stats.limit, 64);
});

test('exit watcher: an exit file, and a monitor that vanished without one', async (t) => {
  const dir = tempDir(t);
  const files = (id: string): ReturnType<typeof monitorFiles> => monitorFiles(join(dir, id));
  for (const id of ['one', 'two']) mkdirSync(join(dir, id));
  const seen: [string, WatchedExit][] = [];
  const w = new ExitWatcher({ pollMs: 10, livenessEvery: 2, filesOf: files, onExit: async (id, how) => void seen.push([id, how]), onError: (id, e) => assert.fail(`${id}: ${String(e)}`) });
  t.after(() => w.close());
  // "one" has no monitor pid file, "two" names a process that does not exist: both monitors are gone.
  w.watch('one');
  w.watch('two');
  writeFileSync(files('two').monitorPidFile, '999999999');
  await eventually(() => seen.length >= 2);
  assert.deepEqual(seen.map(([id, how]) => [id, how.kind]).sort(), [['one', 'monitor-gone'], ['two', 'monitor-gone']]);
  seen.length = 0;
  w.watch('one');
  writeFileSync(files('one').exitFile, JSON.stringify({ id: 'one', pid: 5, exitCode: 137, signal: 9, oomKilled: true, finishedAt: '2026-01-01T00:00:00Z', monitorPid: 4 }));
  await eventually(() => seen.length >= 1);
  await sleep(50);
  assert.equal(seen.length, 1);
  const [id, how] = seen[0] ?? [];
  assert.equal(id, 'one');
  assert.ok(how?.kind === 'exit-file' && how.exit.exitCode === 137 && how.exit.oomKilled && how.exit.signal === 9);
  assert.equal(w.isWatching('one'), false, 'each exit is reported once');
});

test('restart scheduler: growing delays, cancel, reset', async () => {
  const s = new RestartScheduler({ initialDelayMs: 5, maxDelayMs: 20, resetAfterMs: 1000 });
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    let fired = false;
    const t0 = Date.now();
    delays.push(s.schedule('x', 0, () => (fired = true)));
    await eventually(() => fired);
    assert.ok(Date.now() - t0 >= (delays[i] ?? 0) - 1, 'not before its delay');
  }
  assert.deepEqual(delays, [5, 10, 20, 20]);
  let fired = false;
  s.schedule('x', 0, () => (fired = true));
  assert.equal(s.isPending('x'), true);
  s.cancel('x');
  await sleep(40);
  assert.equal(fired, false);
  s.reset('x');
  assert.equal(s.schedule('x', 0, () => undefined), 5, 'a manual start begins a new series');
  assert.equal(s.schedule('x', 5000, () => undefined), 5, 'a stable run resets the delay');
  s.close();
});

test('events: listeners and an async iterator that ends on abort', async () => {
  const events = new ContainerEvents();
  const ev = (Action: ContainerEvent['Action']): ContainerEvent => ({ Type: 'container', Action, Actor: { ID, Attributes: {} }, scope: 'local', time: 1, timeNano: 1e9, status: Action, id: ID, from: 'busybox' });
  const heard: string[] = [];
  const off = events.on((e) => heard.push(e.Action));
  const ac = new AbortController();
  const got: string[] = [];
  const reader = (async () => {
    for await (const e of events.subscribe(ac.signal)) {
      got.push(e.Action);
      if (got.length === 2) ac.abort();
    }
  })();
  await sleep(1);
  events.emit(ev('create'));
  events.emit(ev('start'));
  await reader;
  off();
  events.emit(ev('die'));
  assert.deepEqual(got, ['create', 'start']);
  assert.deepEqual(heard, ['create', 'start']);
});

test('signals by name, number and real-time offset, as docker kill --signal takes them', () => {
  assert.deepEqual(['HUP', 'SIGHUP', 'sighup', '1', 'KILL', 'SIGTERM', 'USR1', 'RTMIN', 'RTMIN+2', 'RTMAX', 'RTMAX-1', 15].map(signalNumberOf), [1, 1, 1, 1, 9, 15, 10, 34, 36, 64, 63, 15]);
  for (const bad of ['NOPE', '0', '65', 'SIG', -1, 1.5]) assert.throws(() => signalNumberOf(bad), InvalidArgument, String(bad));
});

test('networking: none by default, host on request, other modes refused naming the field', async () => {
  const n = new HostOrNoneNetworking();
  assert.equal(n.defaultMode(), 'none');
  n.check({});
  n.check({ NetworkMode: 'host' });
  assert.throws(() => n.check({ NetworkMode: 'bridge' }), (e) => e instanceof InvalidArgument && e.subject === 'HostConfig.NetworkMode');
  assert.deepEqual((await n.attach({ id: ID, name: '/x', hostConfig: { NetworkMode: 'host' } })).namespace, { kind: 'host' });
  assert.deepEqual((await n.attach({ id: ID, name: '/x', hostConfig: { NetworkMode: 'none' } })).namespace, { kind: 'none' });
});

test('engine config: json-file log options, --rm with a restart policy, StopTimeout', () => {
  assert.deepEqual(logRotationOf(undefined), { maxSizeBytes: 0, maxFiles: 1 });
  assert.deepEqual(logRotationOf({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } }), { maxSizeBytes: 10 * 1024 * 1024, maxFiles: 3 });
  assert.deepEqual([parseLogSize('512k'), parseLogSize('1g'), parseLogSize('100'), parseLogSize('1.5MiB')], [524288, 1024 ** 3, 100, 1.5 * 1024 * 1024]);
  assert.throws(() => parseLogSize('ten'), InvalidArgument);
  assert.throws(() => logRotationOf({ Type: 'journald' }), (e) => e instanceof InvalidArgument && e.subject === 'HostConfig.LogConfig.Type');
  assert.throws(() => logRotationOf({ Config: { 'max-file': '3' } }), InvalidArgument, 'max-file needs max-size');
  assert.throws(() => logRotationOf({ Config: { 'max-file': '0', 'max-size': '1k' } }), InvalidArgument);
  assert.throws(() => logRotationOf({ Config: { 'max-bogus': '1' } }), InvalidArgument);
  checkAutoRemove({ AutoRemove: true, RestartPolicy: { Name: 'no' } });
  assert.throws(() => checkAutoRemove({ AutoRemove: true, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 1 } }), InvalidArgument);
  checkStopTimeout({ StopTimeout: 5 });
  assert.throws(() => checkStopTimeout({ StopTimeout: 1.5 }), InvalidArgument);
});
