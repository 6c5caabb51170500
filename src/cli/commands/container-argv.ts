// `atomic run IMAGE sh -c 'exit 3'`: everything after the image (or, for exec, the container) is
// the container's command line, flags included, as in `docker run`. Commander would parse `-c`
// as an option of `run`, so before parsing, a `--` is put in front of the first operand of these
// commands; their own flags before it are parsed as usual. Kept apart from the commands' code so
// that main.ts can use it without loading the agent client.

/** A flag of the command as commander declares it. */
export interface FlagShape {
  readonly short?: string;
  readonly long?: string;
  readonly takesValue: boolean;
}

/** The global options that take a value (they may come before the command name). */
const GLOBAL_VALUE_FLAGS: ReadonlySet<string> = new Set(['--host', '--tls-ca', '--tls-cert', '--tls-key']);

/** Index of the command name in argv (argv[0] is node, argv[1] the script), or -1. */
export function commandIndex(argv: readonly string[]): number {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return -1;
    if (!a.startsWith('-')) return i;
    if (!a.includes('=') && GLOBAL_VALUE_FLAGS.has(a)) i++;
  }
  return -1;
}

/** argv with `--` inserted before the first operand at or after `from` (unchanged if there is one already). */
export function markOperands(argv: readonly string[], from: number, flags: readonly FlagShape[]): string[] {
  const out = [...argv];
  const byLong = new Map(flags.filter((f) => f.long !== undefined).map((f) => [f.long as string, f]));
  const byShort = new Map(flags.filter((f) => f.short !== undefined).map((f) => [f.short as string, f]));
  for (let i = from; i < out.length; i++) {
    const a = out[i] as string;
    if (a === '--') return out;
    if (a.startsWith('--')) {
      if (!a.includes('=') && byLong.get(a)?.takesValue === true) i++;
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // Combined short flags (-dt); one that takes a value takes the rest (-p8080:80) or the next word.
      const letters = a.slice(1);
      for (let j = 0; j < letters.length; j++) {
        if (byShort.get(`-${letters[j] as string}`)?.takesValue === true) {
          if (j === letters.length - 1) i++;
          break;
        }
      }
      continue;
    }
    out.splice(i, 0, '--');
    return out;
  }
  return out;
}
