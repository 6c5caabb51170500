// The ISO 9660 reader: images from our writer read back exactly; hand-crafted images exercise the
// SUSP/RRIP corners our writer never produces (SP skip, 44-byte PX, 17-byte TF, SL continued over
// a CE, CL/RE/PL relocation); corrupt images fail with a typed error that says what and where.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bufferByteSource } from '../../../../src/formats/byte-source.js';
import { openIso, type IsoImage, type IsoOpenOptions } from '../../../../src/formats/iso9660/reader.js';
import { writeIso, type IsoWriteOptions, type SourceDirectory, type SourceFile, type SourceSymlink } from '../../../../src/formats/iso9660/writer.js';
import type { IsoEntry } from '../../../../src/formats/iso9660/types.js';
import { decodeLongDate } from '../../../../src/formats/iso9660/rrip-decode.js';
import { AtomicError, Cancelled, DataLoss, InvalidArgument, ResourceExhausted, Unimplemented } from '../../../../src/lib/errors.js';

const T0 = Date.UTC(2020, 0, 2, 3, 4, 5);
const SECTOR = 2048;

// --- building images with our writer -----------------------------------------------------------

type Extra = Partial<{ mode: number; uid: number; gid: number; mtimeMs: number }>;
const dir = (name: string, children: SourceDirectory['children'], o: Extra = {}): SourceDirectory =>
  ({ type: 'directory', name, mode: 0o755, uid: 0, gid: 0, mtimeMs: T0, children, ...o });
const file = (name: string, content: string | Buffer, o: Extra & { linkKey?: string } = {}): SourceFile => {
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  return { type: 'file', name, mode: 0o644, uid: 0, gid: 0, mtimeMs: T0, sizeBytes: data.length, data, ...o };
};
const link = (name: string, target: string, o: Extra = {}): SourceSymlink =>
  ({ type: 'symlink', name, mode: 0o777, uid: 0, gid: 0, mtimeMs: T0, target, ...o });

async function isoBuffer(root: SourceDirectory, opts: Partial<IsoWriteOptions> = {}): Promise<Buffer> {
  const parts: { data: Buffer; position: number }[] = [];
  const sink = { write: async (data: Buffer, position: number) => void parts.push({ data: Buffer.from(data), position }) };
  const r = await writeIso(root, sink, { volumeId: 'TEST', nowMs: T0, ...opts });
  const out = Buffer.alloc(r.sizeBytes);
  for (const p of parts) p.data.copy(out, p.position);
  return out;
}

async function open(img: Buffer, opts: IsoOpenOptions = {}): Promise<IsoImage> {
  return openIso(bufferByteSource(img), opts);
}

async function list(img: Buffer, opts: IsoOpenOptions = {}): Promise<IsoEntry[]> {
  return (await open(img, opts)).entries();
}

async function contentOf(image: IsoImage, e: IsoEntry, chunkBytes?: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let expected = 0;
  for await (const c of image.readContent(e, chunkBytes === undefined ? {} : { chunkBytes })) {
    assert.equal(c.offsetBytes, expected, 'chunks arrive in order');
    expected += c.data.length;
    parts.push(Buffer.from(c.data));
  }
  return Buffer.concat(parts);
}

function byPath(entries: readonly IsoEntry[]): Map<string, IsoEntry> {
  return new Map(entries.map((e) => [e.path, e]));
}

async function rejects(p: Promise<unknown>, cls: new (...a: never[]) => AtomicError, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.match((e as Error).message, message);
    return true;
  });
}

/** Replace the only occurrence of `from` (same length) in the image. */
function patch(img: Buffer, from: Buffer | string, to: Buffer | string): Buffer {
  const a = typeof from === 'string' ? Buffer.from(from) : from;
  const b = typeof to === 'string' ? Buffer.from(to) : to;
  assert.equal(a.length, b.length);
  const at = img.indexOf(a);
  assert.ok(at >= 0, `pattern ${a.toString('latin1')} not found`);
  assert.equal(img.indexOf(a, at + 1), -1, `pattern ${a.toString('latin1')} is not unique`);
  const out = Buffer.from(img);
  b.copy(out, at);
  return out;
}

// A minimal test-side directory parser, independent of the reader, to find records to corrupt.
interface Rec {
  readonly at: number;
  readonly len: number;
  readonly id: Buffer;
  readonly lba: number;
  readonly size: number;
  readonly flags: number;
}
function rootOf(img: Buffer, vdSector = 16): { lba: number; size: number } {
  const o = vdSector * SECTOR + 156;
  return { lba: img.readUInt32LE(o + 2), size: img.readUInt32LE(o + 10) };
}
function recordsAt(img: Buffer, lba: number): Rec[] {
  const out: Rec[] = [];
  for (let at = lba * SECTOR; img[at]! > 0 && at < (lba + 1) * SECTOR; at += img[at]!) {
    out.push({ at, len: img[at]!, id: img.subarray(at + 33, at + 33 + img[at + 32]!), lba: img.readUInt32LE(at + 2), size: img.readUInt32LE(at + 10), flags: img[at + 25]! });
  }
  return out;
}
function child(img: Buffer, dirLba: number, id: string | Buffer): Rec {
  const want = typeof id === 'string' ? Buffer.from(id, 'latin1') : id;
  const r = recordsAt(img, dirLba).find((x) => x.id.equals(want));
  assert.ok(r !== undefined, `no record ${want.toString('latin1')} at LBA ${dirLba}`);
  return r;
}
function setBoth32(img: Buffer, offset: number, v: number): void {
  img.writeUInt32LE(v, offset);
  img.writeUInt32BE(v, offset + 4);
}
const ucs2 = (s: string): Buffer => Buffer.from(s, 'utf16le').swap16();

// --- round trips ---------------------------------------------------------------------------------

const LONG_TARGET = 'x'.repeat(100) + '/' + 'y'.repeat(250) + '/../z';
const HUGE_TARGET = Array.from({ length: 60 }, (_, i) => `component-${i}-${'q'.repeat(40)}`).join('/');
const NAME_200 = 'N'.repeat(196) + '.txt';
const NAME_255 = 'é'.repeat(127) + 'z'; // 255 bytes of UTF-8: two NM entries with CONTINUE

function awkwardSource(): SourceDirectory {
  let deep: SourceDirectory = dir('d39', [file('bottom.txt', 'at the bottom\n')]);
  for (let i = 38; i >= 0; i--) deep = dir(`d${i}`, [deep]);
  const random = Buffer.alloc(3 * SECTOR + 17);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
  return dir('', [
    file('README', 'top level\n', { mtimeMs: Date.UTC(2017, 6, 14, 2, 40, 0) }),
    file('empty', ''),
    file(NAME_200, '200 characters\n'),
    file(NAME_255, '255 bytes\n'),
    file('été-ünïcödé.txt', 'accents\n'),
    file('日本語のファイル名.md', 'cjk\n'),
    file('emoji-🙂-🚀.bin', 'astral\n'),
    file('random.bin', random, { mode: 0o600, uid: 1000, gid: 100 }),
    file('setuid', '#!/bin/sh\n', { mode: 0o4755 }),
    file('hard-a', 'linked content\n', { linkKey: 'k1' }),
    file('hard-b', 'linked content\n', { linkKey: 'k1' }),
    link('link-relative', 'README', { mtimeMs: Date.UTC(2014, 4, 13) }),
    link('link-absolute', '/etc/hostname'),
    link('link-long', LONG_TARGET),
    link('link-huge', HUGE_TARGET),
    link('link-dots', './a/../b'),
    dir('shared', [], { mode: 0o2775, uid: 12, gid: 34, mtimeMs: Date.UTC(2001, 1, 3) }),
    dir('locked', [file('inside', 'x')], { mode: 0o500 }),
    deep,
  ]);
}

test('writer -> reader round trip: names, types, modes, owners, mtimes, sizes, symlink targets', async () => {
  const img = await isoBuffer(awkwardSource());
  const image = await open(img);
  assert.equal(image.volume.names, 'rock-ridge');
  assert.equal(image.volume.hasRockRidge, true);
  assert.equal(image.volume.hasJoliet, true);
  assert.equal(image.volume.volumeId, 'TEST');
  assert.equal(image.volume.createdMs, T0);
  assert.equal(image.volume.volumeSpaceBlocks * SECTOR, img.length);
  assert.equal(image.root.type, 'directory');
  assert.equal(image.root.mode, 0o40755);
  assert.equal(image.root.mtimeMs, T0);

  const entries = await image.entries();
  const m = byPath(entries);
  const e = (p: string): IsoEntry => {
    const x = m.get(p);
    assert.ok(x !== undefined, `missing ${p}; have ${[...m.keys()].join(', ')}`);
    return x;
  };
  assert.deepEqual(
    { type: e('README').type, mode: e('README').mode, size: e('README').sizeBytes, mtime: e('README').mtimeMs, uid: e('README').uid, nlink: e('README').nlink },
    { type: 'file', mode: 0o100644, size: 10, mtime: Date.UTC(2017, 6, 14, 2, 40, 0), uid: 0, nlink: 1 },
  );
  assert.equal(e('empty').sizeBytes, 0);
  assert.deepEqual(e('empty').extents, []);
  assert.equal(e(NAME_200).name.length, 200);
  assert.equal(Buffer.byteLength(e(NAME_255).name), 255);
  for (const n of ['été-ünïcödé.txt', '日本語のファイル名.md', 'emoji-🙂-🚀.bin']) assert.equal(e(n).type, 'file');
  assert.deepEqual([e('random.bin').mode, e('random.bin').uid, e('random.bin').gid], [0o100600, 1000, 100]);
  assert.equal(e('setuid').mode, 0o104755);
  assert.equal(e('link-relative').type, 'symlink');
  assert.equal(e('link-relative').symlinkTarget, 'README');
  assert.equal(e('link-relative').mode, 0o120777);
  assert.equal(e('link-relative').mtimeMs, Date.UTC(2014, 4, 13));
  assert.equal(e('link-absolute').symlinkTarget, '/etc/hostname');
  assert.equal(e('link-long').symlinkTarget, LONG_TARGET);
  assert.equal(e('link-huge').symlinkTarget, HUGE_TARGET);
  assert.equal(e('link-huge').sizeBytes, HUGE_TARGET.length);
  assert.equal(e('link-dots').symlinkTarget, './a/../b');
  assert.deepEqual([e('shared').type, e('shared').mode, e('shared').uid, e('shared').gid, e('shared').mtimeMs], ['directory', 0o42775, 12, 34, Date.UTC(2001, 1, 3)]);
  assert.equal(e('locked').mode, 0o40500);
  const deepPath = Array.from({ length: 40 }, (_, i) => `d${i}`).join('/');
  assert.equal(e(`${deepPath}/bottom.txt`).type, 'file');
  // Hard links: one extent, nlink 2 on both names.
  assert.equal(e('hard-a').nlink, 2);
  assert.equal(e('hard-b').nlink, 2);
  assert.equal(e('hard-a').extents[0]!.lba, e('hard-b').extents[0]!.lba);
  // Directory nlink: 2 + subdirectories (RRIP PX as the writer records it).
  assert.equal(e('d0').nlink, 3);

  // Parents before children, siblings sorted: exactly a sorted pre-order.
  const paths = entries.map((x) => x.path);
  const seen = new Set<string>();
  for (const p of paths) {
    const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
    assert.ok(parent === '' || seen.has(parent), `${p} listed before its parent`);
    seen.add(p);
  }
  const cmp = (a: string, b: string): number => {
    const x = a.split('/');
    const y = b.split('/');
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return x.length - y.length;
  };
  assert.deepEqual(paths, [...paths].sort(cmp));
  assert.equal(entries.length, 18 + 1 + 40 + 1); // 18 top-level names + locked/inside + d0..d39 + bottom.txt
});

test('file content comes back in order, in bounded chunks', async () => {
  const random = Buffer.alloc(5 * SECTOR + 123);
  for (let i = 0; i < random.length; i++) random[i] = (i * 7 + 3) & 0xff;
  const img = await isoBuffer(dir('', [file('r.bin', random), file('empty', ''), file('small', 'hi')]));
  const image = await open(img);
  const m = byPath(await image.entries());
  assert.deepEqual(await contentOf(image, m.get('r.bin')!), random);
  assert.deepEqual(await contentOf(image, m.get('r.bin')!, 1000), random);
  let chunks = 0;
  for await (const c of image.readContent(m.get('r.bin')!, { chunkBytes: 4096 })) {
    assert.ok(c.data.length <= 4096);
    chunks++;
  }
  assert.equal(chunks, Math.ceil(random.length / 4096));
  assert.deepEqual(await contentOf(image, m.get('empty')!), Buffer.alloc(0));
  assert.equal((await contentOf(image, m.get('small')!)).toString(), 'hi');
  await rejects(contentOf(image, { ...m.get('small')!, type: 'directory' }), InvalidArgument, /not a regular file/);
});

test('a directory of many sectors is read whole (in chunks), in all three trees', async () => {
  const names = Array.from({ length: 1500 }, (_, i) => `file-${String(i).padStart(4, '0')}`);
  const img = await isoBuffer(dir('', [dir('many', names.map((n) => file(n, n)))]));
  for (const tree of ['rock-ridge', 'joliet', 'iso9660'] as const) {
    const image = await open(img, { names: tree });
    const entries = await image.entries();
    assert.equal(entries.length, 1501, tree);
    assert.ok(entries[0]!.sizeBytes > 32 * SECTOR, `the directory spans more than one read (${entries[0]!.sizeBytes} bytes)`);
    const last = entries[1500]!;
    assert.equal(last.name, tree === 'iso9660' ? 'file_1499' : 'file-1499');
    assert.equal((await contentOf(image, last)).toString(), 'file-1499');
  }
});

test('name tree selection: auto prefers Rock Ridge, then Joliet, then ISO 9660', async () => {
  const root = dir('', [file('Mixed Case.txt', 'a'), file('README', 'b'), file('x'.repeat(70) + '.conf', 'c'), dir('sub.d', [file('in', 'd')])]);
  const all = await isoBuffer(root);
  const names = async (img: Buffer, o: IsoOpenOptions = {}): Promise<string[]> => (await list(img, o)).map((e) => e.path);
  assert.deepEqual(await names(all), ['Mixed Case.txt', 'README', 'sub.d', 'sub.d/in', 'x'.repeat(70) + '.conf']);
  // Joliet: ';1' stripped, 64-character limit with the extension kept (as the writer truncates).
  assert.deepEqual(await names(all, { names: 'joliet' }), ['Mixed Case.txt', 'README', 'sub.d', 'sub.d/in', 'x'.repeat(59) + '.conf']);
  // Plain ISO 9660 as Linux's map=normal shows it: lower case, no ';1', no trailing '.'.
  assert.deepEqual(await names(all, { names: 'iso9660' }), ['mixed_case.txt', 'readme', 'sub_d', 'sub_d/in', 'x'.repeat(26) + '.conf']);

  const noRr = await isoBuffer(root, { rockRidge: false });
  const jImage = await open(noRr);
  assert.equal(jImage.volume.names, 'joliet');
  assert.equal(jImage.volume.hasRockRidge, false);
  const j = byPath(await jImage.entries());
  // Without Rock Ridge: the modes mount gives.
  assert.equal(j.get('sub.d')!.mode, 0o40555);
  assert.equal(j.get('README')!.mode, 0o100444);
  assert.equal(j.get('sub.d')!.nlink, 2);
  await rejects(open(noRr, { names: 'rock-ridge' }), InvalidArgument, /no Rock Ridge/);

  const plain = await isoBuffer(root, { rockRidge: false, joliet: false });
  assert.equal((await open(plain)).volume.names, 'iso9660');
  assert.deepEqual(await names(plain), ['mixed_case.txt', 'readme', 'sub_d', 'sub_d/in', 'x'.repeat(26) + '.conf']);
  await rejects(open(plain, { names: 'joliet' }), InvalidArgument, /no Joliet/);
});

test('Joliet names keep characters beyond the BMP (UTF-16 pairs)', async () => {
  const img = await isoBuffer(dir('', [file('emoji-🙂.txt', 'x'), file('日本.md', 'y')]), { rockRidge: false });
  assert.deepEqual((await list(img)).map((e) => e.name), ['emoji-🙂.txt', '日本.md']);
});

test('cancellation stops the walk with Cancelled', async () => {
  const img = await isoBuffer(dir('', [dir('a', [file('b', 'c')])]));
  const ac = new AbortController();
  const image = await open(img, { signal: ac.signal });
  ac.abort();
  await rejects(image.entries(), Cancelled, /cancelled/);
});

test('errors carry the subject the caller gave', async () => {
  const img = await isoBuffer(dir('', [file('zzzescape', 'x')]));
  const bad = patch(img, 'zzzescape', '../escape');
  await assert.rejects(open(bad, { subject: '/tmp/seed.iso' }).then((i) => i.entries()), (e: unknown) => {
    assert.ok(e instanceof DataLoss);
    assert.equal(e.subject, '/tmp/seed.iso');
    return true;
  });
});

// --- hand-crafted Rock Ridge images ----------------------------------------------------------------

const both32 = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  setBoth32(b, 0, v);
  return b;
};
const susp = (sig: string, data: Buffer | number[]): Buffer => {
  const body = Buffer.from(data);
  return Buffer.concat([Buffer.from(sig, 'latin1'), Buffer.from([4 + body.length, 1]), body]);
};
const SP = (skip: number): Buffer => susp('SP', [0xbe, 0xef, skip]);
const ER = (): Buffer => susp('ER', [10, 0, 0, 1, ...Buffer.from('RRIP_1991A')]);
const PX = (mode: number, nlink = 1, uid = 0, gid = 0, ino?: number): Buffer =>
  susp('PX', Buffer.concat([both32(mode), both32(nlink), both32(uid), both32(gid), ...(ino === undefined ? [] : [both32(ino)])]));
const NM = (flags: number, name: string): Buffer => susp('NM', Buffer.concat([Buffer.from([flags]), Buffer.from(name)]));
const SL = (flags: number, comps: readonly [number, string][]): Buffer =>
  susp('SL', Buffer.concat([Buffer.from([flags]), ...comps.map(([f, t]) => Buffer.concat([Buffer.from([f, Buffer.byteLength(t)]), Buffer.from(t)]))]));
const CE = (lba: number, offset: number, length: number): Buffer => susp('CE', Buffer.concat([both32(lba), both32(offset), both32(length)]));
const CL = (lba: number): Buffer => susp('CL', both32(lba));
const PL = (lba: number): Buffer => susp('PL', both32(lba));
const RE = (): Buffer => susp('RE', []);
/** TF with LONG_FORM: each stamp "YYYYMMDDHHMMSScc" plus a signed 15-minute GMT offset. */
const TF_LONG = (flags: number, stamps: readonly [string, number][]): Buffer =>
  susp('TF', Buffer.concat([Buffer.from([flags | 0x80]), ...stamps.map(([s, tz]) => Buffer.concat([Buffer.from(s, 'latin1'), Buffer.from([tz & 0xff])]))]));
/** Three bytes that would parse as garbage if SP's LEN_SKP were ignored. */
const SKIP = Buffer.from([0x4a, 0x4b, 0x4c]);

function record(id: string | Buffer, lba: number, size: number, flags: number, su: Buffer[] = []): Buffer {
  const idb = typeof id === 'string' ? Buffer.from(id, 'latin1') : id;
  const pad = idb.length % 2 === 0 ? 1 : 0;
  const body = Buffer.concat(su);
  let len = 33 + idb.length + pad + body.length;
  if (len % 2 === 1) len++;
  assert.ok(len <= 255);
  const b = Buffer.alloc(len);
  b[0] = len;
  setBoth32(b, 2, lba);
  setBoth32(b, 10, size);
  b.set([120, 1, 2, 3, 4, 5, 0], 18); // 2020-01-02 03:04:05 UTC
  b[25] = flags;
  b.writeUInt16LE(1, 28);
  b.writeUInt16BE(1, 30);
  b[32] = idb.length;
  idb.copy(b, 33);
  body.copy(b, 33 + idb.length + pad);
  return b;
}
const DOT = Buffer.from([0]);
const DOTDOT = Buffer.from([1]);

function craftIso(sectors: Record<number, Buffer>, totalSectors: number, root: { lba: number; size: number }): Buffer {
  const img = Buffer.alloc(totalSectors * SECTOR);
  const pvd = img.subarray(16 * SECTOR, 17 * SECTOR);
  pvd[0] = 1;
  pvd.write('CD001', 1, 'latin1');
  pvd[6] = 1;
  pvd.write('CRAFTED'.padEnd(32), 40, 'latin1');
  setBoth32(pvd, 80, totalSectors);
  pvd.writeUInt16LE(2048, 128);
  pvd.writeUInt16BE(2048, 130);
  record(DOT, root.lba, root.size, 2).copy(pvd, 156);
  const term = img.subarray(17 * SECTOR, 18 * SECTOR);
  term[0] = 255;
  term.write('CD001', 1, 'latin1');
  term[6] = 1;
  for (const [at, data] of Object.entries(sectors)) {
    assert.ok(data.length <= SECTOR, 'a crafted sector overflows');
    data.copy(img, Number(at) * SECTOR);
  }
  return img;
}

/**
 * A genisoimage-style relocated tree: /a/b was moved to /rr_moved/b (RE there, a CL placeholder in
 * /a, PL in its ".."), SP with LEN_SKP 3, PX with inode numbers, TF in the 17-byte form, NM split
 * over two entries, and a symlink whose SL continues (mid-component) in a CE area.
 */
function relocatedImage(o: { slArea?: Buffer; dropPl?: boolean; reOnB?: boolean; nmFlags?: number } = {}): Buffer {
  const slArea = o.slArea ?? SL(0, [[0, 'r'], [0, 'bin']]);
  const rootRecs = [
    record(DOT, 20, SECTOR, 2, [SP(3), PX(0o40755, 4), ER()]),
    record(DOTDOT, 20, SECTOR, 2, [SKIP, PX(0o40755, 4)]),
    record('A', 21, SECTOR, 2, [SKIP, NM(0, 'a'), PX(0o40711, 3)]),
    record('LINK.;1', 0, 0, 0, [SKIP, NM(0, 'link'), PX(0o120777), SL(1, [[8, ''], [1, 'us']]), CE(25, 100, slArea.length)]),
    record('NAMEA.;1', 30, 5, 0, [
      SKIP, NM(o.nmFlags ?? 1, 'long-'), NM(0, 'name'), PX(0o100640, 1, 1000, 100, 77),
      TF_LONG(0x03, [['2001010100000000', 0], ['2021063012345678', 8]]),
    ]),
    record('RR_MOVED', 22, SECTOR, 2, [SKIP, NM(0, 'rr_moved'), PX(0o40555, 3)]),
  ];
  const aRecs = [
    record(DOT, 21, SECTOR, 2, [SKIP, PX(0o40711, 3)]),
    record(DOTDOT, 20, SECTOR, 2, [SKIP, PX(0o40755, 4)]),
    record('B', 0, 0, 0, [SKIP, NM(0, 'b'), PX(0o40750, 2), CL(23)]),
  ];
  const movedRecs = [
    record(DOT, 22, SECTOR, 2, [SKIP, PX(0o40555, 3)]),
    record(DOTDOT, 20, SECTOR, 2, [SKIP, PX(0o40755, 4)]),
    record('B', 23, SECTOR, 2, [SKIP, NM(0, 'b'), PX(0o40750, 2), ...(o.reOnB === false ? [] : [RE()])]),
  ];
  const bRecs = [
    record(DOT, 23, SECTOR, 2, [SKIP, PX(0o40750, 2, 5, 6)]),
    record(DOTDOT, 22, SECTOR, 2, [SKIP, PX(0o40555, 3), ...(o.dropPl === true ? [] : [PL(21)])]),
    record('C.;1', 31, 3, 0, [SKIP, NM(0, 'c'), PX(0o100600)]),
  ];
  const img = craftIso({ 20: Buffer.concat(rootRecs), 21: Buffer.concat(aRecs), 22: Buffer.concat(movedRecs), 23: Buffer.concat(bRecs), 30: Buffer.from('hello'), 31: Buffer.from('cee') }, 40, { lba: 20, size: SECTOR });
  slArea.copy(img, 25 * SECTOR + 100);
  return img;
}

test('hand-crafted Rock Ridge: SP skip, NM CONTINUE, PX 1.12, TF long form, SL over CE, CL/RE/PL relocation', async () => {
  const image = await open(relocatedImage());
  assert.equal(image.volume.names, 'rock-ridge');
  const entries = await image.entries();
  assert.deepEqual(entries.map((e) => e.path), ['a', 'a/b', 'a/b/c', 'link', 'long-name'], 'rr_moved and the RE original are hidden');
  const m = byPath(entries);
  // The relocated directory's attributes come from its own "." record.
  assert.deepEqual([m.get('a/b')!.type, m.get('a/b')!.mode, m.get('a/b')!.uid, m.get('a/b')!.gid], ['directory', 0o40750, 5, 6]);
  assert.equal(m.get('a')!.mode, 0o40711);
  assert.equal(m.get('link')!.symlinkTarget, '/usr/bin');
  const n = m.get('long-name')!;
  assert.deepEqual([n.mode, n.uid, n.gid, n.inode], [0o100640, 1000, 100, 77]);
  // 17-byte TF modify stamp, 2021-06-30 12:34:56.78 at GMT+2 (8 quarter hours).
  assert.equal(n.mtimeMs, Date.UTC(2021, 5, 30, 10, 34, 56, 780));
  assert.equal((await contentOf(image, n)).toString(), 'hello');
  assert.equal((await contentOf(image, m.get('a/b/c')!)).toString(), 'cee');
  // Record dates when there is no TF.
  assert.equal(m.get('a/b/c')!.mtimeMs, Date.UTC(2020, 0, 2, 3, 4, 5));
});

test('hand-crafted CD-XA image: SP after the 14 bytes of XA system use, as Linux looks for it', async () => {
  const xa = Buffer.concat([Buffer.alloc(6), Buffer.from('XA'), Buffer.alloc(6)]);
  const root = Buffer.concat([
    record(DOT, 20, SECTOR, 2, [xa, SP(0), PX(0o40700), ER()]),
    record(DOTDOT, 20, SECTOR, 2, [xa, PX(0o40700)]),
    record('F.;1', 21, 2, 0, [xa, NM(0, 'xa-name'), PX(0o100600)]),
  ]);
  const image = await open(craftIso({ 20: root, 21: Buffer.from('ok') }, 30, { lba: 20, size: SECTOR }));
  assert.equal(image.volume.names, 'rock-ridge');
  assert.equal(image.root.mode, 0o40700);
  assert.deepEqual((await image.entries()).map((e) => [e.path, e.mode]), [['xa-name', 0o100600]]);
});

test('hand-crafted Rock Ridge image seen as plain ISO 9660: RR_MOVED and the CL placeholder are visible', async () => {
  const entries = await list(relocatedImage(), { names: 'iso9660' });
  assert.deepEqual(entries.map((e) => `${e.path}:${e.type}:${e.mode.toString(8)}`), [
    'a:directory:40555', 'a/b:file:100444', 'link:file:100444', 'namea:file:100444',
    'rr_moved:directory:40555', 'rr_moved/b:directory:40555', 'rr_moved/b/c:file:100444',
  ]);
});

test('crafted relocation errors: CL to a directory also reachable directly, ".." without PL', async () => {
  await rejects(list(relocatedImage({ reOnB: false })), DataLoss, /directory "\/rr_moved\/b" at LBA 23: visited twice \(a directory loop\)/);
  await rejects(list(relocatedImage({ dropPl: true })), DataLoss, /directory record at LBA 23 offset \d+: "\.\." points to LBA 22, the parent directory is at LBA 21/);
});

test('crafted SUSP errors: CE loop, NM PARENT, SL overrun, entry overrun, CE beyond the image', async () => {
  const loopArea = Buffer.concat([SL(1, [[0, 'r']]), CE(25, 100, 13 + 28)]);
  await rejects(list(relocatedImage({ slArea: loopArea })), DataLoss, /continuation area at LBA 25 offset 100: a CE loop/);
  await rejects(list(relocatedImage({ nmFlags: 4 })), DataLoss, /NM names the entry "\." or "\.\."/);
  const overrun = SL(0, [[0, 'bin']]);
  overrun[6] = 200; // the component claims 200 bytes
  await rejects(list(relocatedImage({ slArea: overrun })), DataLoss, /SL entry at byte 0: component of 200 bytes at byte 5 overruns the entry/);
  const longEntry = SL(0, [[0, 'bin']]);
  longEntry[2] = 250;
  await rejects(list(relocatedImage({ slArea: longEntry })), DataLoss, /system use entry SL \(250 bytes\) at byte 0 overruns its area of 10 bytes/);
  const withLinkCe = (ce: Buffer): Buffer => {
    const img = relocatedImage();
    record('LINK.;1', 0, 0, 0, [SKIP, NM(0, 'link'), PX(0o120777), SL(1, [[8, ''], [1, 'us']]), ce]).copy(img, img.indexOf(Buffer.from('LINK.;1')) - 33);
    return img;
  };
  await rejects(list(withLinkCe(CE(9999, 0, 10))), DataLoss, /continuation area at LBA 9999 offset 0: 10 bytes beyond the end of the image \(40 sectors\)/);
  await rejects(list(withLinkCe(CE(25, 2040, 20))), DataLoss, /continuation area at LBA 25 offset 2040: 20 bytes at offset 2040 run past the end of the sector/);
});

// --- corrupt images from our writer --------------------------------------------------------------

const small = (): SourceDirectory => dir('', [dir('sub', [file('inner', 'inner data')]), file('zzzescape', 'x'), file('aaa', 'a'), file('bbb', 'b'), file('ab', 'plain')]);

test('not an ISO image, too small, truncated, no PVD, bad standard identifier', async () => {
  await rejects(open(Buffer.alloc(40 * SECTOR)), InvalidArgument, /not an ISO 9660 image: no "CD001" volume descriptor at sector 16/);
  await rejects(open(Buffer.alloc(1000)), InvalidArgument, /not an ISO 9660 image: 1000 bytes is too small/);
  const img = await isoBuffer(small());
  await rejects(open(img.subarray(0, img.length - 3 * SECTOR)), DataLoss, /the image is truncated: the primary volume descriptor records \d+ sectors, the image has \d+/);
  await rejects(open(img.subarray(0, 17 * SECTOR + 100)), DataLoss, /the image is truncated: the volume descriptor set runs past its end at sector 17/);
  const noPvd = Buffer.from(img);
  noPvd[16 * SECTOR] = 3; // a volume partition descriptor instead
  await rejects(open(noPvd), DataLoss, /no primary volume descriptor/);
  const badId = Buffer.from(img);
  badId.write('CD002', 17 * SECTOR + 1, 'latin1');
  await rejects(open(badId), DataLoss, /volume descriptor at sector 17: standard identifier "CD002", "CD001" expected/);
  const block512 = Buffer.from(img);
  block512.writeUInt16LE(512, 16 * SECTOR + 128);
  await rejects(open(block512), Unimplemented, /logical block size 512; only 2048 is supported/);
});

test('extents beyond the image and records that overrun their sector', async () => {
  const img = await isoBuffer(small());
  const sectors = img.length / SECTOR;
  const root = rootOf(img);
  const far = Buffer.from(img);
  const inner = child(far, child(far, root.lba, 'SUB').lba, 'INNER.;1');
  setBoth32(far, inner.at + 2, 99999);
  await rejects(list(far), DataLoss, new RegExp(`directory record at LBA \\d+ offset ${inner.at % SECTOR}: extent 99999\\+1 beyond the end of the image \\(${sectors} sectors\\)`));

  const bigDir = Buffer.from(img);
  const sub = child(bigDir, root.lba, 'SUB');
  setBoth32(bigDir, sub.at + 10, 500 * SECTOR);
  await rejects(list(bigDir), DataLoss, new RegExp(`directory "/sub" at LBA ${sub.lba}: extent ${sub.lba}\\+500 beyond the end of the image`));

  const recs = recordsAt(img, root.lba);
  const last = recs[recs.length - 1]!;
  const tiny = Buffer.from(img);
  tiny[last.at] = 20;
  await rejects(list(tiny), DataLoss, /record length 20 is below the minimum of 34/);
  const idOverrun = Buffer.from(img);
  idOverrun[recs[2]!.at + 32] = 250;
  await rejects(list(idOverrun), DataLoss, /file identifier of 250 bytes overruns the record/);
});

test('a record that runs past the end of its sector', async () => {
  // ECMA-119 6.8.1.1: records never span sectors. Fill the root sector up to byte 2018, then a
  // record that claims 60 bytes.
  const PD = (n: number): Buffer => susp('PD', Buffer.alloc(n));
  const fillers = Array.from({ length: 9 }, (_, i) => record(`F${i}.;1`, 0, 0, 0, [PD(200 - 33 - 5 - 4)]));
  const last = record('G.;1', 0, 0, 0, [PD(150 - 33 - 4 - 1 - 4)]);
  const head = Buffer.concat([record(DOT, 20, SECTOR, 2), record(DOTDOT, 20, SECTOR, 2), ...fillers, last]);
  assert.equal(head.length, 2018);
  const sector = Buffer.alloc(SECTOR);
  head.copy(sector);
  record('H.;1', 0, 0, 0, [PD(60 - 33 - 4 - 1 - 4)]).copy(sector, 2018, 0, 30);
  await rejects(list(craftIso({ 20: sector }, 30, { lba: 20, size: SECTOR })), DataLoss, /directory record at LBA 20 offset 2018: record length 60 overruns the sector \(30 bytes left\)/);
});

test('directory loops and ".." weirdness', async () => {
  const img = await isoBuffer(small());
  const root = rootOf(img);
  const loop = Buffer.from(img);
  const sub = child(loop, root.lba, 'SUB');
  setBoth32(loop, sub.at + 2, root.lba); // /sub is the root again
  await rejects(list(loop), DataLoss, new RegExp(`directory "/sub" at LBA ${root.lba}: visited twice \\(a directory loop\\)`));
  const dotdot = Buffer.from(img);
  const subDotDot = recordsAt(dotdot, sub.lba)[1]!;
  setBoth32(dotdot, subDotDot.at + 2, 5);
  await rejects(list(dotdot), DataLoss, new RegExp(`directory record at LBA ${sub.lba} offset ${subDotDot.at % SECTOR}: "\\.\\." points to LBA 5, the parent directory is at LBA ${root.lba}`));
  const noDot = Buffer.from(img);
  noDot[recordsAt(noDot, sub.lba)[0]!.at + 33] = 0x41;
  await rejects(list(noDot), DataLoss, /directory "\/sub" at LBA \d+: the first record is not "\."/);
});

test('invalid and duplicate names in Rock Ridge NM, Joliet and plain identifiers', async () => {
  const img = await isoBuffer(small());
  await rejects(list(patch(img, 'zzzescape', '../escape')), DataLoss, /directory record at LBA \d+ offset \d+: invalid file name "\.\.\/escape"/);
  await rejects(list(patch(img, 'NM\x07\x01\x00ab', 'NM\x07\x01\x00..')), DataLoss, /invalid file name "\.\."/);
  await rejects(list(patch(img, 'NM\x07\x01\x00ab', 'NM\x07\x01\x00a\0')), DataLoss, /invalid file name "a\\u0000"/);
  await rejects(list(patch(img, 'NM\x08\x01\x00bbb', 'NM\x08\x01\x00aaa')), DataLoss, /a second entry named "aaa"/);
  // Joliet: UCS-2 "ab;1" -> "a/;1", and a name made of dots.
  await rejects(list(patch(img, ucs2('ab;1'), ucs2('a/;1')), { names: 'joliet' }), DataLoss, /invalid file name "a\/"/);
  await rejects(list(patch(img, ucs2('ab;1'), ucs2('..;1')), { names: 'joliet' }), DataLoss, /invalid file name "\.\."/);
  const oddJoliet = Buffer.from(img);
  const jRoot = rootOf(oddJoliet, 17);
  const jRec = child(oddJoliet, jRoot.lba, ucs2('ab;1'));
  oddJoliet[jRec.at + 32] = 7;
  await rejects(list(oddJoliet, { names: 'joliet' }), DataLoss, /Joliet file identifier of odd length 7/);
  // Plain: "AB.;1" -> "A/.;1" and a NUL.
  await rejects(list(patch(img, 'AB.;1', 'A/.;1'), { names: 'iso9660' }), DataLoss, /invalid file name "a\/"/);
  await rejects(list(patch(img, 'AB.;1', 'A\0.;1'), { names: 'iso9660' }), DataLoss, /invalid file name "a\\u0000"/);
  await rejects(list(patch(img, 'BBB.;1', 'AAA.;1'), { names: 'iso9660' }), DataLoss, /a second entry named "aaa"/);
});

test('multi-extent files concatenate their extents; a missing final extent is refused', async () => {
  const first = Buffer.alloc(SECTOR, 0x61);
  const img = await isoBuffer(dir('', [file('m1', first), file('m2', 'tail')]), { rockRidge: false, joliet: false });
  const root = rootOf(img);
  const m1 = child(img, root.lba, 'M1.;1');
  const multi = patch(img, 'M2.;1', 'M1.;1');
  multi[m1.at + 25] = multi[m1.at + 25]! | 0x80;
  const image = await open(multi);
  const entries = await image.entries();
  assert.deepEqual(entries.map((e) => e.path), ['m1']);
  assert.equal(entries[0]!.sizeBytes, SECTOR + 4);
  assert.equal(entries[0]!.extents.length, 2);
  assert.deepEqual(await contentOf(image, entries[0]!), Buffer.concat([first, Buffer.from('tail')]));
  const unfinished = Buffer.from(img);
  const m2 = child(unfinished, root.lba, 'M2.;1');
  unfinished[m2.at + 25] = unfinished[m2.at + 25]! | 0x80;
  await rejects(list(unfinished), DataLoss, /multi-extent file without its final extent/);
  const renamed = Buffer.from(img);
  renamed[m1.at + 25] = renamed[m1.at + 25]! | 0x80;
  await rejects(list(renamed), DataLoss, /multi-extent file continues with a record of another name/);
});

test('limits: entries, depth, continuation areas, symlink target length', async () => {
  let deep: SourceDirectory = dir('leaf', []);
  for (let i = 0; i < 12; i++) deep = dir(`d${i}`, [deep]);
  const img = await isoBuffer(dir('', [deep, link('huge', HUGE_TARGET), ...Array.from({ length: 30 }, (_, i) => file(`f${i}`, 'x'))]));
  assert.equal((await list(img)).length, 13 + 1 + 30);
  await rejects(list(img, { limits: { maxEntries: 20 } }), ResourceExhausted, /more than 20 directory records in the image \(limit maxEntries\)/);
  await rejects(list(img, { limits: { maxDepth: 5 } }), ResourceExhausted, /"\/d11\/d10\/d9\/d8\/d7\/d6" is deeper than 5 levels/);
  await rejects(list(img, { limits: { maxContinuationAreas: 1 } }), ResourceExhausted, /more than 1 SUSP continuation areas/);
  await rejects(list(img, { limits: { maxSymlinkTargetBytes: 1000 } }), DataLoss, /symbolic link target longer than 1000 bytes/);
  await rejects(list(img, { limits: { maxPathBytes: 30 } }), ResourceExhausted, /path longer than 30 bytes/);
  await assert.rejects(open(img, { limits: { maxEntries: -1 } }), InvalidArgument);
});

test('decodeLongDate: the 17-byte form, "not specified" and garbage', () => {
  const d = Buffer.from('2023111422132000\x00', 'latin1');
  assert.equal(decodeLongDate(d, 0), Date.UTC(2023, 10, 14, 22, 13, 20));
  assert.equal(decodeLongDate(Buffer.from('0000000000000000\x00', 'latin1'), 0), undefined);
  assert.equal(decodeLongDate(Buffer.from('20231114xx132000\x00', 'latin1'), 0), undefined);
  assert.equal(decodeLongDate(Buffer.from('2023111422132000\xfc', 'latin1'), 0), Date.UTC(2023, 10, 14, 23, 13, 20)); // GMT-1
});
