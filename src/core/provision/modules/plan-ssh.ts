// Our `ssh` module: the credential part of cc_ssh (apply_credentials: metadata public keys and
// the top-level ssh_authorized_keys go to the default user, and to root behind the "Please login
// as the user ..." command while disable_root is true), plus what cc_set_passwords does with
// `ssh_pwauth` and `chpasswd`, which atomicd has no separate module for. Host key generation
// (ssh_deletekeys, ssh_genkeytypes, ssh_keys) is left to the image's sshd.
import { isPlainObject, type PlainObject } from '../../cloud-config/merge-cloud-config.js';
import type { PlainValue } from '../../cloud-config/yaml-document.js';
import { isFalse, isTrue, optionBool } from '../config-values.js';
import type { ModuleInput, ModulePlan } from '../module-input.js';
import { normalizeUsersGroups } from '../normalize-users-groups.js';
import { randomSalt, sha512Crypt } from '../sha512-crypt.js';
import type { Step } from '../steps.js';

/** ssh_util.DISABLE_USER_OPTS; sshd shows the message and the session exits with 142. */
export const DISABLE_USER_OPTS =
  'no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="echo \'Please login as the user \\"$USER\\" rather than the user \\"$DISABLE_USER\\".\';echo;sleep 10;exit 142"';

/**
 * Where `ssh_pwauth` goes: a drop-in, as cloud-init 23.4+ writes it when sshd_config includes
 * sshd_config.d (Debian's does, at the top, so the drop-in wins: sshd takes the first value).
 */
export const SSHD_PWAUTH_DROPIN = '/etc/ssh/sshd_config.d/50-cloud-init.conf';

/** cc_set_passwords: `chpasswd.list` values that are already crypt hashes. */
const HASH_PATTERN = /^\$(1|2a|2y|5|6)(\$.+){2}/;

function planPwauth(value: PlainValue | undefined, problems: string[]): Step[] {
  if (value === undefined || value === null) return [];
  let setting: 'yes' | 'no';
  if (isTrue(value)) setting = 'yes';
  else if (isFalse(value)) setting = 'no';
  else {
    if (!(typeof value === 'string' && value.toLowerCase() === 'unchanged')) problems.push(`/ssh_pwauth: unrecognized value ${JSON.stringify(value)}; PasswordAuthentication left unchanged`);
    return [];
  }
  return [{ action: 'write-file', path: SSHD_PWAUTH_DROPIN, content: new TextEncoder().encode(`PasswordAuthentication ${setting}\n`), mode: 0o600, owner: 'root:root', append: false }];
}

/** cc_set_passwords handle(): chpasswd.users (hash, text, RANDOM) and the deprecated chpasswd.list. */
function planChpasswd(chfg: PlainObject, input: ModuleInput, problems: string[]): Step[] {
  const hashed: [string, string][] = [];
  const text: [string, string][] = [];
  const users = chfg['users'];
  if (Array.isArray(users)) {
    users.forEach((item, i) => {
      const at = `/chpasswd/users/${i}`;
      if (!isPlainObject(item) || typeof item['name'] !== 'string') {
        problems.push(`${at}: expected {name, password, type}`);
        return;
      }
      const name = item['name'];
      const type = item['type'] ?? 'hash';
      const password = item['password'] ?? 'RANDOM';
      if (type === 'RANDOM') problems.push(`${at}: type RANDOM is not supported by atomicd (the generated password would have to be shown on a console); not set for ${name}`);
      else if (typeof password !== 'string') problems.push(`${at}/password: expected a string`);
      else if (type === 'hash') hashed.push([name, password]);
      else if (type === 'text') text.push([name, password]);
      else problems.push(`${at}/type: expected hash, text or RANDOM`);
    });
  }
  const list = chfg['list'];
  if (list !== undefined && list !== null && list !== '') {
    const lines = typeof list === 'string' ? list.split(/\r?\n/).filter((l) => l !== '') : Array.isArray(list) ? list : [];
    lines.forEach((line, i) => {
      const at = `/chpasswd/list/${i}`;
      if (typeof line !== 'string' || !line.includes(':')) {
        problems.push(`${at}: expected user:password`);
        return;
      }
      const colon = line.indexOf(':');
      const u = line.slice(0, colon);
      const p = line.slice(colon + 1);
      if (HASH_PATTERN.test(p) && !p.includes(':')) hashed.push([u, p]);
      else if (p === 'R' || p === 'RANDOM') problems.push(`${at}: RANDOM passwords are not supported by atomicd; not set for ${u}`);
      else text.push([u, p]);
    });
  }
  const steps: Step[] = [];
  for (const [user, password] of text) steps.push({ action: 'set-password-hash', user, hash: sha512Crypt(password, { salt: randomSalt(input.randomBytes) }) });
  for (const [user, hash] of hashed) steps.push({ action: 'set-password-hash', user, hash });
  // expire defaults to true and, since cloud-init 22.3, covers hashed passwords too
  // (features.EXPIRE_APPLIES_TO_HASHED_USERS).
  if (optionBool(chfg, 'expire', true)) {
    for (const user of [...new Set([...text, ...hashed].map(([u]) => u))]) steps.push({ action: 'expire-password', user });
  }
  return steps;
}

export function planSsh(input: ModuleInput): ModulePlan {
  const cfg = input.config;
  const problems: string[] = [];
  const steps: Step[] = [];
  const { defaultUser } = normalizeUsersGroups(cfg, input.defaultUser);

  // allow_public_ssh_keys is not in our schema: metadata keys are always taken.
  const keys: string[] = [...input.instance.publicKeys];
  const cfgKeys = cfg['ssh_authorized_keys'];
  if (Array.isArray(cfgKeys)) keys.push(...cfgKeys.filter((k): k is string => typeof k === 'string'));
  else if (typeof cfgKeys === 'string') keys.push(cfgKeys);
  else if (cfgKeys !== undefined && cfgKeys !== null) problems.push('/ssh_authorized_keys: expected a list of keys');
  const unique = [...new Set(keys)];

  if (unique.length > 0) {
    if (defaultUser !== undefined) steps.push({ action: 'authorized-keys', user: defaultUser, keys: unique });
    // apply_credentials: root gets the same keys, behind the "login as" command unless
    // disable_root is false (then as plain keys, dropping the keys' own options, like cloud-init).
    const options = optionBool(cfg, 'disable_root', true) ? DISABLE_USER_OPTS.replace(/\$USER/g, () => defaultUser ?? 'NONE').replace(/\$DISABLE_USER/g, () => 'root') : '';
    steps.push({ action: 'authorized-keys', user: 'root', keys: unique, options });
  }

  steps.push(...planPwauth(cfg['ssh_pwauth'], problems));
  const chfg = cfg['chpasswd'];
  if (isPlainObject(chfg)) steps.push(...planChpasswd(chfg, input, problems));
  else if (chfg !== undefined && chfg !== null) problems.push('/chpasswd: expected a mapping');
  return { steps, problems };
}
