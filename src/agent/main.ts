#!/usr/bin/env node
// `atomicd`, the host agent's entry point and composition root. Today it sets up settings and the
// structured log; provisioning (cloud-init datasources), OS updates and the container engine are
// composed here as they land (issues 3-6), each constructed once and passed in, never imported as
// a singleton.
import { parseArgs } from 'node:util';
import { VERSION } from '../lib/version.js';
import { createLogger, LOG_LEVELS } from './logger.js';
import type { LevelWithSilent } from 'pino';

const USAGE = `usage: atomicd [--log-level LEVEL] [--version] [--help]

The atomic host agent. Logs are JSON lines on standard error.

options:
  --log-level LEVEL   one of ${LOG_LEVELS.join(', ')} (default: info, or $ATOMICD_LOG_LEVEL)
  --version           print the version and exit
  -h, --help          print this help and exit
`;

function main(argv: readonly string[]): number {
  let values: { 'log-level'?: string; version?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { 'log-level': { type: 'string' }, version: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`atomicd: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version === true) {
    process.stdout.write(`atomicd ${VERSION}\n`);
    return 0;
  }
  const level = values['log-level'] ?? process.env.ATOMICD_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    process.stderr.write(`atomicd: --log-level ${JSON.stringify(level)}: use one of ${LOG_LEVELS.join(', ')}\n`);
    return 2;
  }
  const log = createLogger({ level: level as LevelWithSilent });
  log.info({ version: VERSION, node: process.version }, 'atomicd started');
  log.warn('no services are composed into atomicd yet; exiting');
  return 0;
}

process.exitCode = main(process.argv.slice(2));
