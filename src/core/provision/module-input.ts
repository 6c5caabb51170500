// What every module planner receives and returns (plan-module.ts dispatches by module name).
import type { PlainObject } from '../cloud-config/merge-cloud-config.js';
import type { InstanceData } from './model.js';
import type { Step } from './steps.js';

/**
 * The distro's default user, like cloud.cfg `system_info.default_user` (Debian's is `debian`
 * with sudo and a locked password); `users: [default, ...]` refers to it. Field names are
 * cloud-init's.
 */
export interface DefaultUser {
  readonly name: string;
  readonly gecos?: string;
  /** A comma-separated string or a list, like a user's `groups`. */
  readonly groups?: string | readonly string[];
  readonly shell?: string;
  /** A sudoers rule, a list of rules, or null/false for none. */
  readonly sudo?: string | readonly string[] | null | false;
  readonly lock_passwd?: boolean;
}

/** atomicd's default user: like Debian's, named `atomic`, with a POSIX shell every image has. */
export const ATOMIC_DEFAULT_USER: DefaultUser = {
  name: 'atomic',
  gecos: 'atomic',
  groups: ['adm', 'sudo'],
  shell: '/bin/sh',
  sudo: ['ALL=(ALL) NOPASSWD:ALL'],
  lock_passwd: true,
};

export interface ModuleInput {
  /**
   * The merged, validated cloud-config (vendor-data and user-data parts). cloud-init's own
   * defaults from Debian's cloud.cfg that matter here are applied by the planners: `users:
   * [default]` when `users` is absent, `disable_root: true`, `preserve_hostname: false`.
   */
  readonly config: PlainObject;
  readonly instance: InstanceData;
  readonly defaultUser: DefaultUser;
  /** In-root per-instance state dir, e.g. /var/lib/atomicd/cloud/instances/<instance-id>. */
  readonly instanceDir: string;
  /**
   * In-root cloud dir (cloud-init's /var/lib/cloud): `data/`, `scripts/per-*`. Default: two
   * levels above instanceDir (`<cloudDir>/instances/<iid>`).
   */
  readonly cloudDir?: string;
  /** When the planning happens, for final_message's $TIMESTAMP and boot-finished. */
  readonly now?: Date;
  /** When the system booted, for final_message's $UPTIME (now - bootTime). */
  readonly bootTime?: Date;
  /** atomicd's version, for final_message's $VERSION. */
  readonly version?: string;
  /**
   * Random bytes for password salts (the only non-determinism in planning; tests pass a fixed
   * source). Default: node:crypto randomBytes.
   */
  readonly randomBytes?: (size: number) => Uint8Array;
}

export interface ModulePlan {
  readonly steps: Step[];
  /** One line each, `/path/in/config: message`; an item with a problem is left out, the rest planned. */
  readonly problems: string[];
}

/** The cloud dir of an input, explicit or derived from instanceDir. */
export function cloudDirOf(input: ModuleInput): string {
  if (input.cloudDir !== undefined) return input.cloudDir;
  const parts = input.instanceDir.replace(/\/+$/, '').split('/');
  return parts.slice(0, -2).join('/') || '/';
}
