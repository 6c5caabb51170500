// Lint, and the layer rule of shared/DESIGN.md: lib <- formats <- core <- adapters <- {agent, cli}.
// A file may import only from its own layer or the layers to its left; `native/` only from
// adapters/ostree (and its fs-tree addon only from adapters/fs-tree/fs-tree-addon.ts). CI fails on any upward import.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const upward = (layers, why) => ({
  group: layers.flatMap((l) => [`**/${l}/**`, `**/${l}`]),
  message: why,
});
const noWorld = {
  group: ['node:fs', 'node:fs/*', 'node:net', 'node:http', 'node:https', 'node:child_process', 'fs', 'net', 'child_process'],
  message: 'formats/ and core/ are pure: the world (fs, net, processes) is reached through src/adapters/.',
};
// lib/builtin.ts hands out node:fs and node:child_process through require() (start-up time):
// the same world, so the pure layers may not take them from there either.
const noWorldViaBuiltin = {
  group: ['**/lib/builtin.js'],
  importNames: ['requireFs', 'requireChildProcess'],
  message: 'formats/ and core/ are pure: the world (fs, processes) is reached through src/adapters/.',
};
const layerRule = (...patterns) => ['error', { patterns }];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // native/index.cjs: the addon's CommonJS loader.
    files: ['native/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/lib/**/*.ts'],
    rules: { 'no-restricted-imports': layerRule(upward(['formats', 'core', 'adapters', 'agent', 'cli', 'native'], 'src/lib imports node:* only.')) },
  },
  {
    files: ['src/formats/**/*.ts'],
    rules: { 'no-restricted-imports': layerRule(upward(['core', 'adapters', 'agent', 'cli', 'native'], 'src/formats may import src/lib only.'), noWorld, noWorldViaBuiltin) },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': layerRule(upward(['adapters', 'agent', 'cli', 'native'], 'src/core may import lib and formats only.'), noWorld, noWorldViaBuiltin) },
  },
  {
    files: ['src/adapters/**/*.ts'],
    ignores: ['src/adapters/ostree/**', 'src/adapters/fs-tree/fs-tree-addon.ts'],
    rules: { 'no-restricted-imports': layerRule(upward(['agent', 'cli', 'native'], 'src/adapters may import lib, formats and core; native only from adapters/ostree (and the fs-tree addon from adapters/fs-tree/fs-tree-addon.ts).')) },
  },
  {
    // The one user of native/fs-tree.cjs (the kernel-copy addon).
    files: ['src/adapters/fs-tree/fs-tree-addon.ts'],
    rules: { 'no-restricted-imports': layerRule(upward(['agent', 'cli'], 'src/adapters may import lib, formats, core and native/fs-tree.cjs.')) },
  },
  {
    files: ['src/adapters/ostree/**/*.ts'],
    rules: { 'no-restricted-imports': layerRule(upward(['agent', 'cli'], 'src/adapters may import lib, formats, core and native.')) },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: { 'no-restricted-imports': layerRule(upward(['agent', 'native'], 'the CLI talks to the agent over its API; it never imports src/agent or native/.')) },
  },
  {
    files: ['src/agent/**/*.ts'],
    rules: { 'no-restricted-imports': layerRule(upward(['cli', 'native'], 'the agent never imports src/cli or native/ (only adapters/ostree does).')) },
  },
);
