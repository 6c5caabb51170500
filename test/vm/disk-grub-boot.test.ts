// Boot smoke check of an assembled disk: OVMF finds EFI/BOOT/BOOTX64.EFI on the ESP, its embedded
// config finds the root filesystem by label, and GRUB runs the root's /boot/loader/grub.cfg (the
// fixture's grub.cfg echoes a marker and has one menu entry). The fake kernel is a text file, so
// GRUB then says "premature end of file" about it: proof that it found the entry's kernel on the
// root filesystem ("file not found" would mean a wrong path). Full OS boots are the boot tests'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { assembleDisk } from '../../src/adapters/disk/assemble-disk.js';
import { MIB } from '../../src/core/image/disk-geometry.js';
import { FAKE_TITLE, GRUB_CFG_MARKER, makeFakeSysroot } from '../fixtures/fake-sysroot.js';
import { tempDir } from '../helpers.js';

const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

/** Serial output without terminal escapes and line breaks (GRUB wraps long lines at 80 columns). */
function flatten(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').replace(/[\r\n]/g, '');
}

test('OVMF boots the disk into GRUB, which loads the root filesystem\'s /boot/loader/grub.cfg and finds the kernel', async (t) => {
  assert.ok(existsSync(OVMF_CODE), `${OVMF_CODE} is missing (Debian package ovmf; scripts/setup installs it)`);
  const dir = tempDir(t, 'disk-boot-');
  const sysroot = makeFakeSysroot(tempDir(undefined, 'disk-boot-sysroot-'));
  t.after(() => sysroot.remove());
  mkdirSync(join(dir, 'out'));
  // A 16 MiB ESP is FAT16: the smaller layouts boot too.
  const disk = await assembleDisk({ sysrootDir: sysroot.dir, outPath: join(dir, 'out', 'disk.raw'), layout: { sizeBytes: 64 * MIB, espSizeBytes: 16 * MIB, rootLabel: 'atomic-root', arch: 'x86_64' } });
  copyFileSync(OVMF_VARS, join(dir, 'vars.fd'));
  const args = [
    '-machine', 'q35', '-accel', 'tcg', '-m', '256', '-display', 'none', '-serial', 'stdio', '-no-reboot', '-nic', 'none',
    '-drive', `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`,
    '-drive', `if=pflash,format=raw,file=${join(dir, 'vars.fd')}`,
    '-drive', `file=${disk.path},format=raw,if=virtio,snapshot=on`,
  ];
  const done = /premature end of file|not found|no filesystem labelled/;
  const output = await new Promise<string>((resolve, reject) => {
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => qemu.kill('SIGKILL'), 180_000);
    qemu.stdout.on('data', (b: Buffer) => {
      out += b.toString('latin1');
      if (done.test(flatten(out))) qemu.kill('SIGKILL');
    });
    qemu.stderr.on('data', (b: Buffer) => (out += b.toString('latin1')));
    qemu.on('error', (e) => reject(new Error(`cannot run qemu-system-x86_64 (Debian package qemu-system-x86): ${e.message}`)));
    qemu.on('close', () => {
      clearTimeout(timer);
      resolve(flatten(out));
    });
  });
  assert.ok(output.includes(GRUB_CFG_MARKER), `no marker from the root's grub.cfg on the serial console:\n${output.slice(-2000)}`);
  assert.ok(output.includes(`Booting \`${FAKE_TITLE}'`), `GRUB did not boot the entry:\n${output.slice(-2000)}`);
  assert.match(output, /premature end of file/);
  assert.doesNotMatch(output, /not found/);
});
