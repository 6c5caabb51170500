// Runs one of the CommonJS bundles of dist/bundle/ (scripts/bundle-entries.mjs) with a V8 code
// cache: the bytecode of the functions a typical run compiles, saved at build time, so a short
// command does not parse and compile its code again on every start. Node.js 20 caches nothing by
// itself (module.enableCompileCache is Node.js 22), and start-up is benchmarked against tools
// that start in a few milliseconds (`seed create` against cloud-localds, `provision`).
//
// This file is the whole of dist/bin/atomic.cjs and dist/bin/atomicd.cjs: it must stay small and
// load nothing but Node.js built-ins that are already loaded at start.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Module, createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** A bundle's first line: `// atomic-bundle ID`, ID the SHA-256 of what follows it (hex). */
export const BUNDLE_HEADER = '// atomic-bundle ';

/** Set to 1 to write the cache when the process exits (the build's warm-up runs do). */
export const WRITE_CACHE_ENV = 'ATOMIC_WRITE_CODE_CACHE';

/** The bundle's ID from its first line, or undefined when it has none. */
export function bundleId(source: string): string | undefined {
  if (!source.startsWith(BUNDLE_HEADER)) return undefined;
  const end = source.indexOf('\n');
  const id = source.slice(BUNDLE_HEADER.length, end < 0 ? undefined : end);
  return /^[0-9a-f]{64}$/.test(id) ? id : undefined;
}

/**
 * Where the cache of a bundle lives. V8 rejects a cache made by another V8 or with other flags
 * but only checks the source's length: the ID in the name is what ties a cache to one bundle's
 * content. Node.js options (execArgv) are in the name too, so the agent's flags get a cache of
 * their own instead of a rejected one.
 */
export function cachePath(bundlePath: string, id: string, execArgv: readonly string[]): string {
  const flags = execArgv.length === 0 ? '' : `.${fnv1a(execArgv.join('\0'))}`;
  return join(dirname(bundlePath), `${basename(bundlePath)}.${id.slice(0, 16)}${flags}.v8cache`);
}

/** 32-bit FNV-1a, hex: a short stable name for a set of flags (not a security boundary). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

export interface CompiledBundle {
  readonly script: Script;
  /** 'accepted', 'rejected' (made by another V8 or flags: compiled from source), or 'none'. */
  readonly cache: 'accepted' | 'rejected' | 'none';
}

/** Compiles a bundle's source as a CommonJS module function, with its cache when one is given. */
export function compileBundle(bundlePath: string, source: string, cachedData: Buffer | undefined): CompiledBundle {
  const script = new Script(Module.wrap(source), { filename: bundlePath, ...(cachedData === undefined ? {} : { cachedData }) });
  return { script, cache: cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'accepted' };
}

/**
 * Loads and runs the bundle as the main module. A missing, stale or rejected cache only costs
 * time: the source is always there and always what runs. `useCache: false` is for daemons: the
 * bytecode of every function the warm-up compiled would stay in their heap for good.
 */
export function runBundle(bundlePath: string, opts: { readonly useCache?: boolean } = {}): void {
  // The bundles are ASCII (checked when they are built), so latin1 decodes them exactly and
  // several times faster than UTF-8.
  const source = readFileSync(bundlePath, 'latin1');
  const id = bundleId(source);
  const cacheFile = id === undefined || opts.useCache === false ? undefined : cachePath(bundlePath, id, process.execArgv);
  let cachedData: Buffer | undefined;
  if (cacheFile !== undefined) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // No cache for this bundle and these flags: compile from source.
    }
  }
  const { script } = compileBundle(bundlePath, source, cachedData);
  if (cacheFile !== undefined && process.env[WRITE_CACHE_ENV] === '1') {
    // After the run, so that the functions the run compiled are in it.
    process.once('exit', () => {
      const temp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(temp, script.createCachedData());
      renameSync(temp, cacheFile);
    });
  }
  const main = new Module(bundlePath);
  main.filename = bundlePath;
  main.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(bundlePath));
  const moduleFunction = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  moduleFunction.call(main.exports, main.exports, createRequire(bundlePath), main, bundlePath, dirname(bundlePath));
}
