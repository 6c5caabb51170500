// The sfdisk(8) input script for an atomic disk: the whole GPT in one declarative text, every
// identifier explicit, so sfdisk writes the same table for the same input.
import { ESP_PARTITION_NAME, ESP_TYPE_GUID, GROWFS_ATTRIBUTE_BIT, ROOT_PARTITION_NAMES, ROOT_TYPE_GUIDS, SECTOR_BYTES, type DiskArch, type DiskGeometry } from './disk-geometry.js';
import type { DiskIds } from './disk-ids.js';

export function renderSfdiskScript(geometry: DiskGeometry, ids: DiskIds, arch: DiskArch): string {
  const { esp, root } = geometry;
  return [
    'label: gpt',
    `label-id: ${ids.diskGuid}`,
    'unit: sectors',
    `sector-size: ${SECTOR_BYTES}`,
    `first-lba: ${esp.startSector}`,
    '',
    `start=${esp.startSector}, size=${esp.sectors}, type=${ESP_TYPE_GUID}, uuid=${ids.espPartitionUuid}, name="${ESP_PARTITION_NAME}"`,
    `start=${root.startSector}, size=${root.sectors}, type=${ROOT_TYPE_GUIDS[arch]}, uuid=${ids.rootPartitionUuid}, name="${ROOT_PARTITION_NAMES[arch]}", attrs="GUID:${GROWFS_ATTRIBUTE_BIT}"`,
    '',
  ].join('\n');
}
