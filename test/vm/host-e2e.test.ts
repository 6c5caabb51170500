// Issue 7's end-to-end VM test (vm tier; TCG on this machine kind). The default image, built from
// images/atomic-host.yaml by `atomic image build` with the busybox image preloaded and its
// commits GPG-signed, boots through OVMF and GRUB with a seed ISO, and then:
//   - the seed's hostname, user and ssh key are applied (we log in with that key over a hostfwd),
//   - the container the seed declares runs and serves through its published port to the host,
//   - `atomic host status` in the guest shows the booted deployment (1.0),
//   - `atomic host upgrade` to 2.0 served from the host over HTTP, reboot: 2.0 is booted,
//   - `atomic host rollback`, reboot: 1.0 is booted,
//   - an unsigned commit on the ref is refused by the guest (gpg-verify on); 1.0 stays booted.
// Disk checks ride along: qemu-img check of the qcow2, sfdisk/e2fsck/fsck.vfat of the raw disk,
// and the root partition and file system growing into a disk made 1 GiB bigger (repart, growfs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCacheDir } from '../../src/cli/commands/image-common.js';
import { atomic, bootHost, buildImage, exec, makeKey, writeUserData } from '../fixtures/vm-host.js';
import { makeGpgKey, ostreeTempDir } from '../fixtures/ostree-env.js';
import { buildFullBusyboxLayout, pushWithSkopeo, startRegistry } from '../fixtures/registry.js';

const log = (line: string): void => {
  process.stderr.write(`# host-e2e: ${line}\n`);
};

async function ok(cmd: string, args: readonly string[]): Promise<string> {
  const r = await exec(cmd, args);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

test('the default image boots, provisions, runs its container, upgrades, rolls back and refuses an unsigned update', { timeout: 120 * 60_000 }, async (t) => {
  const work = ostreeTempDir(t, 'atomic-vm-e2e-');
  log(`work dir ${work}, build cache ${defaultCacheDir()}`);
  const registry = await startRegistry(join(work, 'registry'));
  t.after(() => registry.stop());
  const { layout, tag } = buildFullBusyboxLayout(work);
  pushWithSkopeo(layout, tag, registry.host, 'library/busybox:1.36', 'oci');
  const imageRef = `${registry.host}/library/busybox:1.36`;
  const gpg = makeGpgKey(work, 'e2e');
  const out = join(work, 'out');

  const buildMs = await buildImage({ out, version: '1.0', gpg, extra: ['--format', 'raw,qcow2', '--preload', imageRef, '--json'] });
  log(`image 1.0 built in ${Math.round(buildMs / 1000)} s`);
  const raw = join(out, 'atomic-host-1.0.raw');
  const disk = join(out, 'atomic-host-1.0.qcow2');

  // The disk, checked by independent tools.
  await ok('qemu-img', ['check', disk]);
  await ok('sfdisk', ['--verify', raw]);
  const table = JSON.parse(await ok('sfdisk', ['--json', raw])) as { partitiontable: { partitions: { start: number; size: number; type: string }[] } };
  const [esp, root] = table.partitiontable.partitions;
  assert.ok(esp !== undefined && root !== undefined);
  assert.equal(esp.type, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  await ok('dd', [`if=${raw}`, `of=${join(work, 'esp.img')}`, 'bs=512', `skip=${esp.start}`, `count=${esp.size}`, 'status=none']);
  await ok('fsck.vfat', ['-n', join(work, 'esp.img')]);
  await ok('dd', [`if=${raw}`, `of=${join(work, 'root.img')}`, 'bs=512', `skip=${root.start}`, `count=${root.size}`, 'conv=sparse', 'status=none']);
  await ok('e2fsck', ['-fn', join(work, 'root.img')]);
  await exec('rm', ['-f', join(work, 'esp.img'), join(work, 'root.img')]);
  // A bigger virtual disk than the image's: systemd-repart grows the root partition into the new
  // space at first boot and systemd-growfs the file system after it (checked once booted).
  const rootPartitionBytes = root.size * 512;
  await ok('qemu-img', ['resize', disk, '+1G']);

  // The seed: hostname, our user with a fresh key and sudo, the web container.
  const { key, pub } = await makeKey(work);
  const userData = join(work, 'user-data');
  writeUserData(userData, { hostname: 'e2e-host', pub, imageRef, page: 'served from the e2e container\n' });
  const seed = join(work, 'seed.iso');
  const s = await atomic(['seed', 'create', '-o', seed, '--user-data', userData]);
  assert.equal(s.status, 0, s.stderr);

  const host = await bootHost({ disk, seed, repoPath: join(out, 'repo'), key, work });
  t.after(() => host.close());
  const { ssh, vm } = host;
  log(`first boot to ssh login: ${Math.round(host.bootMs / 1000)} s`);
  assert.match(vm.consoleText(), /GRUB|grub/, 'booted through GRUB');
  assert.equal((await ssh.ok('hostname')).trim(), 'e2e-host');
  assert.match(await ssh.ok('id ops'), /\(sudo\)/);
  assert.ok((await ssh.ok('cat ~/.ssh/authorized_keys')).split('\n').includes(pub));
  assert.match(await ssh.ok('sudo atomic cloud-init status'), /done/);
  const rootFsBytes = Number((await ssh.ok('df -B1 --output=size /sysroot | tail -1')).trim());
  assert.ok(rootFsBytes > rootPartitionBytes + 0.75 * 2 ** 30,
    `the root file system grew into the added 1 GiB: ${rootFsBytes} bytes, partition was ${rootPartitionBytes} (${await ssh.ok('sudo journalctl -b --no-pager -u systemd-repart -u "systemd-growfs*" 2>&1 | tail -20 || true')})`);

  // The declared container runs (the image was preloaded: the guest has no registry) and serves.
  const webStatus = async (): Promise<string> => {
    const list = JSON.parse(await ssh.ok('sudo atomic ps -a --format json')) as { Names?: string[]; Status: string }[];
    return list.find((c) => (c.Names ?? []).includes('/web'))?.Status ?? 'missing';
  };
  let status = await webStatus();
  for (let i = 0; i < 120 && !status.startsWith('Up'); i++) {
    await new Promise((res) => setTimeout(res, 5000));
    status = await webStatus();
  }
  assert.match(status, /^Up/);
  const page = await fetch(`http://127.0.0.1:${host.webPort}/`).then((r) => r.text());
  assert.equal(page, 'served from the e2e container\n');
  assert.equal(await ssh.bootedVersion(), '1.0');

  // 2.0, signed, into the served repo; the guest upgrades and reboots into it.
  await buildImage({ out, version: '2.0', gpg, extra: ['--commit-only'] });
  await ssh.ok('sudo atomic host upgrade');
  let t0 = Date.now();
  await ssh.reboot(vm);
  log(`reboot into 2.0: ${Math.round((Date.now() - t0) / 1000)} s`);
  assert.equal(await ssh.bootedVersion(), '2.0');
  assert.equal((await ssh.ok('hostname')).trim(), 'e2e-host', 'the same instance: nothing provisioned again');

  // Rollback: 1.0 again after a reboot.
  await ssh.ok('sudo atomic host rollback');
  t0 = Date.now();
  await ssh.reboot(vm);
  log(`reboot into 1.0: ${Math.round((Date.now() - t0) / 1000)} s`);
  assert.equal(await ssh.bootedVersion(), '1.0');

  // An unsigned commit on the ref: refused by the guest's verification; 1.0 stays booted and
  // nothing is staged or deployed.
  const repo = join(out, 'repo');
  await ok('ostree', ['commit', `--repo=${repo}`, '--branch=atomic-host/x86_64/stable', '--add-metadata-string=version=3.0-unsigned', '--tree=ref=atomic-host/x86_64/stable', '--subject=unsigned']);
  await ok('ostree', ['summary', `--repo=${repo}`, '-u']);
  const refused = await ssh.run('sudo atomic host upgrade');
  assert.notEqual(refused.status, 0, refused.stdout);
  assert.match(refused.stderr, /signature|GPG|gpg/i);
  const hostStatus = await ssh.ok('sudo atomic host status');
  assert.doesNotMatch(hostStatus, /3\.0-unsigned/);
  assert.equal(await ssh.bootedVersion(), '1.0');
  writeFileSync(join(work, 'status.txt'), hostStatus);

  const outcome = await vm.powerdown(180_000);
  log(`powerdown: ${outcome}`);
});
