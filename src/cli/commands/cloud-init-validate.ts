// atomic cloud-init validate FILE... [--kind K] [--json]
// Every problem of every file, one line each (`error: file:line:column: path: message`), then a
// summary; exit 0 without errors (warnings are fine), 2 with any error or an unreadable file.
import { readFile } from 'node:fs/promises';
import { fromSystemError } from '../../lib/errors.js';
import {
  detectConfigKind,
  formatProblem,
  validateMetaData,
  validateNetworkConfig,
  validateUserData,
  type ConfigKind,
  type Problem,
  type UserDataPart,
} from '../../core/cloud-config/validate.js';
import { EXIT_USAGE } from '../report-error.js';

export interface CloudInitValidateOptions {
  readonly kind?: ConfigKind;
  readonly json?: boolean;
}

interface FileReport {
  readonly file: string;
  readonly kind: ConfigKind;
  readonly problems: readonly Problem[];
  readonly parts?: readonly UserDataPart[];
  readonly version?: 1 | 2;
}

async function readInput(path: string): Promise<Uint8Array> {
  try {
    if (path !== '-') return await readFile(path);
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  } catch (e) {
    throw fromSystemError(e, path, 'reading');
  }
}

function validateFile(file: string, data: Uint8Array, kind: ConfigKind): FileReport {
  switch (kind) {
    case 'user-data':
    case 'vendor-data': {
      const r = validateUserData(data, file);
      return { file, kind, problems: r.problems, parts: r.parts };
    }
    case 'network-config': {
      const r = validateNetworkConfig(data, file);
      return { file, kind, problems: r.problems, ...(r.version === undefined ? {} : { version: r.version }) };
    }
    case 'meta-data':
      return { file, kind, problems: validateMetaData(data, file).problems };
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export async function run(files: readonly string[], opts: CloudInitValidateOptions): Promise<void> {
  // Read everything first: an unreadable file is a one-line error before any report.
  const inputs: { file: string; data: Uint8Array }[] = [];
  for (const f of files) inputs.push({ file: f === '-' ? '<stdin>' : f, data: await readInput(f) });
  const reports = inputs.map(({ file, data }) => validateFile(file, data, opts.kind ?? detectConfigKind(file, data)));
  const all = reports.flatMap((r) => r.problems);
  const errors = all.filter((p) => p.severity === 'error').length;
  const warnings = all.length - errors;

  if (opts.json === true) {
    const json = {
      files: reports.map((r) => ({
        file: r.file,
        kind: r.kind,
        ...(r.version === undefined ? {} : { version: r.version }),
        errors: r.problems.filter((p) => p.severity === 'error').length,
        warnings: r.problems.filter((p) => p.severity === 'warning').length,
        problems: r.problems,
        ...(r.parts === undefined
          ? {}
          : {
              parts: r.parts.map((p) => ({
                index: p.index,
                kind: p.kind,
                contentType: p.contentType,
                ...(p.filename === undefined ? {} : { filename: p.filename }),
                sizeBytes: p.sizeBytes,
                origin: p.origin,
                compressed: p.compressed,
                ...(p.parent === undefined ? {} : { parent: p.parent }),
                ...(p.mergeType === undefined ? {} : { mergeType: p.mergeType }),
                ...(p.includes === undefined ? {} : { includes: p.includes.map((i) => ({ url: i.url, once: i.once })) }),
              })),
            }),
      })),
      errors,
      warnings,
    };
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  } else {
    const lines = all.map((p) => `${p.severity}: ${formatProblem(p)}`);
    lines.push(`${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(reports.length, 'file')}`);
    process.stdout.write(lines.join('\n') + '\n');
  }
  if (errors > 0) process.exitCode = EXIT_USAGE;
}
