// Builds the two commands users run, dist/bin/atomic.cjs and dist/bin/atomicd.cjs:
//   - dist/bundle/{atomic,atomic-media,atomicd,atomicd-provision}.cjs: the CLI's, its media
//     commands' (iso, seed, cloud-init: src/cli/media-main.ts), the agent's and its provisioning
//     pass's code (dist/src from tsc, and the third-party packages), one CommonJS file each. Node.js 20 resolves, reads and
//     compiles every ES module file on its own (~75 files for a provisioning pass) and can cache
//     none of that work; one CommonJS file can be given a V8 code cache.
//   - the code caches: each bundle is run on typical work (warm-up commands below) and V8's
//     bytecode of what that compiled is saved next to it (src/lib/code-cache.ts loads it).
//   - dist/bin/*.cjs: src/lib/code-cache.ts's runBundle, pointed at the bundle for the command
//     line (src/lib/entry-bundles.ts): the package's "bin".
// The bundles keep the dist/src layout's file locations: `import.meta.url` in each file becomes
// that file's URL under dist/src, so the native addons, the monitor, workers and the QEMU relay
// are found as they are without bundling.
//
// Run after tsc and scripts/vendor-deps.mjs by `npm run build`.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const bundleDir = join(dist, 'bundle');
const binDir = join(dist, 'bin');
const HEADER = '// atomic-bundle ';
// The agent's Node.js options (src/core/image/os-units.ts AGENT_NODE_FLAGS) get a cache of their own.
const { AGENT_NODE_FLAGS } = await import(join(dist, 'src', 'core', 'image', 'os-units.js'));

// `import.meta.url` of each bundled file -> the URL that file has in dist/, computed from the
// bundle's own directory at run time (the tree may be installed anywhere, e.g. in an image).
const importMetaUrl = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      const rel = relative(bundleDir, args.path).split('\\').join('/');
      const out = text.replace(/\bimport\.meta\.url\b/g, `__atomicFileUrl(${JSON.stringify(rel)})`);
      if (/\bimport\.meta\b/.test(out)) throw new Error(`${args.path}: import.meta other than import.meta.url cannot be bundled`);
      return { contents: out, loader: 'js' };
    });
  },
};

// `await import('node:https')` (a built-in loaded only when needed) would stay an import() in a
// CommonJS bundle; routed through a one-line CommonJS module it becomes a require() when reached.
const builtinImports = {
  name: 'builtin-dynamic-import',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, namespace: 'builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

// commander requires node:child_process (with net, dgram and the streams: ~6 ms) when it loads,
// for git-style executable subcommands, which atomic does not use; required when first called.
const commanderLazySpawn = {
  name: 'commander-lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      if (!text.includes(eager)) throw new Error(`${args.path}: no \`${eager}\` to make lazy (commander changed?)`);
      return { contents: text.replace(eager, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"), loader: 'js' };
    });
  },
};

rmSync(bundleDir, { recursive: true, force: true });
mkdirSync(bundleDir, { recursive: true });
mkdirSync(binDir, { recursive: true });

const entries = [
  { name: 'atomic', entry: join(dist, 'src', 'cli', 'main.js') },
  { name: 'atomic-media', entry: join(dist, 'src', 'cli', 'media-main.js') },
  { name: 'atomicd', entry: join(dist, 'src', 'agent', 'main.js') },
  { name: 'atomicd-provision', entry: join(dist, 'src', 'agent', 'provision-main.js') },
];
for (const { name, entry } of entries) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Whitespace and syntax only: names stay, so stack traces (atomic --debug) stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    charset: 'ascii',
    legalComments: 'eof',
    // Big and only for `image publish aws`: loaded from node_modules when that runs.
    external: ['@aws-sdk/*'],
    plugins: [importMetaUrl, builtinImports, commanderLazySpawn],
    // commander itself (its CommonJS build), not dist/vendor's ES-module wrapper.
    // (#yaml is not bundled: core/cloud-config/yaml-package.ts require()s dist/vendor/yaml.cjs when needed.)
    alias: { '#commander': 'commander' },
    // Defined before any bundled code; `require` here is the bundle's own, never a module's.
    banner: { js: 'var __atomicFileUrl = (rel) => require("node:url").pathToFileURL(require("node:path").join(__dirname, rel)).href;' },
    write: false,
    logLevel: 'warning',
    logOverride: { 'empty-import-meta': 'error' },
  });
  // The entry's `#!` line is the launcher's business (dist/bin), not the bundle's.
  const code = result.outputFiles[0].text.replace(/^#![^\n]*\n/, '');
  // The loader reads the file as latin1 and runs it without a module loader for import().
  if (Buffer.byteLength(code, 'utf8') !== code.length) throw new Error(`${name}: bundle is not ASCII`);
  if (/\bimport\(/.test(code)) throw new Error(`${name}: bundle still has a dynamic import() (vm.Script has no loader for it)`);
  const id = createHash('sha256').update(code).digest('hex');
  writeFileSync(join(bundleDir, `${name}.cjs`), `${HEADER}${id}\n${code}`);
}

// The launchers: runBundle from src/lib/code-cache.ts, pointed at the bundle for the command line.
const launchers = [
  { name: 'atomic', flags: [], contents: "require('./dist/src/lib/code-cache.js').runBundle(require('node:path').join(__dirname, '..', 'bundle', require('./dist/src/lib/entry-bundles.js').bundleFor(process.argv)));" },
  { name: 'atomicd', flags: AGENT_NODE_FLAGS, contents: "const e = require('./dist/src/lib/entry-bundles.js').agentEntryFor(process.argv); require('./dist/src/lib/code-cache.js').runBundle(require('node:path').join(__dirname, '..', 'bundle', e.bundle), { useCache: e.useCache });" },
];
for (const { name, flags, contents } of launchers) {
  await build({
    stdin: { contents, resolveDir: root, sourcefile: `bin-${name}.cjs` },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: `#!/usr/bin/env ${flags.length === 0 ? 'node' : `-S node ${flags.join(' ')}`}\n// ${name}: runs its bundle in dist/bundle with the bundle's V8 code cache (scripts/bundle-entries.mjs).` },
    outfile: join(binDir, `${name}.cjs`),
    logLevel: 'warning',
  });
}

// Warm-up: typical runs write the caches (each run adds what it compiled to what it loaded).
const work = mkdtempSync(join(tmpdir(), 'atomic-warmup-'));
try {
  const examples = join(root, 'cloud-init', 'examples');
  const seedDir = join(work, 'seed');
  mkdirSync(seedDir);
  writeFileSync(join(seedDir, 'meta-data'), 'instance-id: iid-warmup\nlocal-hostname: warmup\n');
  writeFileSync(join(seedDir, 'user-data'), [
    '#cloud-config',
    'hostname: warmup',
    'manage_etc_hosts: true',
    'write_files:',
    '  - path: /etc/warmup.conf',
    '    content: "x=1\\n"',
    '    permissions: "0640"',
    '  - path: /etc/warmup.b64',
    '    encoding: b64',
    '    content: eD0xCg==',
    '',
  ].join('\n'));
  const runs = [
    // The whole CLI: its command declarations (run on every start), the help, and the container
    // commands' way to the agent up to the connection (no agent here: they exit 125 and 1, as
    // docker does, after the request is built).
    { name: 'atomic', flags: [], args: ['--help'] },
    { name: 'atomic', flags: [], args: ['-H', `unix://${join(work, 'none.sock')}`, 'run', '--rm', '--network', 'none', 'busybox', 'true'], status: 125 },
    { name: 'atomic', flags: [], args: ['-H', `unix://${join(work, 'none.sock')}`, 'ps', '-a'], status: 1 },
    // seed and cloud-init: the media bundle (src/lib/entry-bundles.ts).
    { name: 'atomic', flags: [], args: ['seed', 'create', '-o', join(work, 'a.iso'), '--user-data', join(examples, 'web-host', 'user-data')] },
    { name: 'atomic', flags: [], args: ['seed', 'create', join(work, 'b.iso'), join(examples, 'web-host', 'user-data'), join(seedDir, 'meta-data')] },
    { name: 'atomic', flags: [], args: ['cloud-init', 'validate', ...['user-data', 'meta-data', 'network-config'].map((f) => join(examples, 'web-host', f))] },
    // Provisioning, twice (a new instance, then the same one), with and without the agent's flags.
    // Not as root, write_files cannot give its files to root: exit 1 after running every module.
    ...[[], AGENT_NODE_FLAGS].flatMap((flags, i) => {
      const args = ['--log-level', 'error', 'provision', '--root', join(work, `root${i}`), '--seed', seedDir, '--state-dir', join(work, `state${i}`)];
      const status = process.getuid?.() === 0 ? 0 : [0, 1];
      return [{ name: 'atomicd', flags, args, status }, { name: 'atomicd', flags, args, status }];
    }),
  ];
  for (const r of runs) {
    if (r.args.includes('--root')) {
      // The least of a root tree that write_files' owners resolve in.
      const etc = join(r.args[r.args.indexOf('--root') + 1], 'etc');
      mkdirSync(etc, { recursive: true });
      writeFileSync(join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
      writeFileSync(join(etc, 'group'), 'root:x:0:\n');
    }
    const p = spawnSync(process.execPath, [...r.flags, join(binDir, `${r.name}.cjs`), ...r.args], {
      env: { ...process.env, ATOMIC_WRITE_CODE_CACHE: '1' },
      encoding: 'utf8',
    });
    if (![r.status ?? 0].flat().includes(p.status)) throw new Error(`warm-up ${r.name} ${r.args.join(' ')} exited ${p.status}: ${p.stderr}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
// Every short-lived entry has its cache (atomicd.cjs runs the daemon, without one).
const caches = readdirSync(bundleDir).filter((f) => f.endsWith('.v8cache')).map((f) => f.replace(/\.[0-9a-f]{16}(\.[0-9a-f]{8})?\.v8cache$/, (_, flags) => (flags === undefined ? '' : ' (agent flags)'))).sort();
const expected = ['atomic-media.cjs', 'atomic.cjs', 'atomicd-provision.cjs', 'atomicd-provision.cjs (agent flags)'];
if (JSON.stringify(caches) !== JSON.stringify(expected)) throw new Error(`code caches: expected ${expected.join(', ')}; found ${caches.join(', ')}`);
