// The `users` and `groups` keys in all their accepted forms, normalized the way cloud-init's
// distros/ug_util.py does (normalize_users_groups, _normalize_users, _normalize_groups,
// extract_default), so that cc_users_groups, cc_ssh and cc_set_passwords agree on who the
// default user is.
import { isPlainObject, mergeValues, parseMergeString, type PlainObject } from '../cloud-config/merge-cloud-config.js';
import type { PlainValue } from '../cloud-config/yaml-document.js';
import { isTrue, sortedStrings, uniqMerge } from './config-values.js';
import type { DefaultUser } from './module-input.js';

export type UserConfig = PlainObject;

export interface NormalizedUser {
  readonly name: string;
  readonly config: UserConfig;
  /** This is the distro's default user (`default` in the users list). */
  readonly isDefault: boolean;
}

export interface NormalizedGroup {
  readonly name: string;
  readonly members: readonly string[];
}

export interface NormalizedUsersGroups {
  /** In cloud-init's order: as listed, the default user last. */
  readonly users: readonly NormalizedUser[];
  readonly groups: readonly NormalizedGroup[];
  /** The default user's name, when `default` was listed (ug_util.extract_default). */
  readonly defaultUser?: string;
  readonly problems: readonly string[];
}

function describe(v: PlainValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isPlainObject(v)) return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** util.mergemanydict with cloud-init's default mergers: earlier mappings win, sub-mappings merge. */
function mergeManyDict(dicts: readonly UserConfig[]): UserConfig {
  const spec = parseMergeString('list()+dict()+str()');
  const mergers = spec.ok ? spec.mergers : [];
  let out: PlainValue = {};
  for (const d of dicts) if (Object.keys(d).length > 0) out = mergeValues(out, d, mergers);
  return isPlainObject(out) ? out : {};
}

/** ug_util._normalize_groups. */
function normalizeGroups(cfg: PlainValue, problems: string[]): NormalizedGroup[] {
  const byName = new Map<string, PlainValue[]>();
  const add = (name: string, members: PlainValue[]): void => {
    const n = name.trim();
    if (n === '') return;
    byName.set(n, [...(byName.get(n) ?? []), ...members]);
  };
  if (typeof cfg === 'string') {
    for (const g of cfg.split(',')) add(g, []);
  } else if (Array.isArray(cfg)) {
    cfg.forEach((item, i) => {
      if (typeof item === 'string') add(item, []);
      else if (isPlainObject(item)) {
        for (const [k, v] of Object.entries(item)) {
          if (typeof v === 'string' || Array.isArray(v)) add(k, Array.isArray(v) ? v : [v]);
          else problems.push(`/groups/${i}/${k}: members are a name or a list of names, got ${describe(v)}`);
        }
      } else problems.push(`/groups/${i}: a group is a name or {name: members}, got ${describe(item)}`);
    });
  } else if (isPlainObject(cfg)) {
    for (const [k, v] of Object.entries(cfg)) {
      if (v === null) add(k, []);
      else if (typeof v === 'string' || Array.isArray(v)) add(k, Array.isArray(v) ? v : [v]);
      else problems.push(`/groups/${k}: members are a name or a list of names, got ${describe(v)}`);
    }
  } else {
    problems.push(`/groups: expected a list, a mapping or a comma-separated string, got ${describe(cfg)}`);
  }
  // util.uniq_merge_sorted; member strings with commas are split here in both forms (cloud-init
  // splits them only in the mapping form).
  return [...byName].map(([name, members]) => ({ name, members: sortedStrings(uniqMerge(...members)) }));
}

/** ug_util._normalize_users, with `users` absent meaning cloud.cfg's `[default]`. */
function normalizeUsers(cfg: PlainValue, defaultUser: DefaultUser | undefined, problems: string[]): { users: NormalizedUser[]; defaultUser?: string } {
  let list: PlainValue[] = [];
  if (isPlainObject(cfg)) {
    for (const [k, v] of Object.entries(cfg)) {
      if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') {
        if (isTrue(v)) list.push(k);
      } else if (isPlainObject(v)) list.push({ ...v, name: k });
      else problems.push(`/users/${k}: expected a user mapping or true, got ${describe(v)}`);
    }
  } else if (typeof cfg === 'string') {
    list = sortedStrings(uniqMerge(cfg));
  } else if (Array.isArray(cfg)) {
    list = cfg;
  } else {
    problems.push(`/users: expected a list of users, got ${describe(cfg)}`);
  }

  const users = new Map<string, UserConfig>();
  list.forEach((item, i) => {
    if (typeof item === 'string' || Array.isArray(item)) {
      for (const u of uniqMerge(item)) if (!users.has(u)) users.set(u, {});
    } else if (isPlainObject(item)) {
      const { name, ...rest } = item;
      const n = name === undefined ? 'default' : typeof name === 'string' ? name : String(name);
      users.set(n, mergeManyDict([users.get(n) ?? {}, rest]));
    } else {
      problems.push(`/users/${i}: expected a user name, 'default' or a user mapping, got ${describe(item)}`);
    }
  });

  // `lock-passwd` and friends: dashes become underscores, like cloud-init.
  for (const [name, config] of users) {
    const clean: UserConfig = {};
    for (const [k, v] of Object.entries(config)) {
      const key = k.replace(/-/g, '_').trim();
      if (key !== '') clean[key] = v;
    }
    users.set(name, clean);
  }

  let defName: string | undefined;
  const defConfig = users.get('default');
  if (defConfig !== undefined) {
    users.delete('default');
    if (defaultUser !== undefined) {
      const { name, groups: defGroups, ...distroConfig } = defaultUser;
      defName = name;
      const parsed = { ...(users.get(name) ?? {}) };
      users.delete(name);
      const parsedGroups = parsed['groups'];
      const asValue = (g: DefaultUser['groups']): PlainValue => (g === undefined ? [] : typeof g === 'string' ? g : [...g]);
      parsed['groups'] = sortedStrings(uniqMerge(isPlainObject(parsedGroups) ? Object.keys(parsedGroups) : parsedGroups, asValue(defGroups))).join(',');
      const distro: UserConfig = {};
      for (const [k, v] of Object.entries(distroConfig)) {
        if (v !== undefined) distro[k] = Array.isArray(v) ? [...(v as readonly string[])] : (v as PlainValue);
      }
      // mergemanydict: the distro's settings win over the user's for the default user, except
      // groups, which are the union (ug_util._normalize_users).
      users.set(name, mergeManyDict([distro, defConfig, parsed]));
    }
  }
  return {
    users: [...users].map(([name, config]) => ({ name, config, isDefault: name === defName })),
    ...(defName === undefined ? {} : { defaultUser: defName }),
  };
}

/** ug_util.normalize_users_groups + extract_default. */
export function normalizeUsersGroups(config: PlainObject, defaultUser: DefaultUser | undefined): NormalizedUsersGroups {
  const problems: string[] = [];
  const usersCfg: PlainValue = Object.hasOwn(config, 'users') ? (config['users'] ?? []) : ['default'];
  const groups = Object.hasOwn(config, 'groups') ? normalizeGroups(config['groups'] ?? [], problems) : [];
  const { users, defaultUser: def } = normalizeUsers(usersCfg, defaultUser, problems);
  return { users, groups, ...(def === undefined ? {} : { defaultUser: def }), problems };
}
