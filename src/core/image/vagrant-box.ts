// The two text files of a vagrant-libvirt box (a tar of metadata.json, Vagrantfile and box.img):
// https://vagrant-libvirt.github.io/vagrant-libvirt/boxes.html ("box format").
import type { DiskArch } from './disk-geometry.js';

const GIB = 1024 * 1024 * 1024;

/** OVMF/AAVMF firmware paths as Debian's ovmf and qemu-efi-aarch64 packages install them. */
export const UEFI_LOADERS: Readonly<Record<DiskArch, string>> = {
  x86_64: '/usr/share/OVMF/OVMF_CODE_4M.fd',
  aarch64: '/usr/share/AAVMF/AAVMF_CODE.fd',
};

/** virtual_size is whole GB in vagrant-libvirt's format; rounding up keeps the whole disk. */
export function renderVagrantMetadata(virtualSizeBytes: number): string {
  return `${JSON.stringify({ provider: 'libvirt', format: 'qcow2', virtual_size: Math.ceil(virtualSizeBytes / GIB) }, null, 2)}\n`;
}

export function renderVagrantfile(arch: DiskArch): string {
  return [
    '# Made by atomic image build. The image boots with UEFI only (GRUB on the EFI system partition).',
    'Vagrant.configure("2") do |config|',
    '  config.vm.provider :libvirt do |libvirt|',
    '    libvirt.driver = "kvm"',
    `    libvirt.loader = "${UEFI_LOADERS[arch]}"`,
    ...(arch === 'x86_64' ? ['    libvirt.machine_type = "q35"'] : ['    libvirt.machine_type = "virt"', '    libvirt.machine_arch = "aarch64"']),
    '    libvirt.disk_bus = "virtio"',
    '  end',
    '  # The image has no vagrant user or rsync; cloud-init seeds do the provisioning.',
    '  config.vm.synced_folder ".", "/vagrant", disabled: true',
    'end',
    '',
  ].join('\n');
}
