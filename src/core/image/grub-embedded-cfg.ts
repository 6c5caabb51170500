// The GRUB EFI image on the ESP: a standalone GRUB (grub-mkstandalone) whose embedded config only
// finds the root filesystem by label and hands over to /boot/loader/grub.cfg there, the file the
// host code (core/host/grub-cfg.ts) rewrites at every deployment change. So the ESP never changes
// after the image is built; deployments only touch the root filesystem.
import type { DiskArch } from './disk-geometry.js';

export interface GrubEfiTarget {
  /** grub-mkstandalone -O value and the directory under /usr/lib/grub holding its modules. */
  readonly platform: 'x86_64-efi' | 'arm64-efi';
  /** Debian package that ships /usr/lib/grub/<platform>. */
  readonly debianPackage: string;
  /** UEFI 2.10 3.5.1.1: the removable-media boot file name for the architecture. */
  readonly bootFile: 'BOOTX64.EFI' | 'BOOTAA64.EFI';
}

export const GRUB_EFI_TARGETS: Readonly<Record<DiskArch, GrubEfiTarget>> = {
  x86_64: { platform: 'x86_64-efi', debianPackage: 'grub-efi-amd64-bin', bootFile: 'BOOTX64.EFI' },
  aarch64: { platform: 'arm64-efi', debianPackage: 'grub-efi-arm64-bin', bootFile: 'BOOTAA64.EFI' },
};

/** Preloaded into the core image: what the embedded config and the usual grub.cfg use at once. */
export const GRUB_PRELOAD_MODULES: readonly string[] = [
  'part_gpt', 'part_msdos', 'fat', 'ext2', 'search', 'search_label', 'search_fs_uuid', 'configfile', 'normal',
  'linux', 'echo', 'serial', 'terminal', 'test', 'ls', 'cat', 'gzio', 'xzio', 'zstd', 'sleep', 'efi_gop', 'all_video',
];
/**
 * Carried in the memdisk for `insmod` from grub.cfg. Listing them (grub-mkstandalone
 * --install-modules) keeps BOOTX64.EFI at ~1.3 MiB instead of ~3.5 MiB with every module.
 */
export const GRUB_INSTALL_MODULES: readonly string[] = [
  ...GRUB_PRELOAD_MODULES, 'loadenv', 'regexp', 'reboot', 'halt', 'true', 'minicmd', 'probe', 'chain', 'font', 'gfxterm',
];

export function renderGrubEmbeddedCfg(rootLabel: string): string {
  // The label is checked (A-Za-z0-9._-) by planDiskGeometry, so it needs no quoting.
  return [
    '# Embedded in the EFI image by atomic: find the root filesystem by its label, then use the',
    '# grub.cfg the host regenerates at every deployment change.',
    `search --no-floppy --label ${rootLabel} --set=root`,
    'if [ -z "$root" ]; then',
    `  echo "atomic: no filesystem labelled ${rootLabel}"`,
    '  sleep 10',
    '  exit',
    'fi',
    'configfile ($root)/boot/loader/grub.cfg',
    '',
  ].join('\n');
}
