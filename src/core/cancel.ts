/**
 * `Cancel` (Eio's `Cancel`): protecting code from cancellation, and sub-contexts that can
 * be cancelled on their own.
 * @module
 */
import { CancelContext } from "./cancel-context.ts";
import { currentFiber, runInFiber } from "./fiber-context.ts";

/** A cancellation sub-context, as given to the function of {@link Cancel.sub}. */
export interface CancelScope {
  /** Cancels every operation in the scope (and its non-protected children). */
  cancel(reason: unknown): void;
  /** Whether the scope has been cancelled. */
  readonly cancelled: boolean;
  /** Aborts when the scope is cancelled. */
  readonly signal: AbortSignal;
}

/** Cancellation scopes. */
export const Cancel = {
  /**
   * Runs `fn` in a new context that is not cancelled when the caller's is: for clean-up
   * that must finish. Cancellation of the caller is not checked afterwards either.
   */
  async protect<T>(fn: () => T | Promise<T>): Promise<T> {
    const parent = currentFiber();
    const cc = new CancelContext(parent.cc, true);
    try {
      return await runInFiber({ ...parent, cc }, fn);
    } finally {
      cc.finish();
    }
  },

  /**
   * Runs `fn` in a new child context, which `fn` (or anyone it hands the scope to) can cancel
   * without cancelling the caller.
   * @throws Cancelled at once if the caller is already cancelled.
   */
  async sub<T>(fn: (scope: CancelScope) => T | Promise<T>): Promise<T> {
    const parent = currentFiber();
    parent.cc.check();
    const cc = new CancelContext(parent.cc);
    const scope: CancelScope = {
      cancel: (reason) => cc.cancel(reason),
      get cancelled() {
        return cc.cancelled;
      },
      get signal() {
        return cc.signal;
      },
    };
    try {
      return await runInFiber({ ...parent, cc }, () => fn(scope));
    } finally {
      cc.finish();
    }
  },
};
