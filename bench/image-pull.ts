// Pull + unpack of a ~200 MB image from a loopback registry: `atomic pull` (through a running
// atomicd) vs `podman pull`, each run into an empty store (a fresh agent state dir, a fresh
// podman --root), alternating sides. The image has five gzip layers: busybox plus four of ~50 MB
// each, half random bytes (incompressible, like binaries) and half text (like sources and docs),
// in files of 4 KiB to 4 MiB.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTar, type TarBuildEntry } from '../test/fixtures/tar-builder.js';
import { craftImage, pushCrafted, startRegistry } from '../test/fixtures/registry.js';
import { median, round } from './stats.js';


/** One layer of about `bytes`: files of varied sizes, alternating random and text content. */
function layerTar(index: number, bytes: number): Buffer {
  const entries: TarBuildEntry[] = [{ type: 'dir', path: `data${index}/`, mode: 0o755 }];
  const sizes = [4096, 65_536, 1 << 20, 4 << 20];
  let total = 0;
  for (let i = 0; total < bytes; i++) {
    const size = sizes[i % sizes.length]!;
    const line = `line ${index}.${i}: the quick brown fox jumps over the lazy dog `;
    // Every size once random, once text: half the bytes compress, half do not.
    const data = Math.floor(i / sizes.length) % 2 === 0 ? randomBytes(size) : Buffer.from(line.repeat(Math.ceil(size / line.length))).subarray(0, size);
    entries.push({ type: 'file', path: `data${index}/f${i}`, mode: 0o644, data });
    total += data.length;
  }
  return buildTar(entries);
}

function busyboxLayer(): Buffer {
  if (!existsSync('/bin/busybox')) throw new Error('/bin/busybox is missing (Debian busybox-static)');
  return buildTar([
    { type: 'dir', path: 'bin/', mode: 0o755 },
    { type: 'file', path: 'bin/busybox', mode: 0o755, data: readFileSync('/bin/busybox') },
    { type: 'symlink', path: 'bin/sh', linkPath: 'busybox' },
  ]);
}

async function waitForSocket(path: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (existsSync(path)) return;
    if (child.exitCode !== null) throw new Error(`atomicd exited ${child.exitCode}`);
    await sleep(25);
  }
  throw new Error(`atomicd did not create ${path}`);
}

export async function benchImagePull(work: string, runs: number, opts: { cli: string; agent: string; env: NodeJS.ProcessEnv }): Promise<Record<string, unknown>[]> {
  if (spawnSync('sh', ['-c', 'command -v podman']).status !== 0) throw new Error('podman is missing: install Debian podman (scripts/setup does)');
  const registry = await startRegistry(work, { name: 'pull-bench' });
  try {
    const layers = [busyboxLayer(), ...[1, 2, 3, 4].map((i) => layerTar(i, 50 << 20))];
    const image = craftImage(layers);
    await pushCrafted(registry.url, 'bench/big', '1', image);
    const uncompressed = layers.reduce((n, l) => n + l.length, 0);
    const compressed = [...image.blobs.values()].reduce((n, b) => n + b.length, 0);
    const ref = `${registry.host}/bench/big:1`;

    const ours = async (): Promise<number> => {
      const state = join(work, 'pull-agent');
      rmSync(state, { recursive: true, force: true });
      mkdirSync(state, { recursive: true });
      const socket = join(state, 'atomic.sock');
      const agent = spawn(process.execPath, [opts.agent, 'run', '--state-dir', state, '--socket', socket, '--bridge', 'none', '--exec-root', join(state, 'exec')], { stdio: 'ignore', env: opts.env });
      try {
        await waitForSocket(socket, agent);
        const t0 = process.hrtime.bigint();
        const r = spawnSync(process.execPath, [opts.cli, '-H', `unix://${socket}`, 'pull', '-q', ref], { encoding: 'utf8', env: opts.env });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (r.status !== 0) throw new Error(`atomic pull failed (${r.status}): ${r.stderr}`);
        return ms;
      } finally {
        agent.kill('SIGTERM');
        await new Promise((res) => (agent.exitCode !== null ? res(undefined) : agent.once('exit', res)));
        rmSync(state, { recursive: true, force: true });
      }
    };
    const peer = (): number => {
      const root = join(work, 'pull-podman');
      rmSync(root, { recursive: true, force: true });
      const t0 = process.hrtime.bigint();
      const r = spawnSync('podman', ['--root', join(root, 'root'), '--runroot', join(root, 'run'), '--cgroup-manager=cgroupfs', '--events-backend=file', 'pull', '-q', '--tls-verify=false', ref], { encoding: 'utf8', env: opts.env });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`podman pull failed (${r.status}): ${r.stderr}`);
      // podman's overlay layers are mounts no more; its storage is plain directories to remove.
      spawnSync('podman', ['--root', join(root, 'root'), '--runroot', join(root, 'run'), 'system', 'reset', '-f'], { stdio: 'ignore' });
      rmSync(root, { recursive: true, force: true });
      return ms;
    };

    await ours();
    peer();
    const o: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) o.push(await ours());
      p.push(peer());
      if (i % 2 === 1) o.push(await ours());
    }
    const row = {
      case: `pull + unpack, ${round(uncompressed / 1e6, 0)} MB image (${round(compressed / 1e6, 0)} MB gzip, 5 layers, loopback registry)`,
      peer: 'podman pull',
      runs,
      oursMedianMs: round(median(o)),
      peerMedianMs: round(median(p)),
      ratio: round(median(o) / median(p), 3),
      goal: 'ratio <= 1.0 (at least as fast as podman)',
      met: median(o) <= median(p),
      oursMs: o.map((x) => round(x)),
      peerMs: p.map((x) => round(x)),
    };
    process.stdout.write(`${row.case}: atomic ${row.oursMedianMs} ms vs podman ${row.peerMedianMs} ms (median of ${runs}) -> ratio ${row.ratio} (${row.goal}: ${row.met ? 'met' : 'NOT met'})\n`);
    return [row];
  } finally {
    await registry.stop();
  }
}
