// Keeps the containers declared under `containers:` in cloud-config running: provisioning hands
// the validated list over in CLOUD_DIR/data/handoff/containers.json; this reads it, asks the pure
// planner (core/containers/reconcile-plan.ts) what differs from what the engine has, and carries
// the steps out with the engine and the image store. It runs when the agent starts and whenever
// the hand-off file changes. A failing container does not stop the others: its failure is logged
// and reported, and the next pass tries again.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { ImageStore } from '../../adapters/image-store/image-store.js';
import { declaredContainers } from '../../core/containers/declared-containers.js';
import { planReconcile, type ObservedContainer, type ReconcileStep } from '../../core/containers/reconcile-plan.js';
import type { PlainValue } from '../../core/cloud-config/yaml-document.js';
import { DataLoss, fromSystemError } from '../../lib/errors.js';
import type { ContainerEngine, EngineLogger } from '../containers/container-engine.js';

export interface ReconcilerOptions {
  /** CLOUD_DIR/data/handoff/containers.json */
  readonly handoffFile: string;
  readonly engine: ContainerEngine;
  readonly images: ImageStore;
  readonly log: EngineLogger;
}

export interface ReconcileResult {
  readonly steps: readonly ReconcileStep[];
  readonly failures: readonly { readonly step: ReconcileStep; readonly message: string }[];
}

/** The declared list; [] when provisioning handed nothing over (no `containers:`). */
export async function readHandoff(file: string): Promise<readonly PlainValue[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromSystemError(e, file, 'reading the declared containers');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DataLoss(`${file}: not JSON: ${e instanceof Error ? e.message : String(e)}`, { subject: file, cause: e });
  }
  const list = (doc as { containers?: unknown } | null)?.containers;
  if (!Array.isArray(list)) throw new DataLoss(`${file}: "containers" is not a list`, { subject: file });
  return list as PlainValue[];
}

const stepName = (s: ReconcileStep): string => (s.action === 'pull' ? s.image : s.action === 'create' ? s.container.name : s.name);

export async function reconcileOnce(o: ReconcilerOptions): Promise<ReconcileResult> {
  const declared = declaredContainers(await readHandoff(o.handoffFile));
  const observed: ObservedContainer[] = (await o.engine.list({ all: true })).map((c) => ({
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    labels: c.Labels ?? {},
    status: c.State,
  }));
  const images = new Set<string>();
  for (const d of declared) if (await o.images.inspect(d.image).then(() => true, () => false)) images.add(d.image);
  const steps = planReconcile({ declared, observed, images });
  const failures: { step: ReconcileStep; message: string }[] = [];
  // A container whose pull or create failed is skipped for the rest of this pass.
  const failedImages = new Set<string>();
  const failedNames = new Set<string>();
  for (const step of steps) {
    if (step.action === 'create' && failedImages.has(step.container.image)) failedNames.add(step.container.name);
    if ((step.action === 'create' || step.action === 'start') && failedNames.has(stepName(step))) continue;
    try {
      switch (step.action) {
        case 'pull':
          o.log.info({ image: step.image }, 'pulling a declared image');
          await o.images.pull(step.image);
          break;
        case 'create':
          await o.engine.create({ name: step.container.name, config: step.container.config, hostConfig: step.container.hostConfig });
          break;
        case 'start':
          await o.engine.start(step.name);
          break;
        case 'remove':
          o.log.info({ container: step.name, reason: step.reason }, 'removing a container cloud-config no longer declares as it is');
          await o.engine.remove(step.id, { force: true });
          break;
        case 'report':
          o.log.warn({ container: step.name }, step.message);
          failures.push({ step, message: step.message });
          break;
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      o.log.error({ action: step.action, target: stepName(step), err: message }, 'declared container step failed');
      failures.push({ step, message });
      if (step.action === 'pull') failedImages.add(step.image);
      if (step.action === 'create') failedNames.add(step.container.name);
    }
  }
  if (steps.length > 0) o.log.info({ steps: steps.length, failures: failures.length }, 'declared containers reconciled');
  return { steps, failures };
}

/**
 * Reconcile now and after every change of the hand-off file (provisioning replaces it by rename,
 * so the directory is watched). Passes never overlap: a change during a pass schedules one more.
 */
export class DeclaredContainersReconciler {
  private watcher: FSWatcher | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: ReconcilerOptions) {}

  async start(): Promise<ReconcileResult | undefined> {
    let first: ReconcileResult | undefined;
    await this.pass((r) => (first = r));
    try {
      this.watcher = watch(dirname(this.o.handoffFile), (_event, file) => {
        if (file === null || file === basename(this.o.handoffFile)) this.schedule();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      // No hand-off directory yet (never provisioned): nothing to watch; the next agent start reads it.
    }
    return first;
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    // Renames arrive as several events: one pass after they settle.
    this.timer = setTimeout(() => void this.pass(), 200);
  }

  private async pass(onResult?: (r: ReconcileResult) => void): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          const r = await reconcileOnce(this.o);
          onResult?.(r);
        } catch (e) {
          this.o.log.error({ err: e instanceof Error ? e.message : String(e), file: this.o.handoffFile }, 'declared containers could not be reconciled');
        }
      } while (this.again && !this.closed);
    })();
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    await this.running;
  }
}
