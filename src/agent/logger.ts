// The agent's structured log: pino JSON lines on stderr (journald and `docker logs`-style
// collectors read them as they are). Secrets never reach the log: the paths below are censored
// wherever they appear in a logged object (EC2 IMDSv2 tokens, registry credentials, passwords
// from user-data), so a caller that logs a request or a config object cannot leak them.
//
// pino (dozens of module files, ~30 ms to load) is loaded when a logger is first built, not when
// this file is imported; `createLazyLogger` defers even that to the first line that is actually
// written, so `atomicd provision --log-level warn` on a quiet pass never loads it.
import { createRequire } from 'node:module';
import type { Logger, LevelWithSilent } from '#pino';

export { LOG_LEVELS } from './log-levels.js';

export const REDACTED_PATHS: readonly string[] = [
  'token',
  '*.token',
  'headers["x-aws-ec2-metadata-token"]',
  '*.headers["x-aws-ec2-metadata-token"]',
  'headers.authorization',
  '*.headers.authorization',
  'password',
  '*.password',
  'passwd',
  '*.passwd',
  'hashed_passwd',
  '*.hashed_passwd',
  'plain_text_passwd',
  '*.plain_text_passwd',
];

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  /** Where lines go; stderr (fd 2) by default. Tests pass a stream to read them back. */
  readonly destination?: NodeJS.WritableStream;
}

/** pino (its one-file bundle, dist/vendor/pino.cjs) is CommonJS: require() loads it synchronously, at the moment a logger is needed. */
function loadPino(): typeof import('#pino') {
  return createRequire(import.meta.url)('#pino') as typeof import('#pino');
}

export function createLogger(opts: LoggerOptions): Logger {
  const { pino, stdTimeFunctions, destination } = loadPino();
  return pino(
    {
      name: 'atomicd',
      level: opts.level,
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? destination({ fd: 2, sync: true }),
  );
}

/** What one log method accepts: pino's `(fields, message)` or `(message)`. */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/** The part of pino's Logger a one-shot command uses (provision): the level methods. */
export interface AgentLog {
  readonly fatal: LogFn;
  readonly error: LogFn;
  readonly warn: LogFn;
  readonly info: LogFn;
  readonly debug: LogFn;
  readonly trace: LogFn;
}

/** pino's numeric levels (pino.levels.values); `silent` is above every level. */
const LEVEL_VALUES: Readonly<Record<LevelWithSilent, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/**
 * A logger that writes exactly what `createLogger(opts)` writes, but builds it (and loads pino)
 * only when a call at an enabled level first happens: calls below the level cost a comparison.
 */
export function createLazyLogger(opts: LoggerOptions): AgentLog {
  const threshold = LEVEL_VALUES[opts.level];
  let real: Logger | undefined;
  const method = (level: Exclude<LevelWithSilent, 'silent'>): LogFn => {
    const enabled = LEVEL_VALUES[level] >= threshold;
    return ((objOrMsg: object | string, msg?: string): void => {
      if (!enabled) return;
      real ??= createLogger(opts);
      if (msg === undefined) real[level](objOrMsg as string);
      else real[level](objOrMsg as object, msg);
    }) as LogFn;
  };
  return { fatal: method('fatal'), error: method('error'), warn: method('warn'), info: method('info'), debug: method('debug'), trace: method('trace') };
}
