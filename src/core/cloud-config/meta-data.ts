// NoCloud meta-data validation (cloudinit/sources/DataSourceNoCloud.py,
// https://cloudinit.readthedocs.io/en/latest/reference/datasources/nocloud.html): a YAML (or JSON)
// mapping. NoCloud reads instance-id, local-hostname, public-keys, network-interfaces and dsmode;
// other keys are kept as instance metadata (templates can use them), so they are not reported
// unless they look like a misspelt known key.
import { isHostname } from './net-address.js';
import { LineIndex, ProblemReport, type Problem } from './problem.js';
import { Cursor, describeNode, list, obj, oneOf, str, validateNode, yaml11Hint, type Schema } from './schema-validator.js';
import { entryOf, parseYaml, toPlain, type PlainValue, type YamlNode } from './yaml-document.js';
import { decodeText } from './mime.js';

export interface MetaDataReport {
  readonly metadata?: Record<string, PlainValue>;
  readonly problems: readonly Problem[];
}

function stringValue(node: YamlNode): string | undefined {
  return node.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined;
}

/** cloud-init makes the instance-id a directory name under /var/lib/cloud/instances. */
function checkInstanceId(node: YamlNode, at: Cursor): void {
  const s = stringValue(node);
  if (s === undefined) {
    const hint = yaml11Hint(node);
    at.error(node, `expected the instance-id as a string, got ${describeNode(node)}${hint === '' ? '' : ` (${hint})`}`);
    return;
  }
  if (s.trim() === '') at.error(node, 'instance-id must not be empty: cloud-init compares it to decide whether this is a new instance');
  // eslint-disable-next-line no-control-regex
  else if (/[\u0000-\u001f\u007f/]/.test(s) || s.length > 255) at.error(node, 'instance-id: at most 255 printable characters without \'/\' (cloud-init makes it a directory name)');
}

function checkLocalHostname(node: YamlNode, at: Cursor): void {
  const s = stringValue(node);
  if (s === undefined) {
    const hint = yaml11Hint(node);
    at.error(node, `expected a host name, got ${describeNode(node)}${hint === '' ? '' : ` (${hint})`}`);
  } else if (!isHostname(s)) at.error(node, `${JSON.stringify(s)} is not a valid host name (RFC 1123: labels of letters, digits and '-', up to 63 characters)`);
}

// sources/__init__.py normalize_pubkey_data: a string (one key a line), a list, or a mapping
// whose values are strings or lists.
const publicKeys: Schema = oneOf([str(), list(str()), { type: 'map', values: oneOf([str(), list(str())]) }], { title: 'a key, a list of keys or a mapping of keys' });

const META_DATA_SCHEMA = obj(
  {
    'instance-id': { type: 'any', check: checkInstanceId },
    'local-hostname': { type: 'any', check: checkLocalHostname },
    'public-keys': publicKeys,
    'network-interfaces': str({
      check: (n, at) => at.warning(n, 'network-interfaces (Debian ENI format) is deprecated in cloud-init; put a version 1 or 2 network-config file in the seed instead'),
    }),
    dsmode: str({ enum: ['local', 'net', 'disabled'] }),
    seedfrom: str(),
  },
  { unknownKeys: 'suggest', unknownKeyNote: 'NoCloud does not read it' },
);

/** Validate a meta-data file. Its `metadata` is what NoCloud would read. */
export function validateMetaData(data: Uint8Array, file: string): MetaDataReport {
  const { text, valid } = decodeText(data);
  const lc = new LineIndex(text);
  const report = new ProblemReport(file, lc);
  if (!valid) {
    report.error(Math.max(0, text.indexOf('\ufffd')), '', 'not valid UTF-8');
    return { problems: report.problems };
  }
  const { root } = parseYaml(text, report);
  if (root === undefined) return { problems: report.problems };
  const at = new Cursor(report, '');
  if (root.kind === 'scalar' && root.value === null) {
    report.warning(0, '', "empty meta-data: cloud-init's NoCloud uses the instance-id 'nocloud', so every machine from this seed is the same instance and user-data runs once ever");
    return { metadata: {}, problems: report.problems };
  }
  if (root.kind !== 'map') {
    report.error(root.start, '', `meta-data is a mapping (instance-id: ..., local-hostname: ...), got ${describeNode(root)}`);
    return { problems: report.problems };
  }
  validateNode(root, META_DATA_SCHEMA, at);
  if (entryOf(root, 'instance-id') === undefined) {
    report.warning(root.start, '', "no instance-id: cloud-init's NoCloud uses 'nocloud', so every machine from this seed is the same instance and user-data runs once ever");
  }
  const plain = toPlain(root);
  return { metadata: typeof plain === 'object' && plain !== null && !Array.isArray(plain) && !(plain instanceof Date) && !(plain instanceof Uint8Array) ? plain : {}, problems: report.problems };
}
