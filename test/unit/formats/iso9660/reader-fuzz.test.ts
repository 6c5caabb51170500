// Properties of the ISO 9660 reader:
//   1. any tree the writer accepts reads back exactly (Rock Ridge), and the Joliet and plain trees
//      of the same image read without error and hold the same number of entries;
//   2. a mutated or truncated image either reads or fails with an AtomicError (never TypeError,
//      RangeError, a hang or unbounded work: every byte the reader asks for is counted);
//   3. extracting a mutated image creates nothing beside the target, and leaves no target behind
//      when it fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { ByteSource } from '../../../../src/formats/byte-source.js';
import { openIso, type IsoImage } from '../../../../src/formats/iso9660/reader.js';
import { writeIso, type SourceDirectory, type SourceFile, type SourceNode, type SourceSymlink } from '../../../../src/formats/iso9660/writer.js';
import { S_IFDIR, S_IFLNK, S_IFREG, type IsoEntry, type NameTree } from '../../../../src/formats/iso9660/types.js';
import { extractIso } from '../../../../src/adapters/fs-tree/extract-iso.js';
import { AtomicError } from '../../../../src/lib/errors.js';

const SECTOR = 2048;
const T0 = Date.UTC(2020, 0, 2, 3, 4, 5);

async function isoBuffer(root: SourceDirectory, opts: { rockRidge?: boolean; joliet?: boolean } = {}): Promise<Buffer> {
  const parts: { data: Buffer; position: number }[] = [];
  const sink = { write: async (data: Buffer, position: number) => void parts.push({ data: Buffer.from(data), position }) };
  const r = await writeIso(root, sink, { volumeId: 'FUZZ', nowMs: T0, ...opts });
  const out = Buffer.alloc(r.sizeBytes);
  for (const p of parts) p.data.copy(out, p.position);
  return out;
}

/** A ByteSource that counts what the reader asks for. */
function countingSource(buf: Buffer): { source: ByteSource; bytesRead: () => number } {
  let bytes = 0;
  return {
    source: {
      sizeBytes: buf.length,
      read: async (position, length) => {
        bytes += length;
        return buf.subarray(position, position + length);
      },
    },
    bytesRead: () => bytes,
  };
}

async function readAll(image: IsoImage, entries: readonly IsoEntry[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of entries) {
    if (e.type !== 'file') continue;
    const parts: Buffer[] = [];
    for await (const c of image.readContent(e)) parts.push(Buffer.from(c.data));
    out.set(e.path, Buffer.concat(parts));
  }
  return out;
}

// --- arbitrary trees -------------------------------------------------------------------------------

type Unnamed<T> = T extends unknown ? Omit<T, 'name'> : never;
const nameChar = fc.constantFrom(...'abcXYZ019-_ .~,;#'.split(''), 'é', 'ß', '日', '本', '🙂', '\u00a0');
const nameArb = fc.array(nameChar, { minLength: 1, maxLength: 20 }).map((cs) => cs.join('')).filter((n) => n !== '.' && n !== '..');
const attrs = {
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.nat(0xffff_ffff),
  gid: fc.nat(0xffff_ffff),
  // Second precision over the whole range the 7-byte date holds (1900-2155).
  mtimeMs: fc.integer({ min: -2_208_988_800, max: 5_000_000_000 }).map((s) => s * 1000),
};
const fileArb: fc.Arbitrary<Unnamed<SourceFile>> = fc
  .record({ ...attrs, data: fc.uint8Array({ maxLength: 6000 }) })
  .map(({ data, ...a }) => ({ ...a, type: 'file' as const, sizeBytes: data.length, data: Buffer.from(data) }));
const componentArb = fc.oneof({ weight: 4, arbitrary: nameArb }, fc.constantFrom('.', '..'), fc.constant('long-'.repeat(60)));
const linkArb: fc.Arbitrary<Unnamed<SourceSymlink>> = fc
  .record({ ...attrs, absolute: fc.boolean(), parts: fc.array(componentArb, { minLength: 1, maxLength: 5 }) })
  .map(({ absolute, parts, ...a }) => ({ ...a, type: 'symlink' as const, target: (absolute ? '/' : '') + parts.join('/') }));
function dirArb(depth: number): fc.Arbitrary<Unnamed<SourceDirectory>> {
  const child: fc.Arbitrary<Unnamed<SourceNode>> = depth > 0 ? fc.oneof(fileArb, linkArb, dirArb(depth - 1)) : fc.oneof(fileArb, linkArb);
  return fc
    .record({ ...attrs, children: fc.uniqueArray(fc.tuple(nameArb, child), { selector: ([n]) => n, maxLength: 5 }) })
    .map(({ children, ...a }) => ({ ...a, type: 'directory' as const, children: children.map(([name, c]) => ({ ...c, name }) as SourceNode) }));
}
const treeArb = dirArb(3).map((d): SourceDirectory => ({ ...d, name: '' }));

interface Expected {
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeMs: number;
  readonly target?: string;
  readonly data?: Buffer;
}

/** Paths in the reader's order (sorted pre-order) with what each entry must read back as. */
function expectedEntries(root: SourceDirectory): [string, Expected][] {
  const out: [string, Expected][] = [];
  const walk = (d: SourceDirectory, prefix: string): void => {
    for (const c of [...d.children].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = prefix === '' ? c.name : `${prefix}/${c.name}`;
      const type = c.type === 'directory' ? S_IFDIR : c.type === 'symlink' ? S_IFLNK : S_IFREG;
      const base = { type: c.type, mode: type | c.mode, uid: c.uid, gid: c.gid, mtimeMs: c.mtimeMs };
      if (c.type === 'file') out.push([path, { ...base, data: Buffer.from(c.data!) }]);
      else if (c.type === 'symlink') out.push([path, { ...base, target: c.target }]);
      else {
        out.push([path, base]);
        walk(c, path);
      }
    }
  };
  walk(root, '');
  return out;
}

test('property: random trees round-trip writer -> reader', async () => {
  await fc.assert(
    fc.asyncProperty(treeArb, async (root) => {
      const img = await isoBuffer(root);
      const image = await openIso(countingSource(img).source);
      const entries = await image.entries();
      const expected = expectedEntries(root);
      assert.deepEqual(entries.map((e) => e.path), expected.map(([p]) => p));
      const contents = await readAll(image, entries);
      entries.forEach((e, i) => {
        const want = expected[i]![1];
        assert.deepEqual(
          { type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtimeMs: e.mtimeMs, target: e.symlinkTarget },
          { type: want.type, mode: want.mode, uid: want.uid, gid: want.gid, mtimeMs: want.mtimeMs, target: want.target },
          e.path,
        );
        if (want.data !== undefined) assert.deepEqual(contents.get(e.path), want.data, e.path);
      });
      // The other two trees of the same image: names are mangled, but every entry is there.
      assert.equal((await (await openIso(countingSource(img).source, { names: 'joliet' })).entries()).length, expected.length, 'joliet');
      // Level-2 names must stay unique as readers show them (no ';1', no empty-extension dot).
      assert.equal((await (await openIso(countingSource(img).source, { names: 'iso9660' })).entries()).length, expected.length, 'iso9660');
    }),
    { numRuns: 200 },
  );
});

// --- mutations -------------------------------------------------------------------------------------

/** A few valid images with everything the reader decodes: CE chains, long names, deep paths, Joliet. */
async function baseImages(): Promise<Buffer[]> {
  const f = (name: string, text: string, mode = 0o644): SourceFile =>
    ({ type: 'file', name, mode, uid: 1, gid: 2, mtimeMs: T0, sizeBytes: Buffer.byteLength(text), data: Buffer.from(text) });
  const l = (name: string, target: string): SourceSymlink => ({ type: 'symlink', name, mode: 0o777, uid: 0, gid: 0, mtimeMs: T0, target });
  const d = (name: string, children: SourceNode[]): SourceDirectory => ({ type: 'directory', name, mode: 0o755, uid: 0, gid: 0, mtimeMs: T0, children });
  let deep = d('l9', [f('bottom', 'b')]);
  for (let i = 8; i >= 0; i--) deep = d(`l${i}`, [deep]);
  const root = d('', [
    f('README', 'hello\n'),
    f('é'.repeat(120) + '.txt', 'long utf-8 name'),
    f('big', 'x'.repeat(5000)),
    f('empty', ''),
    l('abs', '/etc/hostname'),
    l('long', 'p'.repeat(300) + '/' + 'q'.repeat(900)),
    d('dir', [f('a', 'a'), f('b', 'b'), l('up', '../README'), d('sub', [f('c', 'c')])]),
    deep,
  ]);
  return [await isoBuffer(root), await isoBuffer(root, { rockRidge: false }), await isoBuffer(root, { rockRidge: false, joliet: false })];
}

interface Mutation {
  readonly base: number;
  readonly edits: readonly { readonly at: number; readonly bytes: readonly number[] }[];
  readonly truncateTo: number | undefined;
  readonly names: NameTree | 'auto';
}

/** Sectors from 16 on that hold no file data: descriptors, path tables, directories, CE areas. */
async function metadataSectors(img: Buffer): Promise<number[]> {
  const data = new Set<number>();
  for (const e of await (await openIso(countingSource(img).source)).entries()) {
    for (const x of e.extents) for (let s = x.lba; s < x.lba + Math.ceil(x.sizeBytes / SECTOR); s++) data.add(s);
  }
  return Array.from({ length: img.length / SECTOR - 16 }, (_, i) => 16 + i).filter((s) => !data.has(s));
}

function mutationArb(bases: readonly Buffer[], meta: readonly number[]): fc.Arbitrary<Mutation> {
  const byte = fc.oneof(fc.nat(255), fc.constantFrom(0, 1, 2, 0x20, 0x2e, 0x2f, 0x7f, 0x80, 0xff));
  // Edits land mostly in the metadata of the first base image, which the others share in layout
  // closely enough to hit their descriptors and directories as well.
  const inMeta = fc.tuple(fc.constantFrom(...meta), fc.nat(SECTOR - 1)).map(([s, o]) => s * SECTOR + o);
  const at = fc.oneof({ weight: 5, arbitrary: inMeta }, fc.nat(bases[0]!.length));
  const edit = fc.record({
    at,
    bytes: fc.oneof(fc.array(byte, { minLength: 1, maxLength: 4 }), fc.nat(0xffff_ffff).map((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24])),
  });
  return fc.record({
    base: fc.nat(bases.length - 1),
    edits: fc.array(edit, { minLength: 1, maxLength: 8 }),
    truncateTo: fc.option(fc.nat(bases[0]!.length), { nil: undefined, freq: 8 }),
    names: fc.constantFrom<NameTree | 'auto'>('auto', 'auto', 'rock-ridge', 'joliet', 'iso9660'),
  });
}

function mutate(bases: readonly Buffer[], m: Mutation): Buffer {
  const img = Buffer.from(bases[m.base]!);
  for (const e of m.edits) e.bytes.forEach((b, i) => {
    if (e.at + i < img.length) img[e.at + i] = b;
  });
  return m.truncateTo === undefined ? img : img.subarray(0, Math.min(m.truncateTo, img.length));
}

function assertAtomic(e: unknown): void {
  assert.ok(e instanceof AtomicError, `expected an AtomicError, got ${e instanceof Error ? `${e.constructor.name}: ${e.message}\n${e.stack}` : String(e)}`);
}

test('property: mutated and truncated images read or fail with an AtomicError, within a work bound', async () => {
  const bases = await baseImages();
  const meta = await metadataSectors(bases[0]!);
  const maxEntries = 10_000;
  let ok = 0;
  let failed = 0;
  await fc.assert(
    fc.asyncProperty(mutationArb(bases, meta), async (m) => {
      const img = mutate(bases, m);
      const { source, bytesRead } = countingSource(img);
      try {
        const image = await openIso(source, { names: m.names, limits: { maxEntries } });
        const entries = await image.entries();
        // Metadata work is linear in the image: every directory and CE area at most a few times.
        assert.ok(bytesRead() <= 10 * img.length + 64 * 1024, `read ${bytesRead()} bytes of metadata from a ${img.length}-byte image`);
        assert.ok(entries.length <= maxEntries);
        const before = bytesRead();
        const contents = await readAll(image, entries);
        const fileBytes = entries.reduce((n, e) => n + (e.type === 'file' ? e.sizeBytes : 0), 0);
        assert.equal(bytesRead() - before, fileBytes, 'content reads are exactly the files\' sizes');
        for (const [path, data] of contents) assert.equal(data.length, entries.find((e) => e.path === path)!.sizeBytes);
        ok++;
      } catch (e) {
        assertAtomic(e);
        failed++;
      }
    }),
    { numRuns: 3000 },
  );
  // Both outcomes happen, or the property says little.
  assert.ok(ok > 20 && failed > 20, `${ok} read, ${failed} refused`);
});

test('property: extracting a mutated image never creates anything beside the target', async (t) => {
  const bases = await baseImages();
  const meta = await metadataSectors(bases[0]!);
  const base = mkdtempSync(join(process.env.ATOMIC_TEST_TMP ?? tmpdir(), 'atomic-fuzz-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  let extracted = 0;
  await fc.assert(
    fc.asyncProperty(mutationArb(bases, meta), fc.boolean(), async (m, preexisting) => {
      const img = mutate(bases, m);
      const parent = join(base, 'run');
      const target = join(parent, 'target');
      mkdirSync(parent);
      // Half the runs extract into an existing empty directory (cleaned up on failure, not removed).
      if (preexisting) mkdirSync(target);
      const before = readdirSync(parent).sort();
      let succeeded = false;
      try {
        const image = await openIso(countingSource(img).source, { names: m.names, limits: { maxEntries: 5000 } });
        await extractIso(image, target);
        succeeded = true;
        extracted++;
      } catch (e) {
        assertAtomic(e);
      }
      assert.deepEqual(readdirSync(base), ['run'], 'nothing beside the run directory');
      const after = readdirSync(parent).sort();
      if (succeeded || preexisting) assert.deepEqual(after, ['target'], 'only the target, no temp directory left');
      else assert.deepEqual(after, before, 'a failed extraction leaves nothing');
      if (!succeeded && preexisting) assert.deepEqual(readdirSync(target), [], 'a failed extraction into an existing directory removes what it created');
      rmSync(parent, { recursive: true, force: true });
    }),
    { numRuns: 300 },
  );
  assert.ok(extracted > 30, `${extracted} of 300 mutated images extracted`);
});
