/**
 * An Eio-style promise for tests: `resolve` wakes its waiters at once (synchronously), and
 * waiting is a cancellable blocking operation. A native promise wakes its waiters a tick
 * later, so a cancellation right after `resolve` would win; in Eio the resolution wins.
 * @module
 */
import { suspend } from "../suspend.ts";

/** A promise with Eio's `Promise.create` behaviour. */
export interface EioPromise<T> {
  /** Waits for the value; rejects with `Cancelled` if the fiber is cancelled first. */
  await(): Promise<T>;
  /** Resolves the promise, waking every waiter now. */
  resolve(v: T): void;
  /** Rejects the promise (Eio's `resolve_error`), waking every waiter now. */
  reject(e: unknown): void;
}

/** Creates an {@link EioPromise}. */
export function eioPromise<T = void>(): EioPromise<T> {
  type State = { k: "wait" } | { k: "ok"; v: T } | { k: "ex"; e: unknown };
  let state: State = { k: "wait" };
  const waiters = new Set<{ ok: (v: T) => void; ex: (e: unknown) => void }>();
  const settle = (s: State): void => {
    if (state.k !== "wait") throw new Error("Promise already resolved");
    state = s;
    const ws = [...waiters];
    waiters.clear();
    for (const w of ws) {
      if (s.k === "ok") w.ok(s.v);
      else if (s.k === "ex") w.ex(s.e);
    }
  };
  return {
    await(): Promise<T> {
      const s = state;
      if (s.k === "ok") return Promise.resolve(s.v);
      if (s.k === "ex") return Promise.reject(s.e);
      return suspend<T>((ok, ex) => {
        const w = { ok, ex };
        waiters.add(w);
        return () => waiters.delete(w);
      });
    },
    resolve: (v) => settle({ k: "ok", v }),
    reject: (e) => settle({ k: "ex", e }),
  };
}
