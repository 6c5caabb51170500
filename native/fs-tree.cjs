'use strict';
// Loader of the fs-tree addon (build/Release/atomic_fs_tree.node, built with the libostree one by
// `npm run build:native`). Types: fs-tree.d.ts. Only src/adapters/fs-tree/fs-tree-addon.ts
// imports this file. Unlike index.cjs it links nothing but libc, so loading it is cheap.
const path = require('node:path');

const addon = require(path.join(__dirname, 'build', 'Release', 'atomic_fs_tree.node'));

module.exports = { copyFileRanges: addon.copyFileRanges, lstatDirectory: addon.lstatDirectory };
