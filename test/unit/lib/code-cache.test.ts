// The loader of dist/bin: a bundle's code cache is found by the bundle's content ID and the
// Node.js options, used when V8 accepts it, and anything wrong with it only costs compile time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_HEADER, WRITE_CACHE_ENV, bundleId, cachePath, compileBundle } from '../../../src/lib/code-cache.js';
import { DIST, run, tempDir } from '../../helpers.js';

function bundleSource(body: string): string {
  return `${BUNDLE_HEADER}${createHash('sha256').update(body).digest('hex')}\n${body}`;
}

test('bundle IDs come from the first line and must be a SHA-256', () => {
  const id = 'a'.repeat(64);
  assert.equal(bundleId(`${BUNDLE_HEADER}${id}\nmodule.exports = 1;`), id);
  assert.equal(bundleId('module.exports = 1;'), undefined);
  assert.equal(bundleId(`${BUNDLE_HEADER}${'a'.repeat(63)}\n`), undefined);
  assert.equal(bundleId(`${BUNDLE_HEADER}${'A'.repeat(64)}\n`), undefined);
});

test('a cache is named by the bundle content and the Node.js options', () => {
  const a = cachePath('/x/b.cjs', '0123456789abcdef'.repeat(4), []);
  assert.equal(a, '/x/b.cjs.0123456789abcdef.v8cache');
  const flagged = cachePath('/x/b.cjs', '0123456789abcdef'.repeat(4), ['--interrupt-budget=4194304']);
  assert.match(flagged, /^\/x\/b\.cjs\.0123456789abcdef\.[0-9a-f]{8}\.v8cache$/);
  assert.notEqual(cachePath('/x/b.cjs', 'f'.repeat(64), []), a, 'another content, another cache');
  assert.notEqual(cachePath('/x/b.cjs', '0123456789abcdef'.repeat(4), ['--max-old-space-size=64']), flagged);
});

test('a cache V8 rejects only costs a compile: the bundle still runs', () => {
  // (Each source here is new to this process: V8's in-process compilation cache would otherwise
  // answer before the code cache is looked at. Acceptance is checked across processes below.)
  const source = bundleSource(`module.exports.answer = () => 6 * 7; // ${process.pid} ${Date.now()}`);
  assert.equal(compileBundle('/virtual/a.cjs', bundleSource(`0; // ${Date.now()}`), undefined).cache, 'none');
  const bad = compileBundle('/virtual/b.cjs', source, Buffer.from('not a code cache'));
  assert.equal(bad.cache, 'rejected');
  const fn = bad.script.runInThisContext() as (e: Record<string, () => number>, r: unknown, m: { exports: Record<string, () => number> }) => void;
  const m = { exports: {} as Record<string, () => number> };
  fn(m.exports, undefined, m);
  assert.equal(m.exports.answer?.(), 42);
});

test('runBundle runs a bundle as the main module and writes its cache only when asked', (t) => {
  const dir = tempDir(t);
  const bundle = join(dir, 'b.cjs');
  writeFileSync(bundle, bundleSource('process.stdout.write(JSON.stringify({ dirname: __dirname, main: typeof module.exports, args: process.argv.slice(2) }));'));
  const launcher = join(dir, 'launch.cjs');
  // The loader as the bins use it: its ES module from dist, from a CommonJS launcher.
  writeFileSync(launcher, `import(${JSON.stringify(join(DIST, 'src', 'lib', 'code-cache.js'))}).then((m) => m.runBundle(${JSON.stringify(bundle)}));`);
  const plain = run(process.execPath, [launcher, 'a', 'b'], { env: { ...process.env, [WRITE_CACHE_ENV]: '' } });
  assert.equal(plain.status, 0, plain.stderr);
  assert.deepEqual(JSON.parse(plain.stdout), { dirname: dir, main: 'object', args: ['a', 'b'] });
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.v8cache')), [], 'no cache without the variable');

  const writing = run(process.execPath, [launcher], { env: { ...process.env, [WRITE_CACHE_ENV]: '1' } });
  assert.equal(writing.status, 0, writing.stderr);
  const source = readFileSync(bundle, 'latin1');
  const cacheFile = cachePath(bundle, bundleId(source)!, []);
  assert.ok(existsSync(cacheFile), `${cacheFile} written`);
  // Written by another process; this one has never compiled the source: V8 checks the cache.
  assert.equal(compileBundle(bundle, source, readFileSync(cacheFile)).cache, 'accepted');
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
});
