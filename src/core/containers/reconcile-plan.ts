// Declared containers vs what the engine has: the steps that make them agree (DESIGN.md "a pure
// planner + an executor"). The planner never touches a container it did not create (no
// io.atomic.managed-by label): a name clash with one of those is reported, not resolved by force.
// Restarts after exits are the restart policy's business (the supervisor), not the planner's:
// a declared container that exited is left alone, as `docker compose up` leaves a finished job.
import { CONFIG_HASH_LABEL, MANAGED_BY_CLOUD_CONFIG, MANAGED_BY_LABEL, type DeclaredContainer } from './declared-containers.js';

/** What the planner needs to know of an existing container. */
export interface ObservedContainer {
  readonly id: string;
  /** Without the leading '/'. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Docker's State.Status: created, running, paused, restarting, removing, exited, dead. */
  readonly status: string;
}

export type ReconcileStep =
  | { readonly action: 'pull'; readonly image: string }
  | { readonly action: 'create'; readonly container: DeclaredContainer }
  | { readonly action: 'start'; readonly name: string }
  | { readonly action: 'remove'; readonly id: string; readonly name: string; readonly reason: 'changed' | 'undeclared' }
  | { readonly action: 'report'; readonly name: string; readonly message: string };

export interface ReconcileInput {
  readonly declared: readonly DeclaredContainer[];
  readonly observed: readonly ObservedContainer[];
  /** Which of the declared image references the store already has (the executor asks the store). */
  readonly images: ReadonlySet<string>;
}

const managed = (c: ObservedContainer): boolean => c.labels[MANAGED_BY_LABEL] === MANAGED_BY_CLOUD_CONFIG;

export function planReconcile(input: ReconcileInput): ReconcileStep[] {
  const steps: ReconcileStep[] = [];
  const byName = new Map(input.observed.map((c) => [c.name, c]));
  const declaredNames = new Set(input.declared.map((d) => d.name));
  // Removals first: a renamed declaration may reuse a host port the old container holds.
  for (const c of input.observed) {
    if (managed(c) && !declaredNames.has(c.name)) steps.push({ action: 'remove', id: c.id, name: c.name, reason: 'undeclared' });
  }
  const pulled = new Set<string>();
  const create = (d: DeclaredContainer): void => {
    if (!input.images.has(d.image) && !pulled.has(d.image)) {
      steps.push({ action: 'pull', image: d.image });
      pulled.add(d.image);
    }
    steps.push({ action: 'create', container: d }, { action: 'start', name: d.name });
  };
  for (const d of input.declared) {
    const existing = byName.get(d.name);
    if (existing === undefined) {
      create(d);
    } else if (!managed(existing)) {
      steps.push({ action: 'report', name: d.name, message: `container name "/${d.name}" is used by container ${existing.id.slice(0, 12)}, which cloud-config did not create; leaving both alone` });
    } else if (existing.labels[CONFIG_HASH_LABEL] !== d.hash) {
      steps.push({ action: 'remove', id: existing.id, name: d.name, reason: 'changed' });
      create(d);
    } else if (existing.status === 'created') {
      steps.push({ action: 'start', name: d.name });
    }
  }
  return steps;
}
