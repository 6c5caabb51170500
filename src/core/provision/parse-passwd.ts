// The account databases of a root tree, passwd(5) and group(5), read as data. Owners in steps
// are names (cc_write_files `owner: user:group`, a user's ~/.ssh) and must resolve against the
// *target root's* databases, never the host's (getpwnam on the host would give the wrong uid).

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly gecos: string;
  readonly home: string;
  readonly shell: string;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

function fields(text: string, count: number): string[][] {
  const out: string[][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    // NIS compat lines (+, -) and comments are not local accounts.
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const f = line.split(':');
    if (f.length < count) continue;
    out.push(f);
  }
  return out;
}

function id(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** /etc/passwd: name:password:uid:gid:gecos:home:shell; malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  return fields(text, 7).flatMap(([name = '', , u, g, gecos = '', home = '', shell = '']) => {
    const uid = id(u);
    const gid = id(g);
    return name === '' || uid === undefined || gid === undefined ? [] : [{ name, uid, gid, gecos, home, shell }];
  });
}

/**
 * Whether `usermod --lock USER` would leave the databases as they are: the password in
 * /etc/shadow already starts with '!', and /etc/passwd holds no password of its own (`x`, or one
 * already locked). usermod prefixes '!' only to a password that has none (shadow's usermod.c,
 * new_pw_passwd); a user without a shadow entry is not "already locked".
 */
export function passwordLocked(passwdText: string, shadowText: string, user: string): boolean {
  const shadow = fields(shadowText, 2).find(([name]) => name === user);
  const passwd = fields(passwdText, 7).find(([name]) => name === user);
  if (shadow === undefined || passwd === undefined) return false;
  const own = passwd[1] ?? '';
  return (shadow[1] ?? '').startsWith('!') && (own === 'x' || own.startsWith('!'));
}

/** /etc/group: name:password:gid:member,member; malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  return fields(text, 4).flatMap(([name = '', , g, members = '']) => {
    const gid = id(g);
    return name === '' || gid === undefined ? [] : [{ name, gid, members: members.split(',').filter((m) => m !== '') }];
  });
}

/**
 * util.extract_usergroup: `user`, `user:group`, `:group`; empty, `-1` and `none` mean "leave as
 * it is" (undefined).
 */
export function parseOwner(owner: string): { user?: string; group?: string } {
  const colon = owner.indexOf(':');
  const clean = (s: string): string | undefined => {
    const t = s.trim();
    return t === '' || t === '-1' || t.toLowerCase() === 'none' ? undefined : t;
  };
  const user = clean(colon < 0 ? owner : owner.slice(0, colon));
  const group = colon < 0 ? undefined : clean(owner.slice(colon + 1));
  return { ...(user === undefined ? {} : { user }), ...(group === undefined ? {} : { group }) };
}

export type OwnerResolution = { readonly ok: true; readonly uid: number; readonly gid: number } | { readonly ok: false; readonly message: string };

/**
 * Resolve `owner` to numbers with the root's databases. Like chownbyname, a missing user or
 * group keeps `current`'s value; a name that does not exist is an error. A purely numeric name
 * that is not in the database is taken as the number (cloud-init would fail; numbers are what
 * people mean).
 */
export function resolveOwner(owner: string, passwd: readonly PasswdEntry[], group: readonly GroupEntry[], current: { uid: number; gid: number }): OwnerResolution {
  const { user, group: grp } = parseOwner(owner);
  let uid = current.uid;
  let gid = current.gid;
  if (user !== undefined) {
    const u = passwd.find((e) => e.name === user);
    if (u !== undefined) uid = u.uid;
    else if (/^\d+$/.test(user)) uid = Number(user);
    else return { ok: false, message: `user '${user}' does not exist in the root's /etc/passwd` };
  }
  if (grp !== undefined) {
    const g = group.find((e) => e.name === grp);
    if (g !== undefined) gid = g.gid;
    else if (/^\d+$/.test(grp)) gid = Number(grp);
    else return { ok: false, message: `group '${grp}' does not exist in the root's /etc/group` };
  }
  return { ok: true, uid, gid };
}
