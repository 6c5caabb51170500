'use strict';
// Loader of the libostree addon (build/Release/atomic_ostree.node, built by `npm run
// build:native`). Types: index.d.ts. Only src/adapters/ostree/ imports this file.
const path = require('node:path');

/** A GLib error from libostree: `domain` is the GQuark string, `code` the enum value in it. */
class OstreeError extends Error {
  constructor(message, domain, code) {
    super(message);
    this.domain = domain;
    this.code = code;
  }

  get name() {
    return 'OstreeError';
  }
}

const addon = require(path.join(__dirname, 'build', 'Release', 'atomic_ostree.node'));
addon.setErrorClass(OstreeError);

module.exports = {
  OstreeError,
  Cancellable: addon.Cancellable,
  Repo: addon.Repo,
  Sysroot: addon.Sysroot,
  Deployment: addon.Deployment,
  errorDomains: addon.errorDomains,
  ioErrorCodes: addon.ioErrorCodes,
  gpgErrorCodes: addon.gpgErrorCodes,
  nativeErrorCodes: addon.nativeErrorCodes,
  libostreeVersion: addon.libostreeVersion,
};
