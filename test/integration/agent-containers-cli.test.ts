// `atomic run/ps/logs/exec/inspect/stats/update/kill/stop/rm/...` against a real `atomicd run`
// (runc; one run on crun), its busybox image pulled from a real distribution registry on loopback
// (built with umoci, pushed with skopeo). The CLI is run as a process, exactly as a user runs it;
// the answers are checked against docker's formats and against what the agent reports.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { CLI, runCliAsync, type RunResult } from '../helpers.js';
import { buildBusyboxLayout, pushWithSkopeo, startRegistry, type RegistryServer } from '../fixtures/registry.js';
import { cleanupAgentState, startAgent, type AgentProcess } from '../fixtures/agent-process.js';

let work: string;
let registry: RegistryServer;
let agent: AgentProcess;
let image: string;

before(async () => {
  work = mkdtempSync(join(process.env.ATOMIC_TEST_TMP ?? tmpdir(), 'containers-cli-'));
  registry = await startRegistry(work);
  const layout = buildBusyboxLayout(work);
  pushWithSkopeo(layout.layout, '1.36', registry.host, 'busybox:latest', 'oci');
  image = `${registry.host}/busybox:latest`;
  agent = await startAgent({ work, runtime: 'runc' });
});

after(async () => {
  if (agent !== undefined) {
    await runCliAsync(['-H', `unix://${agent.socket}`, 'rm', '-f', 'web', 'counter', 'trap', 'c1', 'renamed', 'env-test', 'fg']).catch(() => undefined);
    await agent.stop();
    await cleanupAgentState(agent, 'runc');
  }
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

const atomic = (args: readonly string[], a: AgentProcess = agent): Promise<RunResult> => runCliAsync(['-H', `unix://${a.socket}`, ...args]);

/** The CLI as a running process, for the commands that stream until Ctrl-C. */
function spawnAtomic(args: readonly string[]): { waitFor(re: RegExp): Promise<void>; interrupt(): Promise<RunResult> } {
  const child = spawn(process.execPath, [CLI, '-H', `unix://${agent.socket}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<RunResult>((resolve) => child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr })));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return {
    waitFor: async (re) => {
      for (let i = 0; i < 200 && !re.test(stdout); i++) {
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(stdout, re, `atomic ${args.join(' ')}: ${stderr}`);
    },
    interrupt: async () => {
      child.kill('SIGINT');
      const r = await done;
      clearTimeout(killer);
      return r;
    },
  };
}

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.status, 0, `${what} exited ${r.status}\nstderr: ${r.stderr}\nstdout: ${r.stdout}`);
  return r;
}

test('run --rm pulls the missing image with progress on stderr, prints the output, exits 0 and leaves nothing', async () => {
  const r = ok(await atomic(['run', '--rm', image, 'echo', 'hi']), 'run --rm');
  assert.equal(r.stdout, 'hi\n');
  assert.match(r.stderr, new RegExp(`Unable to find image '${image.replace(/\./g, '\\.')}' locally`));
  assert.match(r.stderr, /^[0-9a-f]{12}: Pull complete$/m);
  const all = JSON.parse(ok(await atomic(['ps', '-a', '--json']), 'ps -a --json').stdout) as unknown[];
  assert.deepEqual(all, [], 'the --rm container is gone');
  // With -d the agent removes it (HostConfig.AutoRemove) once it exits.
  const id = ok(await atomic(['run', '-d', '--rm', image, 'sh', '-c', 'sleep 2']), 'run -d --rm').stdout.trim();
  assert.equal(ok(await atomic(['ps', '-q', '--no-trunc']), 'ps').stdout, `${id}\n`);
  let left = id;
  for (let i = 0; i < 40 && left !== ''; i++) {
    await new Promise((r) => setTimeout(r, 200));
    left = ok(await atomic(['ps', '-a', '-q']), 'ps -a -q').stdout.trim();
  }
  assert.equal(left, '', 'removed after its exit');

  const always = ok(await atomic(['run', '--rm', '--pull', 'always', image, 'true']), 'run --pull always');
  assert.match(always.stderr, /Status: Image is up to date for /);
  const never = await atomic(['run', '--rm', '--pull', 'never', `${registry.host}/busybox:absent`, 'true']);
  assert.equal(never.status, 125, never.stderr);
  assert.match(never.stderr, /No such image/);
  assert.doesNotMatch(never.stderr, /Unable to find image/);
  assert.equal((await atomic(['run', '--pull', 'sometimes', image])).status, 2);
});

test('run flags reach the container: read-only root, tmpfs, ulimit, hostname, entrypoint, log options, cpus, pids', async () => {
  const script = 'ulimit -n; cat /etc/hostname; (echo x > /x) 2>/dev/null || echo read-only; echo y > /scratch/y && echo tmpfs-ok';
  const r = ok(await atomic([
    'run', '--rm', '--read-only', '--tmpfs', '/scratch', '--ulimit', 'nofile=100:200', '-h', 'box', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=2',
    '--cpus', '0.5', '--pids-limit', '50', '--cap-drop', 'ALL', image, 'sh', '-c', script,
  ]), 'run with flags');
  assert.equal(r.stdout, '100\nbox\nread-only\ntmpfs-ok\n');
  assert.equal(ok(await atomic(['run', '--rm', '--entrypoint', 'echo', image, 'from', 'entrypoint']), 'run --entrypoint').stdout, 'from entrypoint\n');
  const d = ok(await atomic(['run', '-d', '--name', 'c1', '--cpus', '0.5', '--pids-limit', '50', '--memory-swap', '-1', '-m', '32m', image, 'sleep', '30']), 'run -d limits');
  assert.match(d.stdout, /^[0-9a-f]{64}\n$/);
  assert.equal(ok(await atomic(['inspect', '-f', '{{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.Memory}}', 'c1']), 'inspect limits').stdout, '500000000 50 33554432\n');
  ok(await atomic(['rm', '-f', 'c1']), 'rm c1');
});

test('run without -d: stdout and stderr apart, flags after the image belong to the command, exit code is the container\'s', async () => {
  const r = await atomic(['run', '-e', 'GREETING=hello there', image, 'sh', '-c', 'echo "$GREETING"; echo oops >&2; exit 3']);
  assert.equal(r.status, 3, r.stderr);
  assert.equal(r.stdout, 'hello there\n');
  assert.equal(r.stderr, 'oops\n');
  const env = join(work, 'env.list');
  writeFileSync(env, '# comment\nFROM_FILE=1\n\nOVERRIDE=file\n');
  const e = ok(await atomic(['run', '--name', 'env-test', '--env-file', env, '-e', 'OVERRIDE=flag', '-w', '/tmp', '-u', '65534', image, 'sh', '-c', 'echo $FROM_FILE $OVERRIDE $(pwd) $(id -u)']), 'run --env-file');
  assert.equal(e.stdout, '1 flag /tmp 65534\n');
  assert.match(ok(await atomic(['ps', '-a', '-f', 'name=env-test']), 'ps -a').stdout, /Exited \(0\) (Less than a second|\d+ seconds?) ago/);
  ok(await atomic(['rm', 'env-test']), 'rm env-test');
});

test('run -d with name, label, memory and restart policy; ps, inspect -f, exec, stats, update, rename', async () => {
  const d = ok(await atomic(['run', '-d', '--name', 'web', '--label', 'deployer=ci', '-m', '64m', '--restart', 'unless-stopped', image, 'sleep', '300']), 'run -d');
  const id = d.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/, 'prints the full ID');

  const ps = ok(await atomic(['ps', '-f', 'label=deployer=ci']), 'ps -f').stdout.trimEnd().split('\n');
  assert.match(ps[0]!, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$/);
  assert.equal(ps.length, 2, ps.join('\n'));
  const cols = ps[1]!.split(/ {3,}/);
  assert.equal(cols[0], id.slice(0, 12));
  assert.equal(cols[1], image);
  assert.equal(cols[2], '"sleep 300"');
  assert.match(cols[3]!, /^(Less than a second|\d+ seconds?) ago$/);
  assert.match(cols[4]!, /^Up (Less than a second|\d+ seconds?)$/);
  assert.equal(cols.at(-1), 'web');
  assert.equal(ok(await atomic(['ps', '-q', '-f', 'label=deployer=other']), 'ps -q other').stdout, '');
  assert.equal(ok(await atomic(['ps', '-q', '--no-trunc', '-f', 'name=web']), 'ps -q').stdout, `${id}\n`);

  assert.equal(ok(await atomic(['inspect', '-f', '{{.State.Status}} {{.HostConfig.Memory}}', 'web']), 'inspect -f').stdout, 'running 67108864\n');
  const inspected = JSON.parse(ok(await atomic(['inspect', 'web']), 'inspect').stdout) as { Id: string; Config: { Labels: Record<string, string> }; HostConfig: { RestartPolicy: { Name: string } } }[];
  assert.equal(inspected.length, 1);
  assert.equal(inspected[0]!.Id, id);
  assert.equal(inspected[0]!.Config.Labels.deployer, 'ci');
  assert.equal(inspected[0]!.HostConfig.RestartPolicy.Name, 'unless-stopped');
  const badTemplate = await atomic(['inspect', '-f', '{{range .Mounts}}x{{end}}', 'web']);
  assert.equal(badTemplate.status, 2);
  assert.match(badTemplate.stderr, /--format: template action \{\{range \.Mounts\}\} is not supported/);

  const ex = ok(await atomic(['exec', 'web', 'sh', '-c', 'echo $HOSTNAME; echo to-stderr >&2']), 'exec');
  assert.equal(ex.stdout, `${id.slice(0, 12)}\n`);
  assert.equal(ex.stderr, 'to-stderr\n');
  assert.equal((await atomic(['exec', '-w', '/tmp', '-e', 'X=7', 'web', 'sh', '-c', 'test "$(pwd)$X" = /tmp7 && exit 42'])).status, 42);
  const it = await atomic(['exec', '-it', 'web', 'sh']);
  assert.equal(it.status, 2);
  assert.match(it.stderr, /the input device is not a TTY/);

  const stats = ok(await atomic(['stats', '--no-stream', 'web']), 'stats').stdout.trimEnd().split('\n');
  assert.match(stats[0]!, /^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS$/);
  const s = stats[1]!.split(/ {3,}/);
  assert.deepEqual(s.slice(0, 2), [id.slice(0, 12), 'web']);
  assert.match(s[2]!, /^\d+\.\d\d%$/);
  assert.match(s[3]!, /^\d+(\.\d+)?(B|KiB|MiB) \/ 64MiB$/);
  assert.match(s[4]!, /^\d+\.\d\d%$/);
  assert.match(s[5]!, /^\d+(\.\d+)?(B|kB|MB) \/ \d+(\.\d+)?(B|kB|MB)$/);
  assert.match(s[7]!, /^[1-9]\d*$/);

  assert.equal(ok(await atomic(['update', '--memory', '128m', '--memory-swap', '256m', 'web']), 'update').stdout, 'web\n');
  assert.equal(ok(await atomic(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}', 'web']), 'inspect after update').stdout, '134217728 268435456\n');

  ok(await atomic(['rename', 'web', 'renamed']), 'rename');
  assert.equal(ok(await atomic(['inspect', '-f', '{{.Name}}', id.slice(0, 12)]), 'inspect renamed').stdout, '/renamed\n');
  ok(await atomic(['rename', 'renamed', 'web']), 'rename back');

  const stop = ok(await atomic(['stop', '-t', '1', 'web']), 'stop');
  assert.equal(stop.stdout, 'web\n');
  assert.equal(ok(await atomic(['inspect', '-f', '{{.State.Status}}', 'web']), 'inspect stopped').stdout, 'exited\n');
  assert.equal(ok(await atomic(['start', 'web']), 'start').stdout, 'web\n');
  assert.equal(ok(await atomic(['restart', '-t', '0', 'web']), 'restart').stdout, 'web\n');
  assert.equal(ok(await atomic(['inspect', '-f', '{{.State.Running}}', 'web']), 'inspect restarted').stdout, 'true\n');
  assert.equal(ok(await atomic(['rm', '-f', 'web']), 'rm -f').stdout, 'web\n');
  assert.equal(ok(await atomic(['ps', '-a', '-q', '-f', 'name=web']), 'ps after rm').stdout, '');
});

test('logs: -f follows a counter to its exit; --tail, -t, --since and --until', async () => {
  const script = 'for i in 1 2 3 4 5; do echo line$i; sleep 0.4; done; echo done >&2';
  ok(await atomic(['run', '-d', '--name', 'counter', image, 'sh', '-c', script]), 'run counter');
  const f = ok(await atomic(['logs', '-f', 'counter']), 'logs -f');
  const followedUntil = Date.now();
  assert.equal(f.stdout, 'line1\nline2\nline3\nline4\nline5\n');
  assert.equal(f.stderr, 'done\n');
  const state = JSON.parse(ok(await atomic(['inspect', '-f', '{{json .State}}', 'counter']), 'inspect counter').stdout) as { Status: string; FinishedAt: string };
  assert.equal(state.Status, 'exited');
  assert.ok(Date.parse(state.FinishedAt) <= followedUntil, `logs -f ended (${new Date(followedUntil).toISOString()}) after the exit (${state.FinishedAt})`);
  assert.equal(ok(await atomic(['logs', '--tail', '2', 'counter']), 'logs --tail').stdout, 'line5\n');
  const stamped = ok(await atomic(['logs', '-t', '--since', '10m', 'counter']), 'logs -t').stdout.trimEnd().split('\n');
  assert.equal(stamped.length, 5);
  for (const l of stamped) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line\d$/);
  assert.equal(ok(await atomic(['logs', '--until', '2000-01-01T00:00:00Z', 'counter']), 'logs --until').stdout, '');
  assert.equal(ok(await atomic(['logs', '--since', String(Math.floor(Date.now() / 1000) + 60), 'counter']), 'logs --since future').stdout, '');
  assert.equal((await atomic(['logs', '--since', 'yesterday', 'counter'])).status, 2);
  ok(await atomic(['rm', 'counter']), 'rm counter');
});

test('create, start, kill -s HUP on a trap container, wait prints the exit code, events show it all', async () => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const id = ok(await atomic(['create', '--name', 'trap', image, 'sh', '-c', 'trap "echo got-hup; exit 7" HUP; echo ready; while true; do sleep 0.1; done']), 'create').stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal(ok(await atomic(['inspect', '-f', '{{.State.Status}}', 'trap']), 'inspect created').stdout, 'created\n');
  assert.equal(ok(await atomic(['start', 'trap']), 'start').stdout, 'trap\n');
  // The trap is set once "ready" is in the log.
  for (let i = 0; i < 100 && ok(await atomic(['logs', 'trap']), 'logs').stdout === ''; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(ok(await atomic(['kill', '-s', 'HUP', 'trap']), 'kill -s HUP').stdout, 'trap\n');
  assert.equal(ok(await atomic(['wait', 'trap']), 'wait').stdout, '7\n');
  assert.equal(ok(await atomic(['logs', 'trap']), 'logs trap').stdout, 'ready\ngot-hup\n');

  ok(await atomic(['create', '--name', 'c1', image, 'sh', '-c', 'exit 4']), 'create c1');
  ok(await atomic(['start', 'c1']), 'start c1');
  assert.equal(ok(await atomic(['wait', 'c1', 'trap']), 'wait two').stdout, '4\n7\n');

  const ev = ok(await atomic(['events', '--since', since, '--until', String(Math.ceil(Date.now() / 1000) + 1), '-f', 'container=trap']), 'events').stdout.trimEnd().split('\n');
  const actions = ev.map((l) => l.split(' ')[2]);
  for (const a of ['create', 'start', 'kill', 'die']) assert.ok(actions.includes(a), `${a} in ${ev.join('\n')}`);
  for (const l of ev) {
    assert.match(l, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z container [a-z_:]+ ${id}( \\(.*\\))?$`));
  }
  assert.match(ev.find((l) => l.includes(' container start '))!, new RegExp(`\\(.*image=${image.replace(/\./g, '\\.')}.*name=trap.*\\)$`));
  assert.equal(ok(await atomic(['rm', 'trap', 'c1']), 'rm two').stdout, 'trap\nc1\n');
});

test('Ctrl-C: run stops following and leaves the container running; stats and events stream until interrupted', async () => {
  const fg = spawnAtomic(['run', '--name', 'fg', image, 'sh', '-c', 'echo started; sleep 30']);
  await fg.waitFor(/^started\n/);
  const r = await fg.interrupt();
  assert.equal(r.status, 130, r.stderr);
  assert.match(r.stderr, /stopped following [0-9a-f]{12}; it keeps running/);
  assert.equal(ok(await atomic(['inspect', '-f', '{{.State.Status}}', 'fg']), 'inspect fg').stdout, 'running\n');

  const stats = spawnAtomic(['stats', 'fg']);
  await stats.waitFor(/CONTAINER ID[^]*\sfg\s[^]*CONTAINER ID[^]*\sfg\s/);
  assert.equal((await stats.interrupt()).status, 0);

  // --since replays from the agent's history, so the die is seen however late the stream connects.
  const events = spawnAtomic(['events', '--since', String(Math.floor(Date.now() / 1000) - 1), '-f', 'container=fg', '-f', 'event=die']);
  ok(await atomic(['stop', '-t', '0', 'fg']), 'stop fg');
  await events.waitFor(/ container die [0-9a-f]{64} \(.*exitCode=137.*name=fg.*\)\n/);
  const ev = await events.interrupt();
  assert.equal(ev.status, 0);
  assert.equal(ev.stdout.trimEnd().split('\n').length, 1, ev.stdout);
  ok(await atomic(['rm', 'fg']), 'rm fg');
});

test('errors: unknown containers exit 1 with the daemon\'s message; bad flags exit 2 before anything is created', async () => {
  // Independent commands, run side by side to keep the file short.
  const unknown = [['inspect', 'nope'], ['stop', 'nope'], ['logs', 'nope'], ['rm', 'nope'], ['kill', 'nope'], ['exec', 'nope', 'true'], ['wait', 'nope'], ['rename', 'nope', 'x']];
  for (const [i, r] of (await Promise.all(unknown.map((args) => atomic(args)))).entries()) {
    assert.equal(r.status, 1, `${unknown[i]!.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /No such container: nope/, unknown[i]!.join(' '));
  }
  const partial = await atomic(['inspect', 'nope', '--format', '{{.Name}}']);
  assert.equal(partial.status, 1);
  const before = (JSON.parse(ok(await atomic(['ps', '-a', '--json']), 'ps').stdout) as unknown[]).length;
  const usage = [['run', '-m', 'lots', image], ['run', '--cpus', '0.0000000001', image], ['run', '--rm', '--restart', 'always', image], ['run', '-i', '--detach-keys', 'ctrl-1', image, 'sh'], ['run', '-it', image, 'sh'], ['update', 'x'], ['stop', '-t', 'soon', 'x']];
  for (const [i, r] of (await Promise.all(usage.map((args) => atomic(args)))).entries()) {
    assert.equal(r.status, 2, `${usage[i]!.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^atomic: /, usage[i]!.join(' '));
  }
  assert.match((await atomic(['run', '-m', 'lots', image])).stderr, /--memory: invalid size: 'lots'/);
  assert.equal((JSON.parse(ok(await atomic(['ps', '-a', '--json']), 'ps').stdout) as unknown[]).length, before, 'nothing was created');
  const unsupported = await atomic(['run', '--rm', '-v', '/data', image, 'true']);
  assert.equal(unsupported.status, 125, 'docker run\'s status for a daemon refusal');
  assert.match(unsupported.stderr, /Volumes: anonymous volumes/);
  const commands = ['run', 'ps', 'logs', 'exec', 'inspect', 'stats', 'update', 'rename', 'events', 'wait', 'kill', 'rm', 'stop', 'start', 'restart', 'create'];
  for (const [i, h] of (await Promise.all(commands.map((cmd) => atomic([cmd, '--help'])))).entries()) {
    assert.match(ok(h, `${commands[i]!} --help`).stdout, new RegExp(`^Usage: atomic ${commands[i]!} `, 'm'));
  }
});

test('run on crun: output and exit code', async () => {
  const crun = await startAgent({ work, runtime: 'crun', name: 'crun' });
  try {
    const r = await atomic(['run', '--rm', '-m', '32m', image, 'sh', '-c', 'echo on-crun; exit 5'], crun);
    assert.equal(r.status, 5, r.stderr);
    assert.equal(r.stdout, 'on-crun\n');
    assert.deepEqual(JSON.parse(ok(await atomic(['ps', '-a', '--json'], crun), 'ps crun').stdout), []);
  } finally {
    await crun.stop();
    await cleanupAgentState(crun, 'crun');
  }
});
