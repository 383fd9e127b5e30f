/**
 * `suspend`: how every blocking operation of weir waits, so that it belongs to the calling
 * fiber and rejects with `Cancelled` when that fiber's context (or an explicit
 * `AbortSignal`) is cancelled, releasing what it registered.
 * @module
 */
import { Cancelled } from "./errors.ts";
import { currentFiber } from "./fiber-context.ts";
import { Operation } from "./operation.ts";

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
  const op = new Suspension<T>();
  // The mock backend queues wake-ups behind the fibers already runnable (Eio's run queue).
  const p = op.open(scheduler.wake?.bind(scheduler));
  try {
    op.stop = start(op.resolve, op.reject);
  } catch (e) {
    op.fail(e);
    return p;
  }
  // Settled by `start` itself: nothing to register. Else `start` may have cancelled the
  // context or aborted the signal: `arm` sees it.
  op.arm(cc, signal);
  return p;
}

/** {@link suspend}'s operation: `start`'s abort function runs when it is cancelled. */
class Suspension<T> extends Operation<T> {
  stop: (() => void) | undefined = undefined;
  readonly resolve = (v: T): void => {
    this.settle(v);
  };
  readonly reject = (e: unknown): void => {
    this.fail(e);
  };

  protected override abort(): void {
    const stop = this.stop;
    this.stop = undefined;
    stop?.();
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
