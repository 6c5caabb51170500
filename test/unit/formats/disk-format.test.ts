import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sniffDiskFormat } from '../../../src/formats/disk-format.js';

function mbr(type: number): Buffer {
  const b = Buffer.alloc(1024);
  b[446 + 4] = type;
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

test('raw disks: GPT (protective MBR + "EFI PART" at LBA 1) and MBR', () => {
  const gpt = mbr(0xee);
  gpt.write('EFI PART', 512, 'latin1');
  assert.deepEqual(sniffDiskFormat(gpt), { format: 'raw', partitionTable: 'gpt' });
  assert.deepEqual(sniffDiskFormat(mbr(0x83)), { format: 'raw', partitionTable: 'mbr' });
  assert.deepEqual(sniffDiskFormat(mbr(0)), { format: 'unknown' }, 'a boot signature with an empty table');
  assert.deepEqual(sniffDiskFormat(Buffer.alloc(1024)), { format: 'unknown' });
  assert.deepEqual(sniffDiskFormat(Buffer.alloc(10)), { format: 'unknown' });
});

test('virtual-disk containers are told apart from raw disks', () => {
  const at = (text: string | Buffer, offset = 0): Buffer => {
    const b = Buffer.alloc(1024);
    (typeof text === 'string' ? Buffer.from(text, 'latin1') : text).copy(b, offset);
    return b;
  };
  assert.equal(sniffDiskFormat(at(Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]))).format, 'qcow2');
  assert.equal(sniffDiskFormat(at('QED\0')).format, 'qed');
  assert.equal(sniffDiskFormat(at('KDMV')).format, 'vmdk');
  assert.equal(sniffDiskFormat(at('# Disk DescriptorFile\nversion=1')).format, 'vmdk');
  assert.equal(sniffDiskFormat(at('vhdxfile')).format, 'vhdx');
  assert.equal(sniffDiskFormat(at('conectix')).format, 'vhd');
  const vdi = Buffer.alloc(1024);
  vdi.writeUInt32LE(0xbeda107f, 64);
  assert.equal(sniffDiskFormat(vdi).format, 'vdi');
  // A fixed VHD is raw bytes with a footer: the GPT inside does not make it raw.
  const gpt = mbr(0xee);
  gpt.write('EFI PART', 512, 'latin1');
  const footer = Buffer.alloc(512);
  footer.write('conectix', 0, 'latin1');
  assert.equal(sniffDiskFormat(gpt, footer).format, 'vhd');
});
