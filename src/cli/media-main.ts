#!/usr/bin/env node
// `atomic iso|seed|cloud-init ...` by themselves: the same commands as main.ts declares (from
// media-commands.ts) without the ~100 others, for the commands that run on build machines and in
// scripts, where start-up is what they cost (bench: `seed create` against cloud-localds).
// dist/bin/atomic.cjs picks this entry by the first word of the command line (lib/entry-bundles.ts).
import { addMediaCommands } from './media-commands.js';
import { createProgram, runProgram } from './program.js';

const program = createProgram();
addMediaCommands(program);
void runProgram(program, process.argv).then((code) => {
  process.exitCode = code;
  // Leaving at once skips tearing the heap down (~4 ms of `seed create`, benchmarked against
  // cloud-localds), but only when nothing is in flight. Output to a pipe is written
  // asynchronously on POSIX, and a write still pending is an active request (SimpleWriteWrap);
  // the stdio pipes and terminals themselves are all that may be left.
  if (process.getActiveResourcesInfo().every((r) => r === 'PipeWrap' || r === 'TTYWrap')) process.exit(code);
});
