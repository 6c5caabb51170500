// A FAKE of the agent's logger for datasource tests: keeps every line (level, object, message).
import type { DatasourceLog } from '../../src/adapters/datasources/datasource-result.js';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn';
  readonly obj: object;
  readonly msg: string;
}

export function recordingLog(): DatasourceLog & { readonly lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  return {
    lines,
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    text: () => lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.obj)}`).join('\n'),
  };
}
