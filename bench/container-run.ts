// Container start-to-exit latency and the agent's memory, on one busybox image from a loopback
// registry:
//   run:  `atomic run --rm IMAGE true` (CLI -> atomicd -> crun) vs `podman run --rm IMAGE true` vs a
//         bare `crun run` of a prepared bundle, alternating, medians. All three use crun and no
//         network (`--network none`): what is compared is the engine, not network setup. On hosts
//         with hybrid cgroups crun runs in a private mount namespace without the cgroup2 mount
//         (DESIGN.md); the bare baseline and podman get the same treatment atomicd applies itself.
//   rss:  atomicd's resident set idle (image pulled, no containers), then with 100 running
//         containers; the per-container cost is the difference / 100. The monitors are separate
//         processes and are reported apart.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readHostFacts } from '../src/adapters/oci-runtime/host-facts.js';
import { prepareBundle, releaseBundle } from '../src/adapters/oci-runtime/container-bundle.js';
import { resolveContainerSpec } from '../src/core/containers/container-spec.js';
import { adaptResources } from '../src/core/containers/resources.js';
import { buildBusyboxLayout, pushWithSkopeo, startRegistry } from '../test/fixtures/registry.js';
import { cleanupAgentState, docker, startAgent } from '../test/fixtures/agent-process.js';
import { makeBusyboxImage } from '../test/fixtures/busybox-bundle.js';
import { median, round, timeOnce } from './stats.js';



/** crun in a private mount namespace without the cgroup2 mount, when the host is hybrid. */
function crunWrapped(hybrid: boolean, argv: readonly string[]): string[] {
  if (!hybrid) return [...argv];
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `umount /sys/fs/cgroup/unified 2>/dev/null; exec ${quoted}`];
}

function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

export async function benchContainerRun(work: string, runs: number, opts: { cli: string; env: NodeJS.ProcessEnv; containers: number }): Promise<Record<string, unknown>[]> {
  if (spawnSync('sh', ['-c', 'command -v podman && command -v crun']).status !== 0) throw new Error('podman and crun are needed: scripts/setup installs them');
  const host = await readHostFacts();
  const hybrid = host.cgroupFeatures.mode === 'hybrid';
  const registry = await startRegistry(work, { name: 'run-bench' });
  const agent = await startAgent({ work, name: 'runbench', runtime: 'crun', env: opts.env });
  const rows: Record<string, unknown>[] = [];
  const podmanRoot = join(work, 'run-podman');
  const bareDir = join(work, 'run-bare');
  try {
    pushWithSkopeo(buildBusyboxLayout(work).layout, '1.36', registry.host, 'busybox:latest', 'oci');
    const image = `${registry.host}/busybox:latest`;
    const pulled = await docker(agent, ['pull', '-q', image]);
    if (pulled.status !== 0) throw new Error(`pull: ${pulled.stderr}`);
    const podman = ['podman', '--root', join(podmanRoot, 'root'), '--runroot', join(podmanRoot, 'run'), '--cgroup-manager=cgroupfs', '--events-backend=file'];
    const pp = spawnSync(podman[0]!, [...podman.slice(1), 'pull', '-q', '--tls-verify=false', image], { encoding: 'utf8' });
    if (pp.status !== 0) throw new Error(`podman pull: ${pp.stderr}`);

    // The bare baseline: one bundle laid out by our own code, run again and again under new ids.
    mkdirSync(bareDir, { recursive: true });
    const rootfs = makeBusyboxImage(join(bareDir, 'rootfs'));
    const adapted = adaptResources({ NetworkMode: 'none' }, host.cgroupFeatures);
    const spec = resolveContainerSpec('barebench', {}, { Cmd: ['true'] }, adapted.hostConfig);
    const prepared = await prepareBundle({ containerDir: join(bareDir, 'c'), spec, rootfs: { kind: 'directory', path: rootfs }, host, cgroupsPath: '/atomic-bench/bare' });
    let n = 0;
    const bare = (): string[] => crunWrapped(hybrid, ['crun', '--root', join(bareDir, 'state'), 'run', '--bundle', prepared.bundle, `bare${process.pid}x${n++}`]);

    // podman's default rlimits exceed this machine's hard limits (no CAP_SYS_RESOURCE): ask for the current ones.
    const nofile = String(host.hardLimits.RLIMIT_NOFILE ?? 1024n);
    const limits = ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', 'nproc=1000:1000'];
    const argv = {
      atomic: [process.execPath, opts.cli, '-H', `unix://${agent.socket}`, 'run', '--rm', '--network', 'none', image, 'true'],
      podman: crunWrapped(hybrid, [...podman, 'run', '--rm', '--runtime', 'crun', '--network', 'none', ...limits, image, 'true']),
    };
    const times: Record<'atomic' | 'podman' | 'bare', number[]> = { atomic: [], podman: [], bare: [] };
    timeOnce(argv.atomic, opts.env);
    timeOnce(argv.podman, opts.env);
    timeOnce(bare(), opts.env);
    for (let i = 0; i < runs; i++) {
      const order: ('atomic' | 'podman' | 'bare')[] = i % 3 === 0 ? ['atomic', 'podman', 'bare'] : i % 3 === 1 ? ['podman', 'bare', 'atomic'] : ['bare', 'atomic', 'podman'];
      for (const side of order) times[side].push(timeOnce(side === 'bare' ? bare() : argv[side], opts.env));
    }
    const a = median(times.atomic);
    const p = median(times.podman);
    const b = median(times.bare);
    const row = {
      case: 'run --rm busybox true (crun, --network none)',
      peer: 'podman run --rm; bare crun run of a prepared bundle',
      runs,
      oursMedianMs: round(a),
      podmanMedianMs: round(p),
      bareCrunMedianMs: round(b),
      vsBareCrun: round(a / b, 2),
      podmanSpeedup: round(p / a, 2),
      goal: 'within 3x of bare crun, at least 4x faster than podman',
      met: a <= 3 * b && p >= 4 * a,
      oursMs: times.atomic.map((x) => round(x)),
      podmanMs: times.podman.map((x) => round(x)),
      bareMs: times.bare.map((x) => round(x)),
    };
    process.stdout.write(`${row.case}: atomic ${row.oursMedianMs} ms, podman ${row.podmanMedianMs} ms, bare crun ${row.bareCrunMedianMs} ms (median of ${runs}) -> ${row.vsBareCrun}x bare crun, podman/atomic ${row.podmanSpeedup} (${row.goal}: ${row.met ? 'met' : 'NOT met'})\n`);
    rows.push(row);

    // RSS: idle (1 s after the runs above), then with N running containers.
    await sleep(1000);
    const pid = agent.child.pid as number;
    const idleKb = rssKb(pid);
    const names: string[] = [];
    for (let i = 0; i < opts.containers; i++) {
      const name = `rss${i}`;
      const r = await docker(agent, ['run', '-d', '--network', 'none', '--name', name, image, 'sleep', '3600']);
      if (r.status !== 0) throw new Error(`run ${name}: ${r.stderr}`);
      names.push(name);
    }
    await sleep(2000);
    const busyKb = rssKb(pid);
    const monitors = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
      try {
        return readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'atomic-monitor';
      } catch {
        return false;
      }
    });
    const monitorKb = monitors.length === 0 ? 0 : median(monitors.map((d) => rssKb(Number(d))));
    const perContainerKb = (busyKb - idleKb) / opts.containers;
    const rss = {
      case: `atomicd RSS idle and with ${opts.containers} containers`,
      idleMB: round(idleKb / 1024),
      busyMB: round(busyKb / 1024),
      perContainerKB: round(perContainerKb),
      monitorMedianKB: monitorKb,
      monitors: monitors.length,
      goal: 'idle < 60 MB, < 0.5 MB more per supervised container',
      met: idleKb < 60 * 1024 && perContainerKb < 512,
    };
    process.stdout.write(`${rss.case}: idle ${rss.idleMB} MB, busy ${rss.busyMB} MB -> ${rss.perContainerKB} kB per container; each atomic-monitor ${monitorKb} kB (${rss.goal}: ${rss.met ? 'met' : 'NOT met'})\n`);
    rows.push(rss);
    await docker(agent, ['rm', '-f', ...names], { timeoutMs: 120_000 });
    await releaseBundle(join(bareDir, 'c')).catch(() => undefined);
    return rows;
  } finally {
    await agent.kill();
    await cleanupAgentState(agent, 'crun');
    await registry.stop();
    spawnSync('podman', ['--root', join(podmanRoot, 'root'), '--runroot', join(podmanRoot, 'run'), 'system', 'reset', '-f'], { stdio: 'ignore' });
    rmSync(podmanRoot, { recursive: true, force: true });
  }
}
