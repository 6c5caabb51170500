// Named volumes in containers, driven by our CLI (`atomic run`) and the real docker CLI against
// `atomicd run` (runc): `-v
// NAME:/path` creates the volume on first use, its data outlives the container and is shared with
// the next one, `:ro` is read-only, bind mounts of host directories work, and a volume in use
// cannot be removed (Docker's "volume is in use" conflict) until its container is.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentWithBusybox, docker, type AgentProcess, type AgentWorld } from '../fixtures/agent-process.js';
import { runCliAsync, type RunResult } from '../helpers.js';

let world: AgentWorld;
let agent: AgentProcess;
let image: string;
let work: string;

before(async () => {
  world = await agentWithBusybox('agent-vol-', { name: 'vol' });
  ({ agent, image, work } = world);
});

after(async () => {
  await world?.close();
});

const atomic = (args: readonly string[]): Promise<RunResult> => runCliAsync(['-H', `unix://${agent.socket}`, ...args]);

test('-v NAME:/path creates the volume, keeps its data across containers, :ro is read-only, in-use volumes cannot be removed', async () => {
  const write = await atomic(['run', '--name', 'writer', '-v', 'appdata:/data', image, 'sh', '-c', 'echo kept > /data/file && cat /data/file']);
  assert.equal(write.status, 0, write.stderr);
  assert.equal(write.stdout, 'kept\n');
  const inspect = JSON.parse((await docker(agent, ['volume', 'inspect', 'appdata'])).stdout) as { Name: string; Mountpoint: string }[];
  assert.equal(inspect[0]?.Name, 'appdata');
  assert.equal(readFileSync(join(inspect[0]?.Mountpoint ?? '', 'file'), 'utf8'), 'kept\n', 'the data is in the volume on the host');

  const read = await atomic(['run', '--rm', '-v', 'appdata:/data:ro', image, 'sh', '-c', 'cat /data/file; echo more > /data/file || echo refused']);
  assert.equal(read.status, 0, read.stderr);
  assert.match(read.stdout, /^kept\n/);
  assert.match(read.stdout + read.stderr, /Read-only file system/);
  assert.match(read.stdout, /refused\n$/);

  const mounts = JSON.parse((await docker(agent, ['inspect', '-f', '{{json .HostConfig.Binds}}', 'writer'])).stdout) as string[];
  assert.deepEqual(mounts, ['appdata:/data']);
  // Mounts[] as dockerd shows a named volume: Source is the volume's directory on the host (where
  // `docker volume inspect` says its data is, and where the container's file is).
  const points = JSON.parse((await docker(agent, ['inspect', '-f', '{{json .Mounts}}', 'writer'])).stdout) as Record<string, unknown>[];
  assert.deepEqual(points, [{ Type: 'volume', Name: 'appdata', Source: inspect[0]?.Mountpoint, Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }]);
  assert.equal(readFileSync(join(String(points[0]?.Source), 'file'), 'utf8'), 'kept\n');
  const viaMount = await docker(agent, ['create', '--name', 'mnt', '--mount', 'type=volume,source=appdata,target=/v,readonly', image, 'true']);
  assert.equal(viaMount.status, 0, viaMount.stderr);
  assert.deepEqual(JSON.parse((await docker(agent, ['inspect', '-f', '{{json .Mounts}}', 'mnt'])).stdout), [
    { Type: 'volume', Name: 'appdata', Source: inspect[0]?.Mountpoint, Destination: '/v', Driver: 'local', Mode: '', RW: false, Propagation: '' },
  ]);
  assert.equal((await docker(agent, ['rm', 'mnt'])).status, 0);
  const rm = await docker(agent, ['volume', 'rm', 'appdata']);
  assert.notEqual(rm.status, 0);
  assert.match(rm.stderr, /remove appdata: volume is in use - \[[0-9a-f]{64}\]/);
  const dangling = await docker(agent, ['volume', 'ls', '-q', '-f', 'dangling=true']);
  assert.doesNotMatch(dangling.stdout, /appdata/, 'a volume a container uses is not dangling');

  assert.equal((await docker(agent, ['rm', 'writer'])).status, 0);
  assert.match((await docker(agent, ['volume', 'ls', '-q', '-f', 'dangling=true'])).stdout, /^appdata$/m);
  const rm2 = await docker(agent, ['volume', 'rm', 'appdata']);
  assert.equal(rm2.status, 0, rm2.stderr);
});

test('bind mounts of host directories; a relative bind source is refused with a clear error', async () => {
  const dir = join(work, 'host-dir');
  mkdirSync(dir);
  writeFileSync(join(dir, 'in'), 'from host\n');
  const r = await atomic(['run', '--rm', '-v', `${dir}:/mnt`, image, 'sh', '-c', 'cat /mnt/in && echo from container > /mnt/out']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'from host\n');
  assert.equal(readFileSync(join(dir, 'out'), 'utf8'), 'from container\n');
  const bad = await atomic(['run', '--rm', '-v', 'not/a/name:/mnt', image, 'true']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /not\/a\/name/);
});
