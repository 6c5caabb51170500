// atomicd's command line: the global options (--log-level, --version, --help) and the dispatch
// to a command. main.ts runs it with every command, provision-main.ts with provisioning alone.
import { parseArgs } from 'node:util';
import { agentCommandIndex } from '../lib/entry-bundles.js';
import { VERSION } from '../lib/version.js';
import { LOG_LEVELS, type LogLevel } from './log-levels.js';

const USAGE = `usage: atomicd [--log-level LEVEL] COMMAND [options]

The atomic host agent. Logs are JSON lines on standard error.

commands:
  provision   run one provisioning pass (datasource, user-data, modules) against a root tree
  run         serve the Docker-compatible Engine API on a Unix socket (and TCP with mutual TLS)

options:
  --log-level LEVEL   one of ${LOG_LEVELS.join(', ')} (default: info, or $ATOMICD_LOG_LEVEL)
  --version           print the version and exit
  -h, --help          print this help and exit

Run 'atomicd COMMAND --help' for a command's options.
`;

/** A command's entry: its own argument parsing and exit code. */
export type AgentCommand = (args: readonly string[], level: LogLevel) => Promise<number>;

/**
 * Parses the global options and runs `commands[COMMAND]` with the rest; the exit code. main.ts
 * passes every command, provision-main.ts only provisioning.
 */
export async function runAgentProgram(argv: readonly string[], commands: Readonly<Record<string, () => Promise<AgentCommand>>>): Promise<number> {
  // Global options come before the command; everything after it is the command's.
  const commandAt = agentCommandIndex(argv);
  const globalArgs = commandAt < 0 ? argv : argv.slice(0, commandAt);
  let values: { 'log-level'?: string; version?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...globalArgs],
      options: { 'log-level': { type: 'string' }, version: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`atomicd: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  if (values.version === true) {
    process.stdout.write(`atomicd ${VERSION}\n`);
    return 0;
  }
  if (values.help === true || commandAt < 0) {
    process.stdout.write(USAGE);
    return values.help === true ? 0 : 2;
  }
  const level = values['log-level'] ?? process.env.ATOMICD_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    process.stderr.write(`atomicd: --log-level ${JSON.stringify(level)}: use one of ${LOG_LEVELS.join(', ')}\n`);
    return 2;
  }
  const command = argv[commandAt]!;
  const rest = argv.slice(commandAt + 1);
  const load = Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (load === undefined) {
    process.stderr.write(`atomicd: unknown command ${JSON.stringify(command)}\n${USAGE}`);
    return 2;
  }
  return (await load())(rest, level as LogLevel);
}
