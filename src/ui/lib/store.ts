// A minimal external store for useSyncExternalStore: state that outlives page components (the loaded
// model, the current batch) without a state-management dependency.
//
// `throttleMs`: listeners are told at most once per that many milliseconds (the last state wins),
// so a stream of small updates — a batch of thousands of results arriving one by one — costs one
// React render per interval instead of one per update. get() always returns the newest state;
// set(next, { urgent: true }) notifies at once (for what the user just did: add, cancel, clear).
// Listeners get `urgent`: true for those and for flush(), false for throttled notifications, so a
// React binding can render the first at once and the others as interruptible transitions.
export class Store<S> {
  private listeners = new Set<(urgent: boolean) => void>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastNotify = 0;
  private readonly throttleMs: number;

  constructor(
    private state: S,
    options: { throttleMs?: number } = {},
  ) {
    this.throttleMs = options.throttleMs ?? 0;
  }

  get = (): S => this.state;

  set(next: S | ((prev: S) => S), options: { urgent?: boolean } = {}): void {
    this.state = typeof next === 'function' ? (next as (prev: S) => S)(this.state) : next;
    if (this.throttleMs <= 0 || options.urgent) {
      this.notify(true);
      return;
    }
    if (this.timer !== null) return;
    const wait = Math.max(0, this.lastNotify + this.throttleMs - Date.now());
    this.timer = setTimeout(() => this.notify(false), wait);
  }

  /** Tells listeners now about any change not yet notified (no-op when none is pending). */
  flush(): void {
    if (this.timer !== null) this.notify(true);
  }

  private notify(urgent: boolean): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.lastNotify = Date.now();
    for (const l of this.listeners) l(urgent);
  }

  subscribe = (listener: (urgent: boolean) => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}
