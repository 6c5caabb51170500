// The agent's structured log: pino JSON lines on stderr (journald and `docker logs`-style
// collectors read them as they are). Secrets never reach the log: the paths below are censored
// wherever they appear in a logged object (EC2 IMDSv2 tokens, registry credentials, passwords
// from user-data), so a caller that logs a request or a config object cannot leak them.
import { pino, stdTimeFunctions, destination, type Logger, type LevelWithSilent } from '#pino';

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

export function createLogger(opts: LoggerOptions): Logger {
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
