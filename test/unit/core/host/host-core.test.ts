import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBlsEntry, sortBlsEntries } from '../../../../src/core/host/bls-entry.js';
import { renderGrubCfg } from '../../../../src/core/host/grub-cfg.js';
import { editKargs, splitKargs } from '../../../../src/core/host/kargs.js';
import { checkSpace, RESERVE_BYTES } from '../../../../src/core/host/preflight.js';
import { formatRefspec, parseRefspec } from '../../../../src/core/host/refspec.js';
import { InvalidArgument } from '../../../../src/lib/errors.js';

test('kargs: split with quotes, append, delete, replace like rpm-ostree kargs', () => {
  assert.deepEqual(splitKargs('  root=LABEL=root  ostree=/ostree/boot.1/os/x/0 quiet dyndbg="file foo.c +p" '), ['root=LABEL=root', 'ostree=/ostree/boot.1/os/x/0', 'quiet', 'dyndbg="file foo.c +p"']);
  const base = ['root=LABEL=root', 'quiet', 'console=tty0', 'console=ttyS0'];
  assert.deepEqual(editKargs(base, { append: ['foo=bar'] }), [...base, 'foo=bar']);
  assert.deepEqual(editKargs(base, { delete: ['quiet'] }), ['root=LABEL=root', 'console=tty0', 'console=ttyS0']);
  assert.deepEqual(editKargs(base, { delete: ['console=tty0'] }), ['root=LABEL=root', 'quiet', 'console=ttyS0']);
  assert.throws(() => editKargs(base, { delete: ['console'] }), (e) => e instanceof InvalidArgument && /appears 2 times/.test(e.message));
  assert.throws(() => editKargs(base, { delete: ['nope=1'] }), /no such kernel argument/);
  assert.deepEqual(editKargs(base, { replace: ['console=ttyS0=ttyS1'] }), ['root=LABEL=root', 'quiet', 'console=tty0', 'console=ttyS1']);
  assert.deepEqual(editKargs(['a=1', 'b'], { replace: ['a=2'] }), ['a=2', 'b']);
  assert.throws(() => editKargs(base, { replace: ['console=ttyS9'] }), /appears 2 times/);
  assert.throws(() => editKargs(base, { append: ['two words'] }), InvalidArgument);
});

test('refspecs', () => {
  assert.deepEqual(parseRefspec('atomic:os/x86_64/stable'), { remote: 'atomic', ref: 'os/x86_64/stable' });
  assert.deepEqual(parseRefspec('os/x86_64/stable'), { ref: 'os/x86_64/stable' });
  assert.equal(formatRefspec({ remote: 'r', ref: 'a/b' }), 'r:a/b');
  for (const bad of ['', ':x', 'r:', 'r:a//b', 'r:/a', 'r r:a', 'r:a/../b']) assert.throws(() => parseRefspec(bad), InvalidArgument, bad);
});

test('BLS entries sort by version, newest first, and render as GRUB menu entries', () => {
  const e1 = parseBlsEntry('title Debian (ostree:0)\nversion 2\noptions root=LABEL=root ostree=/ostree/boot.1/debian/abc/0\nlinux /ostree/debian-abc/vmlinuz-6.1\ninitrd /ostree/debian-abc/initramfs-6.1.img\n', 'ostree-2-debian.conf');
  const e0 = parseBlsEntry("title Debian 'old' (ostree:1)\nversion 1\noptions root=LABEL=root ostree=/ostree/boot.1/debian/def/0\nlinux /ostree/debian-def/vmlinuz-6.1\n", 'ostree-1-debian.conf');
  const sorted = sortBlsEntries([e0, e1]);
  assert.deepEqual(sorted.map((e) => e.version), ['2', '1']);
  const cfg = renderGrubCfg(sorted, { timeoutSeconds: 0 });
  assert.match(cfg, /set default=0/);
  assert.match(cfg, /set timeout=0/);
  const entries = cfg.split('menuentry ').slice(1);
  assert.equal(entries.length, 2);
  assert.match(entries[0]!, /^'Debian \(ostree:0\)' \{\n {2}linux \/boot\/ostree\/debian-abc\/vmlinuz-6\.1 root=LABEL=root ostree=\/ostree\/boot\.1\/debian\/abc\/0\n {2}initrd \/boot\/ostree\/debian-abc\/initramfs-6\.1\.img\n\}/);
  assert.match(entries[1]!, /^'Debian '\\''old'\\'' \(ostree:1\)'/);
  assert.throws(() => parseBlsEntry('title x\n', 'broken.conf'), (e) => e instanceof InvalidArgument && e.subject === 'broken.conf');
});

test('space preflight names the file system, the shortfall and what cleanup would free', () => {
  const MiB = 1024 * 1024;
  assert.deepEqual(checkSpace([{ what: 'the repo', path: '/sysroot', neededBytes: 10 * MiB, freeBytes: 10 * MiB + RESERVE_BYTES }]), { ok: true, problems: [] });
  const r = checkSpace([{ what: 'the new kernel and initramfs', path: '/boot', neededBytes: 60 * MiB, freeBytes: 50 * MiB, cleanupFreesBytes: 70 * MiB }]);
  assert.equal(r.ok, false);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0]!, /on \/boot: the update needs 76\.0 MiB .* 50\.0 MiB free, 26\.0 MiB short; atomic host cleanup would free 70\.0 MiB, enough/);
  assert.match(checkSpace([{ what: 'x', path: '/', neededBytes: 1, freeBytes: 0 }]).problems[0]!, /would not free enough/);
});
