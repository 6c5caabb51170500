// `User` of a container ("name", "uid", "name:group", "uid:gid") resolved against the image's
// /etc/passwd and /etc/group, with Docker's rules (moby/sys/user GetExecUser): no user means root;
// a numeric uid need not exist in passwd (gid 0 then, home "/"); a name must; supplementary groups
// are the groups that list the user as a member, plus HostConfig.GroupAdd.
import { NotFound, InvalidArgument } from '../../lib/errors.js';
// One reader of the account databases for provisioning and containers alike.
import { parseGroup, parsePasswd, type PasswdEntry } from '../provision/parse-passwd.js';

export interface ExecUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: readonly number[];
  readonly home: string;
  /** The passwd name when there is one (for messages). */
  readonly name: string | undefined;
}

const isId = (s: string): boolean => /^\d+$/.test(s) && Number(s) <= 0xffffffff;

export interface UserDatabase {
  /** Content of the image's /etc/passwd; undefined when the image has none. */
  readonly passwd?: string | undefined;
  readonly group?: string | undefined;
}

/**
 * Resolve `user` ("" = root). Throws NotFound for a user or group name the image does not define
 * (Docker: "unable to find user X: no matching entries in passwd file").
 */
export function resolveUser(user: string, db: UserDatabase, groupAdd: readonly string[] = []): ExecUser {
  const passwd = parsePasswd(db.passwd ?? '');
  const groups = parseGroup(db.group ?? '');
  const [userPart = '', groupPart, ...extra] = user.split(':');
  if (extra.length > 0) throw new InvalidArgument(`invalid user "${user}": expected USER[:GROUP]`, { subject: user });

  let entry: PasswdEntry | undefined;
  let uid: number;
  if (userPart === '') {
    entry = passwd.find((p) => p.uid === 0);
    uid = 0;
  } else if (isId(userPart)) {
    uid = Number(userPart);
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (entry === undefined) throw new NotFound(`unable to find user ${userPart}: no matching entries in passwd file`, { subject: userPart });
    uid = entry.uid;
  }

  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (isId(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (g === undefined) throw new NotFound(`unable to find group ${groupPart}: no matching entries in group file`, { subject: groupPart });
      gid = g.gid;
    }
  }

  // Supplementary groups: only when a named user exists, and not when the group was given
  // explicitly (moby/sys/user: "if the group was specified, do not add supplementary groups").
  const additional = new Set<number>();
  if (entry !== undefined && (groupPart === undefined || groupPart === '')) {
    for (const g of groups) if (g.members.includes(entry.name)) additional.add(g.gid);
  }
  for (const ga of groupAdd) {
    if (isId(ga)) additional.add(Number(ga));
    else {
      const g = groups.find((x) => x.name === ga);
      if (g === undefined) throw new NotFound(`unable to find group ${ga}: no matching entries in group file`, { subject: ga });
      additional.add(g.gid);
    }
  }
  return { uid, gid, additionalGids: [...additional], home: entry?.home !== undefined && entry.home !== '' ? entry.home : '/', name: entry?.name };
}
