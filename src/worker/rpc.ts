// One small typed request/response layer for every worker of the app (inference, training, report,
// the training worker's embedding helpers). Pure: no tfjs, no DOM beyond postMessage and
// AbortSignal, so it runs the same in a page, a worker and Node (MessageChannel).
//
// A protocol is a map { [type]: { request, reply, progress? } } (see protocol.ts, train-protocol.ts,
// report-protocol.ts, embed-common.ts) plus, optionally, a map of unsolicited worker→page events.
//   page:   const rpc = new RpcClient<Map, Events>(worker);
//           await rpc.call('load', payload, { signal, transfer, onProgress });
//           rpc.on('epoch', (ev) => …);
//   worker: const { emit } = serve<Map, Events>(self, { load: async (payload, { signal, progress, transfer }) => reply });
// A call gets exactly one reply or error, preceded by any number of progress events. Aborting the
// signal rejects the call at once with an AbortError and tells the worker, whose handler sees its
// own `signal` aborted; whatever it still returns for that call is dropped, never delivered.

/** What each request type takes, answers and (optionally) reports while it runs. */
export interface RpcSpec {
  request: unknown;
  reply: unknown;
  progress?: unknown;
}

/** A request map: every key is a request type. */
export type RequestMap<M> = { [K in keyof M]: RpcSpec };

export type ProgressOf<S> = S extends { progress: infer P } ? P : never;

/** Anything that can post and receive messages: a Worker, a worker's `self`, a MessagePort. */
export interface Endpoint {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  start?(): void;
}

/** An error as it crosses the thread boundary: its message and, optionally, a protocol-defined kind. */
export interface WireError {
  message: string;
  kind?: string;
}

type Wire =
  | { rpc: 'call'; id: number; type: string; payload: unknown }
  | { rpc: 'cancel'; id: number }
  | { rpc: 'progress'; id: number; event: unknown }
  | { rpc: 'reply'; id: number; value: unknown }
  | { rpc: 'error'; id: number; error: WireError }
  | { rpc: 'event'; type: string; event: unknown };

function isWire(data: unknown): data is Wire {
  return typeof data === 'object' && data !== null && typeof (data as { rpc?: unknown }).rpc === 'string';
}

/** The error a call rejects with once its signal is aborted (name 'AbortError', as fetch's). */
export function abortError(signal?: AbortSignal): Error {
  const r = signal?.reason;
  if (r instanceof Error && r.name === 'AbortError') return r;
  return new DOMException('the request was cancelled', 'AbortError');
}

export function isAbortError(e: unknown): boolean {
  return (e as { name?: unknown } | null)?.name === 'AbortError';
}

export interface CallOptions<P> {
  signal?: AbortSignal;
  /** Objects (ArrayBuffers…) in the payload to move to the worker instead of copying them. */
  transfer?: Transferable[];
  onProgress?: (event: P) => void;
}

export interface ClientOptions {
  /** Turns a worker's error into the Error the call rejects with (default: `Error(message)`). */
  makeError?: (e: WireError) => Error;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
  onProgress?: (event: unknown) => void;
  cleanup: () => void;
}

/** The page's side of a worker protocol. */
export class RpcClient<M extends RequestMap<M>, E = Record<never, never>> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<(event: never) => void>>();
  private readonly anyListeners = new Set<(type: string, event: unknown) => void>();
  private dead: Error | null = null;
  private readonly onMessage = (ev: MessageEvent): void => this.receive(ev.data);

  constructor(
    private readonly endpoint: Endpoint,
    private readonly options: ClientOptions = {},
  ) {
    endpoint.addEventListener('message', this.onMessage);
    endpoint.start?.();
  }

  /** Calls in flight (for tests: 0 once every call has settled). */
  get inFlight(): number {
    return this.pending.size;
  }

  call<K extends keyof M & string>(type: K, payload: M[K]['request'], opts: CallOptions<ProgressOf<M[K]>> = {}): Promise<M[K]['reply']> {
    if (this.dead) return Promise.reject(this.dead);
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const id = this.nextId++;
    return new Promise<M[K]['reply']>((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.delete(id)) return;
        signal!.removeEventListener('abort', onAbort);
        this.post({ rpc: 'cancel', id }, []);
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        onProgress: opts.onProgress as ((e: unknown) => void) | undefined,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      try {
        this.post({ rpc: 'call', id, type, payload }, opts.transfer ?? []);
      } catch (e) {
        // Not cloneable, or a transfer list entry already detached.
        this.settle(id)?.reject(e as Error);
      }
    });
  }

  /** Listens to the worker's unsolicited events of one type; returns the unsubscribe function. */
  on<K extends keyof E & string>(type: K, listener: (event: E[K]) => void): () => void {
    const set = this.listeners.get(type) ?? new Set();
    this.listeners.set(type, set);
    set.add(listener as (event: never) => void);
    return () => set.delete(listener as (event: never) => void);
  }

  /** Listens to every unsolicited event (for a protocol whose events are one tagged union); returns the unsubscribe function. */
  onAny(listener: (type: keyof E & string, event: E[keyof E]) => void): () => void {
    const l = listener as (type: string, event: unknown) => void;
    this.anyListeners.add(l);
    return () => this.anyListeners.delete(l);
  }

  /** Rejects every call in flight and every later one with `reason` (the worker crashed or was terminated). */
  fail(reason: Error): void {
    this.dead = reason;
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(reason);
  }

  /** fail(reason) and stop listening to the endpoint. */
  close(reason: Error = new Error('the worker connection was closed')): void {
    this.fail(reason);
    this.endpoint.removeEventListener('message', this.onMessage);
  }

  private post(msg: Wire, transfer: Transferable[]): void {
    this.endpoint.postMessage(msg, transfer);
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    p.cleanup();
    return p;
  }

  private receive(data: unknown): void {
    if (!isWire(data)) return;
    switch (data.rpc) {
      case 'progress':
        this.pending.get(data.id)?.onProgress?.(data.event);
        return;
      case 'reply':
        this.settle(data.id)?.resolve(data.value);
        return;
      case 'error': {
        const p = this.settle(data.id);
        if (p) p.reject(this.options.makeError ? this.options.makeError(data.error) : new Error(data.error.message));
        return;
      }
      case 'event':
        for (const l of this.listeners.get(data.type) ?? []) (l as (event: unknown) => void)(data.event);
        for (const l of this.anyListeners) l(data.type, data.event);
        return;
    }
  }
}

/** How a worker failed: its error event's message ('' when it could not even start), or an unreadable message. */
export type WorkerFailure = { kind: 'error'; message: string } | { kind: 'messageerror' };

/** A client for a Worker; when the worker fails, every call in flight and later rejects with `crashed(failure)`. */
export function workerClient<M extends RequestMap<M>, E = Record<never, never>>(
  worker: Worker,
  options: ClientOptions & { crashed: (failure: WorkerFailure) => Error },
): { worker: Worker; rpc: RpcClient<M, E> } {
  const rpc = new RpcClient<M, E>(worker, options);
  worker.addEventListener('error', (ev: ErrorEvent) => {
    ev.preventDefault();
    rpc.fail(options.crashed({ kind: 'error', message: ev.message ?? '' }));
  });
  worker.addEventListener('messageerror', () => rpc.fail(options.crashed({ kind: 'messageerror' })));
  return { worker, rpc };
}

export interface HandlerContext<P> {
  /** Aborted when the page cancels this call: stop work at the next convenient point. */
  signal: AbortSignal;
  progress(event: P, transfer?: Transferable[]): void;
  /** Objects in the reply to move to the page instead of copying them. */
  transfer(...objects: Transferable[]): void;
}

export type Handlers<M extends RequestMap<M>> = {
  [K in keyof M]: (payload: M[K]['request'], ctx: HandlerContext<ProgressOf<M[K]>>) => M[K]['reply'] | Promise<M[K]['reply']>;
};

export interface ServeOptions {
  /** Turns a thrown value into what the page sees (default: its message). */
  errorOf?: (e: unknown, type: string) => WireError;
}

export interface Served<E> {
  /** Sends an unsolicited event to the page. */
  emit<K extends keyof E & string>(type: K, event: E[K], transfer?: Transferable[]): void;
  /** Calls being handled (for tests: 0 once every call has settled). */
  readonly inFlight: number;
  /** Calls whose work stopped or whose reply was dropped because the page cancelled them. */
  readonly aborted: number;
  stop(): void;
}

function defaultErrorOf(e: unknown): WireError {
  return { message: (e as Error)?.message ?? String(e) };
}

/**
 * The worker's side: each call runs its handler at once (a handler that needs calls one at a time
 * queues them itself); its return value is the reply, a throw the error. A cancel aborts the
 * handler's signal and no reply is sent for that call.
 */
export function serve<M extends RequestMap<M>, E = Record<never, never>>(endpoint: Endpoint, handlers: Handlers<M>, options: ServeOptions = {}): Served<E> {
  const running = new Map<number, AbortController>();
  const errorOf = options.errorOf ?? defaultErrorOf;
  let aborted = 0;
  const post = (msg: Wire, transfer: Transferable[] = []) => endpoint.postMessage(msg, transfer);

  async function run(id: number, type: string, payload: unknown): Promise<void> {
    const controller = new AbortController();
    running.set(id, controller);
    const transfer: Transferable[] = [];
    const ctx: HandlerContext<unknown> = {
      signal: controller.signal,
      progress: (event, t = []) => {
        if (!controller.signal.aborted) post({ rpc: 'progress', id, event }, t);
      },
      transfer: (...objects) => transfer.push(...objects),
    };
    let reply: Wire;
    try {
      const handler = (handlers as Record<string, ((p: unknown, c: HandlerContext<unknown>) => unknown) | undefined>)[type];
      if (!handler) throw new Error(`unknown request type '${type}'`);
      reply = { rpc: 'reply', id, value: await handler(payload, ctx) };
    } catch (e) {
      reply = { rpc: 'error', id, error: errorOf(e, type) };
      transfer.length = 0;
    }
    running.delete(id);
    if (controller.signal.aborted) {
      aborted++;
      return;
    }
    try {
      post(reply, transfer);
    } catch (e) {
      // The reply could not be cloned (or transferred): say so instead of leaving the call hanging.
      post({ rpc: 'error', id, error: { message: `the reply to '${type}' could not be sent: ${(e as Error).message}` } });
    }
  }

  const onMessage = (ev: MessageEvent) => {
    const msg = ev.data;
    if (!isWire(msg)) return;
    if (msg.rpc === 'call') void run(msg.id, msg.type, msg.payload);
    else if (msg.rpc === 'cancel') running.get(msg.id)?.abort(abortError());
  };
  endpoint.addEventListener('message', onMessage);
  endpoint.start?.();

  return {
    emit: (type, event, transfer = []) => post({ rpc: 'event', type, event }, transfer),
    get inFlight() {
      return running.size;
    },
    get aborted() {
      return aborted;
    },
    stop: () => endpoint.removeEventListener('message', onMessage),
  };
}
