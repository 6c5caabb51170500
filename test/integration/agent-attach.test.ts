// The upgraded (hijacked) connections the docker CLI uses, against `atomicd run` (runc): `docker
// run` without -d attaches before it starts the container and exits with its code, `--rm`
// removes it only after the output was read, `docker exec` streams the command's output and
// exits with its code, and `docker attach` follows a running container.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentHttp, agentWithBusybox, docker, type AgentProcess, type AgentWorld } from '../fixtures/agent-process.js';

let world: AgentWorld;
let agent: AgentProcess;
let image: string;

before(async () => {
  world = await agentWithBusybox('agent-attach-', { name: 'attach' });
  ({ agent, image } = world);
});

after(async () => {
  await world?.close();
});

test('docker run (attached): output on the right streams, the exit code, --rm after the output was read', async () => {
  const hi = await docker(agent, ['run', '--rm', image, 'echo', 'hi'], { timeoutMs: 60_000 });
  assert.equal(hi.status, 0, hi.stderr);
  assert.equal(hi.stdout, 'hi\n');
  assert.equal((await docker(agent, ['ps', '-aq'])).stdout, '', '--rm removed it');

  const both = await docker(agent, ['run', '--name', 'both', image, 'sh', '-c', 'echo out; echo err >&2; exit 3'], { timeoutMs: 60_000 });
  assert.equal(both.status, 3);
  assert.equal(both.stdout, 'out\n');
  assert.equal(both.stderr, 'err\n');

  // Many lines from a container that ends at once: nothing is lost to the removal.
  const many = await docker(agent, ['run', '--rm', image, 'sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done'], { timeoutMs: 60_000 });
  assert.equal(many.status, 0, many.stderr);
  assert.deepEqual(many.stdout.trimEnd().split('\n'), Array.from({ length: 2000 }, (_, i) => `line ${i}`));
});

test('docker exec: output and exit code; docker attach follows a running container to its end', async () => {
  const run = await docker(agent, ['run', '-d', '--name', 'svc', image, 'sh', '-c', 'sleep 1; i=0; while [ $i -lt 5 ]; do echo "tick $i"; i=$((i+1)); sleep 0.2; done']);
  assert.equal(run.status, 0, run.stderr);
  const ex = await docker(agent, ['exec', 'svc', 'sh', '-c', 'echo from exec; echo warn >&2; exit 4'], { timeoutMs: 30_000 });
  assert.equal(ex.status, 4);
  assert.equal(ex.stdout, 'from exec\n');
  assert.equal(ex.stderr, 'warn\n');
  const attached = await docker(agent, ['attach', 'svc'], { timeoutMs: 30_000 });
  assert.equal(attached.status, 0, attached.stderr);
  assert.match(attached.stdout, /tick 4\n$/);
  await sleep(100);
  assert.match((await docker(agent, ['ps', '-a', '--format', '{{.State}}', '-f', 'name=svc'])).stdout, /exited/);
});

test('attach without an upgrade, or to an unknown container, is a plain HTTP error', async () => {
  const plain = await agentHttp(agent, 'POST', '/v1.43/containers/svc/attach?stream=1&stdout=1');
  assert.equal(plain.status, 501);
  assert.match(plain.body, /Upgrade: tcp/);
  const missing = await docker(agent, ['attach', 'nosuch']);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /No such container: nosuch/);
});

/** The container events of `name` between `since` and now, as `docker events` prints them in JSON. */
async function eventsOf(name: string, since: string): Promise<{ Action: string; Actor: { ID: string; Attributes: Record<string, string> } }[]> {
  const r = await docker(agent, ['events', '--since', since, '--until', String(Math.ceil(Date.now() / 1000) + 1), '-f', `container=${name}`, '--format', '{{json .}}']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { Action: string; Actor: { ID: string; Attributes: Record<string, string> } });
}

test('events: docker run (attached) logs attach between create and start; the detach keys on a TTY attach log detach', async () => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const r = await docker(agent, ['run', '--name', 'evr', '--label', 'team=a', image, 'true'], { timeoutMs: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const id = (await docker(agent, ['inspect', '-f', '{{.Id}}', 'evr'])).stdout.trim();
  const runEvents = await eventsOf('evr', since);
  assert.deepEqual(runEvents.map((e) => e.Action).filter((a) => ['create', 'attach', 'start', 'die'].includes(a)), ['create', 'attach', 'start', 'die']);
  // dockerd's Actor for attach: the container's ID, its labels, image and name.
  assert.deepEqual(runEvents.find((e) => e.Action === 'attach')?.Actor, { ID: id, Attributes: { team: 'a', image, name: 'evr' } });

  // A TTY container, attached raw (the keys reach the server, as from an SDK): ctrl-p ctrl-q ends the attach.
  const d = await docker(agent, ['run', '-d', '-it', '--name', 'evd', image, 'sh']);
  assert.equal(d.status, 0, d.stderr);
  const since2 = String(Math.floor(Date.now() / 1000) - 1);
  const s = connect(agent.socket);
  await new Promise((resolve) => s.once('connect', resolve));
  s.write('POST /v1.43/containers/evd/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n');
  let got = '';
  s.on('data', (b: Buffer) => (got += b.toString()));
  const closed = new Promise((resolve) => s.once('close', resolve));
  s.write('echo "marker-$((6*7))"\r');
  for (let i = 0; !got.includes('marker-42'); i++) {
    if (i > 600) assert.fail(`no echo: ${got}`);
    await sleep(50);
  }
  // One key per write, as a terminal sends them.
  s.write('\x10');
  await sleep(100);
  s.write('\x11');
  await closed;
  assert.equal((await docker(agent, ['inspect', '-f', '{{.State.Status}}', 'evd'])).stdout.trim(), 'running');
  const detachEvents = (await eventsOf('evd', since2)).filter((e) => e.Action === 'attach' || e.Action === 'detach');
  assert.deepEqual(detachEvents.map((e) => e.Action), ['attach', 'detach']);
  assert.deepEqual(detachEvents[1]?.Actor.Attributes, { image, name: 'evd' });
  assert.equal((await docker(agent, ['rm', '-f', 'evr', 'evd'])).status, 0);
});
