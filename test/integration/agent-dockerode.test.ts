// The Docker SDK for Node.js (dockerode 5, unversioned paths over the Unix socket) against
// `atomicd run` (runc, --bridge none, the busybox image in a loopback registry): what a program
// written for dockerd does, checked field by field in Docker's names and types. Networks that need
// the bridge controller are driven against a second agent in a throwaway network namespace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { AGENT } from '../helpers.js';
import { agentWithBusybox, cleanupAgentState, type AgentWorld } from '../fixtures/agent-process.js';
import { manifestDescriptor, pushWithSkopeo } from '../fixtures/registry.js';

let world: AgentWorld;
let docker: Docker;
let image: string;
/** Unix seconds before anything happened: the lower bound of the events test. */
let startedAtSeconds: number;

before(async () => {
  world = await agentWithBusybox('agent-dockerode-', { name: 'sdk' });
  image = world.image;
  docker = new Docker({ socketPath: world.agent.socket });
  startedAtSeconds = Math.floor(Date.now() / 1000) - 1;
});

after(async () => {
  await world?.close();
});

/** What dockerode rejects with for an HTTP error: docker-modem's error with the status and the parsed body. */
interface ModemError extends Error {
  statusCode?: number;
  json?: { message?: string } | null;
}

async function httpError(p: Promise<unknown>): Promise<ModemError> {
  try {
    await p;
  } catch (e) {
    return e as ModemError;
  }
  assert.fail('expected the request to fail');
}

/** Everything a stream carries, as one buffer. */
async function drain(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer | string>) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

/** A multiplexed (non-TTY) stream split by docker-modem's own demuxer into stdout and stderr text. */
async function demux(stream: NodeJS.ReadableStream): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const stdout = drain(out);
  const stderr = drain(err);
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  out.end();
  err.end();
  return { stdout: (await stdout).toString(), stderr: (await stderr).toString() };
}

/** Poll (no timing assertion: only a bound so a broken agent fails instead of hanging). */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(50);
  }
  assert.fail(`never happened: ${what}`);
}

test('ping, version and info in the Engine API shapes', async () => {
  const ping = await docker.ping();
  assert.equal(String(ping), 'OK');
  const v = await docker.version();
  assert.equal(v.ApiVersion, '1.43');
  assert.equal(v.MinAPIVersion, '1.24');
  assert.equal(v.Os, 'linux');
  assert.equal(v.Arch, 'amd64');
  assert.equal(v.Version, '0.1.0');
  assert.equal(v.KernelVersion, readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
  assert.equal(v.Components?.[0]?.Name, 'Engine');
  const info = await docker.info();
  assert.equal(info.OSType, 'linux');
  assert.equal(info.ServerVersion, '0.1.0');
  assert.equal(info.CgroupDriver, 'cgroupfs');
  assert.equal(info.Images, 1, 'the busybox image the fixture pulled');
  assert.equal(info.Containers, 0);
  assert.equal(typeof info.NCPU, 'number');
  assert.ok(info.NCPU >= 1);
  assert.ok(info.MemTotal > 0);
  assert.equal(info.DockerRootDir, world.agent.stateDir);
});

test('docker.pull + modem.followProgress: Docker\'s JSON progress stream, then the image is listed; an unknown image is a 404', async () => {
  pushWithSkopeo(join(world.work, 'layout'), 'extra', world.registry.host, 'sdk/extra:v1', 'oci');
  const ref = `${world.registry.host}/sdk/extra:v1`;
  const events: Record<string, unknown>[] = [];
  const output = await new Promise<Record<string, unknown>[]>((resolve, reject) => {
    void docker.pull(ref).then((stream: NodeJS.ReadableStream) => {
      docker.modem.followProgress(stream, (err: Error | null, out: Record<string, unknown>[]) => (err === null ? resolve(out) : reject(err)), (e: Record<string, unknown>) => events.push(e));
    }, reject);
  });
  assert.deepEqual(output, events, 'every message reached onProgress and the final output');
  assert.deepEqual(events[0], { status: 'Pulling from sdk/extra', id: 'v1' });
  const manifest = JSON.parse((await manifestDescriptor(world.registry.url, 'sdk/extra', 'v1')).body.toString()) as { layers: { digest: string }[] };
  const expected = manifest.layers.map((l) => l.digest.slice('sha256:'.length, 'sha256:'.length + 12));
  assert.ok(expected.length >= 2);
  const layerMessages = events.filter((e) => typeof e.id === 'string' && /^[0-9a-f]{12}$/.test(e.id));
  const layers = new Set(layerMessages.map((e) => e.id));
  assert.deepEqual([...layers].sort(), [...expected].sort(), 'one progress id per layer: the first 12 hex digits of its digest');
  for (const e of layerMessages) {
    assert.equal(typeof e.status, 'string');
    assert.equal(typeof e.progressDetail, 'object', JSON.stringify(e));
    assert.notEqual(e.progressDetail, null);
  }
  // The base layer is busybox's, unpacked already; the others are fetched.
  for (const [i, id] of expected.entries()) {
    const statuses = layerMessages.filter((e) => e.id === id).map((e) => e.status);
    assert.deepEqual(statuses.at(-1), i === 0 ? 'Already exists' : 'Pull complete', `layer ${id}: ${statuses.join(', ')}`);
  }
  const downloading = layerMessages.find((e) => e.status === 'Downloading' && (e.progressDetail as { total?: number }).total !== undefined);
  if (downloading !== undefined) {
    const d = downloading.progressDetail as { current: number; total: number };
    assert.equal(typeof d.current, 'number');
    assert.ok(d.current <= d.total);
    assert.match(String(downloading.progress), /^\[[=> ]{50}\] /);
  }
  assert.match(String(events.at(-2)?.status), /^Digest: sha256:[0-9a-f]{64}$/);
  assert.equal(events.at(-1)?.status, `Status: Downloaded newer image for ${ref}`);
  assert.ok(events.every((e) => e.error === undefined), 'no error message');

  const again = await drain(await docker.pull(ref));
  assert.match(again.toString(), new RegExp(`"status":"Status: Image is up to date for ${ref.replace(/[.]/g, '\\.')}"`));
  const listed = await docker.listImages();
  assert.ok(listed.some((i) => i.RepoTags?.includes(ref)), JSON.stringify(listed.map((i) => i.RepoTags)));

  const missing = await httpError(docker.pull(`${world.registry.host}/sdk/nothing-here:v1`).then(drain));
  assert.equal(missing.statusCode, 404, missing.message);
  // A streamed endpoint: docker-modem puts the JSON body's message into the error's text.
  assert.match(missing.message, /sdk\/nothing-here/);
  await docker.getImage(ref).remove();
});

test('createContainer with Labels and HostConfig, start, inspect in Docker\'s field names and types', async () => {
  const c = await docker.createContainer({
    name: 'web',
    Image: image,
    Cmd: ['sh', '-c', 'trap "echo caught TERM; exit 0" TERM; echo to-stdout; echo to-stderr >&2; while :; do sleep 1 & wait $!; done'],
    Labels: { 'com.example.role': 'web', tier: 'front' },
    HostConfig: {
      Memory: 64 * 1024 * 1024,
      CpuShares: 512,
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
      Binds: ['sdkdata:/data'],
      NetworkMode: 'none',
    },
  });
  assert.match(c.id, /^[0-9a-f]{64}$/);
  const created = await c.inspect();
  assert.equal(created.State.Status, 'created');
  assert.equal(created.State.Running, false);
  assert.equal(created.State.Pid, 0);
  await c.start();
  const i = await c.inspect();
  assert.equal(i.Id, c.id);
  assert.equal(i.Name, '/web');
  assert.equal(i.State.Status, 'running');
  assert.equal(i.State.Running, true);
  assert.equal(i.State.Paused, false);
  assert.equal(i.State.ExitCode, 0);
  assert.equal(typeof i.State.Pid, 'number');
  assert.ok(i.State.Pid > 0);
  assert.ok(existsSync(`/proc/${i.State.Pid}`), 'State.Pid is a live process');
  assert.ok(Date.parse(i.State.StartedAt) >= (startedAtSeconds - 1) * 1000, i.State.StartedAt);
  assert.equal(i.State.FinishedAt, '0001-01-01T00:00:00Z');
  assert.deepEqual(i.Config.Labels, { 'com.example.role': 'web', tier: 'front' });
  assert.equal(i.Config.Image, image);
  assert.deepEqual(i.Config.Cmd?.slice(0, 2), ['sh', '-c']);
  assert.equal(i.HostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(i.HostConfig.CpuShares, 512);
  assert.deepEqual(i.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  assert.equal(i.HostConfig.NetworkMode, 'none');
  assert.deepEqual(i.HostConfig.Binds, ['sdkdata:/data']);
  assert.equal(i.Mounts.length, 1);
  assert.equal(i.Mounts[0]?.Type, 'volume');
  assert.equal(i.Mounts[0]?.Name, 'sdkdata');
  assert.equal(i.Mounts[0]?.Destination, '/data');
  assert.equal(i.Mounts[0]?.RW, true);
  assert.equal(typeof i.NetworkSettings, 'object');
  assert.deepEqual(Object.keys(i.NetworkSettings.Networks), ['none']);
  assert.equal((i.NetworkSettings as unknown as { IPAddress: string }).IPAddress, '');
  assert.equal(i.RestartCount, 0);
  // The memory limit is the cgroup's, not only a stored number.
  const stats = (await c.stats({ stream: false, 'one-shot': true } as { stream: false })) as unknown as { memory_stats: { limit?: number } };
  assert.equal(stats.memory_stats.limit, 64 * 1024 * 1024);
});

test('listContainers with label, status and name filters', async () => {
  const idle = await docker.createContainer({ name: 'idle', Image: image, Cmd: ['true'], Labels: { tier: 'back' }, HostConfig: { NetworkMode: 'none' } });
  const names = (list: Docker.ContainerInfo[]): string[] => list.map((x) => x.Names[0] ?? '').sort();
  assert.deepEqual(names(await docker.listContainers()), ['/web'], 'running ones only without all');
  assert.deepEqual(names(await docker.listContainers({ all: true })), ['/idle', '/web']);
  assert.deepEqual(names(await docker.listContainers({ all: true, filters: { label: ['tier=front'] } })), ['/web']);
  assert.deepEqual(names(await docker.listContainers({ all: true, filters: { label: ['com.example.role'] } })), ['/web']);
  assert.deepEqual(names(await docker.listContainers({ all: true, filters: { status: ['created'] } })), ['/idle']);
  assert.deepEqual(names(await docker.listContainers({ all: true, filters: { status: ['running'] } })), ['/web']);
  assert.deepEqual(names(await docker.listContainers({ all: true, filters: { name: ['idle'] } })), ['/idle']);
  assert.deepEqual(names(await docker.listContainers({ all: true, filters: { name: ['nosuch'] } })), []);
  const [web] = await docker.listContainers({ filters: { name: ['web'] } });
  assert.ok(web !== undefined);
  assert.equal(web.State, 'running');
  assert.match(web.Status, /^Up /);
  assert.equal(web.Image, image);
  assert.deepEqual(web.Labels, { 'com.example.role': 'web', tier: 'front' });
  assert.equal(typeof web.Created, 'number');
  assert.match(web.Id, /^[0-9a-f]{64}$/);
  assert.equal(web.HostConfig.NetworkMode, 'none');
  const bad = await httpError(docker.listContainers({ filters: { nonsense: ['x'] } }));
  assert.equal(bad.statusCode, 400);
  assert.equal(typeof bad.json?.message, 'string');
  assert.equal((await idle.inspect()).State.Status, 'created');
});

test('logs (non-TTY): multiplexed frames that modem.demuxStream splits into stdout and stderr', async () => {
  const web = docker.getContainer('web');
  const buffered = await eventually('both lines in the log of web', async () => {
    const b = (await web.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return b.includes('to-stderr') && b.includes('to-stdout') ? b : undefined;
  });
  assert.equal(buffered[0], 1, 'the first frame is stdout\'s (header byte 1)');
  assert.deepEqual(await demux(Readable.from([buffered])), { stdout: 'to-stdout\n', stderr: 'to-stderr\n' });
  const onlyErr = (await web.logs({ stdout: false, stderr: true })) as unknown as Buffer;
  assert.deepEqual(await demux(Readable.from([onlyErr])), { stdout: '', stderr: 'to-stderr\n' });

  // Followed logs of a container that ends: the stream ends with it.
  // stdout and stderr are separate pipes: the pause puts "three" after "two" in the log for --tail.
  const short = await docker.createContainer({ name: 'short', Image: image, Cmd: ['sh', '-c', 'echo one; echo two >&2; sleep 0.3; echo three; exit 3'], HostConfig: { NetworkMode: 'none' } });
  await short.start();
  assert.deepEqual(await short.wait(), { StatusCode: 3, Error: null } as unknown as Record<string, unknown>);
  const followed = await short.logs({ stdout: true, stderr: true, follow: true, timestamps: false });
  assert.deepEqual(await demux(followed), { stdout: 'one\nthree\n', stderr: 'two\n' });
  const tail = (await short.logs({ stdout: true, stderr: true, tail: 1 })) as unknown as Buffer;
  assert.deepEqual(await demux(Readable.from([tail])), { stdout: 'three\n', stderr: '' });
  const none = await httpError(short.logs({ follow: false }));
  assert.equal(none.statusCode, 400, 'neither stdout nor stderr');
  assert.match(String(none.json?.message), /you must choose at least one stream/);
});

test('HostConfig.ConsoleSize sizes a TTY container\'s terminal from its start (no resize, no attach); a bad one is a 400 naming it', async () => {
  const sized = await docker.createContainer({ Image: image, Tty: true, Cmd: ['busybox', 'stty', 'size'], HostConfig: { NetworkMode: 'none', ConsoleSize: [33, 77] } });
  await sized.start();
  assert.deepEqual(await sized.wait(), { StatusCode: 0, Error: null } as unknown as Record<string, unknown>);
  // A TTY container's log is the raw terminal output (no multiplexing): the pty turns \n into \r\n.
  assert.equal(((await sized.logs({ stdout: true, follow: false })) as unknown as Buffer).toString(), '33 77\r\n');
  // A restart keeps it: it is part of the container's HostConfig, as with Docker.
  await sized.start();
  await sized.wait();
  assert.equal(((await sized.logs({ stdout: true, follow: false })) as unknown as Buffer).toString(), '33 77\r\n33 77\r\n');
  await sized.remove();
  for (const bad of [[33], [-1, 80], ['33', '77'], [1.5, 80]] as unknown as number[][]) {
    const e = await httpError(docker.createContainer({ Image: image, Tty: true, HostConfig: { NetworkMode: 'none', ConsoleSize: bad } }));
    assert.equal(e.statusCode, 400, JSON.stringify(bad));
    assert.match(String(e.json?.message), /^HostConfig\.ConsoleSize: expected \[height, width\]/);
  }
});

test('exec create/start (non-TTY): output demuxed, exec inspect ExitCode; exec in a stopped container is a 409', async () => {
  const web = docker.getContainer('web');
  const exec = await web.exec({ Cmd: ['sh', '-c', 'echo exec-out; echo exec-err >&2; ls /data; exit 5'], AttachStdout: true, AttachStderr: true });
  assert.match(exec.id, /^[0-9a-f]{64}$/);
  const before = await exec.inspect();
  assert.equal(before.Running, false);
  assert.equal(before.ExitCode, null);
  const stream = await exec.start({ Detach: false, Tty: false });
  assert.deepEqual(await demux(stream), { stdout: 'exec-out\n', stderr: 'exec-err\n' });
  const done = await eventually('the exec ended', async () => {
    const x = await exec.inspect();
    return x.Running ? undefined : x;
  });
  assert.equal(done.ExitCode, 5);
  assert.equal(done.ContainerID, (await web.inspect()).Id);
  assert.equal(done.ProcessConfig.entrypoint, 'sh');
  const again = await httpError(exec.start({ Detach: false }));
  assert.equal(again.statusCode, 409, 'an exec runs once');
  const stopped = await httpError(docker.getContainer('short').exec({ Cmd: ['true'], AttachStdout: true }));
  assert.equal(stopped.statusCode, 409);
  assert.match(String(stopped.json?.message), /is not running/);
  const missing = await httpError(docker.getExec('0'.repeat(64)).inspect());
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json?.message, `No such exec instance: ${'0'.repeat(64)}`);
});

test('exec inspect: the real Pid of the exec\'d process while it runs (pipes and TTY), then Running false and its ExitCode', async () => {
  const web = docker.getContainer('web');
  for (const tty of [false, true]) {
    const tag = tty ? 'tty' : 'pipes';
    const exec = await web.exec({ Cmd: ['sh', '-c', `echo $$ > /tmp/pid-${tag}; while [ ! -e /tmp/go-${tag} ]; do sleep 0.1; done; exit 7`], Tty: tty });
    assert.equal((await exec.inspect()).Pid, 0, 'no process before start');
    await exec.start({ Detach: true, Tty: tty });
    const running = await exec.inspect();
    assert.equal(running.Running, true, tag);
    assert.ok(running.Pid > 0, `${tag}: Pid ${running.Pid}`);
    // The host pid is the shell's: its pid in the container's namespace (NSpid's last field) is what $$ wrote.
    const inContainer = await eventually(`${tag}: the shell wrote its pid`, async () => {
      const text = (() => {
        try {
          return readFileSync(`/proc/${running.Pid}/root/tmp/pid-${tag}`, 'utf8').trim();
        } catch {
          return '';
        }
      })();
      return text === '' ? undefined : text;
    });
    const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${running.Pid}/status`, 'utf8'))?.[1]?.trim().split(/\s+/);
    assert.equal(nspid?.at(-1), inContainer, `${tag}: NSpid ${nspid?.join(' ')}`);
    assert.match(readFileSync(`/proc/${running.Pid}/cmdline`, 'utf8'), /^sh\0-c\0/);
    const go = await web.exec({ Cmd: ['sh', '-c', `: > /tmp/go-${tag}`] });
    await go.start({ Detach: true });
    const done = await eventually(`${tag}: the exec ended`, async () => {
      const x = await exec.inspect();
      return x.Running ? undefined : x;
    });
    assert.equal(done.ExitCode, 7, tag);
    assert.equal(done.Pid, running.Pid, `${tag}: dockerd keeps the Pid after the end`);
  }
});

test('stats {stream: false}: cpu_stats, precpu_stats and memory_stats as `docker stats` computes with them', async () => {
  const web = docker.getContainer('web');
  const s = (await web.stats({ stream: false })) as unknown as {
    read: string; preread: string; id: string; name: string;
    cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number; online_cpus: number };
    precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number };
    memory_stats: { usage: number; limit: number; stats: Record<string, number> };
    pids_stats: { current: number };
  };
  assert.equal(s.id, (await web.inspect()).Id);
  assert.equal(s.name, '/web');
  assert.ok(Date.parse(s.read) > Date.parse(s.preread), `${s.preread} -> ${s.read}: two samples`);
  for (const k of ['cpu_stats', 'precpu_stats'] as const) {
    assert.equal(typeof s[k].cpu_usage.total_usage, 'number', k);
    assert.equal(typeof s[k].system_cpu_usage, 'number', k);
  }
  assert.ok(s.cpu_stats.online_cpus >= 1);
  // The docker CLI's calculateCPUPercentUnix.
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const systemDelta = s.cpu_stats.system_cpu_usage - s.precpu_stats.system_cpu_usage;
  assert.ok(cpuDelta >= 0, `cpu delta ${cpuDelta}`);
  assert.ok(systemDelta > 0, `system delta ${systemDelta}`);
  const percent = (cpuDelta / systemDelta) * s.cpu_stats.online_cpus * 100;
  assert.ok(Number.isFinite(percent) && percent >= 0 && percent <= 100 * s.cpu_stats.online_cpus, String(percent));
  assert.ok(s.memory_stats.usage > 0);
  assert.equal(s.memory_stats.limit, 64 * 1024 * 1024);
  assert.equal(typeof s.memory_stats.stats, 'object');
  assert.ok(s.pids_stats.current >= 1);

  // A stopped container: dockerd's zero-valued answer with only its name and ID, at once (no second sample).
  const short = docker.getContainer('short');
  const zeroCpu = { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  const nulls = Object.fromEntries(['io_service_bytes_recursive', 'io_serviced_recursive', 'io_queue_recursive', 'io_service_time_recursive', 'io_wait_time_recursive', 'io_merged_recursive', 'io_time_recursive', 'sectors_recursive'].map((k) => [k, null]));
  assert.deepEqual(await short.stats({ stream: false }), {
    name: '/short', id: (await short.inspect()).Id, read: '0001-01-01T00:00:00Z', preread: '0001-01-01T00:00:00Z', pids_stats: {}, blkio_stats: nulls,
    num_procs: 0, storage_stats: {}, cpu_stats: zeroCpu, precpu_stats: zeroCpu, memory_stats: {},
  });
  // A container ending while it is sampled: every answer is a 200, live figures or the zero-valued ones.
  const ending = await docker.createContainer({ Image: image, Cmd: ['sh', '-c', 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); done'], HostConfig: { NetworkMode: 'none' } });
  await ending.start();
  let samples = 0;
  for (let running = true; running; samples++) {
    running = (await ending.inspect()).State.Running;
    const x = (await ending.stats({ stream: false, 'one-shot': true } as { stream: false })) as unknown as { read: string; id: string };
    assert.equal(x.id, ending.id);
  }
  assert.ok(samples >= 1);
  await ending.remove();
});

test('update (Memory) reaches the cgroup; kill with a signal, wait, inspect after the exit', async () => {
  const web = docker.getContainer('web');
  const updated = (await web.update({ Memory: 96 * 1024 * 1024, MemorySwap: -1 })) as { Warnings: unknown };
  assert.ok(Array.isArray(updated.Warnings));
  assert.equal((await web.inspect()).HostConfig.Memory, 96 * 1024 * 1024);
  const s = (await web.stats({ stream: false, 'one-shot': true } as { stream: false })) as unknown as { memory_stats: { limit: number } };
  assert.equal(s.memory_stats.limit, 96 * 1024 * 1024);

  const waited = web.wait();
  await web.kill({ signal: 'SIGTERM' });
  assert.deepEqual(await waited, { StatusCode: 0, Error: null } as unknown as Record<string, unknown>, 'the trap exits 0 (no restart for on-failure)');
  const i = await web.inspect();
  assert.equal(i.State.Status, 'exited');
  assert.equal(i.State.Running, false);
  assert.equal(i.State.Pid, 0);
  assert.equal(i.State.ExitCode, 0);
  assert.ok(Date.parse(i.State.FinishedAt) >= Date.parse(i.State.StartedAt));
  const log = (await web.logs({ stdout: true, stderr: false })) as unknown as Buffer;
  assert.match((await demux(Readable.from([log]))).stdout, /caught TERM/);
  const notRunning = await httpError(web.kill({ signal: 'SIGKILL' }));
  assert.equal(notRunning.statusCode, 409);
  assert.match(String(notRunning.json?.message), /is not running/);
});

test('images: listImages, getImage().inspect, tag, remove; removing an image a container uses is Docker\'s 409', async () => {
  const list = await docker.listImages();
  assert.equal(list.length, 1);
  const [img] = list;
  assert.ok(img !== undefined);
  assert.deepEqual(img.RepoTags, [image]);
  assert.match(img.Id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(typeof img.Created, 'number');
  assert.ok(img.Size > 0);
  const ins = await docker.getImage(image).inspect();
  assert.equal(ins.Id, img.Id);
  assert.equal(ins.Os, 'linux');
  assert.equal(ins.Architecture, 'amd64');
  assert.deepEqual(ins.Config.Cmd, ['sh']);
  assert.deepEqual(ins.Config.Env, ['PATH=/bin']);
  assert.equal(ins.RootFS.Type, 'layers');
  assert.equal(ins.RootFS.Layers?.length, 1);
  assert.equal(ins.Size, img.Size);

  await docker.getImage(image).tag({ repo: 'sdk/tagged', tag: 'v2' });
  const tagged = await docker.getImage('sdk/tagged:v2').inspect();
  assert.equal(tagged.Id, img.Id);
  assert.deepEqual([...tagged.RepoTags].sort(), [image, 'sdk/tagged:v2'].sort());
  assert.deepEqual(await docker.getImage('sdk/tagged:v2').remove(), [{ Untagged: 'sdk/tagged:v2' }]);

  // `idle`, `web` and `short` use the image: the last reference cannot go without force.
  const conflict = await httpError(docker.getImage(image).remove());
  assert.equal(conflict.statusCode, 409);
  assert.match(String(conflict.json?.message), new RegExp(`^conflict: unable to remove repository reference "${image.replace(/[.]/g, '\\.')}" \\(must force\\) - container [0-9a-f]{12} is using its referenced image ${img.Id.slice(7, 19)}$`));
  const byId = await httpError(docker.getImage(img.Id).remove());
  assert.equal(byId.statusCode, 409);
  assert.match(String(byId.json?.message), /^conflict: unable to delete [0-9a-f]{12} \(must be forced\) - image is being used by stopped container [0-9a-f]{12}$/);
  const missing = await httpError(docker.getImage('sdk/nothing:v1').inspect());
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json?.message, 'No such image: sdk/nothing:v1');
});

test('volumes: create, list with the dangling filter, inspect, remove; a volume in use is a 409', async () => {
  const made = await docker.createVolume({ Name: 'sdkvol', Labels: { purpose: 'test' } });
  assert.equal(made.name, 'sdkvol');
  const v = (await made.inspect()) as unknown as Record<string, unknown>;
  assert.equal(v.Name, 'sdkvol');
  assert.equal(v.Driver, 'local');
  assert.equal(v.Scope, 'local');
  assert.deepEqual(v.Labels, { purpose: 'test' });
  assert.equal(typeof v.Mountpoint, 'string');
  assert.ok(existsSync(v.Mountpoint as string), 'the mountpoint exists');
  const names = (l: { Volumes: { Name: string }[] }): string[] => l.Volumes.map((x) => x.Name).sort();
  assert.deepEqual(names(await docker.listVolumes()), ['sdkdata', 'sdkvol']);
  assert.deepEqual(names(await docker.listVolumes({ filters: { dangling: ['true'] } })), ['sdkvol'], 'sdkdata is used by web');
  assert.deepEqual(names(await docker.listVolumes({ filters: { dangling: ['false'] } })), ['sdkdata']);
  assert.deepEqual(names(await docker.listVolumes({ filters: { label: ['purpose=test'] } })), ['sdkvol']);
  assert.deepEqual((await docker.listVolumes()).Volumes.find((x) => x.Name === 'sdkvol'), v, 'the list shows what inspect shows');
  assert.ok(!Number.isNaN(Date.parse(v.CreatedAt as string)));
  const inUse = await httpError(docker.getVolume('sdkdata').remove());
  assert.equal(inUse.statusCode, 409);
  assert.match(String(inUse.json?.message), /in use/);
  await docker.getVolume('sdkvol').remove();
  const gone = await httpError(docker.getVolume('sdkvol').inspect());
  assert.equal(gone.statusCode, 404);
  assert.equal(typeof gone.json?.message, 'string');
});

test('remove {force} of a running container; errors reach dockerode as statusCode + json.message', async () => {
  const c = await docker.createContainer({ name: 'doomed', Image: image, Cmd: ['sleep', '600'], HostConfig: { NetworkMode: 'none' } });
  await c.start();
  const refused = await httpError(c.remove());
  assert.equal(refused.statusCode, 409);
  assert.match(String(refused.json?.message), /^cannot remove container "\/?doomed": container is running/);
  await c.remove({ force: true });
  const gone = await httpError(c.inspect());
  assert.equal(gone.statusCode, 404);
  assert.deepEqual(gone.json, { message: `No such container: ${c.id}` });
  const byName = await httpError(docker.getContainer('x').inspect());
  assert.equal(byName.statusCode, 404);
  assert.deepEqual(byName.json, { message: 'No such container: x' });
  const nameTaken = await httpError(docker.createContainer({ name: 'idle', Image: image, HostConfig: { NetworkMode: 'none' } }));
  assert.equal(nameTaken.statusCode, 409);
  assert.match(String(nameTaken.json?.message), /Conflict\. The container name "\/idle" is already in use/);
  const noImage = await httpError(docker.createContainer({ Image: `${world.registry.host}/sdk/absent:v1`, HostConfig: { NetworkMode: 'none' } }));
  assert.equal(noImage.statusCode, 404);
  assert.equal(noImage.json?.message, `No such image: ${world.registry.host}/sdk/absent:v1`);
  // A create field atomicd does not implement is dockerd's 400 (InvalidParameter) naming the field, not a 5xx.
  const unsupported: [Record<string, unknown>, RegExp][] = [
    [{ HostConfig: { NetworkMode: 'none', PidMode: 'host' } }, /^HostConfig\.PidMode is not supported by atomicd \(got "host"\)/],
    [{ Healthcheck: { Test: ['CMD', 'true'] }, HostConfig: { NetworkMode: 'none' } }, /^Healthcheck is not supported by atomicd/],
    [{ Volumes: { '/data': {} }, HostConfig: { NetworkMode: 'none' } }, /^Volumes: anonymous volumes \(\/data\)/],
    [{ HostConfig: { NetworkMode: 'none', LogConfig: { Type: 'syslog', Config: {} } } }, /^HostConfig\.LogConfig\.Type: the "syslog" log driver is not supported/],
  ];
  for (const [extra, message] of unsupported) {
    const e = await httpError(docker.createContainer({ Image: image, Cmd: ['true'], ...extra }));
    assert.equal(e.statusCode, 400, JSON.stringify(extra));
    assert.match(String(e.json?.message), message);
  }
  // Everything else goes; the volume web used then is dangling and may go too.
  for (const name of ['web', 'idle', 'short']) await docker.getContainer(name).remove({ force: true });
  assert.deepEqual(await docker.listContainers({ all: true }), []);
  await docker.getVolume('sdkdata').remove();
  assert.deepEqual((await docker.listVolumes()).Volumes, []);
});

test('networks on an agent with --bridge none: the predefined host and none networks; create is refused with a 409 naming --bridge', async () => {
  const list = await docker.listNetworks();
  assert.deepEqual(list.map((n) => n.Name).sort(), ['host', 'none']);
  const none = (await docker.getNetwork('none').inspect()) as unknown as Record<string, unknown>;
  assert.equal(none.Name, 'none');
  assert.equal(none.Driver, 'null');
  assert.equal(none.Scope, 'local');
  assert.match(String(none.Id), /^[0-9a-f]{64}$/);
  const refused = await httpError(docker.createNetwork({ Name: 'sdknet' }));
  assert.equal(refused.statusCode, 409);
  assert.match(String(refused.json?.message), /--bridge none/);
  const missing = await httpError(docker.getNetwork('nosuch').inspect());
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json?.message, 'network nosuch not found');
});

test('getEvents with since/until: the container actions above, in order, with Docker\'s attributes', async () => {
  const until = Math.floor(Date.now() / 1000) + 1;
  await sleep(1100); // until is in the past now: the stream is the history only, and ends.
  const stream = await docker.getEvents({ since: startedAtSeconds, until, filters: { type: ['container'] } });
  const text = (await drain(stream)).toString();
  const events = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; time: number; timeNano: number });
  const of = (name: string): string[] => events.filter((e) => e.Actor.Attributes.name === name).map((e) => e.Action);
  assert.deepEqual(of('short'), ['create', 'start', 'die', 'destroy']);
  assert.deepEqual(of('web'), ['create', 'start', 'update', 'kill', 'die', 'destroy']);
  const kill = events.find((e) => e.Actor.Attributes.name === 'web' && e.Action === 'kill');
  assert.equal(kill?.Actor.Attributes.signal, '15');
  assert.equal(kill?.Actor.Attributes.image, image);
  assert.equal(kill?.Actor.Attributes['com.example.role'], 'web', 'labels are attributes');
  const shortDie = events.find((e) => e.Actor.Attributes.name === 'short' && e.Action === 'die');
  assert.equal(shortDie?.Actor.Attributes.exitCode, '3');
  assert.ok(events.every((e) => e.Type === 'container' && typeof e.time === 'number' && e.time >= startedAtSeconds && e.time <= until));
  assert.ok(events.every((e, i) => i === 0 || e.timeNano >= events[i - 1]!.timeNano), 'in time order');
  // A window before anything happened holds nothing.
  const empty = await drain(await docker.getEvents({ since: startedAtSeconds - 100, until: startedAtSeconds - 50 }));
  assert.equal(empty.length, 0);
});

/** A second agent with its default bridge, in a network namespace of its own (nothing changes on the host). */
async function startNetnsAgent(work: string): Promise<{ socket: string; child: ChildProcess; stateDir: string; cgroupParent: string; log: () => string }> {
  const socket = join(work, 'netns.sock');
  const stateDir = join(work, 'netns-state');
  const cgroupParent = `/atomic-test-sdk-netns-${process.pid}`;
  const child = spawn('unshare', ['--net', '--mount', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, AGENT, 'run', '--state-dir', stateDir, '--socket', socket, '--runtime', 'runc',
    '--cgroup-parent', cgroupParent, '--cloud-dir', join(work, 'netns-cloud'), '--exec-root', join(work, 'netns-exec')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  for (let i = 0; !log.includes('atomicd running'); i++) {
    if (child.exitCode !== null) throw new Error(`atomicd run (netns) exited ${child.exitCode}: ${log}`);
    if (i > 600) throw new Error(`atomicd run (netns) did not start: ${log}`);
    await sleep(25);
  }
  return { socket, child, stateDir, cgroupParent, log: () => log };
}

test('networks with the bridge controller (agent in its own network namespace): create, list, inspect, remove', async () => {
  const a = await startNetnsAgent(world.work);
  try {
    const d = new Docker({ socketPath: a.socket });
    const created = (await d.createNetwork({ Name: 'sdknet', Driver: 'bridge', Labels: { team: 'sdk' }, IPAM: { Driver: 'default', Config: [{ Subnet: '10.123.0.0/24', Gateway: '10.123.0.1' }] } })) as unknown as { id: string };
    assert.match(created.id, /^[0-9a-f]{64}$/);
    const list = await d.listNetworks();
    assert.deepEqual(list.map((n) => n.Name).sort(), ['bridge', 'host', 'none', 'sdknet']);
    assert.deepEqual((await d.listNetworks({ filters: { label: ['team=sdk'] } })).map((n) => n.Name), ['sdknet']);
    assert.deepEqual((await d.listNetworks({ filters: { type: ['custom'] } })).map((n) => n.Name), ['sdknet']);
    const n = (await d.getNetwork('sdknet').inspect()) as { Id: string; Name: string; Driver: string; Scope: string; Labels: Record<string, string>; IPAM: { Config: { Subnet: string; Gateway: string }[] }; Containers: Record<string, unknown> };
    assert.equal(n.Id, created.id);
    assert.equal(n.Driver, 'bridge');
    assert.equal(n.Scope, 'local');
    assert.deepEqual(n.Labels, { team: 'sdk' });
    assert.deepEqual(n.IPAM.Config.map((c) => [c.Subnet, c.Gateway]), [['10.123.0.0/24', '10.123.0.1']]);
    assert.deepEqual(n.Containers, {});
    const dup = await httpError(d.createNetwork({ Name: 'sdknet' }));
    assert.equal(dup.statusCode, 409);
    await d.getNetwork(created.id).remove();
    assert.deepEqual((await d.listNetworks()).map((x) => x.Name).sort(), ['bridge', 'host', 'none']);
    const gone = await httpError(d.getNetwork('sdknet').inspect());
    assert.equal(gone.statusCode, 404);
    assert.equal(typeof gone.json?.message, 'string');
  } finally {
    a.child.kill('SIGKILL');
    await new Promise((r) => (a.child.exitCode !== null || a.child.signalCode !== null ? r(undefined) : a.child.once('exit', r)));
    await cleanupAgentState(a);
  }
});
