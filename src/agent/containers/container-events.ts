// Docker's container events (`docker events`, GET /events): {Type, Action, Actor{ID,
// Attributes}, scope, time, timeNano} plus the legacy top-level status/id/from fields dockerd
// still sends. The engine emits them on a ContainerEvents; subscribe() turns them into an async
// iterator for a streaming endpoint.
import { EventEmitter } from 'node:events';

export type ContainerAction = 'create' | 'start' | 'die' | 'oom' | 'kill' | 'stop' | 'restart' | 'destroy' | 'rename' | 'update' | 'pause' | 'unpause' | 'attach' | 'detach';

export interface ContainerEvent {
  readonly Type: 'container';
  readonly Action: ContainerAction;
  readonly Actor: { readonly ID: string; readonly Attributes: Readonly<Record<string, string>> };
  readonly scope: 'local';
  /** Unix seconds. */
  readonly time: number;
  /** Unix nanoseconds. */
  readonly timeNano: number;
  readonly status: ContainerAction;
  readonly id: string;
  readonly from: string;
}

export class ContainerEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every API client following /events adds a listener.
    this.emitter.setMaxListeners(0);
  }

  emit(e: ContainerEvent): void {
    this.emitter.emit('event', e);
  }

  on(listener: (e: ContainerEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Events from now on until `signal` aborts. */
  async *subscribe(signal?: AbortSignal): AsyncGenerator<ContainerEvent> {
    const queue: ContainerEvent[] = [];
    let wake: (() => void) | undefined;
    const off = this.on((e) => {
      queue.push(e);
      wake?.();
    });
    const onAbort = (): void => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (signal?.aborted !== true) {
        const e = queue.shift();
        if (e !== undefined) {
          yield e;
          continue;
        }
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      off();
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
