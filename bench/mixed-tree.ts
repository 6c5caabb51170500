// A deterministic tree of mixed file sizes for the ISO benchmark: many small files, some medium,
// a few large, in nested directories, filled with pseudo-random (incompressible, non-zero) bytes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TreeStats {
  readonly files: number;
  readonly directories: number;
  readonly bytes: number;
}

export function makeMixedTree(root: string, targetBytes: number): TreeStats {
  let seed = 0x9e3779b9;
  const rand = (): number => {
    // xorshift32: fast, deterministic
    seed ^= seed << 13; seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5; seed >>>= 0;
    return seed / 0x1_0000_0000;
  };
  const block = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((rand() * 0x1_0000_0000) >>> 0, i);
  const content = (size: number, salt: number): Buffer => {
    const start = (salt * 4099) % (block.length - Math.min(size, block.length) + 1);
    if (size <= block.length) return block.subarray(start, start + size);
    const parts: Buffer[] = [];
    for (let left = size; left > 0; left -= block.length) parts.push(block.subarray(0, Math.min(left, block.length)));
    return Buffer.concat(parts);
  };
  let bytes = 0;
  let files = 0;
  const dirs = new Set<string>();
  mkdirSync(root, { recursive: true });
  // Size classes by share of bytes: 20% small (1-64 KiB), 40% medium (1-8 MiB), 40% large (32-96 MiB).
  const classes = [
    { share: 0.2, min: 1024, max: 64 * 1024 },
    { share: 0.4, min: 1024 * 1024, max: 8 * 1024 * 1024 },
    { share: 0.4, min: 32 * 1024 * 1024, max: 96 * 1024 * 1024 },
  ];
  for (const [ci, c] of classes.entries()) {
    let budget = targetBytes * c.share;
    while (budget > 0) {
      const size = Math.min(Math.max(1, Math.floor(budget)), Math.floor(c.min + rand() * (c.max - c.min)));
      const dir = join(root, `class${ci}`, `d${files % 17}`, `e${files % 5}`);
      if (!dirs.has(dir)) {
        mkdirSync(dir, { recursive: true });
        dirs.add(dir);
      }
      writeFileSync(join(dir, `file-${files}.dat`), content(size, files));
      files++;
      bytes += size;
      budget -= size;
    }
  }
  // root + class dirs + d* dirs + e* leaves
  const directories = 1 + new Set([...dirs].map((d) => d.split('/').slice(0, -2).join('/'))).size + new Set([...dirs].map((d) => d.split('/').slice(0, -1).join('/'))).size + dirs.size;
  return { files, directories, bytes };
}
