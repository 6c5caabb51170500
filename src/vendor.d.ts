// Types of the pre-bundled third-party packages (package.json "imports", built by
// scripts/vendor-deps.mjs): each is its npm package, bundled into one file for start-up time.
declare module '#yaml' {
  export * from 'yaml';
}
declare module '#pino' {
  // pino's typings use `export =` with a namespace, which `export *` would not carry.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the form `export =` typings need
  import pino = require('pino');
  export = pino;
}
declare module '#commander' {
  export * from 'commander';
}
