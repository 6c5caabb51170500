// Which bundle dist/bin/atomic.cjs runs for a command line (scripts/bundle-entries.mjs builds
// them): the media commands, which need neither an agent nor a sysroot, have an entry of their
// own (media-main.ts) that loads a third of the code; everything else runs main.ts. And whether
// dist/bin/atomicd.cjs loads its code cache.

/** First words of the command lines media-main.ts declares (media-commands.ts). */
export const MEDIA_COMMANDS: readonly string[] = ['iso', 'seed', 'cloud-init'];

/** The bundle's file name in dist/bundle for process.argv (node, script, words...). */
export function bundleFor(argv: readonly string[]): string {
  // Only when the command is the first word: global options (-H, --debug...) go to the whole program.
  return MEDIA_COMMANDS.includes(argv[2] ?? '') ? 'atomic-media.cjs' : 'atomic.cjs';
}

/**
 * `atomicd run` is the daemon: it starts once, and the code cache (made by provisioning runs)
 * would keep bytecode it never runs in its heap (bench: idle RSS). Everything else is short-lived.
 */
export function agentUsesCodeCache(argv: readonly string[]): boolean {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--log-level') i++;
    else if (!a.startsWith('-')) return a !== 'run';
  }
  return true;
}
