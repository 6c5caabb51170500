// `--tag KEY=VALUE` flags as EC2 tags, checked against the tag restrictions of the Amazon EC2 User
// Guide ("Tag your Amazon EC2 resources", Tag restrictions): at most 50 tags per resource, keys of
// 1-128 and values of 0-256 Unicode characters, keys unique per resource, and the `aws:` prefix
// reserved for AWS's own tags.
import { InvalidArgument } from '../../lib/errors.js';

export interface AwsTag {
  readonly Key: string;
  readonly Value: string;
}

export const MAX_TAGS_PER_RESOURCE = 50;
const MAX_KEY_CHARS = 128;
const MAX_VALUE_CHARS = 256;

/** Parse `KEY=VALUE` flags (the first `=` splits; `KEY=` is an empty value). Every problem is reported at once. */
export function parseTags(specs: readonly string[]): AwsTag[] {
  const tags: AwsTag[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq < 0) {
      problems.push(`atomic: --tag ${JSON.stringify(spec)}: expected KEY=VALUE`);
      continue;
    }
    const key = spec.slice(0, eq);
    const value = spec.slice(eq + 1);
    // Lengths count Unicode code points, as AWS does, not UTF-16 units.
    const keyChars = [...key].length;
    if (keyChars === 0) problems.push(`atomic: --tag ${JSON.stringify(spec)}: the key is empty`);
    else if (keyChars > MAX_KEY_CHARS) problems.push(`atomic: --tag ${JSON.stringify(spec)}: the key has ${keyChars} characters, at most ${MAX_KEY_CHARS} are allowed`);
    if ([...value].length > MAX_VALUE_CHARS) problems.push(`atomic: --tag ${JSON.stringify(key)}: the value has ${[...value].length} characters, at most ${MAX_VALUE_CHARS} are allowed`);
    if (key.toLowerCase().startsWith('aws:')) problems.push(`atomic: --tag ${JSON.stringify(key)}: keys starting with aws: are reserved for AWS`);
    if (seen.has(key)) problems.push(`atomic: --tag ${JSON.stringify(key)}: given more than once (a resource has one value per key)`);
    seen.add(key);
    tags.push({ Key: key, Value: value });
  }
  if (tags.length > MAX_TAGS_PER_RESOURCE) problems.push(`atomic: --tag: ${tags.length} tags given, a resource takes at most ${MAX_TAGS_PER_RESOURCE}`);
  if (problems.length > 0) throw new InvalidArgument(`invalid --tag: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, { subject: '--tag', problems });
  return tags;
}
