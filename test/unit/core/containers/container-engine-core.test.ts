// Pure container logic of the engine: Docker's restart policy decision and backoff, the state
// machine, names, and `ps` filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ADJECTIVES, canonicalName, generateName, NAME_PATTERN, SURNAMES } from '../../../../src/core/containers/container-names.js';
import {
  createdState, hasProcess, isRunning, toDead, toExited, toPaused, toRemoving, toRestarting, toRunning, toUnpaused, ZERO_TIME, type ContainerState,
} from '../../../../src/core/containers/container-state.js';
import { checkFilters, matchesPsFilters, parsePsFilters, type FilterableContainer } from '../../../../src/core/containers/ps-filters.js';
import {
  checkRestartBackoff, DOCKER_RESTART_BACKOFF, nextRestartDelayMs, normalizeRestartPolicy, parseRestartPolicy, shouldRestart,
} from '../../../../src/core/containers/restart-policy.js';
import { Conflict, InvalidArgument } from '../../../../src/lib/errors.js';

test('restart policy: normalisation and validation like dockerd', () => {
  assert.deepEqual(normalizeRestartPolicy(undefined), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(normalizeRestartPolicy({ Name: '' }), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(normalizeRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 3 }), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.throws(() => normalizeRestartPolicy({ Name: 'always', MaximumRetryCount: 2 }), InvalidArgument);
  assert.throws(() => normalizeRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 }), InvalidArgument);
  assert.throws(() => normalizeRestartPolicy({ Name: 'sometimes' as 'always' }), (e) => e instanceof InvalidArgument && e.subject === 'RestartPolicy.Name');
  assert.deepEqual(parseRestartPolicy('on-failure:5'), { Name: 'on-failure', MaximumRetryCount: 5 });
  assert.deepEqual(parseRestartPolicy('unless-stopped'), { Name: 'unless-stopped', MaximumRetryCount: 0 });
  assert.throws(() => parseRestartPolicy('always:3'), InvalidArgument);
  assert.throws(() => parseRestartPolicy('on-failure:x'), InvalidArgument);
});

test('restart decision: restartmanager.ShouldRestart', () => {
  const exit = (exitCode: number, manuallyStopped = false, restartCount = 0) => ({ exitCode, manuallyStopped, restartCount });
  const no = normalizeRestartPolicy({ Name: 'no' });
  const always = normalizeRestartPolicy({ Name: 'always' });
  const unless = normalizeRestartPolicy({ Name: 'unless-stopped' });
  const onFailure3 = normalizeRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 3 });
  const onFailure = normalizeRestartPolicy({ Name: 'on-failure' });
  assert.equal(shouldRestart(no, exit(1)), false);
  assert.equal(shouldRestart(always, exit(0)), true);
  assert.equal(shouldRestart(always, exit(0, true)), true, 'always ignores a manual stop at agent start');
  assert.equal(shouldRestart(unless, exit(0)), true);
  assert.equal(shouldRestart(unless, exit(0, true)), false);
  assert.equal(shouldRestart(onFailure3, exit(0)), false);
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => shouldRestart(onFailure3, exit(1, false, n))), [true, true, true, false, false]);
  assert.equal(shouldRestart(onFailure, exit(137, false, 1000)), true, 'count 0 = no maximum');
});

test('restart backoff: initial, doubling, capped, reset after a stable run', () => {
  const b = { initialDelayMs: 100, maxDelayMs: 1000, resetAfterMs: 10_000 };
  const seq: number[] = [];
  let d = 0;
  for (let i = 0; i < 7; i++) seq.push((d = nextRestartDelayMs(d, 50, b)));
  assert.deepEqual(seq, [100, 200, 400, 800, 1000, 1000, 1000]);
  assert.equal(nextRestartDelayMs(800, 10_000, b), 100, 'a 10 s run resets');
  assert.deepEqual(DOCKER_RESTART_BACKOFF, { initialDelayMs: 100, maxDelayMs: 60_000, resetAfterMs: 10_000 });
  fc.assert(fc.property(fc.oneof(fc.constant(0), fc.integer({ min: b.initialDelayMs, max: 100_000 })), fc.nat(100_000), (prev, run) => {
    const next = nextRestartDelayMs(prev, run, b);
    return next >= b.initialDelayMs && next <= b.maxDelayMs && (run >= b.resetAfterMs || prev === 0 || next >= Math.min(prev, b.maxDelayMs));
  }));
  assert.throws(() => checkRestartBackoff({ initialDelayMs: 10, maxDelayMs: 5, resetAfterMs: 1 }), InvalidArgument);
  assert.throws(() => checkRestartBackoff({ initialDelayMs: -1, maxDelayMs: 5, resetAfterMs: 1 }), InvalidArgument);
});

test('state machine: transitions named after the target, guarded by the source', () => {
  const created = createdState();
  assert.equal(created.run.startedAt, ZERO_TIME);
  const running = toRunning(created, { pid: 10, monitorPid: 9, startedAt: '2026-01-01T00:00:00Z' });
  assert.deepEqual([running.status, isRunning(running), hasProcess(running)], ['running', true, true]);
  const paused = toPaused(running);
  assert.equal(paused.status, 'paused');
  assert.equal(toUnpaused(paused).status, 'running');
  assert.throws(() => toPaused(created), Conflict);
  assert.throws(() => toUnpaused(running), Conflict);
  const exit = { exitCode: 3, oomKilled: false, finishedAt: '2026-01-01T00:00:05Z' };
  const restarting = toRestarting(running, exit);
  assert.deepEqual([restarting.status, isRunning(restarting), hasProcess(restarting), restarting.run.exitCode], ['restarting', true, false, 3]);
  const again = toRunning(restarting, { pid: 11, monitorPid: 12, startedAt: '2026-01-01T00:00:06Z' });
  assert.deepEqual([again.run.exitCode, again.run.finishedAt], [0, '2026-01-01T00:00:05Z'], 'FinishedAt of the last run stays');
  const exited = toExited(again, { ...exit, exitCode: 137, oomKilled: true });
  assert.deepEqual([exited.status, exited.run.exitCode, exited.run.oomKilled, isRunning(exited)], ['exited', 137, true, false]);
  assert.throws(() => toRemoving(running), Conflict);
  assert.throws(() => toRestarting(toRemoving(exited), exit), Conflict);
  assert.throws(() => toRunning(toRemoving(exited), { pid: 1, monitorPid: 2, startedAt: '' }), Conflict);
  const dead: ContainerState = toDead(exited, 'unmount failed');
  assert.deepEqual([dead.status, dead.run.error], ['dead', 'unmount failed']);
  assert.equal(toRemoving(dead).status, 'removing');
  assert.equal(toExited(created, { ...exit, error: 'no such file' }).run.error, 'no such file', 'a failed start is an exit with Error');
});

test("names: Docker's rule, canonical leading slash, generated adjective_surname", () => {
  assert.equal(canonicalName('web'), '/web');
  assert.equal(canonicalName('/web.1_a-b'), '/web.1_a-b');
  for (const bad of ['a', '-web', 'we b', 'web/1', '', '/', '_x', 'ü1']) assert.throws(() => canonicalName(bad), InvalidArgument, bad);
  assert.throws(() => canonicalName('we b'), (e) => e instanceof InvalidArgument && e.message === 'Invalid container name (we b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
  assert.equal(generateName(() => 0), `${ADJECTIVES[0]}_${SURNAMES[0]}`);
  assert.match(generateName(() => 3, 1), /^[a-z]+_[a-z]+3$/);
  fc.assert(fc.property(fc.integer({ min: 0, max: 1000 }), fc.nat(3), (seed, retry) => {
    const name = generateName((n) => seed % n, retry);
    return NAME_PATTERN.test(name) && /^[a-z]+_[a-z]+\d?$/.test(name);
  }));
  assert.equal(new Set(ADJECTIVES).size, ADJECTIVES.length);
  assert.equal(new Set(SURNAMES).size, SURNAMES.length);
});

test('ps filters: parsing, Docker texts, and matching rules', () => {
  assert.deepEqual(parsePsFilters('{"name":["web"],"label":{"a=b":true}}'), { name: ['web'], label: ['a=b'] });
  assert.deepEqual(parsePsFilters(undefined), {});
  assert.throws(() => parsePsFilters('{"colour":["red"]}'), (e) => e instanceof InvalidArgument && e.message === "invalid filter 'colour'");
  assert.throws(() => parsePsFilters('{"status":["sleeping"]}'), (e) => e instanceof InvalidArgument && e.message === "invalid filter 'status=sleeping'");
  assert.throws(() => parsePsFilters('{"name":"web"}'), InvalidArgument);
  assert.throws(() => parsePsFilters('not json'), InvalidArgument);
  assert.throws(() => checkFilters({ name: ['('] }), InvalidArgument);
  const c: FilterableContainer = { id: 'abcdef0123', name: '/web-1', labels: { tier: 'web', empty: '' }, status: 'running', imageId: 'sha256:1111', imageRef: 'busybox:1.36' };
  const m = (f: Parameters<typeof matchesPsFilters>[1], ids: string[] = []): boolean => matchesPsFilters(c, f, ids);
  assert.equal(m({}), true);
  assert.equal(m({ name: ['^web'] }), true, 'the name is matched without its slash');
  assert.equal(m({ name: ['db', 'eb-'] }), true, 'values of one key are alternatives');
  assert.equal(m({ name: ['db'] }), false);
  assert.equal(m({ id: ['abc'] }), true);
  assert.equal(m({ id: ['bcd'] }), false, 'id is a prefix');
  assert.equal(m({ label: ['tier'] }), true);
  assert.equal(m({ label: ['tier=web', 'empty='] }), true);
  assert.equal(m({ label: ['tier=web', 'missing'] }), false, 'every label filter must match');
  assert.equal(m({ label: ['tier=db'] }), false);
  assert.equal(m({ status: ['exited', 'running'] }), true);
  assert.equal(m({ status: ['exited'] }), false);
  assert.equal(m({ ancestor: ['busybox:1.36'] }), true);
  assert.equal(m({ ancestor: ['other'] }, ['sha256:1111']), true, 'resolved image IDs');
  assert.equal(m({ ancestor: ['other'] }), false);
  assert.equal(m({ name: ['web'], status: ['exited'] }), false, 'different keys must all match');
});
