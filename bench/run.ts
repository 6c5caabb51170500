// Benchmarks against the peer tools, same inputs, same run; medians of several runs.
//   node dist/bench/run.js [iso|seed|provision|host|logs|pull|run|compat|image|all] [--runs N] [--tree-mb N] [--lines N] [--containers N]
// Results: bench/results/latest.json (and printed). See README "Benchmarks".
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeMixedTree } from './mixed-tree.js';
import { benchContainerLogs } from './container-logs.js';
import { benchImagePull } from './image-pull.js';
import { benchContainerRun } from './container-run.js';
import { benchCompatLatency } from './compat-latency.js';
import { benchImageBuild } from './image-build.js';
import { makeBusyboxRoot } from '../test/fixtures/busybox-root.js';
import { median, round } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
// The package's "bin" commands: the bundles with their code caches (scripts/bundle-entries.mjs).
const cli = join(repo, 'dist', 'bin', 'atomic.cjs');
const agent = join(repo, 'dist', 'bin', 'atomicd.cjs');

interface Case {
  readonly name: string;
  readonly ours: readonly string[];
  readonly peer: readonly string[];
  readonly peerName: string;
  readonly goal: { readonly maxRatio: number; readonly what: string };
  readonly cleanup: () => void;
  /** A command that does nothing but start the runtime: the floor of `ours`, timed alongside. */
  readonly floor?: readonly string[];
  /** Untimed, before every run of either side (e.g. a fresh copy of the input). */
  readonly prepare?: () => void;
}

/**
 * Both tools run with the same minimal environment: whatever the caller's shell carries (this
 * sandbox sets NODE_EXTRA_CA_CERTS, which makes every Node.js start parse a CA bundle) should not
 * favour either side.
 */
const BENCH_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
  HOME: process.env.HOME ?? '/root',
  LANG: 'C.UTF-8',
  TMPDIR: process.env.TMPDIR ?? '/tmp',
};

function timeOnce(argv: readonly string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1) as string[], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: BENCH_ENV });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}


function measure(c: Case, runs: number): Record<string, unknown> {
  // One warm-up each (page cache, node's compile cache), then alternate so drift hits both.
  const prep = c.prepare ?? ((): void => undefined);
  prep(); timeOnce(c.ours); c.cleanup();
  prep(); timeOnce(c.peer); c.cleanup();
  const ours: number[] = [];
  const peer: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < runs; i++) {
    const first = i % 2 === 0;
    if (first) { prep(); ours.push(timeOnce(c.ours)); c.cleanup(); }
    prep(); peer.push(timeOnce(c.peer)); c.cleanup();
    if (!first) { prep(); ours.push(timeOnce(c.ours)); c.cleanup(); }
    if (c.floor !== undefined) floor.push(timeOnce(c.floor));
  }
  const ratio = median(ours) / median(peer);
  const floorRow = c.floor === undefined ? {} : { floor: c.floor.join(' '), floorMedianMs: round(median(floor)), floorRatio: round(median(floor) / median(peer), 3) };
  const row = {
    case: c.name,
    peer: c.peerName,
    runs,
    oursMedianMs: round(median(ours)),
    peerMedianMs: round(median(peer)),
    ratio: round(ratio, 3),
    goal: c.goal.what,
    met: ratio <= c.goal.maxRatio,
    ...floorRow,
    oursMs: ours.map((x) => round(x)),
    peerMs: peer.map((x) => round(x)),
  };
  process.stdout.write(`${c.name}: atomic ${row.oursMedianMs} ms vs ${c.peerName} ${row.peerMedianMs} ms (median of ${runs}) -> ratio ${row.ratio} (${c.goal.what}: ${row.met ? 'met' : 'NOT met'})\n`);
  if ('floorMedianMs' in floorRow) {
    process.stdout.write(`  floor: \`${floorRow.floor}\` alone takes ${floorRow.floorMedianMs} ms = ${floorRow.floorRatio} x ${c.peerName}\n`);
  }
  return row;
}


/** A case with an absolute goal (no peer runs the same job): `prepare` runs untimed before each run. */
function measureAbsolute(name: string, argv: readonly string[], prepare: () => void, goalMs: number, runs: number): Record<string, unknown> {
  prepare();
  timeOnce(argv);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    prepare();
    times.push(timeOnce(argv));
  }
  const m = median(times);
  const row = { case: name, runs, oursMedianMs: round(m), goal: `median < ${goalMs} ms`, met: m < goalMs, oursMs: times.map((x) => round(x)) };
  process.stdout.write(`${name}: ${row.oursMedianMs} ms (median of ${runs}) (${row.goal}: ${row.met ? 'met' : 'NOT met'})\n`);
  return row;
}

const args = process.argv.slice(2);
const which = args.find((a) => !a.startsWith('--')) ?? 'all';
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const work = mkdtempSync(join(process.env.ATOMIC_BENCH_TMP ?? tmpdir(), 'atomic-bench-'));
const results: Record<string, unknown>[] = [];
try {
  if (which === 'iso' || which === 'all') {
    const treeMb = opt('tree-mb', 500);
    const tree = join(work, 'tree');
    const stats = makeMixedTree(tree, treeMb * 1024 * 1024);
    process.stdout.write(`iso: tree of ${stats.files} files in ${stats.directories} directories, ${round(stats.bytes / 1048576)} MiB\n`);
    const out = join(work, 'out.iso');
    results.push({
      ...measure({
        name: `iso create (${treeMb} MB mixed tree)`,
        ours: [process.execPath, cli, 'iso', 'create', '-o', out, '-V', 'BENCH', tree],
        peer: ['genisoimage', '-quiet', '-J', '-R', '-V', 'BENCH', '-o', out, tree],
        peerName: 'genisoimage -J -R',
        goal: { maxRatio: 1.0, what: 'ratio <= 1.0' },
        cleanup: () => rmSync(out, { force: true }),
      }, opt('runs', 5)),
      tree: stats,
    });
    rmSync(tree, { recursive: true, force: true });
  }
  if (which === 'seed' || which === 'all') {
    const ud = join(repo, 'cloud-init', 'examples', 'web-host', 'user-data');
    const md = join(work, 'meta-data');
    writeFileSync(md, 'instance-id: iid-bench-0001\nlocal-hostname: bench\n');
    const out = join(work, 'seed.iso');
    results.push(measure({
      name: 'seed create (cloud-localds form, web-host example)',
      ours: [process.execPath, cli, 'seed', 'create', out, ud, md],
      peer: ['cloud-localds', out, ud, md],
      peerName: 'cloud-localds',
      goal: { maxRatio: 1.5, what: 'ratio < 1.5' },
      cleanup: () => rmSync(out, { force: true }),
      // Starting Node.js itself, with nothing to run: what any Node.js CLI pays first.
      floor: [process.execPath, '-e', ''],
    }, opt('runs', 15)));
  }
  if (which === 'provision' || which === 'all') {
    // A typical seed: a user with a key, 10 write_files, a runcmd; applied to a fresh busybox root
    // each run (the copy is not timed).
    const seed = join(work, 'provision-seed');
    mkdirSync(seed);
    const files = Array.from({ length: 10 }, (_, i) => `  - path: /etc/bench/file-${i}.conf\n    content: "setting-${i} = ${i}\\n"\n    permissions: '0644'`).join('\n');
    writeFileSync(join(seed, 'user-data'), `#cloud-config
users:
  - name: ops
    groups: [adm]
    shell: /bin/sh
    lock_passwd: true
    ssh_authorized_keys:
      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJlbmNoLWtleS1ub3QtcmVhbC0wMDAwMDAwMDAwMDA ops@bench
write_files:
${files}
runcmd:
  - echo provisioned > /var/lib/bench-done
`);
    writeFileSync(join(seed, 'meta-data'), 'instance-id: iid-bench\nlocal-hostname: bench\n');
    const template = join(work, 'root-template');
    makeBusyboxRoot(template);
    const root = join(work, 'root');
    const freshRoot = (): void => {
      rmSync(root, { recursive: true, force: true });
      const r = spawnSync('cp', ['-a', template, root]);
      if (r.status !== 0) throw new Error(`cp -a failed: ${r.stderr}`);
    };
    const runs = opt('runs', 9);
    results.push(measureAbsolute('provision: typical seed (user + key, 10 write_files, runcmd) on a busybox root', [process.execPath, agent, '--log-level', 'warn', 'provision', '--root', root, '--seed', seed], freshRoot, 300, runs));
    // No datasource, with this machine's real /proc/cmdline, DMI and block devices.
    results.push(measureAbsolute('provision: no datasource (real /proc/cmdline, DMI, block devices)', [process.execPath, agent, '--log-level', 'warn', 'provision', '--root', template], () => undefined, 150, runs));
    // The part of the job cloud-init can be timed on here without touching the host: reading the
    // seed with its NoCloud datasource, processing user-data and merging cloud-config.
    results.push(measure({
      name: 'read seed + process user-data + merge (atomic cloud-init render vs cloud-init NoCloud + UserDataProcessor + merge)',
      ours: [process.execPath, cli, 'cloud-init', 'render', '--json', '--seed', seed],
      peer: ['/usr/bin/python3', join(repo, 'test', 'oracles', 'nocloud.py'), seed, join(work, 'oracle')],
      peerName: 'cloud-init 22.4 (python)',
      goal: { maxRatio: 1.0, what: 'ratio <= 1.0' },
      cleanup: () => rmSync(join(work, 'oracle'), { recursive: true, force: true }),
    }, runs));
  }
  if (which === 'host' || which === 'all') results.push(...(await benchHost(work, opt('runs', 7))));
  if (which === 'pull' || which === 'all') results.push(...(await benchImagePull(work, opt('runs', 5), { cli, agent, env: BENCH_ENV })));
  if (which === 'run' || which === 'all') results.push(...(await benchContainerRun(work, opt('runs', 9), { cli, env: BENCH_ENV, containers: opt('containers', 100) })));
  if (which === 'logs' || which === 'all') results.push(...(await benchContainerLogs(work, opt('runs', 5), opt('lines', 1_000_000))));
  if (which === 'compat' || which === 'all') results.push(...(await benchCompatLatency(work, opt('runs', 15), { cli, env: BENCH_ENV, containers: opt('containers', 100) })));
  if (which === 'image' || which === 'all') results.push(...(await benchImageBuild(work, opt('runs', 2), { cold: args.includes('--cold') })));
} finally {
  spawnSync('chattr', ['-R', '-i', work], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}

/**
 * `atomic host upgrade` vs `ostree admin upgrade` on the same update (v1 -> v2 of an OS tree with
 * 600 files) from a real HTTP server (python3 -m http.server, another process), each run on a
 * fresh copy of the same sysroot; then what resuming an interrupted pull saves.
 */
async function benchHost(work: string, runs: number): Promise<Record<string, unknown>[]> {
  const run = (cmd: string, args: readonly string[]): string => {
    const r = spawnSync(cmd, args as string[], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const REF = 'benchos/x86_64/stable';
  const repo = join(work, 'host-repo');
  run('ostree', ['init', '--mode=archive', `--repo=${repo}`]);
  const tree = (version: string): string => {
    const t = join(work, `host-tree-${version}`);
    const mods = join(t, 'usr', 'lib', 'modules', '6.1.0-bench');
    mkdirSync(mods, { recursive: true });
    mkdirSync(join(t, 'usr', 'etc'), { recursive: true });
    mkdirSync(join(t, 'usr', 'share', 'blobs'), { recursive: true });
    writeFileSync(join(mods, 'vmlinuz'), `kernel ${version}\n`);
    writeFileSync(join(mods, 'initramfs.img'), `initramfs ${version}\n`);
    writeFileSync(join(t, 'usr', 'lib', 'os-release'), `NAME=Bench\nID=benchos\nVERSION_ID=${version}\n`);
    for (let i = 0; i < 600; i++) writeFileSync(join(t, 'usr', 'share', 'blobs', `b-${i}`), `${version}:${i}:`.repeat(700));
    return t;
  };
  run('ostree', ['commit', `--repo=${repo}`, `--branch=${REF}`, '--subject=v1', '--add-metadata-string=version=1', tree('1')]);
  const port = 18000 + Math.floor(Math.random() * 1000);
  const log = join(work, 'host-http.log');
  const { spawn } = await import('node:child_process');
  const { openSync, closeSync } = await import('node:fs');
  const logFd = openSync(log, 'w');
  const server = spawn('/usr/bin/python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', repo], { stdio: ['ignore', 'ignore', logFd] });
  closeSync(logFd);
  try {
    await new Promise((r) => setTimeout(r, 700));
    const url = `http://127.0.0.1:${port}`;
    const template = join(work, 'host-template');
    mkdirSync(template);
    run('ostree', ['admin', 'init-fs', template]);
    run('ostree', ['admin', 'os-init', `--sysroot=${template}`, 'benchos']);
    run('ostree', ['remote', 'add', `--repo=${join(template, 'ostree', 'repo')}`, '--no-gpg-verify', 'origin', url]);
    run('ostree', ['pull', `--repo=${join(template, 'ostree', 'repo')}`, `origin:${REF}`]);
    run('ostree', ['admin', 'deploy', `--sysroot=${template}`, '--os=benchos', `origin:${REF}`]);
    run('ostree', ['commit', `--repo=${repo}`, `--branch=${REF}`, '--subject=v2', '--add-metadata-string=version=2', tree('2')]);
    const copy = join(work, 'host-copy');
    const fresh = (): void => {
      spawnSync('chattr', ['-R', '-i', copy], { stdio: 'ignore' });
      rmSync(copy, { recursive: true, force: true });
      run('cp', ['-a', template, copy]);
    };
    const rows: Record<string, unknown>[] = [measure({
      name: 'host upgrade (v1 -> v2, 600 files, loopback HTTP)',
      ours: [process.execPath, cli, 'host', 'upgrade', '--sysroot', copy, '--os', 'benchos'],
      peer: ['ostree', 'admin', 'upgrade', `--sysroot=${copy}`, '--os=benchos'],
      peerName: 'ostree admin upgrade',
      goal: { maxRatio: 1.15, what: 'ratio <= 1.15' },
      prepare: fresh,
      cleanup: () => undefined,
    }, runs)];

    // Resumed pull: objects requested by a full upgrade vs. by an upgrade after one killed midway.
    const objectRequests = (): number => readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('.filez')).length;
    fresh();
    let before = objectRequests();
    run(process.execPath, [cli, 'host', 'upgrade', '--sysroot', copy, '--os', 'benchos']);
    const fullObjects = objectRequests() - before;
    fresh();
    before = objectRequests();
    const child = spawn(process.execPath, [cli, 'host', 'upgrade', '--sysroot', copy, '--os', 'benchos'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('close', r));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (objectRequests() - before >= fullObjects / 2) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 2);
      void exited.then(() => resolve());
    });
    await exited;
    const firstHalf = objectRequests() - before;
    before = objectRequests();
    run(process.execPath, [cli, 'host', 'upgrade', '--sysroot', copy, '--os', 'benchos']);
    const resumed = objectRequests() - before;
    const row = {
      case: 'host upgrade resumed after SIGKILL midway: file objects fetched',
      fullUpgradeObjects: fullObjects,
      fetchedBeforeKill: firstHalf,
      fetchedWhenResumed: resumed,
      saving: round(1 - resumed / fullObjects, 3),
      refetched: Math.max(0, firstHalf + resumed - fullObjects),
    };
    process.stdout.write(`${row.case}: full ${fullObjects}, before the kill ${firstHalf}, resumed ${resumed} (saving ${(row.saving * 100).toFixed(0)}%, refetched ${row.refetched})\n`);
    rows.push(row);
    return rows;
  } finally {
    server.kill('SIGKILL');
  }
}

const report = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  results,
};
mkdirSync(join(repo, 'bench', 'results'), { recursive: true });
const file = join(repo, 'bench', 'results', 'latest.json');
let history: unknown[] = [];
try {
  history = (JSON.parse(readFileSync(join(repo, 'bench', 'results', 'history.json'), 'utf8')) as unknown[]) ?? [];
} catch {
  history = [];
}
// Cases not run this time keep their last result in latest.json.
let previous: { results?: { case: string }[] } = {};
try {
  previous = JSON.parse(readFileSync(file, 'utf8')) as typeof previous;
} catch {
  previous = {};
}
const kept = (previous.results ?? []).filter((r) => !results.some((n) => n.case === r.case));
writeFileSync(file, JSON.stringify({ ...report, results: [...kept, ...results] }, null, 2) + '\n');
writeFileSync(join(repo, 'bench', 'results', 'history.json'), JSON.stringify([...history, report].slice(-50), null, 2) + '\n');
process.stdout.write(`results written to ${file}\n`);
