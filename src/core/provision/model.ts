// The provisioning model shared by datasources, module planners, the step executor and the
// orchestrator (what cloud-init calls stages, modules and frequencies). Names follow cloud-init:
// https://cloudinit.readthedocs.io/en/latest/explanation/boot.html and the `frequency` of each
// cc_*.py module in Debian's cloud-init 22.4.

/** Datasource names as cloud-init's `dsname` reports them. */
export type DatasourceName = 'NoCloud' | 'NoCloudNet' | 'Ec2';

/** What a datasource found: raw user-data and vendor-data bytes, parsed metadata. */
export interface InstanceData {
  readonly datasource: DatasourceName;
  /** Where it came from, for status and logs: `/dev/sr0`, `seed.iso`, `http://.../`, the IMDS base URL. */
  readonly source: string;
  readonly instanceId: string;
  readonly localHostname?: string;
  /** The metadata as the datasource gives it (NoCloud meta-data keys; EC2 metadata tree). */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** SSH public keys from metadata (NoCloud `public-keys`, EC2 `public-keys/N/openssh-key`). */
  readonly publicKeys: readonly string[];
  readonly userData?: Uint8Array;
  readonly vendorData?: Uint8Array;
  /** network-config v1/v2 (parsed), when the datasource provides one. */
  readonly networkConfig?: unknown;
}

/** cloud-init's boot stages, in order. */
export type Stage = 'local' | 'network' | 'config' | 'final';
export const STAGES: readonly Stage[] = ['local', 'network', 'config', 'final'];

/** cloud-init's frequencies: per-instance (PER_INSTANCE), every boot (PER_ALWAYS), once ever (PER_ONCE). */
export type Frequency = 'per-instance' | 'always' | 'once';

export type ModuleName =
  | 'bootcmd'
  | 'write_files'
  | 'set_hostname'
  | 'update_hostname'
  | 'update_etc_hosts'
  | 'users_groups'
  | 'ssh'
  | 'timezone'
  | 'runcmd'
  | 'containers'
  | 'atomic_update'
  | 'write_files_deferred'
  | 'scripts_per_once'
  | 'scripts_per_boot'
  | 'scripts_per_instance'
  | 'scripts_user'
  | 'final_message'
  | 'power_state_change';

export interface ModuleSpec {
  readonly name: ModuleName;
  readonly stage: Stage;
  readonly frequency: Frequency;
}

/**
 * The modules atomicd runs, in cloud-init's order (Debian's /etc/cloud/cloud.cfg lists
 * cloud_init_modules for the network stage, cloud_config_modules, cloud_final_modules).
 * `runcmd` only writes the script; `scripts_user` runs it, as in cloud-init. `containers` and
 * `atomic_update` are ours: they hand their config to the container engine and the update agent.
 */
export const MODULES: readonly ModuleSpec[] = [
  { name: 'bootcmd', stage: 'network', frequency: 'always' },
  { name: 'write_files', stage: 'network', frequency: 'per-instance' },
  { name: 'set_hostname', stage: 'network', frequency: 'per-instance' },
  { name: 'update_hostname', stage: 'network', frequency: 'always' },
  { name: 'update_etc_hosts', stage: 'network', frequency: 'always' },
  { name: 'users_groups', stage: 'network', frequency: 'per-instance' },
  { name: 'ssh', stage: 'network', frequency: 'per-instance' },
  { name: 'timezone', stage: 'config', frequency: 'per-instance' },
  { name: 'runcmd', stage: 'config', frequency: 'per-instance' },
  { name: 'containers', stage: 'config', frequency: 'always' },
  { name: 'atomic_update', stage: 'config', frequency: 'always' },
  { name: 'write_files_deferred', stage: 'final', frequency: 'per-instance' },
  { name: 'scripts_per_once', stage: 'final', frequency: 'once' },
  { name: 'scripts_per_boot', stage: 'final', frequency: 'always' },
  { name: 'scripts_per_instance', stage: 'final', frequency: 'per-instance' },
  { name: 'scripts_user', stage: 'final', frequency: 'per-instance' },
  { name: 'final_message', stage: 'final', frequency: 'always' },
  { name: 'power_state_change', stage: 'final', frequency: 'per-instance' },
];
