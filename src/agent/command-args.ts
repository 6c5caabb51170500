// Arguments of an atomicd subcommand (`atomicd run`, `atomicd provision`): node:util parseArgs,
// strict; a usage error prints the message and the usage (exit 2), --help prints the usage (exit 0).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type CommandValues = Record<string, string | boolean | string[] | undefined>;

/** The parsed values, or the exit code when the command must end here. */
export function parseCommandArgs(command: string, usage: string, args: readonly string[], options: NonNullable<ParseArgsConfig['options']>): CommandValues | number {
  let values: CommandValues;
  try {
    values = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true }).values as CommandValues;
  } catch (e) {
    process.stderr.write(`atomicd ${command}: ${e instanceof Error ? e.message : String(e)}\n${usage}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(usage);
    return 0;
  }
  return values;
}
