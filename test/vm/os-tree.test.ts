// The image-build chain on a real Debian tree, booted: mmdebstrap from deb.debian.org (cached
// in the build cache (ATOMIC_IMAGE_CACHE, else atomic image build's), so reruns download nothing), the
// tree composed, committed and deployed with real libostree, checked with the ostree CLI, then a
// direct-kernel boot under QEMU TCG of an ext4 root made with `mkfs.ext4 -d` from the sysroot,
// with a NoCloud seed CD from our CLI. On the serial console: our initramfs mounted the
// deployment, atomicd-provision applied the seed, atomicd started; over ssh (hostfwd): the
// system is running with cgroup v2, /usr read-only, and `atomic host status` sees the booted
// deployment. A second boot with an `ostree=` that does not resolve must say so and drop to a shell.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapRootfs } from '../../src/adapters/os-tree/bootstrap-rootfs.js';
import { commitTree } from '../../src/adapters/os-tree/commit-tree.js';
import { composeTree } from '../../src/adapters/os-tree/compose-tree.js';
import { deploySysroot } from '../../src/adapters/os-tree/deploy-sysroot.js';
import { defaultKargs } from '../../src/core/image/boot-kargs.js';
import { VERSION } from '../../src/lib/version.js';
import { adminStatus, ostree, ostreeTempDir } from '../fixtures/ostree-env.js';
import { REPO, runCli, runOk } from '../helpers.js';
import { validateRecipe } from '../../src/core/image/recipe.js';
import { defaultCacheDir } from '../../src/cli/commands/image-common.js';

// The same build cache and package set as `atomic image build images/atomic-host.yaml` (the e2e
// test and the demo): one bootstrap serves all of them.
const CACHE = process.env.ATOMIC_IMAGE_CACHE ?? defaultCacheDir();
const MIRROR = process.env.ATOMIC_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const DEFAULT_RECIPE = validateRecipe(readFileSync(join(REPO, 'images', 'atomic-host.yaml')), 'images/atomic-host.yaml').recipe!;
/** Issue 7's default image. */
const PACKAGES = [...DEFAULT_RECIPE.base.packages, DEFAULT_RECIPE.kernel.package];
const REF = 'atomic/x86_64/stable';
const OS = 'atomic';

/** Serial console of a QEMU VM: everything it printed, ANSI colours removed, and waits on it. */
interface SerialVm {
  readonly output: () => string;
  waitFor(re: RegExp, timeoutMs: number, what: string): Promise<{ match: RegExpMatchArray; atMs: number }>;
  kill(): void;
  readonly startedAt: number;
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

function startVm(t: TestContext, args: readonly string[]): SerialVm {
  const child: ChildProcess = spawn('qemu-system-x86_64', ['-accel', 'tcg', '-m', '1024', '-smp', '2', '-nographic', '-no-reboot', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const startedAt = Date.now();
  // Colours are removed from the whole text, not per chunk: an escape sequence may be split
  // across two reads.
  let raw = '';
  const onData = (b: Buffer): void => {
    raw += b.toString('utf8');
  };
  const clean = (): string => raw.replace(ANSI, '').replace(/\r/g, '');
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  t.after(kill);
  return {
    startedAt,
    output: clean,
    kill,
    waitFor: (re, timeoutMs, what) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const poll = (): void => {
          const text = clean();
          const m = re.exec(text);
          if (m !== null) return resolve({ match: m, atMs: Date.now() - startedAt });
          if (child.exitCode !== null || Date.now() > deadline) {
            return reject(new Error(`serial console: no ${what} (${re}) after ${Math.round((Date.now() - startedAt) / 1000)} s; last output:\n${text.slice(-4000)}`));
          }
          setTimeout(poll, 250);
        };
        poll();
      }),
  };
}

function ssh(key: string, port: number, user: string, command: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('ssh', ['-i', key, '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20', '-o', 'LogLevel=ERROR', `${user}@127.0.0.1`, command], { encoding: 'utf8', timeout: 120_000 });
  if (r.error !== undefined) throw new Error(`cannot run ssh: ${r.error.message} (Debian package openssh-client)`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function sshWhenUp(key: string, port: number, user: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (ssh(key, port, user, 'true').status === 0) return Date.now();
    await new Promise((r) => setTimeout(r, 3000));
  }
  throw new Error(`ssh ${user}@127.0.0.1:${port} not up after ${timeoutMs / 1000} s`);
}

function freePort(): number {
  // 20000-29999, picked by pid: parallel runs of this file in other worktrees rarely collide.
  return 20000 + (process.pid % 10000);
}

test('image chain: bootstrap (cached) -> compose -> commit -> deploy -> boots under QEMU with atomicd', { timeout: 45 * 60_000 }, async (t) => {
  const dir = ostreeTempDir(t, 'atomic-os-tree-vm-');
  const timings: Record<string, number> = {};
  const time = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await f();
    } finally {
      timings[name] = (Date.now() - t0) / 1000;
    }
  };

  // 1. Bootstrap, twice: the second is a cache hit with the same packages.
  const first = await time('bootstrap', () => bootstrapRootfs({ suite: 'bookworm', mirror: MIRROR, arch: 'x86_64', packages: PACKAGES, cacheDir: CACHE }));
  const again = await time('bootstrap (cached)', () => bootstrapRootfs({ suite: 'bookworm', mirror: MIRROR, arch: 'x86_64', packages: [...PACKAGES].reverse(), cacheDir: CACHE }));
  assert.equal(again.cached, true);
  assert.equal(again.tarball, first.tarball);
  assert.deepEqual(again.packages, first.packages);
  const installed = new Map(first.packages.map((p) => [p.name, p.version]));
  for (const p of ['systemd', 'openssh-server', 'linux-image-cloud-amd64', 'crun', 'runc', 'busybox-static', 'libostree-1-1']) assert.ok(installed.has(p), `${p} installed`);
  for (const p of ['perl', 'usrmerge']) assert.ok(!installed.has(p), `${p} is not in a minimal image`);

  // 2. Compose.
  const key = join(dir, 'id_test');
  runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'atomic-test', '-f', key]);
  const pub = readFileSync(`${key}.pub`, 'utf8').trim();
  const treeDir = join(dir, 'tree');
  const composed = await time('compose', () =>
    composeTree({
      rootfsTarball: first.tarball,
      treeDir,
      osName: OS,
      version: '1.0',
      osRelease: { id: 'atomic', name: 'Atomic Host', versionId: '1' },
      agent: { projectRoot: REPO, nodeBinary: process.execPath },
      users: [{ name: 'core', groups: ['adm', 'systemd-journal'], sshAuthorizedKeys: [pub] }],
      files: [{ path: '/etc/motd', content: 'MARKER-RECIPE-MOTD\n' }],
      arch: 'x86_64',
    }),
  );
  const kver = composed.kernelVersion;
  assert.ok(!existsSync(join(treeDir, 'etc')), '/etc moved to /usr/etc');
  assert.equal(readlinkSync(join(treeDir, 'usr', 'etc', 'os-release')), '../usr/lib/os-release');
  assert.match(readFileSync(join(treeDir, 'usr', 'lib', 'os-release'), 'utf8'), /^VERSION="1\.0"$/m);
  assert.equal(readFileSync(join(treeDir, 'usr', 'etc', 'machine-id'), 'utf8'), '');
  assert.ok(!existsSync(join(treeDir, 'usr', 'etc', 'hostname')));
  assert.deepEqual(readdirSync(join(treeDir, 'usr', 'etc', 'ssh')).filter((n) => n.startsWith('ssh_host_')), []);
  assert.deepEqual(readdirSync(join(treeDir, 'var')), []);
  assert.deepEqual(readdirSync(join(treeDir, 'sysroot')), []);
  for (const [name, target] of [['home', 'var/home'], ['root', 'var/roothome'], ['opt', 'var/opt'], ['srv', 'var/srv'], ['mnt', 'var/mnt'], ['media', 'run/media'], ['ostree', 'sysroot/ostree']]) {
    assert.equal(readlinkSync(join(treeDir, name!)), target, `/${name}`);
  }
  assert.ok(existsSync(join(treeDir, 'usr', 'lib', 'sysimage', 'dpkg', 'status')), 'dpkg database under /usr');
  assert.ok(statSync(join(treeDir, 'usr', 'lib', 'modules', kver, 'vmlinuz')).size > 1_000_000);
  assert.ok(statSync(join(treeDir, 'usr', 'lib', 'modules', kver, 'initramfs.img')).size < 4_000_000, 'a small initramfs');
  for (const u of ['atomicd.service', 'atomicd-provision.service', 'ssh.service']) assert.ok(lstatSync(join(treeDir, 'usr', 'etc', 'systemd', 'system', 'multi-user.target.wants', u)).isSymbolicLink(), `${u} enabled`);
  assert.equal(readFileSync(join(treeDir, 'usr', 'etc', 'ssh', 'authorized_keys.d', 'core'), 'utf8').trim(), pub);
  // The agent runs inside the finished tree (its own node, native addon and libostree).
  assert.equal(runOk('chroot', [treeDir, '/usr/bin/atomic', '--version']).stdout.trim(), VERSION);
  assert.match(runOk('chroot', [treeDir, '/usr/bin/atomicd', '--help']).stdout, /atomicd/);
  assert.equal(runOk('chroot', [treeDir, '/usr/lib/atomic/node', '-e', "require('/usr/lib/atomic/native/index.cjs'); console.log('addon ok')"]).stdout.trim(), 'addon ok');
  const treeBytes = Number(runOk('du', ['-sb', treeDir]).stdout.split('\t')[0]);

  // 3. Commit; the ostree CLI is the oracle.
  const repo = join(dir, 'repo');
  const committed = await time('commit', () => commitTree({ treeDir, repoPath: repo, ref: REF, version: '1.0' }));
  assert.match(ostree(['log', `--repo=${repo}`, REF]), /Version: 1\.0/);
  assert.match(ostree(['ls', `--repo=${repo}`, REF, '/usr/etc/os-release']), /os-release -> \.\.\/usr\/lib\/os-release/);
  assert.match(ostree(['ls', `--repo=${repo}`, REF, `/usr/lib/modules/${kver}/vmlinuz`]), /vmlinuz/);
  assert.match(ostree(['ls', `--repo=${repo}`, REF, `/usr/lib/modules/${kver}/initramfs.img`]), /initramfs\.img/);
  assert.notEqual(spawnSync('ostree', ['ls', `--repo=${repo}`, REF, '/etc']).status, 0, 'no /etc in the commit');

  // 4. Deploy.
  const sysroot = join(dir, 'sysroot');
  const deployed = await time('deploy', () =>
    deploySysroot({ repoPath: repo, ref: REF, sysrootDir: sysroot, osName: OS, kargs: defaultKargs('x86_64'), remote: { name: 'atomic', url: 'http://10.0.2.2:8/repo', gpgVerify: false } }),
  );
  const status = adminStatus(sysroot);
  assert.equal(status.length, 1);
  assert.equal(status[0]!.csum, committed.commit);
  assert.equal(status[0]!.version, '1.0');
  assert.equal(status[0]!.originRefspec, `atomic:${REF}`);
  assert.match(readFileSync(join(sysroot, 'boot', 'loader', 'grub.cfg'), 'utf8'), /root=LABEL=atomic-root rw/);

  // 5. Boot: the ext4 root the disk helper would make (without the partition table), the seed as a CD.
  const rootImg = join(dir, 'root.img');
  await time('mkfs.ext4 -d', async () => runOk('mkfs.ext4', ['-q', '-d', sysroot, '-L', 'atomic-root', rootImg, '2G']));
  // The disk is bigger than the file system: x-systemd.growfs on / must grow it at first boot
  // (here the file system is the whole disk; on the disk helper's GPT, systemd-repart grows the
  // partition first).
  runOk('truncate', ['-s', '3G', rootImg]);
  const userData = join(dir, 'user-data');
  writeFileSync(userData, `#cloud-config\nusers:\n  - name: tester\n    ssh_authorized_keys:\n      - ${pub}\nruncmd:\n  - echo MARKER-RUNCMD-OK > /dev/console\nfinal_message: "MARKER-FINAL up $UPTIME s"\n`);
  const seed = join(dir, 'seed.iso');
  const sc = runCli(['seed', 'create', '-o', seed, '--user-data', userData, '--hostname', 'vmtest1']);
  assert.equal(sc.status, 0, sc.stderr);
  const port = freePort();
  const kernelArgs = deployed.kargs.join(' ');
  const drives = ['-drive', `file=${rootImg},if=virtio,format=raw`, '-device', 'virtio-scsi-pci,id=scsi', '-drive', `file=${seed},if=none,id=cd,media=cdrom,readonly=on`, '-device', 'scsi-cd,drive=cd'];
  const vm = startVm(t, [
    '-kernel', join(sysroot, deployed.kernel), '-initrd', join(sysroot, deployed.initramfs), '-append', kernelArgs,
    ...drives,
    '-netdev', `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:22`, '-device', 'virtio-net-pci,netdev=n0', '-device', 'virtio-rng-pci',
  ]);
  const deployLine = await vm.waitFor(new RegExp(`atomic-initramfs: deployment /ostree/deploy/${OS}/deploy/${committed.commit}\\.0`), 180_000, 'deployment mounted by the initramfs');
  const switchRoot = await vm.waitFor(/atomic-initramfs: switch_root uptime=([\d.]+)/, 60_000, 'switch_root');
  await vm.waitFor(/MARKER-RUNCMD-OK/, 600_000, 'runcmd from the seed');
  const final = await vm.waitFor(/MARKER-FINAL up ([\d.]+) s/, 120_000, 'final message of atomicd-provision');
  await vm.waitFor(/atomicd-provision: hostname vmtest1/, 60_000, 'hostname from the seed');
  await vm.waitFor(/Started atomicd\.service/, 120_000, 'atomicd.service started');
  const login = await vm.waitFor(/vmtest1 login:/, 180_000, 'login prompt on the serial console');
  assert.doesNotMatch(vm.output(), /FAILED/, 'no unit failed');
  assert.match(vm.output(), /Atomic Host 1\.0/, 'the console banner names the image');

  // 6. Over ssh: the booted system.
  const sshUp = await sshWhenUp(key, port, 'tester', 300_000);
  const run = (user: string, cmd: string): string => {
    const r = ssh(key, port, user, cmd);
    assert.equal(r.status, 0, `${user}: ${cmd}: ${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  };
  assert.equal(run('tester', 'systemctl is-system-running --wait'), 'running');
  assert.equal(run('tester', 'systemctl is-active multi-user.target atomicd.service atomicd-provision.service systemd-networkd.service systemd-resolved.service ssh.service').split('\n').filter((l) => l === 'active').length, 6);
  assert.equal(run('tester', 'hostname'), 'vmtest1');
  assert.equal(run('tester', 'stat -fc %T /sys/fs/cgroup'), 'cgroup2fs');
  assert.match(run('tester', 'findmnt -no OPTIONS /usr'), /(^|,)ro(,|$)/);
  assert.match(run('tester', 'findmnt -no SOURCE /var'), new RegExp(`/ostree/deploy/${OS}/var`));
  assert.equal(run('tester', 'test -e /run/ostree-booted && echo booted'), 'booted');
  assert.equal(run('tester', 'cat /etc/motd'), 'MARKER-RECIPE-MOTD');
  assert.match(run('tester', 'cat /etc/machine-id'), /^[0-9a-f]{32}$/);
  assert.match(run('tester', 'dpkg-query -W -f=\'${Version}\' systemd'), /^252/);
  const rootBytes = Number(run('tester', 'df -B1 --output=size /sysroot | tail -1'));
  assert.ok(rootBytes > 2.5 * 2 ** 30, `the root file system grew to the disk: ${rootBytes} bytes (${run('tester', 'systemctl status --no-pager "systemd-growfs*" 2>&1 || true')})`);
  // The image's baked user logs in with its key from /etc/ssh/authorized_keys.d.
  assert.equal(run('core', 'id -un'), 'core');
  const hostStatus = JSON.parse(run('tester', 'atomic host status --json')) as { booted: boolean; deployments: { csum: string; booted: boolean; version?: string; originRefspec?: string }[] };
  assert.equal(hostStatus.booted, true);
  assert.equal(hostStatus.deployments[0]!.csum, committed.commit);
  assert.equal(hostStatus.deployments[0]!.booted, true);
  assert.equal(hostStatus.deployments[0]!.originRefspec, `atomic:${REF}`);
  vm.kill();

  // 7. An ostree= that does not resolve: a clear message and a shell, not a hang.
  const bad = startVm(t, ['-kernel', join(sysroot, deployed.kernel), '-initrd', join(sysroot, deployed.initramfs), '-append', kernelArgs.replace(/ostree=\S+/, 'ostree=/ostree/boot.1/atomic/nosuchbootcsum/0'), '-snapshot', ...drives, '-nic', 'none']);
  await bad.waitFor(/atomic-initramfs: ERROR: ostree=\/ostree\/boot\.1\/atomic\/nosuchbootcsum\/0 does not resolve to a deployment/, 180_000, 'the unresolved ostree= message');
  await bad.waitFor(/dropping to a shell/, 30_000, 'the rescue shell');
  bad.kill();

  const report = {
    ...timings,
    'tree MB': Math.round(treeBytes / 1e6),
    'initramfs KB': Math.round(composed.initramfsSizeBytes / 1024),
    'boot: initramfs mounted deployment (s)': deployLine.atMs / 1000,
    'boot: switch_root at guest uptime (s)': Number(switchRoot.match[1]),
    'boot: provisioning done at guest uptime (s)': Number(final.match[1]),
    'boot: login prompt (s)': login.atMs / 1000,
    'boot: ssh up (s)': (sshUp - vm.startedAt) / 1000,
  };
  t.diagnostic(JSON.stringify(report));
  process.stdout.write(`os-tree timings: ${JSON.stringify(report)}\n`);
});
