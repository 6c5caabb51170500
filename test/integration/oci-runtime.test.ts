// The OCI runtime layer against the real runtimes, runc and crun: config.json from
// core/containers, the overlay rootfs, atomic-monitor (json-file logs, exit file, OOM), the
// runtime drivers (start, kill, update, exec, delete, state errors) and the cgroups adapter.
// Every test runs once per runtime. On this CI machine kind cgroups are "hybrid": crun runs via
// the private-mount-namespace workaround, runc directly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readCgroupStats } from '../../src/adapters/cgroups/cgroup-stats.js';
import { readJsonFileLog, type LogEntry } from '../../src/adapters/oci-runtime/json-file-log.js';
import { connectMonitorAttach, encodeAttachFrame, SUBSCRIBED } from '../../src/adapters/oci-runtime/monitor-attach.js';
import { monitorAlive, readExitFile, waitForExit } from '../../src/adapters/oci-runtime/monitor.js';
import { capabilityMask, DEFAULT_CAPABILITIES } from '../../src/core/containers/capabilities.js';
import { updateResources } from '../../src/core/containers/resources.js';
import { AlreadyExists, Conflict, NotFound } from '../../src/lib/errors.js';
import { DIST } from '../helpers.js';
import { buildMonitor, busyboxImage, containerEnv, makeBusyboxImage, MONITOR, readAllLogs, RUNTIMES, waitForLog } from '../fixtures/busybox-bundle.js';

const MiB = 1024 * 1024;
let image: { dir: string; remove: () => void };

before(() => {
  buildMonitor();
  image = busyboxImage();
});
after(() => image.remove());

const capLine = (text: string, name: string): string | undefined => new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(text)?.[1];
const allText = (entries: readonly LogEntry[], stream?: string): string => entries.filter((e) => stream === undefined || e.stream === stream).map((e) => e.log).join('');

for (const name of RUNTIMES) {
  describe(`OCI runtime layer with ${name}`, () => {
    test('echo hi: json-file log entry and exit code 0', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const c = await env.run({ cmd: ['echo', 'hi'] });
      const exit = await c.wait();
      assert.equal(exit.exitCode, 0);
      assert.equal(exit.signal, undefined);
      assert.equal(exit.oomKilled, false);
      const raw = readFileSync(c.logPath, 'utf8');
      assert.match(raw, /^\{"log":"hi\\n","stream":"stdout","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z"\}\n$/);
      const [e] = await c.logs();
      assert.equal(e?.log, 'hi\n');
      assert.ok(e !== undefined && e.timeNs > BigInt(Date.now() - 60_000) * 1_000_000n);
      assert.equal((await env.runtime.state(c.id)).status, 'stopped');
    });

    test('exit codes propagate, stderr is its own stream', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const c = await env.run({ cmd: ['sh', '-c', 'echo out; echo oops >&2; exit 3'] });
      assert.equal((await c.wait()).exitCode, 3);
      const logs = await c.logs();
      assert.deepEqual(logs.map((e) => [e.stream, e.log]).sort(), [['stderr', 'oops\n'], ['stdout', 'out\n']]);
    });

    test('Docker json-file details: 16 KiB partial entries, JSON escaping, invalid UTF-8', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const c = await env.run({ cmd: ['sh', '-c', `head -c 40000 /dev/zero | tr '\\0' a; echo; printf 'q"b\\\\c\\tx<y>&\\001\\n'; printf '\\377\\n'; printf 'caf\\303\\251 \\342\\200\\250\\n'; printf tail`] });
      assert.equal((await c.wait()).exitCode, 0);
      const logs = await c.logs();
      assert.deepEqual(logs.slice(0, 3).map((e) => [e.log.length, e.partial]), [[16384, true], [16384, true], [40000 - 2 * 16384 + 1, false]]);
      assert.equal(logs[3]?.log, 'q"b\\c\tx<y>&\u0001\n');
      assert.equal(logs[4]?.log, '\ufffd\n');
      assert.equal(logs[5]?.log, 'café \u2028\n');
      assert.deepEqual([logs[6]?.log, logs[6]?.partial], ['tail', true]);
      const raw = readFileSync(c.logPath, 'utf8').split('\n');
      // Go's encoding/json with HTML escaping, as dockerd writes it.
      assert.ok(raw.includes('{"log":"q\\"b\\\\c\\tx\\u003cy\\u003e\\u0026\\u0001\\n","stream":"stdout","time":"' + logs[3]?.time + '"}'), raw[3]);
      assert.match(raw[5] ?? '', /"log":"café \\u2028\\n"/);
    });

    test('a TTY container logs through the console socket (stdout, CRLF)', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const c = await env.run({ cmd: ['sh', '-c', 'echo hi; tty'], config: { Tty: true } });
      assert.equal((await c.wait()).exitCode, 0);
      const text = allText(await c.logs());
      assert.match(text, /^hi\r\n\/dev\/(console|pts\/0)\r\n$/);
      assert.ok((await c.logs()).every((e) => e.stream === 'stdout'));
    });

    test('attach socket: a taken subscription starts with SUBSCRIBED and replays the start; one sent after the end is not taken', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const drain = async (out: AsyncGenerator<Buffer, boolean>, until?: RegExp): Promise<{ text: string; taken?: boolean }> => {
        let text = '';
        for (;;) {
          const r = await out.next();
          if (r.done === true) return { text, taken: r.value };
          text += r.value.toString();
          if (until?.test(text) === true) return { text };
        }
      };
      // Taken: whatever came before the subscription is replayed; the output ends with the container.
      const a = await env.run({ cmd: ['sh', '-c', 'echo early; read x; echo late-$x'], config: { Tty: true, OpenStdin: true }, attach: true });
      const conn = await connectMonitorAttach(a.files.attachSocket);
      assert.ok(conn !== undefined, 'the monitor listens while the container waits for its stdin');
      const out = conn.subscribe(true);
      assert.equal((await drain(out, /early\r\n/)).text, 'early\r\n');
      // On the wire: the answer to a subscription is the byte, before any output.
      const raw = connect(a.files.attachSocket);
      raw.write(encodeAttachFrame('o', Uint8Array.of(0)));
      // (Bounded, so that a monitor that never answers fails here instead of hanging.)
      const [first] = (await Promise.race([once(raw, 'data'), sleep(10_000).then(() => [Buffer.from('no answer in 10 s')])])) as [Buffer];
      assert.deepEqual(first.toString('latin1'), String.fromCharCode(SUBSCRIBED));
      raw.destroy();
      await conn.writeStdin(Buffer.from('y\r'));
      assert.deepEqual(await drain(out), { text: 'y\r\nlate-y\r\n', taken: true });
      conn.close();
      assert.equal((await a.wait()).exitCode, 0);

      // Not taken: a connection that subscribes only once the container ended and its monitor
      // stopped reading gets no SUBSCRIBED byte (the agent then reads the log, which has it all).
      const b = await env.run({ cmd: ['sh', '-c', 'read x; echo got-$x'], config: { Tty: true, OpenStdin: true }, attach: true });
      const late = await connectMonitorAttach(b.files.attachSocket);
      const feeder = await connectMonitorAttach(b.files.attachSocket);
      assert.ok(late !== undefined && feeder !== undefined);
      await feeder.writeStdin(Buffer.from('z\r'));
      assert.equal((await b.wait()).exitCode, 0);
      for (let i = 0; i < 1200 && (await monitorAlive(b.files)); i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(await monitorAlive(b.files), false, 'the monitor exits after the exit file (30 s bound)');
      assert.deepEqual(await drain(late.subscribe(true)), { text: '', taken: false });
      late.close();
      feeder.close();
      assert.equal(allText(await b.logs()), 'z\r\ngot-z\r\n');
    });

    test('a memory-limited container that allocates more is OOM-killed (137, oomKilled)', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const c = await env.run({ cmd: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'], hostConfig: { Memory: 16 * MiB } });
      const exit = await c.wait();
      assert.equal(exit.exitCode, 137);
      assert.equal(exit.signal, 9);
      assert.equal(exit.oomKilled, true);
      // The same program within its limit is not.
      const ok = await env.run({ cmd: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=4M', 'count=1'], hostConfig: { Memory: 16 * MiB } });
      const okExit = await ok.wait();
      assert.deepEqual([okExit.exitCode, okExit.oomKilled], [0, false]);
    });

    test('SIGKILL without OOM is exit 137 with oomKilled false; kill with a given signal', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const trap = await env.run({ cmd: ['sh', '-c', 'trap "echo got USR1; exit 7" USR1; echo ready; while :; do sleep 0.1; done'] });
      await trap.waitForLog(/ready/);
      await env.runtime.kill(trap.id, 'SIGUSR1');
      assert.equal((await trap.wait()).exitCode, 7);
      assert.match(allText(await trap.logs()), /got USR1/);

      const c = await env.run({ cmd: ['sleep', '60'], hostConfig: { Memory: 64 * MiB } });
      assert.equal((await env.runtime.state(c.id)).status, 'running');
      await env.runtime.kill(c.id, 'KILL');
      const exit = await c.wait();
      assert.deepEqual([exit.exitCode, exit.signal, exit.oomKilled], [137, 9, false]);
      await assert.rejects(env.runtime.kill(c.id, 'TERM'), Conflict);
    });

    test('pids limit stops forks', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      // The forks wait for a go file, so the container is surely alive while its cgroup is read
      // (an exited init reports the root cgroup in /proc/PID/cgroup).
      const script = 'while [ ! -e /tmp/go ]; do sleep 0.05; done; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do sleep 1 & done; wait; echo finished';
      const limited = await env.run({ cmd: ['sh', '-c', script], hostConfig: { PidsLimit: 6 } });
      const cg = await limited.cgroup();
      assert.equal(readFileSync(join(cg.v1Dirs.get('pids') ?? cg.v2Dir ?? '', 'pids.max'), 'utf8').trim(), '6');
      writeFileSync(join(limited.rootfsPath, 'tmp/go'), ''); // from the host: an exec would need pids too
      await limited.wait();
      assert.match(allText(await limited.logs(), 'stderr'), /can't fork/);
      const free = await env.run({ cmd: ['sh', '-c', script] });
      writeFileSync(join(free.rootfsPath, 'tmp/go'), '');
      await free.wait();
      assert.equal(allText(await free.logs(), 'stderr'), '');
    });

    test('update raises and lowers the memory limit of a running container', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const c = await env.run({ cmd: ['sleep', '120'], hostConfig: { Memory: 32 * MiB } });
      const memDir = (await c.cgroup()).v1Dirs.get('memory') ?? (await c.cgroup()).v2Dir ?? '';
      const limitFile = join(memDir, env.cgroups.mode === 'v2' ? 'memory.max' : 'memory.limit_in_bytes');
      assert.equal(Number(readFileSync(limitFile, 'utf8')), 32 * MiB);
      const alloc48 = ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=48M', 'count=1'];
      assert.equal((await c.exec(alloc48)).exitCode, 137, '48 MiB does not fit in 32 MiB');

      let current = c.spec.hostConfig;
      const raise = updateResources(current, { Memory: 96 * MiB, MemorySwap: 96 * MiB }, env.host.cgroupFeatures);
      await env.runtime.update(c.id, raise.resources);
      current = raise.hostConfig;
      assert.equal(Number(readFileSync(limitFile, 'utf8')), 96 * MiB);
      assert.equal((await c.exec(alloc48)).exitCode, 0, '48 MiB fits in 96 MiB');

      const lower = updateResources(current, { Memory: 24 * MiB, MemorySwap: 24 * MiB }, env.host.cgroupFeatures);
      await env.runtime.update(c.id, lower.resources);
      assert.equal(Number(readFileSync(limitFile, 'utf8')), 24 * MiB);
      assert.equal((await c.exec(alloc48)).exitCode, 137, '48 MiB does not fit in 24 MiB');
      assert.equal((await env.runtime.state(c.id)).status, 'running', 'the OOM kill took the exec process, not the container');

      const stats = await readCgroupStats(await c.cgroup());
      assert.equal(stats.memory?.limitBytes, 24 * MiB);
      assert.ok((stats.memory?.oomKills ?? 0) >= 2, JSON.stringify(stats.memory));
      assert.ok((stats.pids?.current ?? 0) >= 1);
      assert.ok((stats.cpu?.usageNs ?? 0) > 0);
    });

    test('the monitor survives SIGKILL of the agent that started it', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const p = await env.prepare({ cmd: ['sh', '-c', 'i=0; while [ $i -lt 40 ]; do echo line $i; i=$((i+1)); sleep 0.05; done'] });
      // A separate "agent" process starts the monitor and the container, then is SIGKILLed.
      const agentScript = `
        const { openOciRuntime } = await import(${JSON.stringify(join(DIST, 'src/adapters/oci-runtime/runtime-cli.js'))});
        const { startMonitor } = await import(${JSON.stringify(join(DIST, 'src/adapters/oci-runtime/monitor.js'))});
        const runtime = await openOciRuntime({ name: ${JSON.stringify(name)}, root: ${JSON.stringify(env.runtime.root)}, cgroupMode: ${JSON.stringify(env.host.cgroupFeatures.mode)} });
        const started = await startMonitor({ monitorPath: ${JSON.stringify(MONITOR)}, runtime, id: ${JSON.stringify(p.id)}, bundle: ${JSON.stringify(p.bundle)},
          files: ${JSON.stringify(p.files)}, logPath: ${JSON.stringify(p.logPath)} });
        await runtime.start(${JSON.stringify(p.id)});
        process.stdout.write(JSON.stringify(started) + '\\n');
        setInterval(() => undefined, 1000);`;
      const agent = spawn(process.execPath, ['--input-type=module', '-e', agentScript], { stdio: ['ignore', 'pipe', 'inherit'] });
      t.after(() => agent.kill('SIGKILL'));
      const started = await new Promise<{ containerPid: number; monitorPid: number }>((resolve, reject) => {
        let out = '';
        agent.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('\n')) resolve(JSON.parse(out) as { containerPid: number; monitorPid: number });
        });
        agent.on('exit', (code) => reject(new Error(`agent exited ${code}`)));
      });
      // Nothing ties their lifetimes: no pipe or socket shared, not its child, its own session.
      const links = (pid: number): string[] =>
        readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
          try {
            return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
          } catch {
            return [];
          }
        });
      const agentLinks = links(agent.pid as number);
      assert.deepEqual(links(started.monitorPid).filter((l) => /^(pipe|socket):/.test(l) && agentLinks.includes(l)), []);
      const status = readFileSync(`/proc/${started.monitorPid}/status`, 'utf8');
      assert.notEqual(Number(/^PPid:\s*(\d+)/m.exec(status)?.[1]), agent.pid);
      const sid = (pid: number): string | undefined => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[3];
      assert.notEqual(sid(started.monitorPid), sid(agent.pid as number));

      await waitForLog(p.logPath, /line 3/);
      agent.kill('SIGKILL');
      await new Promise((r) => agent.once('exit', r));
      assert.equal(await monitorAlive(p.files), true);
      assert.equal((await env.runtime.state(p.id)).status, 'running');
      const exit = await waitForExit(p.files.exitFile, { timeoutMs: 30_000 });
      assert.equal(exit.exitCode, 0);
      assert.equal(exit.pid, started.containerPid);
      assert.deepEqual((await readAllLogs(p.logPath)).map((e) => e.log), Array.from({ length: 40 }, (_, i) => `line ${i}\n`));
      await sleep(200);
      assert.equal(await monitorAlive(p.files), false, 'the monitor exits after writing the exit file');
    });

    test('log rotation by size, and --follow across rotations', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const pad = 'x'.repeat(60);
      const c = await env.run({
        cmd: ['sh', '-c', `i=0; while [ $i -lt 300 ]; do echo "line $i ${pad}"; i=$((i+1)); [ $((i % 10)) -eq 0 ] && sleep 0.05; done; true`],
        logMaxSizeBytes: 4096,
        logMaxFiles: 3,
      });
      const got: string[] = [];
      for await (const e of readJsonFileLog(c.logPath, { follow: true, pollMs: 10, isDone: async () => existsSync(c.files.exitFile) })) got.push(e.log);
      assert.equal((await readExitFile(c.files.exitFile))?.exitCode, 0);
      assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => `line ${i} ${pad}\n`));
      assert.ok(existsSync(`${c.logPath}.1`) && existsSync(`${c.logPath}.2`));
      assert.equal(existsSync(`${c.logPath}.3`), false, 'max-file 3 keeps the log and two rotated files');
      for (const f of [c.logPath, `${c.logPath}.1`, `${c.logPath}.2`]) assert.ok(statSync(f).size <= 4096 + 200, `${f}: ${statSync(f).size} bytes`);
      // Without follow: what is left, oldest first, and --tail.
      const kept = (await c.logs()).map((e) => e.log);
      assert.deepEqual(kept, got.slice(got.length - kept.length));
      const tail: string[] = [];
      for await (const e of readJsonFileLog(c.logPath, { tail: 5 })) tail.push(e.log);
      assert.deepEqual(tail, got.slice(-5));
    });

    test('read-only rootfs refuses writes; --tmpfs stays writable', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const c = await env.run({ cmd: ['sh', '-c', 'touch /x 2>&1; echo rc=$?; touch /run/y && echo tmpfs-ok'], hostConfig: { ReadonlyRootfs: true, Tmpfs: { '/run': 'size=1m' } } });
      await c.wait();
      const text = allText(await c.logs());
      assert.match(text, /Read-only file system/);
      assert.match(text, /rc=1/);
      assert.match(text, /tmpfs-ok/);
      const rw = await env.run({ cmd: ['sh', '-c', 'touch /x && echo rw-ok'] });
      await rw.wait();
      assert.match(allText(await rw.logs()), /rw-ok/);
    });

    test("default capabilities are exactly Docker's; cap-drop ALL + cap-add", async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const c = await env.run({ cmd: ['grep', 'Cap', '/proc/self/status'] });
      await c.wait();
      const text = allText(await c.logs());
      const docker = capabilityMask(DEFAULT_CAPABILITIES);
      assert.equal(docker, '00000000a80425fb');
      for (const set of ['CapEff', 'CapPrm', 'CapBnd']) assert.equal(capLine(text, set), docker, `${set} in\n${text}`);
      assert.equal(capLine(text, 'CapInh'), '0000000000000000');
      assert.equal(capLine(text, 'CapAmb'), '0000000000000000');
      const few = await env.run({ cmd: ['grep', 'CapEff', '/proc/self/status'], hostConfig: { CapDrop: ['ALL'], CapAdd: ['net_admin', 'CAP_KILL'] } });
      await few.wait();
      assert.equal(capLine(allText(await few.logs()), 'CapEff'), capabilityMask(['CAP_KILL', 'CAP_NET_ADMIN']));
    });

    test('seccomp: the default profile refuses unshare (EPERM) while normal programs run', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const script = 'unshare -U true; echo rc=$?; echo ok > /tmp/f && cat /tmp/f && ls / >/dev/null && echo normal';
      const c = await env.run({ cmd: ['sh', '-c', script] });
      await c.wait();
      const text = allText(await c.logs());
      assert.match(text, /Operation not permitted/);
      assert.match(text, /rc=1/);
      assert.match(text, /ok\nnormal/);
      assert.equal(c.config.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
      // The same call is allowed without the profile: it is seccomp that refused it, not the kernel.
      const u = await env.run({ cmd: ['sh', '-c', script], hostConfig: { SecurityOpt: ['seccomp=unconfined'] } });
      await u.wait();
      assert.match(allText(await u.logs()), /rc=0/);
      // Every capability-gated rule at once: the runtime accepts the whole profile.
      const all = await env.run({ cmd: ['sh', '-c', 'mount -t tmpfs none /tmp && echo mounted'], hostConfig: { CapAdd: ['ALL'] } });
      assert.equal((await all.wait()).exitCode, 0);
      assert.match(allText(await all.logs()), /mounted/);
    });

    test('--init (tini) reaps zombies and forwards signals', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const cmd = ['sh', '-c', '(sleep 0.2 &); exec sleep 60'];
      const zombies = ['sh', '-c', 'grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l'];
      const plain = await env.run({ cmd });
      const init = await env.run({ cmd, hostConfig: { Init: true } });
      await sleep(800);
      assert.equal((await plain.exec(zombies)).stdout.trim(), '1', 'without an init the orphan stays a zombie');
      assert.equal((await init.exec(zombies)).stdout.trim(), '0', 'tini reaped it');
      // PID 1 without a handler ignores SIGTERM; tini forwards it to sleep.
      await env.runtime.kill(plain.id, 'TERM');
      await env.runtime.kill(init.id, 'TERM');
      assert.equal((await init.wait(10_000)).exitCode, 143);
      await sleep(300);
      assert.equal((await env.runtime.state(plain.id)).status, 'running');
      assert.equal(init.config.process.args[0], '/sbin/docker-init');
    });

    test('exec: output, exit status, user, environment', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const c = await env.run({ cmd: ['sleep', '60'], config: { Env: ['FOO=bar'] } });
      const r = await c.exec(['sh', '-c', 'echo $FOO $HOSTNAME; id -u; exit 5'], { Env: ['X=1'] });
      assert.equal(r.exitCode, 5);
      assert.equal(r.stdout, `bar ${c.spec.hostname}\n0\n`);
      const app = await c.exec(['id'], { User: 'app' });
      // Supplementary groups are the groups that list the user (runc/Docker GetExecUser), not its primary one.
      assert.equal(app.stdout.trim(), 'uid=1000(app) gid=1000(app) groups=50(staff)');
    });

    test('runtime errors map to the taxonomy', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      await assert.rejects(env.runtime.state('nope'), NotFound);
      assert.equal(await env.runtime.getState('nope'), undefined);
      await assert.rejects(env.runtime.start('nope'), NotFound);
      await assert.rejects(env.runtime.kill('nope', 'KILL'), NotFound);
      await assert.rejects(env.runtime.delete('nope'), NotFound);
      const c = await env.run({ cmd: ['sleep', '60'] });
      await assert.rejects(env.runtime.create(c.id, c.bundle, { pidFile: join(c.dir, 'again.pid') }), AlreadyExists);
      await assert.rejects(env.runtime.start(c.id), Conflict);
      await assert.rejects(env.runtime.delete(c.id), Conflict);
      assert.deepEqual((await env.runtime.list()).map((s) => s.id), [c.id]);
      await env.runtime.delete(c.id, { force: true });
      assert.equal(await env.runtime.getState(c.id), undefined);
      const exit = await waitForExit(c.files.exitFile, { timeoutMs: 10_000 });
      assert.equal(exit.exitCode, 137);
    });

    test('create without the monitor (stdio passed through), from a plain directory rootfs', async (t) => {
      const env = await containerEnv(t, name, image.dir);
      const plain = makeBusyboxImage(join(env.stateDir, 'plain-rootfs'));
      const c = await env.prepare({ cmd: ['sh', '-c', 'echo direct; cat /etc/hostname; touch /written'], rootfs: { kind: 'directory', path: plain } });
      assert.equal(c.config.root.path, plain);
      const out = join(c.dir, 'direct.out');
      writeFileSync(out, '');
      const fd = openSync(out, 'a');
      try {
        await env.runtime.create(c.id, c.bundle, { pidFile: c.files.pidFile, stdio: ['ignore', fd, fd] });
      } finally {
        closeSync(fd);
      }
      assert.equal((await env.runtime.state(c.id)).status, 'created');
      await env.runtime.start(c.id);
      for (let i = 0; i < 100 && !existsSync(join(plain, 'written')); i++) await sleep(50);
      assert.equal(readFileSync(out, 'utf8'), `direct\n${c.spec.hostname}\n`);
      assert.ok(existsSync(join(plain, 'written')), 'writes go straight into the directory');
    });
  });
}

