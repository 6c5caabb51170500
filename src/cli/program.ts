// The `atomic` program's root (its global options) and how a command line is run: shared by
// main.ts (every command) and media-main.ts (iso, seed and cloud-init only, which start faster).
import { Command, CommanderError } from '#commander';
import { EXIT_OK, EXIT_USAGE, exitCodeFor, formatError } from './report-error.js';
import { VERSION } from '../lib/version.js';
import { commandIndex, markOperands } from './commands/container-argv.js';

export function createProgram(): Command {
  return new Command('atomic')
    .description("atomic-host toolkit: seed media, ISO images, cloud-config, OS deployments, and the agent's containers, images, volumes and networks")
    .version(VERSION, '--version', 'print the version and exit')
    .option('--debug', 'print error causes and stack traces')
    // -H before the command is rewritten to --host by runProgram() (`seed create -H` is the hostname).
    .option('--host <url>', '-H, --host: the agent: unix:///PATH or tcp://HOST:PORT (default: $ATOMIC_HOST, else unix:///run/atomic/atomic.sock)')
    .option('--tls-ca <file>', 'for a tcp:// agent: CA of its certificate (mutual TLS)')
    .option('--tls-cert <file>', 'for a tcp:// agent: our client certificate')
    .option('--tls-key <file>', 'for a tcp:// agent: its private key')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
}

/** `run IMAGE sh -c ...`: the words after the image (exec: the container) are the container's. */
function containerCommandLine(program: Command, argv: readonly string[]): string[] {
  const at = commandIndex(argv);
  const name = at < 0 ? '' : (argv[at] as string);
  const cmd = ['run', 'create', 'exec'].includes(name) ? program.commands.find((c) => c.name() === name) : undefined;
  if (cmd === undefined) return [...argv];
  return markOperands(argv, at + 1, cmd.options.map((o) => ({ ...(o.short === undefined ? {} : { short: o.short }), ...(o.long === undefined ? {} : { long: o.long }), takesValue: o.required || o.optional })));
}

/** docker's `-H URL` before the command means --host; later a command's own -H takes it. */
function hostFlagFirst(argv: readonly string[]): string[] {
  const out = [...argv];
  for (let i = 2; i < out.length; i++) {
    const a = out[i]!;
    if (!a.startsWith('-') || a === '--') break;
    if (a === '-H') out[i] = '--host';
    else if (a.startsWith('-H')) out[i] = `--host=${a.slice(2).replace(/^=/, '')}`;
    else if (!a.includes('=') && ['--host', '--tls-ca', '--tls-cert', '--tls-key'].includes(a)) i++;
  }
  return out;
}

/** Parses and runs a command line (process.argv's shape) with `program`; the exit code. */
export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync(containerCommandLine(program, hostFlagFirst(argv)));
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has already printed its message; help and --version are successes.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT_OK;
      return EXIT_USAGE;
    }
    const debug = program.opts<{ debug?: boolean }>().debug === true;
    process.stderr.write(formatError(e, debug) + '\n');
    return exitCodeFor(e);
  }
}
