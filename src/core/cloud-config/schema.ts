// The cloud-config atomicd applies, as data for schema-validator.ts.
//
// Module keys and their semantics are cloud-init's (22.4, config/schemas/schema-cloud-config-v1.json
// and the cc_* modules; https://cloudinit.readthedocs.io/en/latest/reference/modules.html). Where
// cloud-init's schema and its runtime disagree we follow this rule, documented per key below:
//   - the runtime does something broken or surprising (sudo: true fails, permissions: 644 is
//     mode 0o1204, unquoted 22:22 is 1342)           -> error, even where the schema passes it;
//   - only the schema complains and the runtime does what the user meant (permissions: 0644 as
//     an integer, an unquoted expiredate date, sudo as a list) -> warning, with how to quiet it.
// Keys cloud-init knows but atomicd does not apply are warnings; unknown keys are warnings with a
// "did you mean". Our own keys, `containers` and `atomic`, are validated strictly.
import { gunzipCapped, isGzip } from './gunzip-capped.js';
import { parseMergeHow } from './merge-cloud-config.js';
import { isHostname, isHttpUrl } from './net-address.js';
import type { Cursor, ObjectSchema, Schema } from './schema-validator.js';
import { bool, describeNode, int, list, nul, obj, oneOf, str, validateNode, yaml11Hint, yamlTypeOf } from './schema-validator.js';
import { entryOf, toPlain, type YamlNode } from './yaml-document.js';
import { InvalidArgument } from '../../lib/errors.js';
import { parsePortSpec } from '../containers/network-port-spec.js';
import { memoryBytes } from '../containers/memory-bytes.js';

const unsupported = (why = ''): Schema => ({ type: 'unsupported', message: `not applied by atomicd${why === '' ? '' : ` (${why})`}` });

function scalarString(node: YamlNode): string | undefined {
  return node.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined;
}


// --- shared value checks -------------------------------------------------------------------------
const SSH_KEY_TYPES = new Set([
  'ssh-rsa', 'ssh-dss', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com',
  'ssh-rsa-cert-v01@openssh.com', 'ssh-dss-cert-v01@openssh.com', 'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp384-cert-v01@openssh.com', 'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com', 'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
]);

/** An authorized_keys line: [options] keytype base64 [comment] (sshd(8) AUTHORIZED_KEYS FILE FORMAT). */
function checkSshPublicKey(node: YamlNode, at: Cursor): void {
  const s = scalarString(node);
  if (s === undefined) return;
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(s)) {
    at.error(node, 'this is a private key: authorized keys take the public key (the .pub file)');
    return;
  }
  const tokens = s.trim().split(/\s+/);
  const i = tokens.findIndex((t) => SSH_KEY_TYPES.has(t));
  if (i < 0 || !/^AAAA[0-9A-Za-z+/]+={0,3}$/.test(tokens[i + 1] ?? '')) {
    at.warning(node, 'does not look like an OpenSSH public key ("ssh-ed25519 AAAA... comment"); sshd will ignore the line');
  }
}
const sshKeys = list(str({ check: checkSshPublicKey }), { minItems: 1 });

function checkHostname(node: YamlNode, at: Cursor): void {
  const s = scalarString(node);
  if (s === undefined) return;
  if (s.trim() === '') at.error(node, 'must not be empty');
  else if (!isHostname(s)) at.warning(node, `${JSON.stringify(s)} is not an RFC 1123 host name (letters, digits and '-' in dot-separated labels of up to 63 characters)`);
}

function checkAbsolutePath(node: YamlNode, at: Cursor): void {
  const s = scalarString(node);
  if (s !== undefined && !s.startsWith('/')) at.error(node, `${JSON.stringify(s)} must be an absolute path`);
}

/** Python's int(text, 8), which cloud-init's write_files uses for string permissions. */
function octalMode(text: string): number | undefined {
  const m = /^\s*[+]?(?:0[oO])?([0-7]+(?:_[0-7]+)*)\s*$/.exec(text);
  return m?.[1] === undefined ? undefined : parseInt(m[1].replace(/_/g, ''), 8);
}

function checkPermissions(node: YamlNode, at: Cursor): void {
  if (node.kind !== 'scalar') return;
  if (typeof node.value === 'string') {
    const mode = octalMode(node.value);
    if (mode === undefined) at.error(node, `${JSON.stringify(node.value)} is not an octal mode like '0644' (cloud-init falls back to 0644 and logs a warning)`);
    else if (mode > 0o7777) at.error(node, `${node.value} is more than 07777`);
    return;
  }
  if (typeof node.value !== 'number') return;
  const v = node.value;
  const plain = node.plain ?? String(v);
  if (node.float || v < 0 || v > 0o7777) {
    at.error(node, `${plain} is not a file mode (0 to 07777)`);
  } else if (/^[1-7][0-7]{2,3}$/.test(plain)) {
    // cloud-init takes integers as they are: 644 is mode 0o1204, never what was meant.
    at.error(node, `${plain} is the decimal integer ${v}, which cloud-init applies as mode 0o${v.toString(8)}; write '0${plain}' (quoted)`);
  } else {
    // 0644 is the octal integer 420 in YAML 1.1: cloud-init applies it correctly, but its schema
    // (22.4) only takes strings, and `cloud-init schema` reports it.
    at.warning(node, `${plain} is read as the integer ${v} (mode 0o${v.toString(8)}), which cloud-init applies, but its schema wants a string: write '0${v.toString(8)}'`);
  }
}

/** Python's base64.b64decode without validate: other characters are dropped, padding is required. */
function checkBase64(text: string): { ok: true; data: Uint8Array } | { ok: false; message: string } {
  const cleaned = text.replace(/[^A-Za-z0-9+/=]/g, '');
  const body = cleaned.replace(/=+$/, '');
  if (body.includes('=')) return { ok: false, message: "not valid base64: '=' inside the data" };
  const n = body.length;
  if (n % 4 === 1) return { ok: false, message: `not valid base64: ${n} data characters cannot be 1 more than a multiple of 4` };
  if (n % 4 !== 0 && cleaned.length % 4 !== 0) return { ok: false, message: 'not valid base64: incorrect padding' };
  return { ok: true, data: Buffer.from(body, 'base64') };
}

const WRITE_FILES_ENCODINGS = ['gz', 'gzip', 'gz+base64', 'gzip+base64', 'gz+b64', 'gzip+b64', 'b64', 'base64', 'text/plain'] as const;

/** Does `content` decode as `encoding` says (cc_write_files canonicalize_extraction + extract_contents)? */
function checkWriteFileContent(node: YamlNode, at: Cursor): void {
  if (node.kind !== 'map') return;
  const enc = entryOf(node, 'encoding');
  const content = entryOf(node, 'content');
  const encoding = enc === undefined ? 'text/plain' : scalarString(enc.value);
  if (content === undefined || encoding === undefined || !(WRITE_FILES_ENCODINGS as readonly string[]).includes(encoding)) return;
  const v = content.value;
  if (v.kind !== 'scalar') return;
  const here = at.child('content');
  let data: Uint8Array | undefined = v.value instanceof Uint8Array ? v.value : undefined;
  if (encoding.includes('b64') || encoding.includes('base64')) {
    if (typeof v.value !== 'string') return;
    const r = checkBase64(v.value);
    if (!r.ok) {
      here.error(v, `encoding ${encoding}: ${r.message}`);
      return;
    }
    data = r.data;
  }
  if (encoding.startsWith('gz')) {
    if (data === undefined) {
      here.error(v, `encoding ${encoding} needs gzip bytes: give them base64-encoded with encoding gz+b64, or as !!binary`);
      return;
    }
    if (!isGzip(data)) {
      here.error(v, `encoding ${encoding}: the content is not gzip data`);
      return;
    }
    const g = gunzipCapped(data);
    if (!g.ok) here.error(v, `encoding ${encoding}: ${g.message}`);
  }
}

function checkContent(node: YamlNode, at: Cursor): void {
  const t = yamlTypeOf(node);
  if (t !== 'string' && t !== 'binary' && t !== 'null') at.error(node, `expected a string, got ${describeNode(node)}`);
}

// --- modules atomicd applies -------------------------------------------------------------------
const command = oneOf([str(), list(str())], { title: 'a string or a list of strings' });

const writeFile = obj(
  {
    path: str({ minLength: 1, check: checkAbsolutePath }),
    content: { type: 'any', check: checkContent },
    source: unsupported('cloud-init 23.1 added write_files source; 22.4 rejects it and writes the file empty'),
    owner: str({ pattern: /^[^:\s]+(?::[^:\s]+)?$/, patternMessage: 'is not user or user:group' }),
    permissions: oneOf([str(), int()], { title: "an octal mode string like '0644'", check: checkPermissions }),
    encoding: str({ enum: WRITE_FILES_ENCODINGS }),
    append: bool(),
    defer: bool(),
  },
  { required: ['path'], check: checkWriteFileContent },
);

function checkSudo(node: YamlNode, at: Cursor): void {
  const t = yamlTypeOf(node);
  if (t === 'string' || t === 'null') return;
  if (node.kind === 'seq') {
    // cloud-init's distros write_sudo_rules takes a list; its 22.4 schema does not.
    node.items.forEach((item, i) => {
      if (yamlTypeOf(item) !== 'string') at.child(i).error(item, `expected a sudoers rule string, got ${describeNode(item)}`);
    });
    return;
  }
  if (node.kind === 'scalar' && node.value === false) {
    at.warning(node, 'sudo: false is deprecated in cloud-init; leave sudo out (or null) for no sudo rule');
    return;
  }
  if (node.kind === 'scalar' && node.value === true) {
    at.error(node, "sudo: true is not a sudoers rule (cloud-init fails: 'Can not create sudoers rule addition with type bool'); write 'ALL=(ALL) NOPASSWD:ALL'");
    return;
  }
  at.error(node, `expected a sudoers rule string, a list of rules or null, got ${describeNode(node)}`);
}

function checkExpireDate(node: YamlNode, at: Cursor): void {
  const t = yamlTypeOf(node);
  if (t === 'date') {
    at.warning(node, `${yaml11Hint(node)}: useradd gets the date, but cloud-init's schema wants a string`);
  } else if (t === 'string') {
    const s = scalarString(node) ?? '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) at.error(node, `${JSON.stringify(s)} is not a date YYYY-MM-DD`);
  } else {
    at.error(node, `expected a date YYYY-MM-DD, got ${describeNode(node)}`);
  }
}

function checkHashedPassword(node: YamlNode, at: Cursor): void {
  const s = scalarString(node);
  // crypt(3) hashes start with $id$; '!' or '*' lock the account.
  if (s !== undefined && !/^(?:\$[0-9a-z]+\$|[!*])/.test(s)) at.warning(node, 'does not look like a crypt(3) hash ("$6$..." from mkpasswd); it is used as the hash as it is, so this password cannot log in');
}

function checkUserName(node: YamlNode, at: Cursor): void {
  const s = scalarString(node);
  if (s === undefined) return;
  if (s === '' || /[\s:/,]/.test(s) || s.length > 32) at.error(node, `${JSON.stringify(s)} is not a user name (up to 32 characters, no spaces, ':', ',' or '/')`);
}

const userProperties: Record<string, Schema> = {
  name: str({ check: checkUserName }),
  gecos: str(),
  groups: oneOf([str(), list(str(), { minItems: 1 }), { type: 'map', values: nul, deprecated: 'groups as a mapping is deprecated in cloud-init; use a list' }]),
  homedir: str({ check: checkAbsolutePath }),
  shell: str({ check: checkAbsolutePath }),
  expiredate: { type: 'any', check: checkExpireDate },
  inactive: oneOf([str({ pattern: /^-?\d+$/, patternMessage: 'is not a number of days' }), int({ deprecated: "cloud-init's schema wants inactive as a string: write it quoted" })]),
  lock_passwd: bool(),
  'lock-passwd': bool({ deprecated: "'lock-passwd' is deprecated in cloud-init; write lock_passwd" }),
  no_create_home: bool(),
  no_log_init: bool(),
  no_user_group: bool(),
  create_groups: bool(),
  system: bool(),
  passwd: str({ check: checkHashedPassword }),
  hashed_passwd: str({ check: checkHashedPassword }),
  plain_text_passwd: str({
    check: (n, at) => at.warning(n, 'plain_text_passwd is stored in clear text in the seed and in /var/lib/cloud/instance; use hashed_passwd (mkpasswd -m sha-512)'),
  }),
  primary_group: str(),
  selinux_user: unsupported(),
  ssh_authorized_keys: sshKeys,
  ssh_import_id: unsupported('it fetches keys from Launchpad or GitHub at boot; list them in ssh_authorized_keys'),
  ssh_redirect_user: unsupported(),
  snapuser: unsupported('there is no snapd'),
  sudo: { type: 'any', check: checkSudo },
  uid: oneOf([int({ minimum: 0 }), str({ pattern: /^\d+$/, patternMessage: 'is not a number', deprecated: 'uid as a string is deprecated in cloud-init; write an integer' })]),
};

/** A user in the list form: name is required (cloud-init would otherwise configure the default user). */
const userObject = obj(userProperties, {
  check: (node, at) => {
    if (node.kind === 'map' && entryOf(node, 'name') === undefined && entryOf(node, 'snapuser') === undefined) at.error(node, "missing required key 'name'");
  },
});
/** A user in the mapping form `users: {name: {...}}`: the key is the name. */
const userByName = obj(userProperties);

const users = oneOf(
  [
    str({ title: 'a comma-separated string of user names' }),
    list(oneOf([str(), list(str()), userObject], { title: "a user name, 'default' or a user mapping" }), { minItems: 1 }),
    { type: 'map', values: oneOf([userByName, bool(), str(), int()], { title: 'a user mapping or true' }) },
  ],
  { title: 'a list of users' },
);

const groupMembers = oneOf([str(), list(str(), { minItems: 1 })], { title: 'a member name or a list of member names' });
const groups = oneOf([str(), list(oneOf([str(), { type: 'map', values: groupMembers }], { title: 'a group name or {group: members}' }), { minItems: 1 }), { type: 'map', values: groupMembers }], {
  title: 'a list of groups or a mapping from group names to members',
});

const chpasswd = obj({
  expire: bool(),
  users: list(
    obj(
      { name: str({ minLength: 1 }), password: str(), type: str({ enum: ['hash', 'text', 'RANDOM'] }) },
      {
        required: ['name'],
        check: (node, at) => {
          if (node.kind !== 'map') return;
          const type = entryOf(node, 'type');
          const random = type !== undefined && scalarString(type.value) === 'RANDOM';
          if (!random && entryOf(node, 'password') === undefined) at.error(node, "missing required key 'password' (or type: RANDOM)");
          if (random && entryOf(node, 'password') !== undefined) at.error(node, 'type RANDOM generates the password: leave out password');
        },
      },
    ),
  ),
  list: oneOf([str(), list(str({ pattern: /^.+:.+$/, patternMessage: 'is not user:password' }))], {
    deprecated: 'chpasswd list is deprecated in cloud-init; use chpasswd users',
  }),
});

/** IANA's `etcetera` zones and their `backward` links (UTC, Etc/GMT-3, Zulu, ...). */
const ETCETERA_ZONE = /^(?:Etc\/)?(?:UTC|UCT|GMT|GMT0|Universal|Zulu|Greenwich|GMT[+-]0)$|^Etc\/GMT(?:\+(?:[0-9]|1[0-2])|-(?:[0-9]|1[0-4]))$/;

/** Whether ICU knows the zone. Building a DateTimeFormat loads ICU's zone data (~25 ms, most of
 *  `seed create`'s validation); the canonical list and the etcetera names answer most seeds in
 *  ~2 ms, and the slow check stays for the rest (other aliases, and invalid names). */
export function isIanaTimeZone(name: string): boolean {
  if (ETCETERA_ZONE.test(name) || Intl.supportedValuesOf('timeZone').includes(name)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function checkTimezone(node: YamlNode, at: Cursor): void {
  const s = scalarString(node);
  if (s === undefined) return;
  // Intl knows the IANA zone names (and their aliases) without touching /usr/share/zoneinfo.
  if (!isIanaTimeZone(s)) at.warning(node, `${JSON.stringify(s)} is not a time zone of the IANA database (like Europe/Paris or UTC)`);
}

const powerState = obj(
  {
    delay: oneOf(
      [
        int({ minimum: 0 }),
        str({ enum: ['now'] }),
        str({ pattern: /^\+?[0-9]+$/, patternMessage: "is not 'now', +N or N minutes", deprecated: "a delay string is deprecated in cloud-init; write now or an integer number of minutes" }),
      ],
      { title: "'now' or a number of minutes" },
    ),
    mode: str({ enum: ['poweroff', 'reboot', 'halt'] }),
    message: str(),
    timeout: int({ minimum: 0 }),
    condition: oneOf([str(), bool(), list({ type: 'any' })], { title: 'a boolean or a command' }),
  },
  { required: ['mode'] },
);

function checkMergeHow(node: YamlNode, at: Cursor): void {
  const r = parseMergeHow(toPlain(node));
  if (!r.ok) at.error(node, r.message);
  else for (const o of r.ignoredOptions) at.warning(node, `merger option ${o} is unknown; cloud-init ignores it`);
}
const mergeHow: Schema = oneOf([str(), list({ type: 'any' })], { title: 'a merge string or a list of mergers', check: checkMergeHow });

// --- containers (ours) -------------------------------------------------------------------------
// Docker's reference grammar (distribution/reference): [domain[:port]/]path[:tag][@digest].
const DOMAIN = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?';
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const IMAGE_REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`);

function checkImage(node: YamlNode, at: Cursor): void {
  const s = scalarString(node);
  if (s === undefined || IMAGE_REFERENCE.test(s)) return;
  const lower = s.replace(/^([^/]*\/)?(.*?)(:[\w][\w.-]*)?(@.*)?$/, (_m, d: string | undefined, p: string, t: string | undefined, g: string | undefined) => `${d ?? ''}${p.toLowerCase()}${t ?? ''}${g ?? ''}`);
  at.error(node, IMAGE_REFERENCE.test(lower) ? `${JSON.stringify(s)}: repository names must be lowercase` : `${JSON.stringify(s)} is not an image reference like registry.example:5000/name:tag or name@sha256:...`);
}

function checkPort(node: YamlNode, at: Cursor): void {
  if (node.kind !== 'scalar') return;
  if (typeof node.value === 'number') {
    if (node.plain?.includes(':') === true) at.error(node, yaml11Hint(node));
    else if (!Number.isInteger(node.value) || node.value < 1 || node.value > 65535) at.error(node, `${node.value} is not a port in 1-65535`);
    return;
  }
  if (typeof node.value !== 'string') return;
  try {
    parsePortSpec(node.value);
  } catch (e) {
    if (!(e instanceof InvalidArgument)) throw e;
    at.error(node, e.message);
  }
}

/** The host ports a `-p` spec claims outright (not a pool to pick from), as "IP:PORT/PROTO" keys. */
function claimedHostPorts(spec: string): string[] {
  let bindings: ReturnType<typeof parsePortSpec>;
  try {
    bindings = parsePortSpec(spec);
  } catch {
    return [];
  }
  return bindings.filter((b) => /^\d+$/.test(b.binding.HostPort)).map((b) => `${b.binding.HostIp === '' ? '0.0.0.0' : b.binding.HostIp}:${b.binding.HostPort}/${b.port.split('/')[1] ?? 'tcp'}`);
}

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const VOLUME_OPTIONS = new Set(['ro', 'rw', 'z', 'Z', 'shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate', 'nocopy', 'delegated', 'cached', 'consistent']);

/** `docker run -v` syntax: /host:/container[:opts], volume-name:/container[:opts] or /container. */
function checkVolume(node: YamlNode, at: Cursor): void {
  const s = scalarString(node);
  if (s === undefined) return;
  const parts = s.split(':');
  const say = (m: string): void => at.error(node, `${JSON.stringify(s)}: ${m}`);
  if (parts.length > 3) return say('expected source:/container/path[:options]');
  if (parts.length === 1) {
    if (!s.startsWith('/')) say('an anonymous volume is an absolute container path');
    return;
  }
  const [source = '', target = '', options] = parts;
  if (!source.startsWith('/') && !VOLUME_NAME.test(source)) return say(`source '${source}' is neither an absolute host path nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)`);
  if (!target.startsWith('/')) return say(`container path '${target}' must be absolute`);
  if (target === '/') return say("the container path must not be '/'");
  if (options !== undefined) {
    const bad = options.split(',').filter((o) => !VOLUME_OPTIONS.has(o));
    if (bad.length > 0) say(`unknown volume option ${bad.map((b) => `'${b}'`).join(', ')} (ro, rw, z, Z, nocopy, [r]shared, [r]slave, [r]private)`);
  }
}

function checkEnvItem(node: YamlNode, at: Cursor): void {
  const s = scalarString(node);
  if (s === undefined) return;
  const eq = s.indexOf('=');
  const name = eq < 0 ? s : s.slice(0, eq);
  if (name === '' || /\s/.test(name)) at.error(node, `${JSON.stringify(s)} is not NAME=value`);
  else if (eq < 0) at.warning(node, `${name} has no '=value': docker run copies it from the client's environment, atomicd has none to copy, so it is left unset`);
}

function checkEnvMap(node: YamlNode, at: Cursor): void {
  if (node.kind !== 'map') return;
  for (const e of node.entries) {
    const child = at.child(e.name);
    if (e.name === '' || /[\s=]/.test(e.name)) child.error(e.keyStart, `'${e.name}' is not an environment variable name`);
    if (e.value.kind === 'scalar' && typeof e.value.value === 'boolean') child.warning(e.value, `${yaml11Hint(e.value)}; the variable gets '${String(e.value.value)}'`);
  }
}

/** Docker's units.RAMInBytes (1024-based k/m/g/t/p suffixes); defined beside the run flags, which need it without this schema. */
export { memoryBytes };

/** Docker refuses memory limits under 6 MiB (daemon: "Minimum memory limit allowed is 6MB"). */
const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

function checkMemory(node: YamlNode, at: Cursor): void {
  if (node.kind !== 'scalar') return;
  const bytes = typeof node.value === 'number' ? node.value : typeof node.value === 'string' ? memoryBytes(node.value) : undefined;
  if (bytes === undefined) at.error(node, `${JSON.stringify(node.value)} is not a size like 512m or 1g`);
  else if (bytes < MIN_MEMORY_BYTES) at.error(node, `${node.plain ?? JSON.stringify(node.value)} is below the 6 MiB minimum memory limit`);
}

function checkRestart(node: YamlNode, at: Cursor): void {
  if (node.kind === 'scalar' && node.value === false) at.warning(node, `${yaml11Hint(node)}; taken as restart policy "no"`);
}

function checkUser(node: YamlNode, at: Cursor): void {
  if (node.kind === 'scalar' && typeof node.value === 'number' && node.plain?.includes(':') === true) at.error(node, yaml11Hint(node));
}

const container = obj(
  {
    image: str({ minLength: 1, check: checkImage }),
    // Docker's container name rule (daemon/names: RestrictedNameChars).
    name: str({ pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, patternMessage: 'is not a container name ([a-zA-Z0-9][a-zA-Z0-9_.-]+, at least 2 characters)' }),
    command,
    entrypoint: command,
    env: oneOf([list(str({ check: checkEnvItem })), { type: 'map', values: oneOf([str(), { type: 'number' }, bool(), nul], { title: 'a string' }), check: checkEnvMap }], {
      title: 'a list of NAME=value or a mapping',
    }),
    ports: list(oneOf([str(), int()], { title: "a port mapping like '8080:80'", check: checkPort })),
    volumes: list(str({ check: checkVolume })),
    restart: oneOf([str({ pattern: /^(?:no|always|unless-stopped|on-failure(?::[0-9]+)?)$/, patternMessage: 'is not no, always, unless-stopped or on-failure[:N]' }), bool({ enum: [false] })], {
      title: 'no, always, unless-stopped or on-failure[:N]',
      check: checkRestart,
    }),
    labels: oneOf([{ type: 'map', values: oneOf([str(), { type: 'number' }, bool()], { title: 'a string' }) }, list(str({ pattern: /^[^=]+=/, patternMessage: 'is not key=value' }))], {
      title: 'a mapping or a list of key=value',
    }),
    memory: oneOf([str(), int()], { title: 'a size like 512m', check: checkMemory }),
    cpu_shares: int({ minimum: 2, maximum: 262144 }),
    user: oneOf([str({ minLength: 1 }), int({ minimum: 0 })], { title: 'a user name or uid[:gid]', check: checkUser }),
    workdir: str({ check: checkAbsolutePath }),
    privileged: bool(),
  },
  { required: ['image'] },
);

/** Names are unique, and two containers cannot publish the same host port. */
function checkContainers(node: YamlNode, at: Cursor): void {
  if (node.kind !== 'seq') return;
  const names = new Map<string, number>();
  const published = new Map<string, string>();
  node.items.forEach((item, i) => {
    if (item.kind !== 'map') return;
    const nameEntry = entryOf(item, 'name');
    const name = nameEntry === undefined ? undefined : scalarString(nameEntry.value);
    if (name !== undefined && nameEntry !== undefined) {
      const prev = names.get(name);
      if (prev !== undefined) at.child(i).child('name').error(nameEntry.value, `container name '${name}' is already used by /containers/${prev}`);
      else names.set(name, i);
    }
    const ports = entryOf(item, 'ports')?.value;
    if (ports?.kind !== 'seq') return;
    ports.items.forEach((p, j) => {
      const spec = scalarString(p);
      // Bounded, so that a few '1-65535' ranges cannot make validation slow.
      if (spec === undefined || published.size > 1 << 18) return;
      for (const key of claimedHostPorts(spec)) {
        const owner = published.get(key);
        const here = `/containers/${i}/ports/${j}`;
        if (owner !== undefined) {
          at.child(i).child('ports').child(j).error(p, `host port ${key.replace(/^0\.0\.0\.0:/, '')} is already published by ${owner}`);
          return;
        }
        published.set(key, here);
      }
    });
  });
}

// --- atomic (ours) -----------------------------------------------------------------------------
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const atomicUpdate = obj(
  {
    // An ostree remote name and ref (ostree-remote(5), ostree refs).
    remote: str({ pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, patternMessage: 'is not an ostree remote name' }),
    ref: str({ pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/, patternMessage: 'is not an ostree ref like os/x86_64/stable' }),
    strategy: str({ enum: ['immediate', 'periodic', 'fleet_lock'] }),
    // Like Zincati's periodic strategy: reboot only inside a weekly maintenance window.
    periodic: obj(
      {
        days: list(str({ enum: DAYS }), { minItems: 1 }),
        start_time: str({ pattern: /^(?:[01]\d|2[0-3]):[0-5]\d$/, patternMessage: 'is not a time HH:MM' }),
        length_minutes: int({ minimum: 1, maximum: 1440 }),
      },
      { required: ['start_time', 'length_minutes'] },
    ),
    // Like Zincati's fleet_lock strategy: take a reboot slot from a FleetLock server first.
    fleet_lock: obj(
      {
        base_url: str({ check: (n, at) => (isHttpUrl(scalarString(n) ?? '') ? undefined : at.error(n, `${JSON.stringify(scalarString(n))} is not an http(s) URL`)) }),
        group: str({ pattern: /^[a-zA-Z0-9.-]+$/, patternMessage: 'is not a group name ([a-zA-Z0-9.-]+)' }),
      },
      { required: ['base_url'] },
    ),
  },
  {
    check: (node, at) => {
      if (node.kind !== 'map') return;
      const strategy = entryOf(node, 'strategy');
      const s = strategy === undefined ? undefined : scalarString(strategy.value);
      if (strategy === undefined) return;
      // fleet_lock cannot work without a lock server; periodic without a window may reboot at
      // any time, like immediate, which is allowed but probably not what was meant.
      if (s === 'fleet_lock' && entryOf(node, 'fleet_lock') === undefined) at.child('strategy').error(strategy.value, "strategy fleet_lock needs a 'fleet_lock' section with base_url");
      if (s === 'periodic' && entryOf(node, 'periodic') === undefined) {
        at.child('strategy').warning(strategy.value, "strategy periodic without a 'periodic' window reboots whenever an update is ready, like immediate; add periodic: {days, start_time, length_minutes}");
      }
    },
  },
);
const atomic = obj({ update: atomicUpdate });

// --- cloud-init modules atomicd does not apply ----------------------------------------------------
const NO_PACKAGES = 'an atomic host has no package manager at boot; put packages in the image';
/** Top-level keys of cloud-init 22.4's schema (and a few it reads outside the schema) that atomicd does not apply. */
export const UNSUPPORTED_KEYS: Readonly<Record<string, string>> = {
  cloud_init_modules: '', cloud_config_modules: '', cloud_final_modules: '', autoinstall: '', ansible: '', apk_repos: NO_PACKAGES,
  apt: NO_PACKAGES, apt_pipelining: NO_PACKAGES, byobu_by_default: '', ca_certs: '', 'ca-certs': '', chef: '', disable_ec2_metadata: '',
  device_aliases: '', disk_setup: '', fs_setup: '', fan: '', growpart: 'the image build sizes partitions', grub_dpkg: '', 'grub-dpkg': '',
  updates: '', keyboard: '', ssh: '', ssh_key_console_blacklist: '', ssh_fp_console_blacklist: '', landscape: '', locale: '',
  locale_configfile: '', lxd: '', mcollective: '', migrate: '', mounts: '', mount_default_fields: '', swap: '', ntp: '',
  packages: NO_PACKAGES, package_update: NO_PACKAGES, package_upgrade: `${NO_PACKAGES}; OS updates come from atomic.update`,
  package_reboot_if_required: NO_PACKAGES, apt_update: NO_PACKAGES, apt_upgrade: NO_PACKAGES, apt_reboot_if_required: NO_PACKAGES,
  phone_home: '', puppet: '', resize_rootfs: '', manage_resolv_conf: '', resolv_conf: '', rh_subscription: '', rsyslog: '',
  salt_minion: '', vendor_data: '', random_seed: '', password: 'set passwords per user in users or with chpasswd', snap: 'there is no snapd',
  spacewalk: '', no_ssh_fingerprints: '', authkey_hash: '', ssh_import_id: 'list the keys in ssh_authorized_keys', ssh_keys: '',
  ssh_deletekeys: '', ssh_genkeytypes: '', disable_root_opts: '', allow_public_ssh_keys: '', ssh_quiet_keygen: '', ssh_publish_hostkeys: '',
  ubuntu_advantage: '', drivers: '', user: "use 'users'", wireguard: '', yum_repo_dir: NO_PACKAGES, yum_repos: NO_PACKAGES,
  zypper: NO_PACKAGES, reporting: '', 'launch-index': '', output: '', log_cfgs: '', datasource: '', datasource_list: '', system_info: '',
  manual_cache_clean: '',
  network: "network configuration in user-data is ignored by cloud-init too; put it in the seed's network-config file",
};

// --- the top level -----------------------------------------------------------------------------
export const SUPPORTED_PROPERTIES: Readonly<Record<string, Schema>> = {
  bootcmd: list(command, { minItems: 1 }),
  runcmd: list(oneOf([str(), list(str()), nul], { title: 'a string or a list of strings' }), { minItems: 1 }),
  write_files: list(writeFile, { minItems: 1 }),
  users,
  groups,
  ssh_authorized_keys: sshKeys,
  ssh_pwauth: oneOf([bool(), str({ deprecated: 'ssh_pwauth as a string is deprecated in cloud-init; write true or false' })]),
  disable_root: bool(),
  chpasswd,
  hostname: str({ check: checkHostname }),
  fqdn: str({ check: checkHostname }),
  prefer_fqdn_over_hostname: bool(),
  preserve_hostname: bool(),
  manage_etc_hosts: oneOf([bool(), str({ enum: ['localhost', 'template'] })], {
    title: "true, false or 'localhost'",
    check: (n, at) => (scalarString(n) === 'template' ? at.warning(n, "manage_etc_hosts: template is deprecated in cloud-init; write true") : undefined),
  }),
  timezone: str({ check: checkTimezone }),
  power_state: powerState,
  final_message: str(),
  merge_how: mergeHow,
  merge_type: mergeHow,
  containers: list(container, { check: checkContainers }),
  atomic,
};

function topLevelProperties(): Record<string, Schema> {
  const props: Record<string, Schema> = { ...SUPPORTED_PROPERTIES };
  for (const [key, why] of Object.entries(UNSUPPORTED_KEYS)) props[key] = unsupported(why);
  return props;
}

/** The schema of a `#cloud-config` document. */
export const CLOUD_CONFIG_SCHEMA: ObjectSchema = obj(topLevelProperties(), {
  title: 'a mapping of cloud-config modules',
  unknownKeys: 'warning',
  unknownKeyNote: 'cloud-init and atomicd ignore it',
});

/** Validate a parsed `#cloud-config` document (its root node). */
export function validateCloudConfigNode(root: YamlNode, at: Cursor): void {
  if (root.kind === 'scalar' && root.value === null) {
    at.warning(root, 'the cloud-config is empty; cloud-init skips it');
    return;
  }
  if (root.kind !== 'map') {
    at.error(root, `a cloud-config is a mapping of module keys, got ${describeNode(root)}`);
    return;
  }
  validateNode(root, CLOUD_CONFIG_SCHEMA, at);
}
