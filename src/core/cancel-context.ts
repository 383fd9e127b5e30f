/**
 * Cancellation contexts (Eio's `Cancel.t`): a tree in which cancelling a context
 * cancels every non-protected context below it, and wakes every operation waiting in them.
 * @module
 */
import { Cancelled, combineErrors } from "./errors.ts";

/** The cancellation whose hooks are being called, for {@link cancelledError}. */
let waking: { readonly reason: unknown; error: Cancelled | undefined } | null = null;

/**
 * The `Cancelled` error to reject an operation with, for a cancellation with `reason`. While a
 * context is waking its hooks, every operation it cancels gets the same error (as in Eio, where
 * one cancellation raises one `Cancelled`): creating an error captures a stack trace, which
 * would otherwise be most of the cost of cancelling many operations. Its stack is the
 * canceller's either way. Elsewhere, a new error.
 * @example
 * ```ts
 * class ReadOp implements CancelHook {
 *   cancelled(reason: unknown): void { this.reject(cancelledError(reason)); }
 * }
 * ```
 */
export function cancelledError(reason: unknown): Cancelled {
  const w = waking;
  if (w === null || !Object.is(w.reason, reason)) return new Cancelled(reason);
  if (w.error === undefined) w.error = new Cancelled(reason);
  return w.error;
}

/** Something to wake when a context is cancelled: a waiting operation. */
export interface CancelHook {
  /** Called once, synchronously, with the cancellation reason. */
  cancelled(reason: unknown): void;
}

/**
 * A cancellation context. Fibers run in one; every blocking operation registers a hook
 * on the context of the fiber that started it, so cancelling the context makes the
 * operation reject with `Cancelled` at once.
 */
export class CancelContext {
  readonly #parent: CancelContext | null;
  #children: Set<CancelContext> | null = null;
  #hooks: Set<CancelHook> | null = null;
  #state: "on" | "cancelling" | "finished" = "on";
  #reason: unknown = undefined;
  #controller: AbortController | null = null;
  /** Killed (see {@link kill}): protected contexts below are cancelled too. */
  #killed = false;
  /** A protected context is not cancelled when its parent is. */
  readonly protected: boolean;

  constructor(parent: CancelContext | null, isProtected = false) {
    this.#parent = parent;
    this.protected = isProtected;
    if (parent !== null) {
      if ((!isProtected || parent.#killed) && parent.#state === "cancelling") {
        this.#state = "cancelling";
        this.#reason = parent.#reason;
        this.#killed = parent.#killed;
      }
      if (parent.#children === null) parent.#children = new Set();
      parent.#children.add(this);
    }
  }

  /** The context this one is a child of (`null` for a root). */
  get parent(): CancelContext | null {
    return this.#parent;
  }

  /** Whether the context is still on (not cancelled). */
  get isOn(): boolean {
    return this.#state === "on";
  }

  /** Whether the context has been cancelled. */
  get cancelled(): boolean {
    return this.#state === "cancelling";
  }

  /** The reason given to {@link cancel}, if cancelled. */
  get reason(): unknown {
    return this.#reason;
  }

  /** An `AbortSignal` that aborts, with the reason, when this context is cancelled. */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#state === "cancelling") this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Throws `Cancelled` (with the reason as cause) if the context is cancelled. */
  check(): void {
    if (this.#state === "cancelling") throw new Cancelled(this.#reason);
  }

  /**
   * Cancels the context and every non-protected context below it, waking their hooks.
   * Does nothing if already cancelled. As in Eio, the whole subtree is marked cancelled
   * before any hook runs, so a hook never sees a context of the subtree still on; then the
   * hooks run, then the `signal`s abort. Errors thrown by hooks are collected and rethrown
   * (the first, with the rest kept on it: see `suppressedErrors`).
   */
  cancel(reason: unknown): void {
    this.#cancel(reason, false);
  }

  /**
   * Cancels the context and every context below it, protected ones included (a simulated host
   * that crashes: nothing of it may go on). Contexts made below it later start cancelled.
   * Errors thrown by hooks are rethrown as {@link cancel} does.
   */
  kill(reason: unknown): void {
    this.#cancel(reason, true);
  }

  #cancel(reason: unknown, all: boolean): void {
    const hooks: CancelHook[] = [];
    const controllers: AbortController[] = [];
    this.#markTree(reason, hooks, controllers, all);
    let error: unknown;
    let failed = false;
    const outer = waking;
    waking = { reason, error: undefined };
    try {
      for (const h of hooks) {
        try {
          h.cancelled(reason);
        } catch (e) {
          error = failed ? combineErrors(error, e) : e;
          failed = true;
        }
      }
    } finally {
      waking = outer;
    }
    for (const c of controllers) c.abort(reason);
    if (failed) throw error;
  }

  #markTree(
    reason: unknown,
    hooks: CancelHook[],
    controllers: AbortController[],
    all: boolean,
  ): void {
    if (this.#state === "finished") return;
    if (all) {
      // A context already cancelling may still have protected contexts on below it.
      if (this.#killed) return;
      this.#killed = true;
    }
    if (this.#state === "on") {
      this.#state = "cancelling";
      this.#reason = reason;
      if (this.#hooks !== null) {
        for (const h of this.#hooks) hooks.push(h);
        this.#hooks = null;
      }
      if (this.#controller !== null) controllers.push(this.#controller);
    } else if (!all) return;
    if (this.#children !== null) {
      for (const c of this.#children) {
        if (all || !c.protected) c.#markTree(reason, hooks, controllers, all);
      }
    }
  }

  /**
   * Registers `hook` to run when the context is cancelled. The caller must have checked
   * that the context is on. Returns nothing: remove the hook with {@link removeHook}.
   */
  addHook(hook: CancelHook): void {
    if (this.#hooks === null) this.#hooks = new Set();
    this.#hooks.add(hook);
  }

  /** Removes a hook added with {@link addHook} (no effect if it already ran). */
  removeHook(hook: CancelHook): void {
    this.#hooks?.delete(hook);
  }

  /** Unlinks the context from its parent: it is finished and may not be used again. */
  finish(): void {
    this.#state = "finished";
    this.#hooks = null;
    const parent = this.#parent;
    if (parent !== null) parent.#children?.delete(this);
  }
}
