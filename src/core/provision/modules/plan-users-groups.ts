// cc_users_groups: groups first (distro.create_group), then each user (distro.create_user:
// add_user with useradd's options, then password, lock, sudo rules and authorized keys, which
// cloud-init also applies to users that already exist).
import { isPlainObject } from '../../cloud-config/merge-cloud-config.js';
import type { PlainValue } from '../../cloud-config/yaml-document.js';
import { truthy } from '../config-values.js';
import type { ModuleInput, ModulePlan } from '../module-input.js';
import { normalizeUsersGroups, type UserConfig } from '../normalize-users-groups.js';
import { randomSalt, sha512Crypt } from '../sha512-crypt.js';
import type { EnsureUserStep, Step } from '../steps.js';

/** cc_users_groups NO_HOME and NEED_HOME: mutually exclusive. */
const NO_HOME = ['no_create_home', 'system'];
const NEED_HOME = ['ssh_authorized_keys', 'ssh_import_id', 'ssh_redirect_user'];

/** Keys atomicd does not apply (the schema warns about them already). */
const NOT_APPLIED = ['selinux_user', 'ssh_import_id', 'ssh_redirect_user', 'snapuser'];

/** A useradd option value: cloud-init passes only non-empty strings (uid made a string first). */
function optionText(v: PlainValue | undefined): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  // The schema accepts uid and inactive as numbers and an unquoted expiredate as a date;
  // cloud-init would drop the numbers and dates silently, useradd wants them as text.
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (v instanceof Date && !Number.isNaN(v.getTime())) return v.toISOString().slice(0, 10);
  return undefined;
}

/** distros.add_user: `groups` as a comma-separated string, a list, or (deprecated) a mapping. */
function userGroups(v: PlainValue | undefined): string[] {
  if (!truthy(v) || v === undefined) return [];
  const items = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v.map((g) => (typeof g === 'string' ? g : String(g))) : isPlainObject(v) ? Object.keys(v) : [];
  return items.map((g) => g.trim()).filter((g) => g !== '');
}

/** ssh_authorized_keys of create_user: a string, a list (a set in cloud-init) or a mapping's values. */
function userKeys(v: PlainValue | undefined): string[] | undefined {
  if (typeof v === 'string') return [v];
  const items = Array.isArray(v) ? v : isPlainObject(v) ? Object.values(v) : undefined;
  if (items === undefined) return undefined;
  return [...new Set(items.filter((k): k is string => typeof k === 'string'))];
}

/** distros.write_sudo_rules accepts a rule string or a list of rules. */
export function sudoRules(v: PlainValue | undefined): string[] | string {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((r) => typeof r === 'string' || typeof r === 'number')) return v.map(String);
  return `sudo must be a sudoers rule or a list of rules, got ${v === true ? 'true' : JSON.stringify(v)} (cloud-init: "Can not create sudoers rule addition")`;
}

function planUser(name: string, config: UserConfig, at: string, input: ModuleInput): ModulePlan {
  const steps: Step[] = [];
  const problems: string[] = [];
  const get = (k: string): PlainValue | undefined => (Object.hasOwn(config, k) ? config[k] : undefined);
  for (const k of NOT_APPLIED) if (truthy(get(k))) problems.push(`${at}/${k}: not applied by atomicd`);
  if (Object.hasOwn(config, 'snapuser')) return { steps, problems };

  const noHome = NO_HOME.filter((k) => truthy(get(k)));
  const needHome = NEED_HOME.filter((k) => truthy(get(k)));
  if (noHome.length > 0 && needHome.length > 0) {
    problems.push(`${at}: not creating user ${name}: ${needHome.join(', ')} cannot be given with ${noHome.join(', ')}`);
    return { steps, problems };
  }

  // add_user: supplementary groups, plus primary_group for creation, are created when missing
  // (create_groups defaults to true).
  const groups = userGroups(get('groups'));
  const primaryGroup = optionText(get('primary_group'));
  const createGroups = Object.hasOwn(config, 'create_groups') ? truthy(get('create_groups')) : true;
  if (createGroups) {
    for (const g of new Set([...groups, ...(primaryGroup === undefined ? [] : [primaryGroup])])) steps.push({ action: 'ensure-group', name: g, members: [] });
  }
  const opt = (k: string): Partial<Record<string, string>> => {
    const v = optionText(get(k));
    return v === undefined ? {} : { [k]: v };
  };
  const o = { ...opt('gecos'), ...opt('homedir'), ...opt('uid'), ...opt('shell'), ...opt('passwd'), ...opt('expiredate'), ...opt('inactive') };
  const user: EnsureUserStep = {
    action: 'ensure-user',
    name,
    groups,
    system: truthy(get('system')),
    noUserGroup: truthy(get('no_user_group')),
    noLogInit: truthy(get('no_log_init')),
    createHome: !(truthy(get('no_create_home')) || truthy(get('system'))),
    ...(o['gecos'] === undefined ? {} : { gecos: o['gecos'] }),
    ...(o['homedir'] === undefined ? {} : { homedir: o['homedir'] }),
    ...(primaryGroup === undefined ? {} : { primaryGroup }),
    ...(o['uid'] === undefined ? {} : { uid: o['uid'] }),
    ...(o['shell'] === undefined ? {} : { shell: o['shell'] }),
    ...(o['passwd'] === undefined ? {} : { passwordHash: o['passwd'] }),
    ...(o['expiredate'] === undefined ? {} : { expiredate: o['expiredate'] }),
    ...(o['inactive'] === undefined ? {} : { inactive: o['inactive'] }),
  };
  steps.push(user);

  const plain = get('plain_text_passwd');
  if (truthy(plain)) {
    if (typeof plain === 'string') steps.push({ action: 'set-password-hash', user: name, hash: sha512Crypt(plain, { salt: randomSalt(input.randomBytes) }) });
    else problems.push(`${at}/plain_text_passwd: expected a string`);
  }
  const hashed = get('hashed_passwd');
  if (truthy(hashed)) {
    if (typeof hashed === 'string') steps.push({ action: 'set-password-hash', user: name, hash: hashed });
    else problems.push(`${at}/hashed_passwd: expected a string`);
  }
  // lock_passwd defaults to true: the account is locked unless it says false.
  if (Object.hasOwn(config, 'lock_passwd') ? truthy(get('lock_passwd')) : true) steps.push({ action: 'lock-password', user: name });

  if (Object.hasOwn(config, 'sudo') && truthy(get('sudo'))) {
    const rules = sudoRules(get('sudo'));
    if (typeof rules === 'string') problems.push(`${at}/sudo: ${rules}`);
    else steps.push({ action: 'sudoers', user: name, rules });
  }

  if (Object.hasOwn(config, 'ssh_authorized_keys')) {
    const keys = userKeys(get('ssh_authorized_keys'));
    if (keys === undefined) problems.push(`${at}/ssh_authorized_keys: expected a list of keys`);
    else if (keys.length > 0) steps.push({ action: 'authorized-keys', user: name, keys });
  }
  return { steps, problems };
}

export function planUsersGroups(input: ModuleInput): ModulePlan {
  const n = normalizeUsersGroups(input.config, input.defaultUser);
  const steps: Step[] = [];
  const problems = [...n.problems];
  for (const g of n.groups) steps.push({ action: 'ensure-group', name: g.name, members: g.members });
  for (const u of n.users) {
    const at = u.isDefault ? `/users/default(${u.name})` : `/users/${u.name}`;
    const p = planUser(u.name, u.config, at, input);
    steps.push(...p.steps);
    problems.push(...p.problems);
  }
  return { steps, problems };
}
