// Our modules `containers` and `atomic_update`: nothing to do to the root tree; the validated
// config is recorded for the container engine and the update agent, which reconcile it.
import { isPlainObject } from '../../cloud-config/merge-cloud-config.js';
import type { ModuleInput, ModulePlan } from '../module-input.js';

export function planContainers(input: ModuleInput): ModulePlan {
  const c = input.config['containers'];
  if (c === undefined || c === null) return { steps: [], problems: [] };
  if (!Array.isArray(c)) return { steps: [], problems: ['/containers: expected a list of containers'] };
  return { steps: [{ action: 'record', what: 'containers', data: c }], problems: [] };
}

export function planAtomicUpdate(input: ModuleInput): ModulePlan {
  const atomic = input.config['atomic'];
  if (atomic === undefined || atomic === null) return { steps: [], problems: [] };
  if (!isPlainObject(atomic)) return { steps: [], problems: ['/atomic: expected a mapping'] };
  const update = atomic['update'];
  if (update === undefined || update === null) return { steps: [], problems: [] };
  if (!isPlainObject(update)) return { steps: [], problems: ['/atomic/update: expected a mapping'] };
  return { steps: [{ action: 'record', what: 'atomic-update', data: update }], problems: [] };
}
