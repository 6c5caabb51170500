// The container engine (src/agent/containers) against real components, once per runtime (runc,
// crun): the busybox image pulled from a loopback registry, atomic-monitor, overlay rootfs,
// cgroups. Covers Docker's container verbs and texts, restart policies with backoff, OOM and
// update, and supervision that survives the agent (SIGKILL of an engine process, exits while no
// engine ran, a simulated reboot).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroupOfPid } from '../../src/adapters/cgroups/container-cgroup.js';
import { releaseBundle } from '../../src/adapters/oci-runtime/container-bundle.js';
import { monitorAlive, monitorFiles } from '../../src/adapters/oci-runtime/monitor.js';
import type { ContainerEngine, LogLine } from '../../src/agent/containers/container-engine.js';
import type { ContainerConfig, HostConfig } from '../../src/core/containers/container-spec.js';
import { Conflict, InvalidArgument, NotFound, Unimplemented } from '../../src/lib/errors.js';
import { DIST } from '../helpers.js';
import { readAllLogs, RUNTIMES } from '../fixtures/busybox-bundle.js';
import { engineEnv, pullBusyboxImage, TEST_BACKOFF, until, type EngineEnv, type PulledImage } from '../fixtures/engine-env.js';

const MiB = 1024 * 1024;
/** Containers in the survive-the-agent test (the release gate runs it with 20). */
const SURVIVORS = Number(process.env.ATOMIC_ENGINE_SURVIVORS ?? '5');
let image: PulledImage;

before(async () => {
  image = await pullBusyboxImage();
});
after(() => image.remove());

async function logText(engine: ContainerEngine, id: string): Promise<string> {
  let s = '';
  for await (const e of engine.logs(id)) s += e.log;
  return s;
}

async function collect(it: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const e of it) out.push(e);
  return out;
}

async function run(
  env: EngineEnv, cmd: readonly string[], extra: { name?: string; hostConfig?: HostConfig; labels?: Record<string, string>; config?: ContainerConfig } = {},
): Promise<string> {
  const { Id } = await env.engine.create({
    ...(extra.name !== undefined ? { name: extra.name } : {}),
    config: { Image: image.ref, Cmd: [...cmd], ...(extra.labels !== undefined ? { Labels: extra.labels } : {}), ...extra.config },
    hostConfig: extra.hostConfig ?? {},
  });
  await env.engine.start(Id);
  return Id;
}

const actions = (env: EngineEnv, id: string): string[] => env.events.filter((e) => e.Actor.ID === id).map((e) => e.Action);
const TRAP_TERM = 'trap "exit 0" TERM;';

for (const name of RUNTIMES) {
  describe(`container engine with ${name}`, () => {
    test('create, start, wait, logs, inspect, ps filters, names, rm', async (t) => {
      const env = await engineEnv(t, name, image);
      const { engine } = env;
      const { Id, Warnings } = await engine.create({ name: 'hello', config: { Image: image.ref, Cmd: ['echo', 'hi'], Labels: { tier: 'web' } } });
      assert.match(Id, /^[a-f0-9]{64}$/);
      assert.deepEqual(Warnings, []);
      assert.equal((await engine.inspect('hello')).State.Status, 'created');
      // `docker run`: wait(next-exit) before start.
      const waited = engine.wait(Id, { condition: 'next-exit' });
      assert.equal(await engine.start(Id), true);
      assert.deepEqual(await waited, { StatusCode: 0, Error: null });
      assert.deepEqual((await collect(engine.logs(Id))).map((e) => [e.stream, e.log]), [['stdout', 'hi\n']]);
      const ts = await collect(engine.logs(Id, { timestamps: true }));
      assert.match(ts[0]?.line ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z hi\n$/);

      const j = await engine.inspect(Id.slice(0, 12));
      assert.equal(j.Id, Id);
      assert.equal(j.Name, '/hello');
      assert.equal(j.Path, 'echo');
      assert.deepEqual(j.Args, ['hi']);
      assert.equal(j.Image, image.id);
      assert.equal(j.Config.Image, image.ref);
      assert.deepEqual(j.Config.Cmd, ['echo', 'hi']);
      assert.ok(j.Config.Env.includes('PATH=/bin'), JSON.stringify(j.Config.Env));
      assert.deepEqual(j.Config.Labels, { tier: 'web' });
      assert.equal(j.RestartCount, 0);
      assert.equal(j.HostConfig.NetworkMode, 'none');
      assert.deepEqual(Object.keys(j.NetworkSettings.Networks), ['none']);
      const s = j.State;
      assert.deepEqual([s.Status, s.Running, s.Paused, s.Restarting, s.OOMKilled, s.Dead, s.Pid, s.ExitCode, s.Error], ['exited', false, false, false, false, false, 0, 0, '']);
      assert.ok(Date.parse(s.StartedAt) > Date.now() - 60_000 && Date.parse(s.FinishedAt) >= Date.parse(s.StartedAt), `${s.StartedAt} ${s.FinishedAt}`);
      assert.deepEqual(actions(env, Id), ['create', 'start', 'die']);
      assert.equal(env.events.find((e) => e.Actor.ID === Id && e.Action === 'die')?.Actor.Attributes.exitCode, '0');

      const three = await run(env, ['sh', '-c', 'echo out; echo err >&2; exit 3'], { name: 'three' });
      assert.equal((await engine.wait(three)).StatusCode, 3);
      assert.equal((await engine.inspect('three')).State.ExitCode, 3);
      assert.deepEqual((await collect(engine.logs(three, { stdout: false }))).map((e) => e.log), ['err\n']);
      assert.throws(() => engine.logs(three, { stdout: false, stderr: false }), InvalidArgument);

      const sleeper = await run(env, ['sh', '-c', `${TRAP_TERM} while true; do sleep 0.1; done`], { name: 'sleeper', labels: { tier: 'db', extra: '' } });
      const generated = await engine.create({ config: { Image: image.id, Cmd: ['true'] } });
      const gname = (await engine.inspect(generated.Id)).Name;
      assert.match(gname, /^\/[a-z]+_[a-z]+\d?$/);

      const names = async (o: Parameters<ContainerEngine['list']>[0]): Promise<string[]> => (await engine.list(o)).map((c) => c.Names[0] ?? '').sort();
      assert.deepEqual(await names({}), ['/sleeper']);
      assert.deepEqual(await names({ all: true }), [gname, '/hello', '/sleeper', '/three'].sort());
      assert.deepEqual(await names({ all: true, filters: { name: ['^hel'] } }), ['/hello']);
      assert.deepEqual(await names({ all: true, filters: { label: ['tier'] } }), ['/hello', '/sleeper']);
      assert.deepEqual(await names({ all: true, filters: { label: ['tier=db'] } }), ['/sleeper']);
      assert.deepEqual(await names({ all: true, filters: { label: ['tier=web', 'extra'] } }), []);
      assert.deepEqual(await names({ all: true, filters: { status: ['exited'] } }), ['/hello', '/three']);
      assert.deepEqual(await names({ filters: { status: ['created'] } }), [gname]);
      assert.deepEqual(await names({ all: true, filters: { ancestor: [image.ref] } }), [gname, '/hello', '/sleeper', '/three'].sort());
      assert.deepEqual(await names({ all: true, filters: { ancestor: [image.id], id: [sleeper.slice(0, 10)] } }), ['/sleeper']);
      await assert.rejects(engine.list({ filters: { status: ['sleeping'] } }), InvalidArgument);
      const summary = (await engine.list({ filters: { name: ['sleeper'] } }))[0];
      assert.equal(summary?.State, 'running');
      assert.match(summary?.Status ?? '', /^Up /);
      assert.equal(summary?.Command, `sh -c ${TRAP_TERM} while true; do sleep 0.1; done`);
      assert.match((await engine.list({ all: true, filters: { name: ['three'] } }))[0]?.Status ?? '', /^Exited \(3\) /);

      await assert.rejects(engine.create({ name: 'hello', config: { Image: image.ref, Cmd: ['true'] } }), (e: unknown) => {
        assert.ok(e instanceof Conflict);
        assert.equal(e.message, `Conflict. The container name "/hello" is already in use by container "${Id}". You have to remove (or rename) that container to be able to reuse that name.`);
        return true;
      });
      await assert.rejects(engine.create({ name: 'bad name', config: { Image: image.ref } }), InvalidArgument);
      // A start the runtime refuses: an error for the caller, and State.Error/ExitCode 128 recorded.
      const broken = await engine.create({ config: { Image: image.ref, Cmd: ['/no/such/binary'] } });
      const brokenWait = engine.wait(broken.Id, { condition: 'next-exit' });
      await assert.rejects(engine.start(broken.Id));
      const bw = await brokenWait;
      assert.equal(bw.StatusCode, 128);
      assert.ok(bw.Error !== null && bw.Error.Message !== '', JSON.stringify(bw));
      const bs = (await engine.inspect(broken.Id)).State;
      assert.deepEqual([bs.Status, bs.ExitCode, bs.Running], ['exited', 128, false]);
      assert.notEqual(bs.Error, '');
      await engine.remove(broken.Id);
      await assert.rejects(engine.create({ config: { Image: 'nope:latest', Cmd: ['true'] } }), (e: unknown) => e instanceof NotFound && e.message === 'No such image: nope:latest');
      await assert.rejects(engine.remove('sleeper'), (e: unknown) => {
        assert.ok(e instanceof Conflict);
        assert.equal(e.message, 'cannot remove container "/sleeper": container is running: stop the container before removing or force remove');
        return true;
      });
      assert.deepEqual(engine.imageInUse(image.id), { containerId: sleeper, running: true });
      // rmi of an image a running container uses: refused through ImageStore.remove's hook.
      await assert.rejects(image.store.remove(image.id, { isInUse: (imageId) => engine.imageInUse(imageId) }), Conflict);
      assert.equal((await image.store.inspect(image.ref)).id, image.id);
      await engine.rename('hello', 'greeting');
      assert.equal((await engine.inspect(Id)).Name, '/greeting');
      await assert.rejects(engine.rename('three', 'greeting'), Conflict);
      assert.equal(env.events.find((e) => e.Action === 'rename')?.Actor.Attributes.oldName, '/hello');

      const removed = engine.wait(sleeper, { condition: 'removed' });
      await engine.remove('sleeper', { force: true });
      await removed;
      await assert.rejects(engine.inspect(sleeper), NotFound);
      assert.deepEqual(actions(env, sleeper).slice(-3), ['kill', 'die', 'destroy']);
      assert.equal(await monitorAlive(monitorFiles(join(env.stateDir, 'containers', sleeper))), false);
      await engine.remove('greeting');
      assert.deepEqual(await names({ all: true }), [gname, '/three'].sort());
      // The name is free again.
      await engine.create({ name: 'greeting', config: { Image: image.ref, Cmd: ['true'] } });
    });

    test('stop kills after the timeout; kill delivers a signal', async (t) => {
      const env = await engineEnv(t, name, image);
      const { engine } = env;
      // sleep as PID 1 has no TERM handler: the kernel ignores the signal, stop must SIGKILL.
      const stubborn = await run(env, ['sleep', '600'], { config: { StopTimeout: 1 } });
      const t0 = Date.now();
      assert.equal(await engine.stop(stubborn), true, 'Config.StopTimeout (1 s) instead of the default 10 s');
      assert.ok(Date.now() - t0 >= 900, `stopped after ${Date.now() - t0} ms`);
      const st = (await engine.inspect(stubborn)).State;
      assert.deepEqual([st.Status, st.ExitCode, st.OOMKilled], ['exited', 137, false]);
      assert.deepEqual(actions(env, stubborn), ['create', 'start', 'kill', 'kill', 'die', 'stop']);
      assert.deepEqual(env.events.filter((e) => e.Actor.ID === stubborn && e.Action === 'kill').map((e) => e.Actor.Attributes.signal), ['15', '9']);
      assert.equal(await engine.stop(stubborn), false, 'not running: nothing to do (304)');

      const trap = await run(env, ['sh', '-c', 'trap "echo got HUP" HUP; trap "exit 0" TERM; echo ready; while true; do sleep 0.1; done']);
      await until('ready', async () => (await logText(engine, trap)).includes('ready'));
      await engine.kill(trap, 'HUP');
      await until('got HUP', async () => (await logText(engine, trap)).includes('got HUP'));
      assert.equal((await engine.inspect(trap)).State.Running, true);
      await assert.rejects(engine.kill(trap, 'SIGNOPE'), InvalidArgument);
      await engine.stop(trap);
      assert.equal((await engine.inspect(trap)).State.ExitCode, 0, 'the TERM trap exits 0');
      await assert.rejects(engine.kill(trap), Conflict);

      // restart: stop then start, a new process, a `restart` event last.
      const pidBefore = (await engine.inspect(stubborn)).State.Pid;
      await engine.start(stubborn);
      const pidRunning = (await engine.inspect(stubborn)).State.Pid;
      assert.notEqual(pidRunning, pidBefore);
      await engine.restart(stubborn, { timeoutSeconds: 0 });
      const afterRestart = await engine.inspect(stubborn);
      assert.equal(afterRestart.State.Running, true);
      assert.notEqual(afterRestart.State.Pid, pidRunning);
      assert.deepEqual(actions(env, stubborn).slice(-5), ['kill', 'die', 'stop', 'start', 'restart']);
      await engine.stop(stubborn, { timeoutSeconds: 0 });

      // logs --follow ends when the container exits, with every line.
      const talker = await run(env, ['sh', '-c', 'for i in 1 2 3 4 5; do echo "tick $i"; sleep 0.1; done']);
      const followed = await collect(engine.logs(talker, { follow: true }));
      assert.deepEqual(followed.map((e) => e.log), [1, 2, 3, 4, 5].map((i) => `tick ${i}\n`));
      // Following ends on the exit file; the engine records the exit moments later.
      assert.equal((await engine.wait(talker)).StatusCode, 0);

      // --rm: removed once it exits; --log-opt max-size/max-file rotate the json-file log.
      const rm = await run(env, ['sh', '-c', 'i=0; while [ $i -lt 200 ]; do echo "line $i of the rotating log"; i=$((i+1)); done'], {
        hostConfig: { AutoRemove: true, LogConfig: { Type: 'json-file', Config: { 'max-size': '2k', 'max-file': '2' } } },
      });
      const logPath = join(env.stateDir, 'containers', rm, `${rm}-json.log`);
      const removed = await engine.wait(rm, { condition: 'removed' });
      assert.equal(removed.StatusCode, 0);
      await assert.rejects(engine.inspect(rm), NotFound);
      assert.deepEqual(actions(env, rm), ['create', 'start', 'die', 'destroy']);
      assert.equal(readFileExistsSync(logPath), false, 'the log went with the container');
      const rotated = await run(env, ['sh', '-c', 'i=0; while [ $i -lt 200 ]; do echo "line $i of the rotating log"; i=$((i+1)); done'], {
        hostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '2k', 'max-file': '2' } } },
      });
      await engine.wait(rotated);
      const rlog = join(env.stateDir, 'containers', rotated, `${rotated}-json.log`);
      assert.ok(readFileExistsSync(`${rlog}.1`) && !readFileExistsSync(`${rlog}.2`), 'max-file 2: the log and one rotated file');
      const kept = await collect(engine.logs(rotated));
      assert.equal(kept.at(-1)?.log, 'line 199 of the rotating log\n');
      assert.ok(kept.length < 200 && kept.length > 10, `${kept.length} lines kept`);
      await assert.rejects(engine.create({ config: { Image: image.ref, Cmd: ['true'] }, hostConfig: { LogConfig: { Type: 'syslog' } } }), InvalidArgument);
      // A TTY container: the monitor holds the pty; output is logged as one stream with CRLF.
      const tty = await run(env, ['sh', '-c', 'echo tty-hi; [ -t 1 ] && echo is-a-tty'], { config: { Tty: true } });
      assert.equal((await engine.wait(tty)).StatusCode, 0);
      assert.equal(await logText(engine, tty), 'tty-hi\r\nis-a-tty\r\n');
      await assert.rejects(engine.create({ config: { Image: image.ref, Cmd: ['true'] }, hostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } }), InvalidArgument);
    });

    test('restart policies: on-failure:3, always with growing capped backoff, unless-stopped', async (t) => {
      const env = await engineEnv(t, name, image);
      const { engine } = env;
      const onFailure = await run(env, ['sh', '-c', 'echo run; exit 1'], { hostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } } });
      assert.equal((await engine.wait(onFailure)).StatusCode, 1);
      const j = await engine.inspect(onFailure);
      assert.deepEqual([j.State.Status, j.RestartCount, j.State.Restarting], ['exited', 3, false]);
      assert.equal(await logText(engine, onFailure), 'run\nrun\nrun\nrun\n');
      assert.deepEqual(actions(env, onFailure), ['create', 'start', 'die', 'start', 'die', 'start', 'die', 'start', 'die']);

      const always = await run(env, ['sh', '-c', 'echo run; exit 0'], { hostConfig: { RestartPolicy: { Name: 'always' } } });
      await until('6 restarts', async () => (await engine.inspect(always)).RestartCount >= 6, 30_000);
      // Crash looping is visible.
      await until('restarting state', async () => (await engine.inspect(always)).State.Restarting, 10_000);
      assert.equal((await engine.list({ filters: { status: ['restarting'] } })).length >= 0, true);
      await engine.stop(always, { timeoutSeconds: 2 });
      const stopped = await engine.inspect(always);
      assert.equal(stopped.State.Status, 'exited');
      await sleep(TEST_BACKOFF.maxDelayMs + 300);
      assert.equal((await engine.inspect(always)).RestartCount, stopped.RestartCount, 'no restart after stop');
      // The delays the engine chose: initial, doubling, capped; and the measured gaps are at least those.
      const delays = env.logger.lines.filter((l) => l.obj.container === always && typeof l.obj.delayMs === 'number').map((l) => l.obj.delayMs as number);
      assert.ok(delays.length >= 6, JSON.stringify(delays));
      assert.deepEqual(delays.slice(0, 5), [50, 100, 200, 400, 400]);
      for (let i = 1; i < delays.length; i++) assert.ok((delays[i] ?? 0) >= (delays[i - 1] ?? 0) && (delays[i] ?? 0) <= TEST_BACKOFF.maxDelayMs);
      const ev = env.events.filter((e) => e.Actor.ID === always && (e.Action === 'die' || e.Action === 'start'));
      for (let i = 0; i + 2 < ev.length && i / 2 < delays.length; i += 2) {
        if (ev[i + 1]?.Action !== 'die' || ev[i + 2]?.Action !== 'start') continue;
        const gapMs = ((ev[i + 2]?.timeNano ?? 0) - (ev[i + 1]?.timeNano ?? 0)) / 1e6;
        assert.ok(gapMs >= (delays[i / 2] ?? 0) - 5, `restart ${i / 2}: gap ${gapMs} ms < delay ${delays[i / 2]} ms`);
      }
      // RestartCount counts restarts decided (dockerd increments it before the backoff wait), so a
      // stop during the wait leaves one more than ran.
      const runs = (await logText(engine, always)).split('\n').filter((l) => l === 'run').length;
      assert.ok(runs === stopped.RestartCount + 1 || runs === stopped.RestartCount, `${runs} runs, RestartCount ${stopped.RestartCount}`);

      const unless = await run(env, ['sh', '-c', `${TRAP_TERM} while true; do sleep 0.1; done`], { hostConfig: { RestartPolicy: { Name: 'unless-stopped' } } });
      await engine.stop(unless);
      assert.equal((await engine.inspect(unless)).State.Status, 'exited');
      const reopened = await env.reopen();
      assert.equal((await reopened.inspect(unless)).State.Status, 'exited', 'unless-stopped stays stopped across an agent restart');
      // Docker's difference: a stopped `always` container is started again when the agent starts.
      await until('always restarted by the agent start', async () => (await reopened.inspect(always)).State.Status !== 'exited', 10_000);
      await reopened.stop(always, { timeoutSeconds: 1 });
      assert.equal((await reopened.inspect(onFailure)).State.Status, 'exited', 'on-failure used up its retries');
    });

    test('OOM kill is exit 137 with OOMKilled and an oom event; update --memory on a running container', async (t) => {
      const env = await engineEnv(t, name, image);
      const { engine } = env;
      const dd = (mb: number): string[] => ['/bin/busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', `bs=${mb}M`, 'count=1'];
      const oom = await run(env, dd(64), { hostConfig: { Memory: 32 * MiB, MemorySwap: 32 * MiB } });
      assert.equal((await engine.wait(oom)).StatusCode, 137);
      const s = (await engine.inspect(oom)).State;
      assert.deepEqual([s.ExitCode, s.OOMKilled], [137, true]);
      assert.deepEqual(actions(env, oom).slice(-2), ['oom', 'die']);

      const c = await run(env, ['sh', '-c', `${TRAP_TERM} while true; do sleep 0.1; done`], { hostConfig: { Memory: 32 * MiB, MemorySwap: 32 * MiB } });
      const pid = (await engine.inspect(c)).State.Pid;
      const cg = await cgroupOfPid(env.cgroups, pid);
      const limitFile = cg.mode === 'v2' ? join(cg.v2Dir ?? '', 'memory.max') : join(cg.v1Dirs.get('memory') ?? '', 'memory.limit_in_bytes');
      assert.equal(Number(readFileSync(limitFile, 'utf8')), 32 * MiB);
      assert.equal((await engine.exec(c, { Cmd: dd(48) })).ExitCode, 137, '48 MiB does not fit in 32 MiB');
      const r = await engine.exec(c, { Cmd: ['sh', '-c', 'echo $FOO; id -u; exit 5'], Env: ['FOO=bar'] });
      assert.deepEqual(r, { ExitCode: 5, Stdout: 'bar\n0\n', Stderr: '' });

      await engine.update(c, { Memory: 96 * MiB, MemorySwap: 96 * MiB });
      assert.equal(Number(readFileSync(limitFile, 'utf8')), 96 * MiB);
      assert.equal((await engine.exec(c, { Cmd: dd(48) })).ExitCode, 0, '48 MiB fits in 96 MiB');
      assert.equal((await engine.inspect(c)).HostConfig.Memory, 96 * MiB);
      assert.equal(actions(env, c).at(-1), 'update');
      await assert.rejects(engine.update(c, { Memory: 1 }), InvalidArgument);
      await assert.rejects(engine.exec(c, { Cmd: ['true'], Tty: true }), Unimplemented);

      const st = await engine.stats(c);
      assert.equal(st.memory_stats.limit, 96 * MiB);
      assert.ok((st.pids_stats.current ?? 0) >= 1);
      assert.ok(st.cpu_stats.cpu_usage.total_usage > 0);
      assert.ok((st.cpu_stats.system_cpu_usage ?? 0) > 0);
      const st2 = await engine.stats(c);
      assert.deepEqual(st2.precpu_stats, st.cpu_stats, 'precpu_stats is the previous sample');
      assert.equal(st2.preread, st.read);

      await engine.update(c, { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } });
      assert.deepEqual((await engine.inspect(c)).HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
      await engine.stop(c);
    });

    test(`containers survive SIGKILL of the engine process (${SURVIVORS} containers)`, async (t) => {
      const env = await engineEnv(t, name, image);
      const o = env.options;
      const script = `${TRAP_TERM} i=0; while true; do echo "n $i"; i=$((i+1)); sleep 0.05; done`;
      const agentScript = `
        const { ContainerEngine } = await import(${JSON.stringify(join(DIST, 'src/agent/containers/container-engine.js'))});
        const { ImageStore } = await import(${JSON.stringify(join(DIST, 'src/adapters/image-store/image-store.js'))});
        const { openOciRuntime } = await import(${JSON.stringify(join(DIST, 'src/adapters/oci-runtime/runtime-cli.js'))});
        const { readHostFacts } = await import(${JSON.stringify(join(DIST, 'src/adapters/oci-runtime/host-facts.js'))});
        const { readCgroupHierarchy } = await import(${JSON.stringify(join(DIST, 'src/adapters/cgroups/cgroup-hierarchy.js'))});
        const hostFacts = await readHostFacts();
        const runtime = await openOciRuntime({ name: ${JSON.stringify(name)}, root: ${JSON.stringify(env.runtime.root)}, cgroupMode: hostFacts.cgroupFeatures.mode });
        const engine = await ContainerEngine.open({ stateDir: ${JSON.stringify(o.stateDir)}, imageStore: new ImageStore({ root: ${JSON.stringify(image.storeRoot)} }),
          runtime, hostFacts, cgroups: await readCgroupHierarchy(), monitorPath: ${JSON.stringify(o.monitorPath)}, cgroupParent: ${JSON.stringify(env.cgroupParent)} });
        const ids = [];
        for (let i = 0; i < ${SURVIVORS}; i++) {
          const { Id } = await engine.create({ name: 'survivor-' + i, config: { Image: ${JSON.stringify(image.ref)}, Cmd: ['sh', '-c', ${JSON.stringify(script)}] } });
          await engine.start(Id);
          ids.push(Id);
        }
        process.stdout.write(JSON.stringify(ids) + '\\n');
        setInterval(() => undefined, 1000);`;
      const agent = spawn(process.execPath, ['--input-type=module', '-e', agentScript], { stdio: ['ignore', 'pipe', 'inherit'] });
      t.after(() => agent.kill('SIGKILL'));
      const ids = await new Promise<string[]>((resolve, reject) => {
        let out = '';
        agent.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('\n')) resolve(JSON.parse(out) as string[]);
        });
        agent.on('exit', (code) => reject(new Error(`engine process exited ${code}`)));
      });
      assert.equal(ids.length, SURVIVORS);
      const lines = async (engine: ContainerEngine, id: string): Promise<string[]> => (await logText(engine, id)).split('\n').filter((l) => l !== '');
      // Read straight from the json-file logs: this test's engine does not know the containers yet.
      const rawLines = async (id: string): Promise<string[]> => (await readAllLogs(join(env.stateDir, 'containers', id, `${id}-json.log`))).map((e) => e.log);
      await until('output of every container', async () => {
        for (const id of ids) if ((await rawLines(id)).length < 3) return false;
        return true;
      }, 30_000);
      agent.kill('SIGKILL');
      await new Promise((r) => agent.once('exit', r));
      for (const id of ids) {
        assert.equal(await monitorAlive(monitorFiles(join(env.stateDir, 'containers', id))), true, `monitor of ${id}`);
        assert.equal((await env.runtime.state(id)).status, 'running');
      }
      const before = await Promise.all(ids.map((id) => rawLines(id)));
      const engine = await env.reopen();
      const running = await engine.list({});
      assert.deepEqual(running.map((c) => c.Id).sort(), [...ids].sort());
      assert.ok(running.every((c) => c.State === 'running'));
      // Output keeps flowing while no engine and after the new one took over.
      await until('more output', async () => {
        for (const [i, id] of ids.entries()) if ((await lines(engine, id)).length < (before[i]?.length ?? 0) + 5) return false;
        return true;
      }, 30_000);
      await Promise.all(ids.map((id) => engine.stop(id, { timeoutSeconds: 5 })));
      for (const id of ids) {
        const j = await engine.inspect(id);
        assert.deepEqual([j.State.Status, j.State.ExitCode], ['exited', 0]);
        const got = await lines(engine, id);
        assert.deepEqual(got, got.map((_, i) => `n ${i}`), `no gap in the log of ${j.Name}`);
      }
    });

    test('a restart pending when the engine closed happens when it reopens', async (t) => {
      const env = await engineEnv(t, name, image, { restartBackoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
      const c = await run(env, ['sh', '-c', 'echo run; exit 1'], { hostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } } });
      await until('restarting', async () => (await env.engine.inspect(c)).State.Restarting);
      const engine = await env.reopen();
      await until('the second run', async () => (await logText(engine, c)) === 'run\nrun\n');
      await until('restarting again (a 60 s backoff)', async () => (await engine.inspect(c)).State.Restarting);
      assert.equal((await engine.inspect(c)).RestartCount, 2);
      assert.equal(await engine.stop(c), true, 'stop cancels the pending restart');
      const j = await engine.inspect(c);
      assert.deepEqual([j.State.Status, j.State.ExitCode, j.RestartCount], ['exited', 1, 2]);
      assert.deepEqual(actions(env, c), ['create', 'start', 'die', 'start', 'die', 'stop']);
    });

    test('exits while the engine was closed are recorded; after a reboot `always` starts again', async (t) => {
      const env = await engineEnv(t, name, image);
      const loop = ['sh', '-c', `${TRAP_TERM} while true; do sleep 0.1; done`];
      const always = await run(env, loop, { hostConfig: { RestartPolicy: { Name: 'always' } } });
      const plain = await run(env, loop);
      const firstPid = (await env.engine.inspect(always)).State.Pid;
      const quick = await run(env, ['sh', '-c', 'sleep 0.5; exit 4']);
      await env.engine.close();
      assert.equal((await env.engine.inspect(quick)).State.Status, 'running', 'closed before the exit');
      const eventsBeforeReopen = env.events.length;
      const files = (id: string): ReturnType<typeof monitorFiles> => monitorFiles(join(env.stateDir, 'containers', id));
      await until('the quick container exits', () => readFileExists(files(quick).exitFile));
      // A reboot: monitors and the runtime's state are gone, mounts too; no exit files.
      for (const id of [always, plain]) {
        const monitorPid = Number(readFileSync(files(id).monitorPidFile, 'utf8'));
        process.kill(monitorPid, 'SIGKILL');
        await until('monitor gone', async () => !(await monitorAlive(files(id))));
        await env.runtime.delete(id, { force: true });
        rmSync(files(id).exitFile, { force: true });
        await releaseBundle(join(env.stateDir, 'containers', id));
      }
      const engine = await env.reopen();
      const q = (await engine.inspect(quick)).State;
      assert.deepEqual([q.Status, q.ExitCode], ['exited', 4]);
      assert.deepEqual(env.events.slice(eventsBeforeReopen).filter((e) => e.Actor.ID === quick).map((e) => [e.Action, e.Actor.Attributes.exitCode]), [['die', '4']], 'recorded by the reopened engine');
      const a = (await engine.inspect(always)).State;
      assert.equal(a.Status, 'running');
      assert.notEqual(a.Pid, firstPid);
      assert.equal((await env.runtime.state(always)).status, 'running');
      const p = (await engine.inspect(plain)).State;
      assert.deepEqual([p.Status, p.ExitCode], ['exited', 255]);
      assert.equal(await engine.start(plain), true, 'a container whose host rebooted starts again');
      assert.equal((await engine.exec(plain, { Cmd: ['echo', 'back'] })).Stdout, 'back\n');
      await engine.stop(plain);
      await engine.stop(always);
    });
  });
}

function readFileExistsSync(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

async function readFileExists(path: string): Promise<boolean> {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}
