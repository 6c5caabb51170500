// Supervision that survives the agent, at the level users see it: `atomicd run` with real runc,
// driven by the real docker CLI. 20 containers write numbered log lines; the agent is SIGKILLed;
// every container keeps running and logging; a new agent on the same state dir lists them,
// follows their logs and stops them, and no line is missing or doubled. Also: the containers
// declared in cloud-config (the hand-off file provisioning writes) are created, recreated when
// their declaration changes, and removed when it goes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildBusyboxLayout, pushWithSkopeo, startRegistry, type RegistryServer } from '../fixtures/registry.js';
import { cleanupAgentState, docker, startAgent, type AgentProcess } from '../fixtures/agent-process.js';

const COUNT = 20;
let work: string;
let registry: RegistryServer;
let image: string;
const agents: AgentProcess[] = [];

before(async () => {
  work = mkdtempSync(join(process.env.ATOMIC_TEST_TMP ?? tmpdir(), 'agent-sup-'));
  registry = await startRegistry(work);
  const layout = buildBusyboxLayout(work);
  pushWithSkopeo(layout.layout, '1.36', registry.host, 'busybox:latest', 'oci');
  image = `${registry.host}/busybox:latest`;
});

after(async () => {
  for (const a of agents) {
    await docker(a, ['rm', '-f', ...(await docker(a, ['ps', '-aq'])).stdout.split('\n').filter((l) => l !== '')], { timeoutMs: 30_000 }).catch(() => undefined);
    await a.kill();
    await cleanupAgentState(a);
  }
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The numbers a counter container printed, in log order. */
const numbers = (text: string, name: string): number[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${name} `))
    .map((l) => Number(l.slice(name.length + 1)));

const contiguous = (xs: readonly number[]): boolean => xs.every((x, i) => x === i);

test(`SIGKILL of the agent with ${COUNT} containers writing logs: all keep running, no line lost, the next agent follows and stops them`, async () => {
  const stateDir = join(work, 'sup-state');
  const first = await startAgent({ work, stateDir, name: 'sup' });
  agents.push(first);
  const pull = await docker(first, ['pull', '-q', image]);
  assert.equal(pull.status, 0, pull.stderr);
  const names = Array.from({ length: COUNT }, (_, i) => `counter${i}`);
  for (const n of names) {
    // PID 1 sh has no TERM handler, so `stop` ends it with the KILL after the timeout.
    const r = await docker(first, ['run', '-d', '--name', n, '--label', 'suite=supervision', image, 'sh', '-c', `i=0; while :; do echo "${n} $i"; i=$((i+1)); sleep 0.05; done`]);
    assert.equal(r.status, 0, `${n}: ${r.stderr}`);
  }
  const ps = await docker(first, ['ps', '-q', '-f', 'label=suite=supervision']);
  assert.equal(ps.stdout.trim().split('\n').length, COUNT, ps.stdout);
  await sleep(500);
  const pids = (await docker(first, ['inspect', '-f', '{{.State.Pid}}', ...names])).stdout.trim().split('\n').map(Number);
  assert.equal(pids.length, COUNT);

  await first.kill();
  // Without an agent: every container still runs and its log keeps growing.
  for (const pid of pids) assert.ok(readFileSync(`/proc/${pid}/status`, 'utf8').includes('State:'), `container process ${pid} is gone`);
  const logLines = (): number => Number(spawnSync('sh', ['-c', `cat ${join(stateDir, 'containers')}/*/*-json.log | wc -l`], { encoding: 'utf8' }).stdout.trim());
  const linesNow = logLines();
  // Growth, not a rate: on a loaded machine 20 shells print slowly, so wait (bounded) for it.
  let linesLater = logLines();
  for (let waited = 0; linesLater <= linesNow + COUNT * 5 && waited < 30_000; waited += 500) {
    await sleep(500);
    linesLater = logLines();
  }
  assert.ok(linesLater > linesNow + COUNT * 5, `logs kept growing without the agent: ${linesNow} -> ${linesLater}`);

  const second = await startAgent({ work, stateDir, name: 'sup', cgroupParent: first.cgroupParent });
  agents.splice(0, 1, second);
  const running = await docker(second, ['ps', '--format', '{{.Names}} {{.State}}', '-f', 'label=suite=supervision']);
  assert.equal(running.status, 0, running.stderr);
  assert.deepEqual(running.stdout.trim().split('\n').sort(), names.map((n) => `${n} running`).sort());

  // Follow every log, then stop every container: each follow ends, with every line once.
  const follows = names.map((n) => docker(second, ['logs', '-f', n], { timeoutMs: 60_000 }));
  await sleep(500);
  const stop = await docker(second, ['stop', '-t', '1', ...names], { timeoutMs: 60_000 });
  assert.equal(stop.status, 0, stop.stderr);
  assert.deepEqual(stop.stdout.trim().split('\n').sort(), [...names].sort());
  const outputs = await Promise.all(follows);
  for (const [i, n] of names.entries()) {
    const out = outputs[i];
    assert.ok(out !== undefined);
    assert.equal(out.status, 0, `${n}: logs -f: ${out.stderr}`);
    const seq = numbers(out.stdout, n);
    assert.ok(seq.length > 30, `${n}: only ${seq.length} lines`);
    assert.ok(contiguous(seq), `${n}: lines missing or doubled: ${JSON.stringify(seq.filter((x, j) => x !== j).slice(0, 5))}`);
  }
  const exited = await docker(second, ['ps', '-a', '--format', '{{.Names}} {{.State}}', '-f', 'label=suite=supervision']);
  assert.deepEqual(exited.stdout.trim().split('\n').sort(), names.map((n) => `${n} exited`).sort());
  const rm = await docker(second, ['rm', ...names]);
  assert.equal(rm.status, 0, rm.stderr);
});

test('containers declared in cloud-config are created, recreated on change and removed when undeclared', async () => {
  const cloudDir = join(work, 'decl-cloud');
  const handoff = join(cloudDir, 'data', 'handoff');
  mkdirSync(handoff, { recursive: true });
  const declare = (containers: unknown[]): void => {
    // As provisioning writes it: a temp file renamed into place.
    writeFileSync(join(handoff, '.containers.json.tmp'), JSON.stringify({ instanceId: 'iid-test', containers }));
    renameSync(join(handoff, '.containers.json.tmp'), join(handoff, 'containers.json'));
  };
  declare([
    { name: 'web', image, command: ['sleep', '300'], env: { MODE: 'one' }, restart: 'always', labels: { tier: 'front' } },
    { name: 'job', image, command: 'sh -c "echo done"' },
  ]);
  const a = await startAgent({ work, name: 'decl', cloudDir });
  agents.push(a);
  const state = async (): Promise<string> => (await docker(a, ['ps', '-a', '--format', '{{.Names}} {{.State}} {{.Label "tier"}}'])).stdout.trim().split('\n').sort().join('; ');
  const env = async (): Promise<string> => (await docker(a, ['inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', 'web'])).stdout;
  /** Wait until `docker ps -a` shows `want` (and, when given, web's environment has `mode`). */
  const until = async (want: string, mode?: string): Promise<void> => {
    let got = '';
    for (let i = 0; i < 200; i++) {
      got = await state();
      if (got === want && (mode === undefined || (await env()).includes(`MODE=${mode}\n`))) return;
      await sleep(150);
    }
    assert.equal(got, want);
    assert.match(await env(), new RegExp(`^MODE=${mode ?? ''}$`, 'm'));
  };
  // The image is pulled by the agent itself (nothing was pulled before).
  await until('job exited ; web running front', 'one');
  const firstId = (await docker(a, ['inspect', '-f', '{{.Id}}', 'web'])).stdout.trim();

  declare([{ name: 'web', image, command: ['sleep', '300'], env: { MODE: 'two' }, restart: 'always', labels: { tier: 'front' } }]);
  await until('web running front', 'two');
  assert.notEqual((await docker(a, ['inspect', '-f', '{{.Id}}', 'web'])).stdout.trim(), firstId, 'a changed declaration is a new container');

  // A container the user made is never touched, even under a declared name.
  const mine = await docker(a, ['run', '-d', '--name', 'mine', image, 'sleep', '300']);
  assert.equal(mine.status, 0, mine.stderr);
  declare([{ name: 'mine', image, command: ['sleep', '1'] }]);
  await until('mine running');
  assert.match(a.log(), /container name \\"\/mine\\" is used by container [0-9a-f]{12}, which cloud-config did not create/);
});
