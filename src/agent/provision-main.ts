#!/usr/bin/env -S node --max-semi-space-size=1 --lite-mode
// `atomicd provision` by itself: main.ts's program with only the provisioning command, so that a
// provisioning pass (at every boot, and benchmarked) loads and caches none of the daemon's code.
// dist/bin/atomicd.cjs picks this entry by the command word (lib/entry-bundles.ts).
import { runAgentProgram } from './program.js';

void runAgentProgram(process.argv.slice(2), {
  provision: async () => (await import('./provision/provision-command.js')).run,
}).then((code) => {
  process.exitCode = code;
});
