// The rest of the Engine API the docker CLI uses, driven by the real docker CLI against an agent
// with the busybox test image from a loopback registry: docker cp both ways (running and stopped
// containers, symlink scoping, refused archive entries), top, diff, pause/unpause, container
// prune, system df, history, save/load (skopeo reads what save wrote; load refuses traversal and
// layers whose digest does not match, leaving nothing behind).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { agentWithBusybox, docker, type AgentWorld } from '../fixtures/agent-process.js';
import { buildTar } from '../fixtures/tar-builder.js';
import { CLI, runCliAsync, runOk } from '../helpers.js';

let world: AgentWorld;
let image: string;

before(async () => {
  world = await agentWithBusybox('atomic-docker-more-');
  image = world.image;
});
after(async () => {
  await world?.close();
});

async function ok(args: readonly string[]): Promise<string> {
  const r = await docker(world.agent, args, { timeoutMs: 60_000 });
  assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function fails(args: readonly string[]): Promise<string> {
  const r = await docker(world.agent, args, { timeoutMs: 60_000 });
  assert.notEqual(r.status, 0, `docker ${args.join(' ')} should fail: ${r.stdout}`);
  return r.stderr;
}

function raw(method: string, path: string, body?: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: world.agent.socket, method, path, headers: body === undefined ? {} : { 'Content-Type': 'application/x-tar' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** docker cp with a file from stdin (`docker cp - c:/dir`). */
function cpFromStdin(target: string, tar: Buffer): { status: number; stderr: string } {
  const r = spawnSync('docker', ['cp', '-', target], { input: tar, env: { ...process.env, DOCKER_HOST: `unix://${world.agent.socket}` }, encoding: 'buffer' });
  return { status: r.status ?? -1, stderr: r.stderr.toString() };
}

test('docker cp: out of and into a running container, from stdin, and Docker\'s 404 for a missing path', async () => {
  await ok(['run', '-d', '--name', 'cp1', image, 'sleep', '1000']);
  await ok(['exec', 'cp1', 'sh', '-c', 'echo container-hostname-file > /etc/hostname.txt; mkdir -p /data/sub; echo a > /data/sub/f; ln -s /etc /data/etclink']);
  const out = join(world.work, 'cp-out');
  mkdirSync(out);
  await ok(['cp', 'cp1:/etc/hostname.txt', join(out, 'h')]);
  assert.equal(readFileSync(join(out, 'h'), 'utf8'), 'container-hostname-file\n');
  await ok(['cp', 'cp1:/data', out]);
  assert.equal(readFileSync(join(out, 'data/sub/f'), 'utf8'), 'a\n');
  // Without -L a symlink is copied as a symlink.
  assert.equal(readlinkSync(join(out, 'data/etclink')), '/etc');

  const missing = await fails(['cp', 'cp1:/nonexistent', out]);
  assert.match(missing, /Error response from daemon: Could not find the file \/nonexistent in container cp1/);
  const noContainer = await fails(['cp', 'nosuchcontainer:/etc/hostname', out]);
  assert.match(noContainer, /No such container: nosuchcontainer/);

  const local = join(world.work, 'local.txt');
  writeFileSync(local, 'from the host\n');
  await ok(['cp', local, 'cp1:/tmp/']);
  await ok(['cp', local, 'cp1:/tmp/renamed.txt']);
  assert.equal(await ok(['exec', 'cp1', 'cat', '/tmp/local.txt', '/tmp/renamed.txt']), 'from the host\nfrom the host\n');
  const localDir = join(world.work, 'ldir');
  mkdirSync(join(localDir, 'inner'), { recursive: true });
  writeFileSync(join(localDir, 'inner', 'q'), 'q\n');
  await ok(['cp', localDir, 'cp1:/opt']);
  assert.equal(await ok(['exec', 'cp1', 'cat', '/opt/inner/q']), 'q\n');

  const tar = buildTar([{ path: 'from-stdin.txt', data: 'piped\n', mode: 0o640, uid: 1234, gid: 4321 }]);
  const piped = cpFromStdin('cp1:/root', tar);
  assert.equal(piped.status, 0, piped.stderr);
  // The archive's owner and mode are kept (docker cp without -a).
  assert.equal((await ok(['exec', 'cp1', 'stat', '-c', '%u:%g %a %s', '/root/from-stdin.txt'])).trim(), '1234:4321 640 6');
  // A compressed archive on stdin is taken as docker load takes one (the same decompressor):
  // xz here, through the system tool.
  const xz = spawnSync('xz', ['-c'], { input: buildTar([{ path: 'from-xz.txt', data: 'xz-piped\n' }]) });
  assert.equal(xz.status, 0, xz.stderr?.toString());
  const pipedXz = cpFromStdin('cp1:/root', xz.stdout);
  assert.equal(pipedXz.status, 0, pipedXz.stderr);
  assert.equal(await ok(['exec', 'cp1', 'cat', '/root/from-xz.txt']), 'xz-piped\n');
});

test('archive HEAD: X-Docker-Container-Path-Stat is base64 JSON with Go FileMode bits', async () => {
  await ok(['run', '-d', '--name', 'cp2', image, 'sleep', '1000']);
  await ok(['exec', 'cp2', 'sh', '-c', 'mkdir -m 750 /d; ln -s /d /l; printf 12345 > /d/f']);
  const stat = async (path: string): Promise<Record<string, unknown>> => {
    const r = await raw('HEAD', `/containers/cp2/archive?path=${encodeURIComponent(path)}`);
    assert.equal(r.status, 200, path);
    return JSON.parse(Buffer.from(String(r.headers['x-docker-container-path-stat']), 'base64').toString()) as Record<string, unknown>;
  };
  const dir = await stat('/d');
  assert.equal(dir.name, 'd');
  assert.equal(dir.mode, 2 ** 31 + 0o750);
  const link = await stat('/l');
  assert.equal(link.mode, 2 ** 27 + 0o777);
  assert.equal(link.linkTarget, '/d');
  const file = await stat('/d/f');
  assert.equal(file.size, 5);
  assert.equal(file.mode, 0o644);
  assert.match(String(file.mtime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.equal((await raw('HEAD', '/containers/cp2/archive?path=/nope')).status, 404);
});

test('docker cp resolves symlinks inside the container: a link to /etc/shadow is the container\'s, host paths are never reached', async () => {
  await ok(['run', '-d', '--name', 'cp3', image, 'sleep', '1000']);
  const hostDir = join(world.work, 'host-only');
  mkdirSync(hostDir);
  writeFileSync(join(hostDir, 'secret'), 'HOST SECRET\n');
  await ok(['exec', 'cp3', 'sh', '-c', `echo container-shadow > /etc/shadow; ln -s /etc/shadow /tmp/sh; ln -s ${hostDir} /tmp/escape; ln -s ../../../../../../../../${hostDir.slice(1)} /tmp/escape2`]);
  const out = join(world.work, 'cp3-out');
  mkdirSync(out);
  await ok(['cp', '-L', 'cp3:/tmp/sh', join(out, 'shadow')]);
  assert.equal(readFileSync(join(out, 'shadow'), 'utf8'), 'container-shadow\n');
  for (const link of ['/tmp/escape/secret', '/tmp/escape2/secret']) {
    assert.match(await fails(['cp', `cp3:${link}`, join(out, 'x')]), /Could not find the file/);
  }
  assert.equal(existsSync(join(out, 'x')), false);
  // Writing through a link to a host directory lands in the container's own directory of that name.
  const r = cpFromStdin('cp3:/tmp/escape', buildTar([{ path: 'planted', data: 'x' }]));
  assert.notEqual(r.status, 0); // the container has no such directory
  assert.equal(existsSync(join(hostDir, 'planted')), false);
  await ok(['exec', 'cp3', 'sh', '-c', `mkdir -p ${hostDir}`]);
  const r2 = cpFromStdin('cp3:/tmp/escape', buildTar([{ path: 'planted', data: 'x' }]));
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(existsSync(join(hostDir, 'planted')), false);
  assert.equal(await ok(['exec', 'cp3', 'cat', join(hostDir, 'planted')]), 'x');
  // An archive whose symlink points at / and then writes through it stays inside too.
  const viaLink = buildTar([{ path: 'rootlink', type: 'symlink', linkPath: '/' }, { path: 'rootlink/etc/planted-by-cp', data: 'y' }]);
  const put = await raw('PUT', '/containers/cp3/archive?path=/tmp', viaLink);
  assert.equal(put.status, 200, put.body.toString());
  assert.equal(existsSync('/etc/planted-by-cp'), false);
  assert.equal(await ok(['exec', 'cp3', 'cat', '/etc/planted-by-cp']), 'y');
});

test('archive PUT refuses entries with .. or absolute names, a file where a directory is, and a read-only root', async () => {
  await ok(['run', '-d', '--name', 'cp4', image, 'sleep', '1000']);
  for (const bad of ['../../../../escape-dotdot', '/escape-absolute']) {
    const r = await raw('PUT', '/containers/cp4/archive?path=/tmp', buildTar([{ path: bad, data: 'z' }]));
    assert.equal(r.status, 400, `${bad}: ${r.body.toString()}`);
    assert.match(r.body.toString(), bad.startsWith('/') ? /absolute path/ : /'\.\.'/);
  }
  assert.equal(await ok(['exec', 'cp4', 'ls', '/tmp']), '');
  const notDir = await raw('PUT', '/containers/cp4/archive?path=/etc/passwd', buildTar([{ path: 'x', data: 'z' }]));
  assert.equal(notDir.status, 400);
  assert.match(notDir.body.toString(), /extraction point is not a directory/);
  const overwrite = await raw('PUT', '/containers/cp4/archive?path=/&noOverwriteDirNonDir=true', buildTar([{ path: 'etc', data: 'z' }]));
  assert.equal(overwrite.status, 409);
  assert.equal((JSON.parse(overwrite.body.toString()) as { message: string }).message, 'cannot overwrite directory "/etc" with non-directory "etc"');
  await ok(['run', '-d', '--name', 'cp4ro', '--read-only', image, 'sleep', '1000']);
  const ro = await raw('PUT', '/containers/cp4ro/archive?path=/tmp', buildTar([{ path: 'x', data: 'z' }]));
  assert.equal(ro.status, 403);
  assert.match(ro.body.toString(), /container rootfs is marked read-only/);
});

test('docker cp works on stopped and never-started containers, and leaves no mount behind', async () => {
  await ok(['run', '--name', 'cp5', image, 'sh', '-c', 'echo before-stop > /left']);
  const out = join(world.work, 'cp5-out');
  mkdirSync(out);
  await ok(['cp', 'cp5:/left', join(out, 'left')]);
  assert.equal(readFileSync(join(out, 'left'), 'utf8'), 'before-stop\n');
  const local = join(world.work, 'into-stopped');
  writeFileSync(local, 'while stopped\n');
  await ok(['cp', local, 'cp5:/']);
  await ok(['create', '--name', 'cp6', image, 'cat', '/into-stopped']);
  await ok(['cp', local, 'cp6:/']);
  await ok(['start', 'cp6']);
  assert.equal((await ok(['wait', 'cp6'])).trim(), '0');
  assert.equal(await ok(['logs', 'cp6']), 'while stopped\n');
  // The copies mounted the stopped containers' roots only for their duration.
  const stopped = (await ok(['ps', '-aq', '--no-trunc', '--filter', 'status=exited', '--filter', 'status=created'])).split('\n').filter((l) => l !== '');
  assert.ok(stopped.length >= 2);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  for (const id of stopped) assert.ok(!mounts.some((l) => l.includes(`/containers/${id}/bundle/rootfs `)), `${id} still mounted`);
  await ok(['start', 'cp5']); // and its root can be mounted again by a start
});

test('docker top lists the container\'s processes with ps -ef columns; a stopped container is a conflict', async () => {
  await ok(['run', '-d', '--name', 'top1', image, 'sh', '-c', 'sleep 1001 & sleep 1002']);
  const lines = (await ok(['top', 'top1'])).trimEnd().split('\n');
  assert.deepEqual(lines[0]!.trim().split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  const cmds = lines.slice(1).map((l) => l.trim().split(/\s{2,}/).at(-1));
  assert.ok(cmds.includes('sleep 1001') && cmds.includes('sleep 1002'), lines.join('\n'));
  assert.ok(!lines.some((l) => /atomic-monitor|node /.test(l)), 'only the container\'s processes');
  const custom = (await ok(['top', 'top1', '-o', 'pid,args'])).trimEnd().split('\n');
  assert.deepEqual(custom[0]!.trim().split(/\s+/), ['PID', 'COMMAND']);
  await ok(['create', '--name', 'top2', image, 'true']);
  const id = (await ok(['inspect', '-f', '{{.Id}}', 'top2'])).trim();
  assert.match(await fails(['top', 'top2']), new RegExp(`Error response from daemon: Container ${id} is not running`));
});

test('docker diff lists what the container changed: A, C, D as Docker prints them', async () => {
  await ok(['run', '-d', '--name', 'diff1', image, 'sleep', '1000']);
  assert.equal(await ok(['diff', 'diff1']), '', 'a fresh container changed nothing');
  await ok(['exec', 'diff1', 'sh', '-c', 'echo x > /tmp/new; rm /bin/ls; mkdir -p /root/d; echo y >> /etc/passwd']);
  assert.deepEqual((await ok(['diff', 'diff1'])).trimEnd().split('\n'), ['C /bin', 'D /bin/ls', 'C /etc', 'C /etc/passwd', 'C /root', 'A /root/d', 'C /tmp', 'A /tmp/new']);
});

test('pause and unpause: Paused state, (Paused) status, exec refused, Docker\'s conflicts, stop of a paused container, events', async () => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  await ok(['run', '-d', '--name', 'p1', image, 'sh', '-c', 'trap "exit 3" TERM; while true; do sleep 1; done']);
  const id = (await ok(['inspect', '-f', '{{.Id}}', 'p1'])).trim();
  assert.equal((await ok(['pause', 'p1'])).trim(), 'p1');
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}', 'p1'])).trim(), 'paused true true');
  assert.match(await ok(['ps', '--filter', 'name=^p1$', '--format', '{{.Status}}']), /^Up .* \(Paused\)\n$/);
  // The processes really are frozen: the kernel's freezer (cgroup v1 here) says so.
  const pid = (await ok(['inspect', '-f', '{{.State.Pid}}', 'p1'])).trim();
  const freezerPath = /^\d+:freezer:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
  if (freezerPath !== undefined) assert.equal(readFileSync(`/sys/fs/cgroup/freezer${freezerPath}/freezer.state`, 'utf8').trim(), 'FROZEN');
  else assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^State:\s+S/m);
  assert.match(await fails(['pause', 'p1']), new RegExp(`Container ${id} is already paused`));
  // dockerd's 409 and words for an exec in a paused container, from the CLI and on the wire.
  assert.match(await fails(['exec', 'p1', 'true']), new RegExp(`Container ${id} is paused, unpause the container before exec`));
  const execPaused = await raw('POST', '/containers/p1/exec', Buffer.from(JSON.stringify({ Cmd: ['true'], AttachStdout: true })));
  assert.equal(execPaused.status, 409, execPaused.body.toString());
  assert.deepEqual(JSON.parse(execPaused.body.toString()), { message: `Container ${id} is paused, unpause the container before exec` });
  assert.equal((await ok(['unpause', 'p1'])).trim(), 'p1');
  assert.match(await fails(['unpause', 'p1']), new RegExp(`Container ${id} is not paused`));
  assert.equal((await ok(['exec', 'p1', 'echo', 'alive'])).trim(), 'alive');
  await ok(['pause', 'p1']);
  // stop signals the paused container and thaws it, so its trap runs.
  await ok(['stop', 'p1']);
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'p1'])).trim(), 'exited 3');
  assert.match(await fails(['pause', 'p1']), new RegExp(`Container ${id} is not running`));
  const ev = await ok(['events', '--since', since, '--until', String(Math.ceil(Date.now() / 1000) + 1), '-f', 'container=p1', '--format', '{{.Action}}']);
  assert.deepEqual(ev.trim().split('\n').filter((a) => a === 'pause' || a === 'unpause'), ['pause', 'unpause', 'pause']);
  await ok(['run', '-d', '--name', 'p2', image, 'sleep', '1000']);
  await ok(['pause', 'p2']);
  await ok(['kill', 'p2']);
  assert.equal((await ok(['wait', 'p2'])).trim(), '137');
});

test('docker container prune removes stopped containers only (and with a label filter only those)', async () => {
  await ok(['run', '--name', 'pr1', '--label', 'keep=yes', image, 'true']);
  await ok(['run', '--name', 'pr2', image, 'sh', '-c', 'head -c 5000 /dev/zero > /fill']);
  await ok(['run', '-d', '--name', 'pr3', image, 'sleep', '1000']);
  const pr2 = (await ok(['inspect', '-f', '{{.Id}}', 'pr2'])).trim();
  const out = await ok(['container', 'prune', '-f', '--filter', 'label!=keep=yes']);
  assert.match(out, new RegExp(`^Deleted Containers:\\n(.*\\n)*${pr2}\\n`));
  assert.match(out, /Total reclaimed space: 5(\.\d+)?kB\n$/);
  const names = (await ok(['ps', '-a', '--format', '{{.Names}}'])).split('\n');
  assert.ok(names.includes('pr1') && names.includes('pr3') && !names.includes('pr2'), names.join(' '));
  await ok(['container', 'prune', '-f', '--filter', 'label=keep=yes']);
  assert.ok(!(await ok(['ps', '-a', '--format', '{{.Names}}'])).split('\n').includes('pr1'));
  assert.ok((await ok(['ps', '--format', '{{.Names}}'])).split('\n').includes('pr3'));
});

test('docker system df counts images, containers and volumes; -v lists them', async () => {
  await ok(['run', '--name', 'df1', '-v', 'dfvol:/v', image, 'sh', '-c', 'head -c 3000 /dev/zero > /v/f; head -c 2000 /dev/zero > /rw']);
  const lines = (await ok(['system', 'df'])).trimEnd().split('\n');
  assert.match(lines[0]!, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
  const row = (type: string): string[] => lines.find((l) => l.startsWith(type))!.slice(type.length).trim().split(/\s{2,}/);
  const images = row('Images');
  assert.equal(images[0], '1');
  assert.match(images[2]!, /^1\.\d+MB$/);
  const containers = row('Containers');
  assert.ok(Number(containers[0]) >= 1);
  const volumes = row('Local Volumes');
  assert.equal(volumes[0], '1');
  assert.equal(volumes[2], '3kB');
  const verbose = await ok(['system', 'df', '-v']);
  assert.match(verbose, /dfvol\s+1\s+3kB/);
  assert.match(verbose, /df1\n|df1\s/);
  const json = JSON.parse((await raw('GET', '/system/df')).body.toString()) as { Containers: { Names: string[]; SizeRw: number }[]; LayersSize: number };
  assert.equal(json.Containers.find((c) => c.Names.includes('/df1'))?.SizeRw, 2000);
  assert.ok(json.LayersSize > 1_000_000);
});

test('docker history shows the image config\'s history, newest first', async () => {
  const lines = (await ok(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}', image])).trimEnd().split('\n');
  const id = (await ok(['image', 'inspect', '-f', '{{.Id}}', image])).trim();
  assert.equal(lines[0]!.split('|')[0], id);
  assert.ok(lines.slice(1).every((l) => l.startsWith('<missing>|')));
  assert.ok(lines.some((l) => /\|[1-9][\d.]*MB$/.test(l)), 'the layer entry carries its size');
  assert.match(await fails(['history', 'nosuchimage:1']), /No such image: nosuchimage:1/);
});

test('docker save: skopeo reads the archive (docker-archive and oci-archive); rmi then load restores an image that runs', async () => {
  const archive = join(world.work, 'saved.tar');
  await ok(['save', '-o', archive, image]);
  const inspect = JSON.parse(runOk('skopeo', ['inspect', `docker-archive:${archive}`]).stdout) as { Layers: string[]; Architecture: string };
  const diffIds = (await ok(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', image])).trim();
  assert.deepEqual(inspect.Layers, JSON.parse(diffIds));
  assert.equal(inspect.Architecture, 'amd64');
  // skopeo copies it out of the archive, checking every blob against its digest.
  const oci = join(world.work, 'copied-oci');
  runOk('skopeo', ['copy', `docker-archive:${archive}`, `oci:${oci}:x`]);
  runOk('skopeo', ['inspect', `oci-archive:${archive}`]);
  const id = (await ok(['image', 'inspect', '-f', '{{.Id}}', image])).trim();
  // A container keeps the image from rmi: take them away first.
  const ids = (await ok(['ps', '-aq'])).split('\n').filter((l) => l !== '');
  if (ids.length > 0) await ok(['rm', '-f', ...ids]);
  await ok(['rmi', image]);
  assert.match(await fails(['image', 'inspect', image]), /No such image/);
  const loaded = spawnSync('docker', ['load'], { input: readFileSync(archive), env: { ...process.env, DOCKER_HOST: `unix://${world.agent.socket}` }, encoding: 'utf8' });
  assert.equal(loaded.status, 0, loaded.stderr);
  assert.equal(loaded.stdout, `Loaded image: ${image}\n`);
  assert.equal((await ok(['image', 'inspect', '-f', '{{.Id}}', image])).trim(), id);
  assert.equal(await ok(['run', '--rm', image, 'echo', 'runs after load']), 'runs after load\n');
  // An OCI layout without manifest.json loads too (the image by its ID when it has no name).
  const ociOnly = buildTar(readdirSync(join(oci, 'blobs', 'sha256')).map((f) => ({ path: `blobs/sha256/${f}`, data: readFileSync(join(oci, 'blobs', 'sha256', f)) }))
    .concat([{ path: 'oci-layout', data: readFileSync(join(oci, 'oci-layout')) }, { path: 'index.json', data: readFileSync(join(oci, 'index.json')) }]));
  const r = await raw('POST', '/images/load', ociOnly);
  assert.equal(r.status, 200, r.body.toString());
  const loadedId = /"stream":"Loaded image ID: (sha256:[0-9a-f]{64})\\n"/.exec(r.body.toString())?.[1];
  assert.ok(loadedId !== undefined, r.body.toString());
  // skopeo rewrote the config on the way (another ID): a second image, which runs as well.
  assert.equal(await ok(['run', '--rm', loadedId, 'echo', 'oci']), 'oci\n');
  await ok(['rmi', loadedId]);
  // The legacy docker-archive (DIGEST/layer.tar symlinked to the layer file), as skopeo writes it, and gzip-compressed.
  const legacy = join(world.work, 'legacy.tar');
  runOk('skopeo', ['copy', `oci:${oci}:x`, `docker-archive:${legacy}:example.com/legacy:v1`]);
  assert.match(runOk('tar', ['-tvf', legacy]).stdout, /layer\.tar -> \.\.\//);
  const gz = spawnSync('gzip', ['-c', legacy], { maxBuffer: 64 * 1024 * 1024 }).stdout;
  const viaGzip = await raw('POST', '/images/load', gz);
  assert.equal(viaGzip.status, 200, viaGzip.body.toString());
  assert.match(viaGzip.body.toString(), /"stream":"Loaded image: example.com\/legacy:v1\\n"/);
  assert.equal(await ok(['run', '--rm', 'example.com/legacy:v1', 'echo', 'legacy']), 'legacy\n');
  await ok(['rmi', 'example.com/legacy:v1']);
});

test('docker load refuses path traversal and layers that do not match the config, and keeps nothing of them', async () => {
  const archive = join(world.work, 'good.tar');
  await ok(['save', '-o', archive, image]);
  const members = listTar(archive);
  const manifest = JSON.parse(members.get('manifest.json')!.toString()) as { Config: string; Layers: string[] }[];
  const traversal = buildTar([...members].map(([path, data]) => ({ path, data })).concat([{ path: '../../../evil-from-load', data: Buffer.from('x') }]));
  const t = await raw('POST', '/images/load', traversal);
  assert.equal(t.status, 400);
  assert.match(t.body.toString(), /evil-from-load.*'\.\.'/);

  // The real layer swapped for another tar, under a new name: the digest check must refuse it.
  const ids = (await ok(['ps', '-aq'])).split('\n').filter((l) => l !== '');
  if (ids.length > 0) await ok(['rm', '-f', ...ids]);
  await ok(['rmi', image]);
  const layersDir = join(world.agent.stateDir, 'images', 'layers');
  const blobsBefore = readdirSync(join(world.agent.stateDir, 'images', 'blobs', 'sha256')).sort();
  assert.deepEqual(readdirSync(layersDir), []);
  const swapped = buildTar([...members].map(([path, data]) => {
    if (path === manifest[0]!.Layers[0]) return { path, data: buildTar([{ path: 'hello', data: 'not the layer' }]) };
    if (path === 'manifest.json') return { path, data: Buffer.from(JSON.stringify([{ ...manifest[0], RepoTags: ['evil:latest'] }])) };
    return { path, data };
  }));
  const swappedFile = join(world.work, 'swapped.tar');
  writeFileSync(swappedFile, swapped);
  const refused = await fails(['load', '-i', swappedFile]);
  assert.match(refused, /the uncompressed layer is sha256:[0-9a-f]{64}, the image config says its diff_id is sha256:[0-9a-f]{64}/);
  assert.equal((await ok(['images', '-q'])).trim(), '');
  assert.deepEqual(readdirSync(layersDir), []);
  assert.deepEqual(readdirSync(join(world.agent.stateDir, 'images', 'blobs', 'sha256')).sort(), blobsBefore);
  assert.deepEqual(readdirSync(join(world.agent.stateDir, 'images', 'tmp')), []);
  // And the good archive still loads afterwards.
  await ok(['load', '-i', archive]);
  assert.equal(await ok(['run', '--rm', image, 'true']), '');
});

test('docker load takes gzip, bzip2, xz and zstd archives; a corrupt or truncated one is a 400 naming its format and keeps nothing', async () => {
  const env = { ...process.env, DOCKER_HOST: `unix://${world.agent.socket}` };
  const id = (await ok(['image', 'inspect', '-f', '{{.Id}}', image])).trim();
  const ids = (await ok(['ps', '-aq'])).split('\n').filter((l) => l !== '');
  if (ids.length > 0) await ok(['rm', '-f', ...ids]);
  const files = new Map<string, string>();
  for (const tool of ['gzip', 'bzip2', 'xz', 'zstd']) {
    // As a user does it: `docker save IMAGE | TOOL > f`, then rmi, then `docker load -i f`.
    const file = join(world.work, `saved.tar.${tool}`);
    const saved = spawnSync('sh', ['-c', `docker save ${image} | ${tool} -c > ${file}`], { env, encoding: 'utf8' });
    assert.equal(saved.status, 0, saved.stderr);
    files.set(tool, file);
    await ok(['rmi', image]);
    assert.equal(await ok(['load', '-i', file]), `Loaded image: ${image}\n`, tool);
    assert.equal((await ok(['image', 'inspect', '-f', '{{.Id}}', image])).trim(), id, tool);
  }
  assert.equal(await ok(['run', '--rm', image, 'echo', 'loaded from zstd']), 'loaded from zstd\n');

  // Bad streams, with the image gone: nothing of them may stay in the store.
  await ok(['rmi', image]);
  const layersDir = join(world.agent.stateDir, 'images', 'layers');
  const blobsDir = join(world.agent.stateDir, 'images', 'blobs', 'sha256');
  const blobsBefore = readdirSync(blobsDir).sort();
  const xz = readFileSync(files.get('xz')!);
  const corrupt = Buffer.from(xz);
  for (let i = 512; i < corrupt.length; i += 4099) corrupt[i] = (corrupt[i] ?? 0) ^ 0xff;
  const corruptFile = join(world.work, 'corrupt.tar.xz');
  writeFileSync(corruptFile, corrupt);
  assert.match(await fails(['load', '-i', corruptFile]), /the archive: the xz stream is corrupt or truncated \(xz: /);
  const zstd = readFileSync(files.get('zstd')!);
  const truncated = await raw('POST', '/images/load', zstd.subarray(0, Math.floor(zstd.length * 0.8)));
  assert.equal(truncated.status, 400, truncated.body.toString());
  assert.match(JSON.parse(truncated.body.toString()).message as string, /^the archive: the zstd stream is corrupt or truncated \(zstd: /);
  const bz = readFileSync(files.get('bzip2')!);
  const badBz = await raw('POST', '/images/load', Buffer.concat([bz.subarray(0, 4), Buffer.alloc(4096, 0x41)]));
  assert.equal(badBz.status, 400, badBz.body.toString());
  assert.match(badBz.body.toString(), /the bzip2 stream is corrupt or truncated/);
  assert.equal((await ok(['images', '-q'])).trim(), '');
  assert.deepEqual(readdirSync(layersDir), []);
  assert.deepEqual(readdirSync(blobsDir).sort(), blobsBefore);
  assert.deepEqual(readdirSync(join(world.agent.stateDir, 'images', 'tmp')), []);
  // The good one still loads, for the tests after this one.
  await ok(['load', '-i', files.get('xz')!]);
  assert.equal((await ok(['image', 'inspect', '-f', '{{.Id}}', image])).trim(), id);
});

/** The regular files of a tar (we read what docker save wrote with GNU tar as the oracle). */
function listTar(file: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const names = runOk('tar', ['-tf', file]).stdout.split('\n').filter((n) => n !== '' && !n.endsWith('/'));
  for (const n of names) out.set(n, spawnSync('tar', ['-xOf', file, n], { maxBuffer: 256 * 1024 * 1024 }).stdout);
  return out;
}

test('the atomic CLI has the same verbs: top, diff, pause/unpause, history, system df, save/load, container prune', async () => {
  const atomic = async (args: readonly string[]): Promise<string> => {
    const r = await runCliAsync(['-H', `unix://${world.agent.socket}`, ...args]);
    assert.equal(r.status, 0, `atomic ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const id = (await atomic(['run', '-d', '--name', 'cli1', image, 'sleep', '1000'])).trim();
  assert.match(await atomic(['top', 'cli1']), /^UID +PID +PPID +C +STIME +TTY +TIME +CMD\n.* sleep 1000\n$/);
  assert.match(await atomic(['top', 'cli1', '-o', 'pid,args']), /^PID +COMMAND\n\d+ +sleep 1000\n$/);
  await atomic(['exec', 'cli1', 'sh', '-c', 'echo x > /tmp/cli']);
  assert.equal(await atomic(['diff', 'cli1']), 'C /tmp\nA /tmp/cli\n');
  assert.equal(await atomic(['pause', 'cli1']), 'cli1\n');
  assert.match(await atomic(['ps', '-f', 'name=^cli1$']), /Up .* \(Paused\)/);
  assert.equal(await atomic(['unpause', 'cli1']), 'cli1\n');
  assert.match(await atomic(['history', image]), /^IMAGE +CREATED +CREATED BY +SIZE +COMMENT\n[0-9a-f]{12} /);
  assert.match(await atomic(['system', 'df']), /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE\nImages +1 +1 +/);
  const archive = join(world.work, 'cli-save.tar');
  await atomic(['save', '-o', archive, image]);
  assert.deepEqual((JSON.parse(runOk('skopeo', ['inspect', `docker-archive:${archive}`]).stdout) as { Layers: string[] }).Layers.length, 1);
  await atomic(['rm', '-f', 'cli1']);
  await atomic(['rmi', image]);
  assert.equal(await atomic(['load', '-i', archive]), `Loaded image: ${image}\n`);
  await atomic(['run', '--name', 'cli2', image, 'true']);
  const pruned = await atomic(['container', 'prune', '-f']);
  assert.match(pruned, /^Deleted Containers:\n[0-9a-f]{64}\n/);
  assert.ok(!pruned.includes(id));
});

test('atomic cp follows docker cp\'s destination rules both ways, and - for tar streams', async () => {
  const atomic = async (args: readonly string[]): Promise<{ stdout: string; stderr: string; status: number }> => runCliAsync(['-H', `unix://${world.agent.socket}`, ...args]);
  const must = async (args: readonly string[]): Promise<string> => {
    const r = await atomic(args);
    assert.equal(r.status, 0, `atomic ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await must(['run', '-d', '--name', 'acp', image, 'sleep', '1000']);
  await must(['exec', 'acp', 'sh', '-c', 'mkdir -p /data/s; echo f > /data/s/f; ln -s /data/s/f /data/l']);
  const out = join(world.work, 'acp-out');
  mkdirSync(out);
  await must(['cp', 'acp:/data', out]);
  assert.equal(readFileSync(join(out, 'data/s/f'), 'utf8'), 'f\n');
  assert.equal(readlinkSync(join(out, 'data/l')), '/data/s/f');
  await must(['cp', 'acp:/data', join(out, 'renamed')]);
  assert.equal(readFileSync(join(out, 'renamed/s/f'), 'utf8'), 'f\n');
  await must(['cp', '-L', 'acp:/data/l', join(out, 'followed')]);
  assert.equal(readFileSync(join(out, 'followed'), 'utf8'), 'f\n');
  const missing = await atomic(['cp', 'acp:/nonexistent', out]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /Could not find the file \/nonexistent in container acp/);
  const local = join(world.work, 'acp-up.txt');
  writeFileSync(local, 'up\n');
  await must(['cp', local, 'acp:/tmp/']);
  await must(['cp', local, 'acp:/tmp/other.txt']);
  const dir = join(world.work, 'acp-dir');
  mkdirSync(join(dir, 'x'), { recursive: true });
  writeFileSync(join(dir, 'x', 'z'), 'z\n');
  await must(['cp', dir, 'acp:/tmp']); // an existing directory receives it under its own name
  await must(['cp', dir, 'acp:/newdir']); // a new name: the directory becomes it
  assert.equal(await must(['exec', 'acp', 'cat', '/tmp/acp-up.txt', '/tmp/other.txt', '/tmp/acp-dir/x/z', '/newdir/x/z']), 'up\nup\nz\nz\n');
  const tarOut = spawnSync(process.execPath, [CLI, '-H', `unix://${world.agent.socket}`, 'cp', 'acp:/tmp/other.txt', '-'], { encoding: 'buffer' });
  assert.equal(tarOut.status, 0, tarOut.stderr.toString());
  writeFileSync(join(out, 'stream.tar'), tarOut.stdout);
  assert.equal(runOk('tar', ['-xOf', join(out, 'stream.tar'), 'other.txt']).stdout, 'up\n');
});

// Issue 6's list, with the real docker CLI (publishing -p 8080:80 needs bridge networking: that
// line is agent-networks.test.ts's, which runs httpd behind it; this agent runs --bridge none).
test('the docker CLI: run -d with restart/memory/cpu-shares/label, ps -f label, inspect --format, stats --no-stream, update --memory, kill --signal=HUP, logs --since 1h --follow, rmi conflict, rm -f', async () => {
  await ok(['run', '-d', '--name', 'web', '--restart', 'unless-stopped', '-m', '64m', '--cpu-shares', '512', '--label', 'deployer=ci', image, 'busybox', 'httpd', '-f', '-p', '80']);
  const ps = (await ok(['ps', '-a', '-f', 'label=deployer=ci', '--format', '{{.Names}} {{.Status}}'])).trim();
  assert.match(ps, /^web Up /);
  assert.equal((await ok(['inspect', '--format', '{{.State.Status}} {{.HostConfig.Memory}} {{.HostConfig.CpuShares}} {{.HostConfig.RestartPolicy.Name}}', 'web'])).trim(), 'running 67108864 512 unless-stopped');
  const stats = (await ok(['stats', '--no-stream', 'web'])).trimEnd().split('\n');
  assert.match(stats[0]!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %/);
  assert.match(stats[1]!, /\sweb\s.*\/ 64MiB/);
  await ok(['update', '--memory', '128m', '--memory-swap', '256m', 'web']);
  assert.equal((await ok(['inspect', '--format', '{{.HostConfig.Memory}}', 'web'])).trim(), String(128 * 1024 * 1024));

  await ok(['run', '-d', '--name', 'hup', image, 'sh', '-c', 'trap "echo got-hup; exit 7" HUP; echo ready; while true; do sleep 0.1; done']);
  for (let i = 0; i < 100 && !(await ok(['logs', 'hup'])).includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
  // Following from an hour back: the whole output, and the command ends when the container does.
  const follow = docker(world.agent, ['logs', '--since', '1h', '--follow', 'hup'], { timeoutMs: 60_000 });
  await ok(['kill', '--signal=HUP', 'hup']);
  const followed = await follow;
  assert.equal(followed.status, 0, followed.stderr);
  assert.equal(followed.stdout, 'ready\ngot-hup\n');
  assert.equal((await ok(['inspect', '--format', '{{.State.ExitCode}}', 'hup'])).trim(), '7');

  const conflict = await fails(['rmi', image]);
  assert.match(conflict, /Error response from daemon: conflict: unable to (remove|delete) repository reference .* \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}/);
  await ok(['rm', '-f', 'web', 'hup']);
  assert.equal((await ok(['ps', '-a', '-q', '-f', 'label=deployer=ci'])).trim(), '');
});
