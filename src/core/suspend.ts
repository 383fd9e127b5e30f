/**
 * `suspend`: how every blocking operation of weir waits, so that it belongs to the calling
 * fiber and rejects with `Cancelled` when that fiber's context (or an explicit
 * `AbortSignal`) is cancelled, releasing what it registered.
 * @module
 */
import { type CancelContext, type CancelHook, cancelledError } from "./cancel-context.ts";
import { Cancelled } from "./errors.ts";
import { currentFiber } from "./fiber-context.ts";

/** Options every blocking operation takes. */
export interface BlockingOptions {
  /** Also cancel the operation when this signal aborts. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Starts a blocking operation. `start(resolve, reject)` begins the work and returns a
 * function that aborts it (called at most once, only if the operation is cancelled before
 * it settles). The returned promise settles with the first of: `resolve`, `reject`, or
 * `Cancelled` (cause: the reason) when the calling fiber's context or `signal` is cancelled.
 * @throws Cancelled (as a rejection) at once if the context or signal is already cancelled.
 */
export function suspend<T>(
  start: (resolve: (v: T) => void, reject: (e: unknown) => void) => (() => void) | undefined,
  signal?: AbortSignal,
): Promise<T> {
  const { cc, scheduler } = currentFiber();
  if (cc.cancelled) return Promise.reject(new Cancelled(cc.reason));
  if (signal?.aborted) return Promise.reject(new Cancelled(signal.reason));
  return new Promise<T>((resolve, reject) => {
    // The mock backend queues wake-ups behind the fibers already runnable (Eio's run queue).
    const wake = scheduler.wake;
    const op =
      wake === undefined
        ? new Suspension<T>(cc, signal, resolve, reject)
        : new Suspension<T>(
            cc,
            signal,
            (v) => wake.call(scheduler, () => resolve(v)),
            (e) => wake.call(scheduler, () => reject(e)),
          );
    let abort: (() => void) | undefined;
    try {
      abort = start(op.resolve, op.reject);
    } catch (e) {
      op.reject(e);
      return;
    }
    if (op.done) return;
    op.abort = abort;
    op.arm();
  });
}

class Suspension<T> implements CancelHook {
  done = false;
  abort: (() => void) | undefined = undefined;
  readonly #cc: CancelContext;
  readonly #signal: AbortSignal | undefined;
  readonly #resolve: (v: T) => void;
  readonly #reject: (e: unknown) => void;
  #onAbort: (() => void) | undefined = undefined;

  constructor(
    cc: CancelContext,
    signal: AbortSignal | undefined,
    resolve: (v: T) => void,
    reject: (e: unknown) => void,
  ) {
    this.#cc = cc;
    this.#signal = signal;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  arm(): void {
    // `start` may have cancelled the context or aborted the signal itself: their hooks and
    // listeners have already run, so registering now would wait forever.
    if (this.#cc.cancelled) {
      this.cancelled(this.#cc.reason);
      return;
    }
    const signal = this.#signal;
    if (signal?.aborted) {
      this.cancelled(signal.reason);
      return;
    }
    this.#cc.addHook(this);
    if (signal !== undefined) {
      this.#onAbort = () => this.cancelled(signal.reason);
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  #disarm(): void {
    this.done = true;
    this.#cc.removeHook(this);
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener("abort", this.#onAbort);
  }

  readonly resolve = (v: T): void => {
    if (this.done) return;
    this.#disarm();
    this.#resolve(v);
  };

  readonly reject = (e: unknown): void => {
    if (this.done) return;
    this.#disarm();
    this.#reject(e);
  };

  cancelled(reason: unknown): void {
    if (this.done) return;
    this.#disarm();
    const abort = this.abort;
    this.abort = undefined;
    try {
      abort?.();
    } finally {
      this.#reject(cancelledError(reason));
    }
  }
}

/**
 * Waits for `promise` as a blocking operation of the calling fiber: rejects with
 * `Cancelled` if the fiber is cancelled first (the promise itself goes on; use
 * {@link suspend} when the work can be aborted).
 */
export function awaitCancellable<T>(promise: PromiseLike<T>, signal?: AbortSignal): Promise<T> {
  return suspend<T>((resolve, reject) => {
    promise.then(resolve, reject);
    return undefined;
  }, signal);
}
