// The shadow suite (Debian package `passwd`) run against a root tree with `--root DIR`: users and
// groups are always created and changed by these tools, never by editing /etc/passwd ourselves,
// so that locking, backups (passwd-), gshadow and login.defs are handled the way the tools do.
// `chpasswd --root` cannot use PAM inside the root, so passwords arrive already hashed (-e).
import { Internal } from '../../lib/errors.js';
import type { EnsureUserStep } from '../../core/provision/steps.js';
import { describeExit, runCommand, succeeded, type CommandResult } from './run-command.js';

export interface ToolContext {
  readonly root: string;
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs: number;
}

/** The environment of the tools: no locale surprises, nothing of ours leaking in. */
const TOOL_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

/**
 * Run a tool; a failure is an Internal error whose message names the tool and `what`, never the
 * full argv (which may carry a password hash).
 */
async function tool(ctx: ToolContext, cmd: string, args: readonly string[], what: string, input?: string): Promise<CommandResult> {
  const r = await runCommand(cmd, args, { env: TOOL_ENV, timeoutMs: ctx.timeoutMs, signal: ctx.signal, debianPackage: 'passwd', ...(input === undefined ? {} : { input }) });
  if (!succeeded(r)) throw new Internal(`${cmd} (${what}) failed: ${describeExit(r)}`, { subject: ctx.root });
  return r;
}

/** distros.create_group: `groupadd`. */
export async function groupadd(ctx: ToolContext, name: string): Promise<void> {
  await tool(ctx, 'groupadd', ['--root', ctx.root, name], `group ${name}`);
}

/** distros.create_group members: `usermod -a -G group member`. */
export async function addToGroup(ctx: ToolContext, group: string, user: string): Promise<void> {
  await tool(ctx, 'usermod', ['--root', ctx.root, '-a', '-G', group, user], `adding ${user} to ${group}`);
}

/** distros.add_user: `useradd` with cloud-init's option mapping (useradd_opts, useradd_flags). */
export async function useradd(ctx: ToolContext, u: EnsureUserStep): Promise<void> {
  const args = ['--root', ctx.root];
  const opt = (flag: string, v: string | undefined): void => {
    if (v !== undefined && v !== '') args.push(flag, v);
  };
  opt('--comment', u.gecos);
  opt('--home-dir', u.homedir);
  opt('--gid', u.primaryGroup);
  opt('--uid', u.uid);
  opt('--groups', u.groups.join(','));
  opt('--password', u.passwordHash);
  opt('--shell', u.shell);
  opt('--expiredate', u.expiredate);
  opt('--inactive', u.inactive);
  if (u.noUserGroup) args.push('--no-user-group');
  if (u.system) args.push('--system');
  if (u.noLogInit) args.push('--no-log-init');
  args.push(u.createHome ? '-m' : '-M', u.name);
  await tool(ctx, 'useradd', args, `user ${u.name}`);
}

/** distros.set_passwd(hashed=True): `chpasswd -e`, the hash on stdin. */
export async function setPasswordHash(ctx: ToolContext, user: string, hash: string): Promise<void> {
  await tool(ctx, 'chpasswd', ['-e', '--root', ctx.root], `password of ${user}`, `${user}:${hash}\n`);
}

/** distros.lock_passwd: `usermod --lock` (cloud-init tries `passwd -l` first; same '!' prefix). */
export async function lockPassword(ctx: ToolContext, user: string): Promise<void> {
  await tool(ctx, 'usermod', ['--root', ctx.root, '--lock', user], `locking ${user}`);
}

/** distros.expire_passwd: `passwd --expire`. */
export async function expirePassword(ctx: ToolContext, user: string): Promise<void> {
  await tool(ctx, 'passwd', ['--root', ctx.root, '--expire', user], `expiring the password of ${user}`);
}
