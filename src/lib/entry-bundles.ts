// Which bundle dist/bin/atomic.cjs and dist/bin/atomicd.cjs run for a command line
// (scripts/bundle-entries.mjs builds them), and whether with its code cache:
//   - atomic: the media commands, which need neither an agent nor a sysroot, have an entry of
//     their own (cli/media-main.ts) with a third of the code; everything else runs cli/main.ts.
//   - atomicd: `provision` has its own entry (agent/provision-main.ts), half the code; `run`, the
//     daemon, starts once and runs without a cache: the bytecode a cache brings would stay in its
//     heap for good (bench: idle RSS).

/** First words of the command lines cli/media-main.ts declares (cli/media-commands.ts). */
export const MEDIA_COMMANDS: readonly string[] = ['iso', 'seed', 'cloud-init'];

/** The CLI's bundle (a file name in dist/bundle) for process.argv (node, script, words...). */
export function bundleFor(argv: readonly string[]): string {
  // Only when the command is the first word: global options (-H, --debug...) go to the whole program.
  return MEDIA_COMMANDS.includes(argv[2] ?? '') ? 'atomic-media.cjs' : 'atomic.cjs';
}

/**
 * Where atomicd's command word is in its arguments (process.argv without node and the script):
 * the first word that is not a global option or --log-level's value; -1 when there is none.
 * agent/program.ts parses the command line with it too.
 */
export function agentCommandIndex(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--log-level') i++;
    else if (!args[i]!.startsWith('-')) return i;
  }
  return -1;
}

/** The agent's bundle for process.argv, and whether to load its code cache. */
export function agentEntryFor(argv: readonly string[]): { readonly bundle: string; readonly useCache: boolean } {
  const args = argv.slice(2);
  const command = args[agentCommandIndex(args)];
  if (command === 'provision') return { bundle: 'atomicd-provision.cjs', useCache: true };
  return { bundle: 'atomicd.cjs', useCache: command !== 'run' };
}
