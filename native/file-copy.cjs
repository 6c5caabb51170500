'use strict';
// Loader of the kernel file-copy addon (build/Release/atomic_file_copy.node, built with the
// libostree one by `npm run build:native`). Types: file-copy.d.ts. Only src/adapters/fs-tree/
// imports this file. Unlike index.cjs it links nothing but libc, so loading it is cheap.
const path = require('node:path');

const addon = require(path.join(__dirname, 'build', 'Release', 'atomic_file_copy.node'));

module.exports = { copyFileRanges: addon.copyFileRanges };
