// A ModuleInput for planner tests: a NoCloud instance, the atomic default user, a fixed clock
// and fixed salts, so plans are deterministic.
import type { PlainObject } from '../../../../src/core/cloud-config/merge-cloud-config.js';
import type { InstanceData } from '../../../../src/core/provision/model.js';
import { ATOMIC_DEFAULT_USER, type ModuleInput } from '../../../../src/core/provision/plan-module.js';
import type { Step } from '../../../../src/core/provision/steps.js';

export const INSTANCE: InstanceData = {
  datasource: 'NoCloud',
  source: '/dev/sr0',
  instanceId: 'iid-test-1',
  metadata: { 'instance-id': 'iid-test-1' },
  publicKeys: [],
};

export const KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA alice@example';
export const KEY_B = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB bob@example';
export const KEY_META = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM meta@cloud';

export function input(config: PlainObject, over: Omit<Partial<ModuleInput>, 'instance'> & { instance?: Partial<InstanceData> } = {}): ModuleInput {
  const { instance, ...rest } = over;
  return {
    config,
    instance: { ...INSTANCE, ...instance },
    defaultUser: ATOMIC_DEFAULT_USER,
    instanceDir: '/var/lib/atomicd/cloud/instances/iid-test-1',
    now: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
    bootTime: new Date(Date.UTC(2024, 0, 2, 3, 3, 0, 500)),
    version: '0.1.0',
    randomBytes: (n) => new Uint8Array(n).fill(7),
    ...rest,
  };
}

export function only<A extends Step['action']>(steps: readonly Step[], action: A): Extract<Step, { action: A }>[] {
  return steps.filter((s): s is Extract<Step, { action: A }> => s.action === action);
}

export function utf8(b: Uint8Array): string {
  return Buffer.from(b).toString('utf8');
}
