// A minimal external store for useSyncExternalStore: state that outlives page components (the loaded
// model, the current batch) without a state-management dependency.
export class Store<S> {
  private listeners = new Set<() => void>();
  constructor(private state: S) {}

  get = (): S => this.state;

  set(next: S | ((prev: S) => S)): void {
    this.state = typeof next === 'function' ? (next as (prev: S) => S)(this.state) : next;
    for (const l of this.listeners) l();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}
