// A QMP client (QEMU Machine Protocol, docs/interop/qmp-spec): JSON objects over a unix socket,
// one per line. The server greets, we enter command mode with qmp_capabilities; replies carry our
// `id`, events (SHUTDOWN, RESET, POWERDOWN, ...) arrive in between.
import { connect, type Socket } from 'node:net';
import { Internal, Unavailable } from '../../lib/errors.js';

export interface QmpEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export class QmpClient {
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  readonly #eventListeners: ((e: QmpEvent) => void)[] = [];
  #nextId = 1;
  #buffer = '';
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.on('close', () => this.#onClose());
    socket.on('error', () => undefined); // 'close' follows and rejects what is pending
  }

  /** Connect to a QMP socket and negotiate capabilities. */
  static async connect(path: string): Promise<QmpClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => {
        s.removeListener('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    const client = new QmpClient(socket);
    await client.#greeting;
    await client.execute('qmp_capabilities');
    return client;
  }

  #greetingResolve: (() => void) | undefined;
  #greetingReject: ((e: unknown) => void) | undefined;
  readonly #greeting = new Promise<void>((resolve, reject) => {
    this.#greetingResolve = resolve;
    this.#greetingReject = reject;
  });

  onEvent(listener: (e: QmpEvent) => void): void {
    this.#eventListeners.push(listener);
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Unavailable(`QMP ${command}: the connection to QEMU is closed`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.write(JSON.stringify({ execute: command, ...(args === undefined ? {} : { arguments: args }), id }) + '\n');
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    let nl: number;
    while ((nl = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line !== '') this.#onMessage(line);
    }
  }

  #onMessage(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      this.#greetingReject?.(new Internal(`QMP sent something that is not JSON: ${line.slice(0, 200)}`, { cause: e }));
      return;
    }
    if ('QMP' in msg) return this.#greetingResolve?.();
    if (typeof msg.event === 'string') {
      const event: QmpEvent = { event: msg.event, data: (msg.data ?? {}) as Record<string, unknown> };
      for (const l of this.#eventListeners) l(event);
      return;
    }
    const id = typeof msg.id === 'number' ? msg.id : undefined;
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id!);
    if ('error' in msg) {
      const err = msg.error as { class?: string; desc?: string };
      pending.reject(new Internal(`QMP: ${err.class ?? 'error'}: ${err.desc ?? ''}`));
    } else {
      pending.resolve(msg.return);
    }
  }

  #onClose(): void {
    this.#closed = true;
    this.#greetingReject?.(new Unavailable('QEMU closed the QMP connection before greeting'));
    for (const p of this.#pending.values()) p.reject(new Unavailable('QEMU closed the QMP connection'));
    this.#pending.clear();
  }
}
