#!/usr/bin/env -S node --max-semi-space-size=1 --lite-mode
// (the Node options of core/image/os-units.ts AGENT_NODE_FLAGS: see there why)
// `atomicd`, the host agent's entry point and composition root: it parses the command line, builds
// the logger and the adapters once, and hands them to the command. Each subcommand's code is
// imported only when it runs.
//   atomicd provision --root DIR [...]   one provisioning pass (cloud-init's stages)
//   atomicd run [...]                    the daemon: the Engine API, containers, updates
import { runAgentProgram } from './program.js';

// Not a top-level await: dist/bin/atomicd.cjs runs this file bundled as CommonJS (scripts/bundle-entries.mjs).
void runAgentProgram(process.argv.slice(2), {
  provision: async () => (await import('./provision/provision-command.js')).run,
  run: async () => (await import('./run/run-command.js')).run,
}).then((code) => {
  process.exitCode = code;
});
