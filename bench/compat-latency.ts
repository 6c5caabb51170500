// What the Docker-compatible API costs a docker CLI user, against one agent (crun, --bridge none,
// the busybox image in a loopback registry):
//   latency: `docker ps` vs `atomic ps`, and `docker run --rm IMAGE true` vs `atomic run --rm IMAGE
//            true` (both --network none), interleaved, medians; the "compat overhead" is docker
//            minus atomic. Both clients' start-up alone (`docker --version`, `atomic --version`:
//            no request) is timed alongside, since it dominates short commands.
//   load:    requests per second of GET /containers/json?all=1 with N containers created (not
//            running), from a separate process keeping 8 keep-alive connections busy
//            (bench/api-load.ts: wrk and ab cannot use a Unix socket); and `docker ps -a` vs
//            `atomic ps -a` listing them.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxLayout, pushWithSkopeo, startRegistry } from '../test/fixtures/registry.js';
import { agentHttp, cleanupAgentState, docker, startAgent } from '../test/fixtures/agent-process.js';
import type { LoadResult } from './api-load.js';
import { median, round, timeOnce } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));



/** Both sides `runs` times, alternating which goes first, after one warm-up each. */
function pair(a: readonly string[], b: readonly string[], runs: number, env: NodeJS.ProcessEnv): { a: number[]; b: number[] } {
  timeOnce(a, env);
  timeOnce(b, env);
  const out = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      out.a.push(timeOnce(a, env));
      out.b.push(timeOnce(b, env));
    } else {
      out.b.push(timeOnce(b, env));
      out.a.push(timeOnce(a, env));
    }
  }
  return out;
}

function load(socket: string, path: string, connections: number, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'api-load.js'), socket, path, String(connections), String(seconds)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`api-load exited ${code}: ${err}`));
      resolve(JSON.parse(out) as LoadResult);
    });
  });
}

export async function benchCompatLatency(work: string, runs: number, opts: { cli: string; env: NodeJS.ProcessEnv; containers: number }): Promise<Record<string, unknown>[]> {
  if (spawnSync('docker', ['--version']).status !== 0) throw new Error('the docker CLI is needed: scripts/setup installs it');
  const registry = await startRegistry(work, { name: 'compat-bench' });
  const agent = await startAgent({ work, name: 'compatbench', runtime: 'crun', env: opts.env });
  const rows: Record<string, unknown>[] = [];
  // The docker CLI reads its config dir; an empty one of its own, the same for every run.
  const dockerConfig = join(work, 'docker-config');
  mkdirSync(dockerConfig, { recursive: true });
  const env = { ...opts.env, DOCKER_CONFIG: dockerConfig };
  try {
    pushWithSkopeo(buildBusyboxLayout(work).layout, '1.36', registry.host, 'busybox:latest', 'oci');
    const image = `${registry.host}/busybox:latest`;
    const pulled = await docker(agent, ['pull', '-q', image]);
    if (pulled.status !== 0) throw new Error(`pull: ${pulled.stderr}`);
    const host = `unix://${agent.socket}`;
    const dockerCmd = (args: readonly string[]): string[] => ['docker', '-H', host, ...args];
    const atomicCmd = (args: readonly string[]): string[] => [process.execPath, opts.cli, '-H', host, ...args];

    // The clients' own start-up (set by the first comparison): what a command costs beyond it is
    // its requests and their handling, the part the agent's compat layer is responsible for.
    let startup: { docker: number; atomic: number } | undefined;
    const compare = (name: string, args: readonly string[], goal: string | undefined, n = runs): Record<string, unknown> => {
      const t = pair(dockerCmd(args), atomicCmd(args), n, env);
      const d = median(t.a);
      const a = median(t.b);
      const row = {
        case: name,
        peer: 'the docker CLI against the same agent',
        runs: n,
        dockerMedianMs: round(d),
        atomicMedianMs: round(a),
        compatOverheadMs: round(d - a),
        ...(startup === undefined ? {} : { dockerBeyondStartupMs: round(d - startup.docker), atomicBeyondStartupMs: round(a - startup.atomic) }),
        ...(goal === undefined ? {} : { goal, met: d - a < 10 }),
        dockerMs: t.a.map((x) => round(x)),
        atomicMs: t.b.map((x) => round(x)),
      };
      const beyond = 'dockerBeyondStartupMs' in row ? `; beyond each client's start-up: docker ${row.dockerBeyondStartupMs} ms, atomic ${row.atomicBeyondStartupMs} ms` : '';
      process.stdout.write(`${name}: docker ${row.dockerMedianMs} ms, atomic ${row.atomicMedianMs} ms (median of ${n}) -> compat overhead ${row.compatOverheadMs} ms${beyond}${goal === undefined ? '' : ` (${goal}: ${row.met === true ? 'met' : 'NOT met'})`}\n`);
      if (startup === undefined) startup = { docker: d, atomic: a };
      return row;
    };

    // The clients alone: start-up, argument parsing, no request.
    rows.push(compare('compat: client start-up alone (`--version`, no request)', ['--version'], undefined));
    rows.push(compare('compat: `ps` (no containers)', ['ps'], 'compat overhead < 10 ms over the atomic CLI'));
    rows.push(compare('compat: `run --rm busybox true` (crun, --network none)', ['run', '--rm', '--network', 'none', image, 'true'], 'compat overhead < 10 ms over the atomic CLI'));

    // N containers, created, not running.
    for (let i = 0; i < opts.containers; i++) {
      const r = await agentHttp(agent, 'POST', `/containers/create?name=compat${i}`, { body: JSON.stringify({ Image: image, Cmd: ['true'], Labels: { bench: 'compat', n: String(i) }, HostConfig: { NetworkMode: 'none' } }) });
      if (r.status !== 201) throw new Error(`create compat${i}: ${r.status} ${r.body}`);
    }
    rows.push(compare(`compat: \`ps -a\` with ${opts.containers} containers`, ['ps', '-a'], undefined));
    const listed = await agentHttp(agent, 'GET', '/containers/json?all=1');
    const count = (JSON.parse(listed.body) as unknown[]).length;
    if (count !== opts.containers) throw new Error(`expected ${opts.containers} containers, the agent lists ${count}`);
    const connections = 8;
    const seconds = 5;
    const l = await load(agent.socket, '/containers/json?all=1', connections, seconds);
    const rps = {
      case: `compat: GET /containers/json?all=1 with ${opts.containers} containers (${connections} keep-alive connections, ${seconds} s, load generator in a second process)`,
      requestsPerSecond: round(l.requestsPerSecond),
      requests: l.requests,
      errors: l.errors,
      p50Ms: round(l.p50Ms, 2),
      p99Ms: round(l.p99Ms, 2),
      responseBytes: Buffer.byteLength(listed.body),
    };
    process.stdout.write(`${rps.case}: ${rps.requestsPerSecond} requests/s (p50 ${rps.p50Ms} ms, p99 ${rps.p99Ms} ms, ${rps.errors} errors, ${rps.responseBytes} bytes per answer)\n`);
    rows.push(rps);
    return rows;
  } catch (e) {
    const died = agent.child.exitCode !== null || agent.child.signalCode !== null;
    throw new Error(`compat bench failed${died ? ` (the agent exited ${agent.child.exitCode ?? agent.child.signalCode}; its log ends: ${agent.log().slice(-3000)})` : ''}`, { cause: e });
  } finally {
    const ids = (await docker(agent, ['ps', '-aq'])).stdout.split('\n').filter((x) => x !== '');
    if (ids.length > 0) await docker(agent, ['rm', '-f', ...ids], { timeoutMs: 120_000 });
    await agent.kill();
    await cleanupAgentState(agent, 'crun');
    await registry.stop();
  }
}
