// Node.js built-in modules through require() instead of an ESM `import`, on the start-up path of
// the short-lived commands (bench/: provision):
//   - node:fs: an ESM import builds a namespace of all its exports, reading every lazy getter
//     (ReadStream, WriteStream, ... load the streams): ~10 ms on the bench machine, against ~1 ms
//     for require('node:fs'), which is already loaded inside Node.js.
//   - node:crypto, node:zlib, node:child_process, node:fs/promises cost ~2-20 ms to load however
//     they are loaded: these functions load them synchronously when first needed, so a path that
//     needs none (a password hash, gzip user-data, a subprocess) does not pay for them.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function requireFs(): typeof import('node:fs') {
  return require('node:fs') as typeof import('node:fs');
}

/** node:fs/promises (with the streams and readline it loads: ~4 ms) for the paths that use it. */
export function requireFsPromises(): typeof import('node:fs/promises') {
  return require('node:fs/promises') as typeof import('node:fs/promises');
}

export function requireCrypto(): typeof import('node:crypto') {
  return require('node:crypto') as typeof import('node:crypto');
}

export function requireZlib(): typeof import('node:zlib') {
  return require('node:zlib') as typeof import('node:zlib');
}

export function requireChildProcess(): typeof import('node:child_process') {
  return require('node:child_process') as typeof import('node:child_process');
}
