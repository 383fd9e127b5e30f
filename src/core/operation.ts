/**
 * `Operation`: the one base of every cancellable wait in weir. {@link suspend} is built on it,
 * and so are the backends' hot-path operations (accept, read, write-wait, pipe), which extend it
 * instead of re-arming a cancel hook and an abort listener by hand. An operation is one object
 * and its promise: arming it allocates nothing more (the abort listener is made once per object,
 * and only for a signal), so an operation object can also be reused, one wait after another.
 * @module
 */
import { type CancelContext, type CancelHook, cancelledError } from "./cancel-context.ts";

type Settle = (v: never) => void;

function noop(): void {}

/**
 * A cancellable operation: {@link open} makes its promise, {@link arm} ties it to a
 * cancellation context (and a signal), and the first of {@link settle}, {@link fail} or a
 * cancellation settles it and disarms it. On cancellation, {@link abort} runs first (stop the
 * work: leave a queue, drop a waiter), then the promise rejects with `Cancelled`.
 * @example
 * ```ts
 * class Wait extends Operation<void> {
 *   protected abort(): void { queue.delete(this); }
 * }
 * const op = new Wait();
 * const p = op.open();
 * op.arm(currentCancelContext(), signal);
 * queue.add(op); // later: op.settle()
 * ```
 */
export abstract class Operation<T> implements CancelHook {
  #cc: CancelContext | null = null;
  #signal: AbortSignal | null = null;
  #onAbort: (() => void) | null = null;
  #resolve: (v: T) => void = noop;
  #reject: (e: unknown) => void = noop;
  #wake: ((resume: () => void) => void) | undefined = undefined;
  #pending = false;

  static #next: Operation<unknown> | null = null;
  // One executor for every operation: no closure per promise
  static readonly #executor = (resolve: Settle, reject: (e: unknown) => void): void => {
    const op = Operation.#next as Operation<unknown>;
    op.#resolve = resolve as (v: unknown) => void;
    op.#reject = reject;
  };

  /** Whether the operation has been opened and not settled yet. */
  get pending(): boolean {
    return this.#pending;
  }

  /**
   * Makes the operation's promise (pending until settled). With `wake` (the mock scheduler's),
   * settling is queued through it, as Eio's run queue orders wake-ups.
   */
  open(wake?: (resume: () => void) => void): Promise<T> {
    Operation.#next = this as Operation<unknown>;
    const p = new Promise<T>(Operation.#executor);
    Operation.#next = null;
    this.#pending = true;
    this.#wake = wake;
    return p;
  }

  /**
   * Ties the open operation to `cc` (and `signal`): cancelling either cancels it. If either is
   * already cancelled (perhaps by the work just started), the operation is cancelled now.
   */
  arm(cc: CancelContext, signal?: AbortSignal): void {
    if (!this.#pending) return;
    if (cc.cancelled) {
      this.cancelled(cc.reason);
      return;
    }
    if (signal?.aborted === true) {
      this.cancelled(signal.reason);
      return;
    }
    this.#cc = cc;
    cc.addHook(this);
    if (signal !== undefined) {
      this.#signal = signal;
      this.#onAbort ??= () => this.cancelled(this.#signal?.reason);
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  #disarm(): boolean {
    if (!this.#pending) return false;
    this.#pending = false;
    const cc = this.#cc;
    if (cc !== null) {
      this.#cc = null;
      cc.removeHook(this);
    }
    const signal = this.#signal;
    if (signal !== null) {
      this.#signal = null;
      signal.removeEventListener("abort", this.#onAbort as () => void);
    }
    return true;
  }

  /** Resolves the operation with `v`; returns false (doing nothing) if it had settled. */
  settle(v: T): boolean {
    if (!this.#disarm()) return false;
    const resolve = this.#resolve;
    const wake = this.#wake;
    if (wake === undefined) resolve(v);
    else wake(() => resolve(v));
    return true;
  }

  /** Rejects the operation with `e`; returns false (doing nothing) if it had settled. */
  fail(e: unknown): boolean {
    if (!this.#disarm()) return false;
    const reject = this.#reject;
    const wake = this.#wake;
    if (wake === undefined) reject(e);
    else wake(() => reject(e));
    return true;
  }

  /** The cancellation context (or signal) was cancelled: abort, then reject with `Cancelled`. */
  cancelled(reason: unknown): void {
    if (!this.#disarm()) return;
    const reject = this.#reject;
    const wake = this.#wake;
    try {
      this.abort();
    } finally {
      const e = cancelledError(reason);
      if (wake === undefined) reject(e);
      else wake(() => reject(e));
    }
  }

  /** Stops the work on cancellation (called once, before the rejection). Default: nothing. */
  protected abort(): void {}
}
