// atomic cloud-init mime -o OUT FILE:TYPE...   (cloud-init devel make-mime, plus validation)
// TYPE is a short name (cloud-config, x-shellscript, ...; text/ is implied) or a full type. The
// boundary comes from the content, so the same parts give the same bytes. Nothing is written
// when a part is unreadable or does not validate.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InvalidArgument, fromSystemError } from '../../lib/errors.js';
import { makeMime, type MimePartInput } from '../../core/cloud-config/mime.js';
import { formatProblem, validateUserData } from '../../core/cloud-config/validate.js';

export interface CloudInitMimeOptions {
  readonly output: string;
  readonly validate: boolean;
}

/** The part types cloud-init's handlers know (handlers/__init__.py INCLUSION_TYPES_MAP). */
const SHORT_TYPES = [
  'cloud-config',
  'x-shellscript',
  'x-shellscript-per-boot',
  'x-shellscript-per-instance',
  'x-shellscript-per-once',
  'cloud-boothook',
  'x-include-url',
  'x-include-once-url',
  'cloud-config-archive',
  'part-handler',
  'cloud-config-jsonp',
  'jinja2',
];

function contentTypeFor(spec: string, type: string): string {
  const t = type.trim().toLowerCase();
  if (t.includes('/')) return t;
  if (SHORT_TYPES.includes(t)) return `text/${t}`;
  throw new InvalidArgument(`${spec}: unknown part type '${type}'; use one of ${SHORT_TYPES.join(', ')} or a full type like text/plain`);
}

export async function run(specs: readonly string[], opts: CloudInitMimeOptions): Promise<void> {
  const parts: MimePartInput[] = [];
  for (const spec of specs) {
    // The type never has a ':', a path rarely does: split at the last one.
    const colon = spec.lastIndexOf(':');
    if (colon <= 0 || colon === spec.length - 1) throw new InvalidArgument(`${spec}: expected FILE:TYPE, e.g. config.yaml:cloud-config`);
    const file = spec.slice(0, colon);
    const contentType = contentTypeFor(spec, spec.slice(colon + 1));
    let data: Uint8Array;
    try {
      data = await readFile(file);
    } catch (e) {
      throw fromSystemError(e, file, 'reading');
    }
    parts.push({ filename: basename(file), contentType, data });
  }
  const hash = createHash('sha256');
  for (const p of parts) hash.update(`${p.filename}\0${p.contentType}\0${p.data.length}\0`).update(p.data);
  const mime = makeMime(parts, { boundary: `===============${hash.digest('hex').slice(0, 24)}==` });

  if (opts.validate) {
    const label = opts.output === '-' ? 'user-data' : basename(opts.output);
    const { problems } = validateUserData(mime, label);
    for (const p of problems) if (p.severity === 'warning') process.stderr.write(`warning: ${formatProblem(p)}\n`);
    const errors = problems.filter((p) => p.severity === 'error');
    if (errors.length > 0) throw new InvalidArgument('invalid user-data parts', { problems: errors.map((p) => `error: ${formatProblem(p)}`) });
  }
  if (opts.output === '-') {
    process.stdout.write(mime);
    return;
  }
  const { writeFileAtomically } = await import('../../lib/atomic-file.js');
  await writeFileAtomically(opts.output, mime, { durable: false });
}
