// Validation of what goes into a NoCloud seed: user-data (and vendor-data, the same format),
// network-config and meta-data. Each returns a located report (problem.ts) and never throws on
// any input; callers decide what to do with errors and warnings.
import { isGzip } from './gunzip-capped.js';
import { mergeCloudConfigPart, isPlainObject, type PlainObject } from './merge-cloud-config.js';
import { decodeText } from './mime.js';
import { LineIndex, ProblemReport, type Problem } from './problem.js';
import { CLOUD_CONFIG_SCHEMA, validateCloudConfigNode } from './schema.js';
import { Cursor } from './schema-validator.js';
import { parseUserData, typeFromStartsWith, type ParseUserDataOptions, type UserDataPart } from './user-data.js';
import { entryOf, parseYaml, toPlain } from './yaml-document.js';

export { formatProblem, hasErrors, type Problem, type Severity } from './problem.js';
export { validateMetaData, type MetaDataReport } from './meta-data.js';
export { validateNetworkConfig, type NetworkConfigReport } from './network-config.js';
export { parseUserData, type IncludeUrl, type ParsedUserData, type UserDataKind, type UserDataPart } from './user-data.js';

export interface UserDataReport {
  readonly parts: readonly UserDataPart[];
  /**
   * The cloud-config parts merged as cloud-init would (merge_how, X-Merge-Type, default
   * dict(replace)+list()+str()); with one part, that part without merge_how/merge_type.
   * Undefined when no cloud-config part loaded.
   */
  readonly config?: PlainObject;
  readonly problems: readonly Problem[];
}

interface PartResult {
  readonly problems: readonly Problem[];
  readonly config?: PlainObject;
}

/** Decode a part as the UTF-8 text PyYAML would need; an error points at the first bad byte. */
function utf8Text(part: UserDataPart, report: ProblemReport): string | undefined {
  const { text, valid } = decodeText(part.data);
  if (valid) return text;
  report.error(Math.max(0, text.indexOf('\ufffd')), '', 'not valid UTF-8: cloud-init cannot load it as YAML');
  return undefined;
}

function checkCloudConfig(part: UserDataPart): PartResult {
  const { text } = decodeText(part.data);
  const lc = new LineIndex(text);
  const report = new ProblemReport(part.label, lc);
  if (utf8Text(part, report) === undefined) return { problems: report.problems };
  const { root } = parseYaml(text, report);
  if (root === undefined) return { problems: report.problems };
  validateCloudConfigNode(root, new Cursor(report, ''));
  const plain = root.kind === 'map' ? toPlain(root) : undefined;
  return { problems: report.problems, ...(isPlainObject(plain) ? { config: plain } : {}) };
}

/** A script is exec()ed: the kernel needs `#!` as the very first bytes and a clean interpreter path. */
function checkScript(text: string, report: ProblemReport, what: string): void {
  if (!text.startsWith('#!')) {
    report.error(0, '', `${what} does not start with a #! line: the kernel cannot execute it (Exec format error)`);
    return;
  }
  const nl = text.indexOf('\n');
  const first = nl < 0 ? text : text.slice(0, nl);
  if (first.endsWith('\r')) {
    report.error(first.length - 1, '', `the #! line ends with a carriage return (Windows line endings): the kernel looks for an interpreter named "${first.slice(2).trim()}\\r"`);
    return;
  }
  const interpreter = first.slice(2).trim().split(/\s+/)[0] ?? '';
  if (!interpreter.startsWith('/')) report.warning(2, '', `the interpreter ${JSON.stringify(interpreter)} is not an absolute path`);
}

/** A plain text part: is it something the user meant as cloud-config? */
function checkPlainText(part: UserDataPart, report: ProblemReport): void {
  const { text } = decodeText(part.data);
  if (text.trim() === '' && part.origin === 'whole') return;
  // MIME without MIME-Version: parseUserData has already said why cloud-init ignores it.
  if (part.origin === 'whole' && /^\s*content-type:\s*multipart\//i.test(text)) return;
  if (text.startsWith('\ufeff') && typeFromStartsWith(text.slice(1)) !== undefined) {
    report.error(0, '', 'starts with a byte order mark (U+FEFF), which hides the header from cloud-init: it ignores all of it; save the file as UTF-8 without BOM');
    return;
  }
  const scratch = report.fork();
  const { root } = parseYaml(text, scratch);
  const known = root?.kind === 'map' ? root.entries.find((e) => typeof e.key === 'string' && Object.hasOwn(CLOUD_CONFIG_SCHEMA.properties, e.key)) : undefined;
  if (known !== undefined) {
    report.error(0, '', `this looks like cloud-config ('${known.name}') but the first line is not #cloud-config: cloud-init ignores all of it`);
    return;
  }
  report.warning(0, '', `not a user-data format cloud-init knows (#cloud-config, #!, #include, #cloud-boothook, MIME, ...): cloud-init ignores ${part.origin === 'whole' ? 'it' : 'this part'}`);
}

function checkPart(part: UserDataPart): PartResult {
  if (part.kind === 'cloud-config') return checkCloudConfig(part);
  const { text } = decodeText(part.data);
  const report = new ProblemReport(part.label, new LineIndex(text));
  switch (part.kind) {
    case 'x-shellscript':
    case 'x-shellscript-per-boot':
    case 'x-shellscript-per-instance':
    case 'x-shellscript-per-once':
      checkScript(text, report, 'the script');
      break;
    case 'cloud-boothook': {
      // handlers/boot_hook.py: the #cloud-boothook line is cut off (exact case), the rest left-
      // stripped and executed, after CRLF line endings are turned into LF.
      const body = (text.startsWith('#cloud-boothook') ? text.slice('#cloud-boothook'.length) : text).replace(/\r\n/g, '\n').replace(/^\s+/, '');
      if (!body.startsWith('#!')) report.error(0, '', 'the boothook has no #! line after #cloud-boothook: cloud-init executes it and the kernel refuses (Exec format error)');
      break;
    }
    case 'part-handler':
      report.warning(0, '', 'a part-handler is Python code run inside cloud-init; atomicd does not run part handlers');
      break;
    case 'jsonp':
      report.warning(0, '', '#cloud-config-jsonp (JSON patch) is not supported by atomicd');
      break;
    case 'jinja2':
      report.warning(0, '', "'## template: jinja' user-data is not rendered by atomicd; write the values out");
      break;
    case 'text/plain':
      checkPlainText(part, report);
      break;
    case 'unknown':
      report.warning(0, '', `cloud-init has no handler for ${part.contentType} and ignores this part`);
      break;
    default:
      break;
  }
  return { problems: report.problems };
}

function sortProblems(problems: readonly Problem[], file: string, parts: readonly UserDataPart[]): Problem[] {
  const rank = new Map<string, number>([[file, 0]]);
  for (const p of parts) if (!rank.has(p.label)) rank.set(p.label, p.index);
  const r = (p: Problem): number => rank.get(p.file) ?? parts.length + 1;
  return [...problems].sort((a, b) => r(a) - r(b) || a.line - b.line || a.column - b.column);
}

/** Validate user-data (or vendor-data): every part, and the merged cloud-config. */
export function validateUserData(data: Uint8Array, file: string, options: ParseUserDataOptions = {}): UserDataReport {
  const parsed = parseUserData(data, file, options);
  return validateUserDataParts(parsed.parts, file, parsed.problems);
}

/**
 * Validate parts already found (e.g. user-data whose #include parts were replaced by what they
 * fetched) and merge their cloud-config in order, each part with its own merge rules, as
 * cloud-init's CloudConfigPartHandler does. `earlier` problems (from parsing) lead the report.
 */
export function validateUserDataParts(parts: readonly UserDataPart[], file: string, earlier: readonly Problem[] = []): UserDataReport {
  const problems: Problem[] = [...earlier];
  let config: PlainObject | undefined;
  for (const part of parts) {
    const r = checkPart(part);
    problems.push(...r.problems);
    if (r.config === undefined) continue;
    const m = mergeCloudConfigPart(config ?? {}, r.config, part.mergeType);
    if (m.error !== undefined) {
      problems.push({ severity: 'error', file: part.label, path: '', line: 1, column: 1, message: `merge type: ${m.error}; cloud-init drops this part` });
      continue;
    }
    config = m.merged;
  }
  return { parts, ...(config === undefined ? {} : { config }), problems: sortProblems(problems, file, parts) };
}

export type ConfigKind = 'user-data' | 'vendor-data' | 'meta-data' | 'network-config';

const NETWORK_KEYS = ['config', 'ethernets', 'bonds', 'bridges', 'vlans', 'wifis'];

/**
 * What a seed file is: by its name (NoCloud's file names; `user-data*` for user-data), else by
 * its content: user-data headers, gzip or MIME; a mapping with `version: 1|2` and network keys
 * (maybe under `network:`); a mapping with `instance-id` or `local-hostname`; else user-data.
 */
export function detectConfigKind(name: string, data: Uint8Array): ConfigKind {
  const base = name.split(/[\\/]/).pop() ?? name;
  if (base === 'meta-data') return 'meta-data';
  if (base === 'network-config') return 'network-config';
  if (base === 'vendor-data') return 'vendor-data';
  if (base.startsWith('user-data')) return 'user-data';
  if (isGzip(data)) return 'user-data';
  const { text } = decodeText(data.subarray(0, 1024 * 1024));
  if (typeFromStartsWith(text) !== undefined || text.slice(0, 4096).toLowerCase().includes('mime-version:')) return 'user-data';
  const scratch = new ProblemReport(name, new LineIndex(text));
  const { root } = parseYaml(text, scratch);
  if (root?.kind !== 'map') return 'user-data';
  const wrapped = entryOf(root, 'network')?.value;
  const net = wrapped?.kind === 'map' ? wrapped : root;
  const version = entryOf(net, 'version')?.value;
  if (version?.kind === 'scalar' && (version.value === 1 || version.value === 2) && NETWORK_KEYS.some((k) => entryOf(net, k) !== undefined)) return 'network-config';
  if (entryOf(root, 'instance-id') !== undefined || entryOf(root, 'local-hostname') !== undefined) return 'meta-data';
  return 'user-data';
}
