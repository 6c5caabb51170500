// json-file log throughput of atomic-monitor vs conmon, both driving runc on the same bundle: a
// busybox container writes LINES lines of 100 bytes to stdout as fast as it can, and the time from
// starting the monitor until its exit file exists (the container ended and every byte is in the
// log) is measured. conmon writes its own k8s-file format (podman's default); atomic-monitor
// writes Docker's json-file (one JSON object per line, larger per line). Medians of several runs,
// alternating which side goes first.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { prepareBundle, releaseBundle } from '../src/adapters/oci-runtime/container-bundle.js';
import { readHostFacts } from '../src/adapters/oci-runtime/host-facts.js';
import { monitorFiles, startMonitor, waitForExit } from '../src/adapters/oci-runtime/monitor.js';
import { openOciRuntime } from '../src/adapters/oci-runtime/runtime-cli.js';
import { resolveContainerSpec } from '../src/core/containers/container-spec.js';
import { adaptResources } from '../src/core/containers/resources.js';
import { buildMonitor, makeBusyboxImage, MONITOR } from '../test/fixtures/busybox-bundle.js';
import { median, round } from './stats.js';


/** 99 characters + newline: `yes` repeats it, `head` stops after LINES. */
const LINE = 'x'.repeat(99);

export async function benchContainerLogs(work: string, runs: number, lines: number): Promise<Record<string, unknown>[]> {
  const conmon = spawnSync('sh', ['-c', 'command -v conmon'], { encoding: 'utf8' }).stdout.trim();
  if (conmon === '') throw new Error('conmon is missing: install Debian conmon (scripts/setup does)');
  buildMonitor();
  const host = await readHostFacts();
  const root = join(work, 'logs-runtime');
  const runtime = await openOciRuntime({ name: 'runc', root, cgroupMode: host.cgroupFeatures.mode });
  const image = makeBusyboxImage(join(work, 'logs-image'));
  const cmd = ['sh', '-c', `yes ${LINE} | head -n ${lines}`];
  let n = 0;

  const prepare = async (): Promise<{ id: string; dir: string; bundle: string }> => {
    const id = `logbench${process.pid}x${n++}`;
    const dir = join(work, id);
    mkdirSync(dir, { recursive: true });
    const adapted = adaptResources({ NetworkMode: 'host' }, host.cgroupFeatures);
    const spec = resolveContainerSpec(id, {}, { Cmd: cmd }, adapted.hostConfig);
    const p = await prepareBundle({ containerDir: dir, spec, rootfs: { kind: 'directory', path: image }, host, cgroupsPath: `/atomic-bench/${id}` });
    return { id, dir, bundle: p.bundle };
  };
  const finish = async (c: { id: string; dir: string }): Promise<void> => {
    await runtime.delete(c.id, { force: true }).catch(() => undefined);
    await releaseBundle(c.dir).catch(() => undefined);
    rmSync(c.dir, { recursive: true, force: true });
  };

  const ours = async (): Promise<{ ms: number; logBytes: number }> => {
    const c = await prepare();
    const files = monitorFiles(c.dir);
    const logPath = join(c.dir, `${c.id}-json.log`);
    const t0 = process.hrtime.bigint();
    await startMonitor({ monitorPath: MONITOR, runtime, id: c.id, bundle: c.bundle, files, logPath });
    await runtime.start(c.id);
    const exit = await waitForExit(files.exitFile, { pollMs: 2, timeoutMs: 300_000 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (exit.exitCode !== 0) throw new Error(`atomic-monitor run exited ${exit.exitCode}`);
    const logBytes = statSync(logPath).size;
    checkLines(jsonFileText(readFileSync(logPath, 'utf8')), lines, 'atomic-monitor');
    await finish(c);
    return { ms, logBytes };
  };

  const peer = async (): Promise<{ ms: number; logBytes: number }> => {
    const c = await prepare();
    const exitDir = join(c.dir, 'exits');
    mkdirSync(exitDir);
    mkdirSync(join(c.dir, 'sock')); // conmon links its notify socket there and fails silently without it
    const logPath = join(c.dir, 'ctr.log');
    const t0 = process.hrtime.bigint();
    // conmon forks and runs `runc create`; the container is started like podman does, with `runc start`.
    const child = spawn(conmon, [
      '--cid', c.id, '--cuuid', c.id, '--name', c.id, '--runtime', '/usr/sbin/runc', '--runtime-arg', '--root', '--runtime-arg', root,
      '--bundle', c.bundle, '--container-pidfile', join(c.dir, 'pid'), '--conmon-pidfile', join(c.dir, 'conmon.pid'),
      '--log-path', `k8s-file:${logPath}`, '--exit-dir', exitDir, '--socket-dir-path', join(c.dir, 'sock'), '--log-level', 'error',
    ], { stdio: 'ignore', detached: true });
    child.unref();
    for (let i = 0; ; i++) {
      const st = await runtime.getState(c.id).catch(() => undefined);
      if (st?.status === 'created') break;
      if (i > 10_000) throw new Error('conmon did not create the container');
      await sleep(2);
    }
    await runtime.start(c.id);
    const exitFile = join(exitDir, c.id);
    while (!existsSync(exitFile)) await sleep(2);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const logBytes = statSync(logPath).size;
    checkLines(k8sFileText(readFileSync(logPath, 'utf8')), lines, 'conmon');
    await finish(c);
    return { ms, logBytes };
  };

  await ours();
  await peer();
  const o: { ms: number; logBytes: number }[] = [];
  const p: { ms: number; logBytes: number }[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) o.push(await ours());
    p.push(await peer());
    if (i % 2 === 1) o.push(await ours());
  }
  rmSync(root, { recursive: true, force: true });
  const payloadMb = (lines * 100) / 1e6;
  const oMs = median(o.map((x) => x.ms));
  const pMs = median(p.map((x) => x.ms));
  const row = {
    case: `json-file log throughput (${lines} lines of 100 bytes, runc)`,
    peer: 'conmon (k8s-file)',
    runs,
    oursMedianMs: round(oMs),
    peerMedianMs: round(pMs),
    oursMBps: round(payloadMb / (oMs / 1000)),
    peerMBps: round(payloadMb / (pMs / 1000)),
    oursLogBytes: o[0]?.logBytes,
    peerLogBytes: p[0]?.logBytes,
    ratio: round(oMs / pMs, 3),
    goal: 'throughput >= conmon (ratio <= 1)',
    met: oMs <= pMs,
    oursMs: o.map((x) => round(x.ms)),
    peerMs: p.map((x) => round(x.ms)),
  };
  process.stdout.write(`${row.case}: atomic-monitor ${row.oursMBps} MB/s (${row.oursMedianMs} ms) vs conmon ${row.peerMBps} MB/s (${row.peerMedianMs} ms), median of ${runs} -> ratio ${row.ratio} (${row.goal}: ${row.met ? 'met' : 'NOT met'})\n`);
  return [row];
}

/** The output a json-file log holds (partial entries joined). */
function jsonFileText(log: string): string {
  return log.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { log: string }).log).join('');
}

/** The output a k8s-file log holds: "TIME STREAM P|F CONTENT", P = continued in the next record. */
function k8sFileText(log: string): string {
  let out = '';
  for (const l of log.split('\n')) {
    const m = /^\S+ (?:stdout|stderr) ([PF]) (.*)$/.exec(l);
    if (m !== null) out += m[2] + (m[1] === 'F' ? '\n' : '');
  }
  return out;
}

/** Both logs must hold every line, whole: a fast logger that drops output would win unfairly. */
function checkLines(text: string, lines: number, who: string): void {
  const expected = `${LINE}\n`.repeat(lines);
  if (text !== expected) throw new Error(`${who}: the log holds ${text.length} bytes of output, expected ${expected.length} (${lines} lines)`);
}
