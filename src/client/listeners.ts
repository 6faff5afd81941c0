// Typed event listeners for the SDK clients: several listeners per event, added and removed explicitly.

/** A map from event name to the payload its listeners receive. */
export type EventMap = { [name: string]: unknown };

/** A listener of event `K`. */
export type Listener<E extends EventMap, K extends keyof E> = (payload: E[K]) => void;

/**
 * Listener sets per event name. A listener that throws does not stop the others: the error goes to the
 * `onListenerError` hook (the clients report it as an `error` event, or to the console for `error` itself).
 */
export class Listeners<E extends EventMap> {
  private readonly sets = new Map<keyof E, Set<(payload: never) => void>>();

  constructor(private readonly onListenerError: (err: unknown, event: keyof E) => void) {}

  /** Add `fn` for `event`; adding the same function twice keeps one. Returns a function that removes it. */
  on<K extends keyof E>(event: K, fn: Listener<E, K>): () => void {
    let set = this.sets.get(event);
    if (!set) this.sets.set(event, (set = new Set()));
    set.add(fn as (payload: never) => void);
    return () => this.off(event, fn);
  }

  /** Add `fn` for the next `event` only. Returns a function that removes it. */
  once<K extends keyof E>(event: K, fn: Listener<E, K>): () => void {
    const off = this.on(event, (p) => {
      off();
      fn(p);
    });
    return off;
  }

  /** Remove `fn` from `event` (no-op when it was not added). */
  off<K extends keyof E>(event: K, fn: Listener<E, K>): void {
    this.sets.get(event)?.delete(fn as (payload: never) => void);
  }

  /** Number of listeners of `event`. */
  count<K extends keyof E>(event: K): number {
    return this.sets.get(event)?.size ?? 0;
  }

  /** Call every listener of `event` with `payload`, in the order they were added. */
  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.sets.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<E, K>)(payload);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
