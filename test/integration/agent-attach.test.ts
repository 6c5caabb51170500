// The upgraded (hijacked) connections the docker CLI uses, against `atomicd run` (runc): `docker
// run` without -d attaches before it starts the container and exits with its code, `--rm`
// removes it only after the output was read, `docker exec` streams the command's output and
// exits with its code, and `docker attach` follows a running container.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
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
