// What the module planners ask the executor to do: a discriminated union on `action`
// (DESIGN.md "Reconciliation = a pure planner + an executor"). Each step is one effect on a root
// tree, named after what cloud-init's cc_* module or its Distro class does at that point; every
// path in a step is absolute *inside* the target root, never a host path. Steps are plain data
// (no functions, no handles) so they can be logged (see describeStep), tested and replayed.
import type { PlainObject } from '../cloud-config/merge-cloud-config.js';
import type { PlainValue } from '../cloud-config/yaml-document.js';

/**
 * Write one file (cc_write_files, cc_runcmd's script, cc_final_message's boot-finished, the
 * sshd drop-in of cc_set_passwords). The executor writes temp + rename inside the root.
 */
export interface WriteFileStep {
  readonly action: 'write-file';
  /** Absolute path inside the root. */
  readonly path: string;
  readonly content: Uint8Array;
  /** Applied after writing, also when appending (cloud-init's util.write_file chmods always). */
  readonly mode: number;
  /**
   * `user`, `user:group` or `:group`, resolved by name in the root's /etc/passwd and
   * /etc/group (cc_write_files: util.extract_usergroup + chownbyname; default root:root).
   */
  readonly owner: string;
  /** cc_write_files `append`: add to the end of an existing file instead of replacing it. */
  readonly append: boolean;
}

/** distros.create_group: `groupadd` unless the group exists, then `usermod -a -G` per member. */
export interface EnsureGroupStep {
  readonly action: 'ensure-group';
  readonly name: string;
  /** Members to add; cloud-init skips (with a warning) members that do not exist yet. */
  readonly members: readonly string[];
}

/**
 * distros.add_user: `useradd` with the user's options unless the user exists (cloud-init then
 * skips every creation option; passwords, locking, sudo and keys are separate steps).
 */
export interface EnsureUserStep {
  readonly action: 'ensure-user';
  readonly name: string;
  readonly gecos?: string;
  readonly homedir?: string;
  /** `--gid`: the primary group (name or number). */
  readonly primaryGroup?: string;
  readonly uid?: string;
  /** Supplementary groups (`--groups`), already created by ensure-group steps before this one. */
  readonly groups: readonly string[];
  readonly shell?: string;
  /** `passwd`: a crypt(3) hash given to `useradd --password` (never a clear-text password). */
  readonly passwordHash?: string;
  readonly expiredate?: string;
  readonly inactive?: string;
  readonly system: boolean;
  readonly noUserGroup: boolean;
  readonly noLogInit: boolean;
  /** `-m` unless `no_create_home` or `system` (then `-M`). */
  readonly createHome: boolean;
}

/**
 * distros.set_passwd(hashed=True) / distros.chpasswd: `chpasswd -e`. Clear-text passwords
 * (plain_text_passwd, chpasswd type text) are hashed by the planner (sha512-crypt.ts), because
 * `chpasswd --root` cannot use PAM inside the root.
 */
export interface SetPasswordHashStep {
  readonly action: 'set-password-hash';
  readonly user: string;
  readonly hash: string;
}

/** distros.lock_passwd: `passwd -l` / `usermod --lock` (lock_passwd defaults to true). */
export interface LockPasswordStep {
  readonly action: 'lock-password';
  readonly user: string;
}

/** distros.expire_passwd (cc_set_passwords chpasswd.expire): `passwd --expire`. */
export interface ExpirePasswordStep {
  readonly action: 'expire-password';
  readonly user: string;
}

/**
 * ssh_util.setup_user_keys: merge `keys` into ~user/.ssh/authorized_keys (a key with the same
 * base64 blob replaces the old line, new keys are appended); .ssh 0700 and the file 0600, owned
 * by the user.
 */
export interface AuthorizedKeysStep {
  readonly action: 'authorized-keys';
  readonly user: string;
  readonly keys: readonly string[];
  /**
   * Options put in front of every key, replacing the key's own options (cc_ssh's
   * disable_root "Please login as the user ..." command). Undefined keeps each key's options.
   */
  readonly options?: string;
}

/** distros.write_sudo_rules: `USER RULE` lines in /etc/sudoers.d/90-cloud-init-users (0440). */
export interface SudoersStep {
  readonly action: 'sudoers';
  readonly user: string;
  readonly rules: readonly string[];
}

/**
 * cc_set_hostname (distro.set_hostname) and cc_update_hostname (distro.update_hostname): write
 * /etc/hostname. With `previousHostnameFile`, update_hostname's rule applies: if /etc/hostname no
 * longer says what we wrote last time, the user changed it and it is left alone.
 */
export interface SetHostnameStep {
  readonly action: 'set-hostname';
  /** The name to write: the short hostname, or the fqdn with prefer_fqdn_over_hostname. */
  readonly hostname: string;
  /** In-root path of cloud-init's data/previous-hostname (update_hostname only). */
  readonly previousHostnameFile?: string;
}

/**
 * cc_update_etc_hosts: `template` renders /etc/hosts from the Debian template (every boot);
 * `localhost` only makes sure the 127.0.1.1 line names fqdn and hostname.
 */
export interface WriteEtcHostsStep {
  readonly action: 'write-etc-hosts';
  readonly mode: 'template' | 'localhost';
  readonly hostname: string;
  readonly fqdn: string;
}

/** cc_timezone (distros.set_etc_timezone): /etc/timezone and /etc/localtime -> /usr/share/zoneinfo/TZ. */
export interface SetTimezoneStep {
  readonly action: 'set-timezone';
  readonly timezone: string;
}

/** What a run step is for: the module that asked for it. */
export type RunPurpose = 'bootcmd' | 'scripts_user' | 'scripts_per_instance' | 'scripts_per_boot' | 'scripts_per_once';

export type RunCommand =
  /** Executed inside the root (chroot), argv[0] resolved in the root. */
  | { readonly kind: 'argv'; readonly argv: readonly string[] }
  /**
   * subp.runparts: every executable regular file of the in-root directory, in sorted order; a
   * missing directory is nothing to do. The step fails if any script fails.
   */
  | { readonly kind: 'run-parts'; readonly dir: string };

/** Commands, always inside the root (`chroot ROOT ...`): bootcmd, and the scripts_* modules. */
export interface RunStep {
  readonly action: 'run';
  readonly purpose: RunPurpose;
  readonly command: RunCommand;
  /** Added to the executor's base environment (cc_bootcmd sets INSTANCE_ID). */
  readonly env: Readonly<Record<string, string>>;
}

/** cc_power_state_change, as data for whoever owns the machine's power (never run in --root mode). */
export interface PowerStateRequest {
  readonly mode: 'poweroff' | 'reboot' | 'halt';
  /** 'now' or minutes, as distro.shutdown_command takes them. */
  readonly delay: 'now' | number;
  readonly message?: string;
  /** How long to wait for cloud-init's process to end before acting anyway (default 30). */
  readonly timeoutSeconds: number;
  /** true, or a command whose exit status 0 allows the change (cc_power_state_change check_condition). */
  readonly condition: true | string | readonly string[];
  /** distros.shutdown_command: `shutdown -P|-r|-H now|+N [message]`. */
  readonly command: readonly string[];
}

export type RecordStep =
  /** `containers` (ours): the validated list, handed to the container engine. */
  | { readonly action: 'record'; readonly what: 'containers'; readonly data: readonly PlainValue[] }
  /** `atomic.update` (ours): handed to the update agent. */
  | { readonly action: 'record'; readonly what: 'atomic-update'; readonly data: PlainObject }
  | { readonly action: 'record'; readonly what: 'power-state'; readonly data: PowerStateRequest }
  /** cc_final_message: the rendered message (no trailing newline), for the orchestrator to print and log. */
  | { readonly action: 'record'; readonly what: 'final-message'; readonly data: { readonly message: string } };

export type Step =
  | WriteFileStep
  | EnsureGroupStep
  | EnsureUserStep
  | SetPasswordHashStep
  | LockPasswordStep
  | ExpirePasswordStep
  | AuthorizedKeysStep
  | SudoersStep
  | SetHostnameStep
  | WriteEtcHostsStep
  | SetTimezoneStep
  | RunStep
  | RecordStep;

export type StepAction = Step['action'];

/** One line for logs and outcomes; never contains file content, password hashes or key material. */
export function describeStep(step: Step): string {
  switch (step.action) {
    case 'write-file':
      return `${step.append ? 'append to' : 'write'} ${step.path} (${step.content.length} bytes, mode ${step.mode.toString(8).padStart(4, '0')}, owner ${step.owner})`;
    case 'ensure-group':
      return `group ${step.name}${step.members.length > 0 ? ` with members ${step.members.join(',')}` : ''}`;
    case 'ensure-user':
      return `user ${step.name}${step.groups.length > 0 ? ` in ${step.groups.join(',')}` : ''}`;
    case 'set-password-hash':
      return `password hash for ${step.user}`;
    case 'lock-password':
      return `lock the password of ${step.user}`;
    case 'expire-password':
      return `expire the password of ${step.user}`;
    case 'authorized-keys':
      return `${step.keys.length} authorized key(s) for ${step.user}${step.options !== undefined && step.options !== '' ? ' (with options)' : ''}`;
    case 'sudoers':
      return `${step.rules.length} sudo rule(s) for ${step.user}`;
    case 'set-hostname':
      return `hostname ${step.hostname}${step.previousHostnameFile === undefined ? '' : ' (unless changed by the user)'}`;
    case 'write-etc-hosts':
      return `/etc/hosts (${step.mode}) for ${step.fqdn} ${step.hostname}`;
    case 'set-timezone':
      return `time zone ${step.timezone}`;
    case 'run':
      return step.command.kind === 'argv' ? `${step.purpose}: run ${step.command.argv[0] ?? ''}` : `${step.purpose}: run the scripts in ${step.command.dir}`;
    case 'record':
      return `record ${step.what}`;
  }
}
