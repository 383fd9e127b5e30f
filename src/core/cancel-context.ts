/**
 * Cancellation contexts (Eio's `Cancel.t`): a tree in which cancelling a context
 * cancels every non-protected context below it, and wakes every operation waiting in them.
 * @module
 */
import { Cancelled } from "./errors.ts";

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
  /** A protected context is not cancelled when its parent is. */
  readonly protected: boolean;

  constructor(parent: CancelContext | null, isProtected = false) {
    this.#parent = parent;
    this.protected = isProtected;
    if (parent !== null) {
      if (!isProtected && parent.#state === "cancelling") {
        this.#state = "cancelling";
        this.#reason = parent.#reason;
      }
      (parent.#children ??= new Set()).add(this);
    }
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
   * Does nothing if already cancelled. Errors thrown by hooks are collected and rethrown
   * (the first, with the rest kept on it).
   */
  cancel(reason: unknown): void {
    const errors: unknown[] = [];
    this.#cancelTree(reason, errors);
    if (errors.length > 0) throw errors[0];
  }

  #cancelTree(reason: unknown, errors: unknown[]): void {
    if (this.#state !== "on") return;
    this.#state = "cancelling";
    this.#reason = reason;
    const hooks = this.#hooks;
    this.#hooks = null;
    if (hooks !== null) {
      for (const h of hooks) {
        try {
          h.cancelled(reason);
        } catch (e) {
          errors.push(e);
        }
      }
    }
    if (this.#children !== null) {
      for (const c of [...this.#children]) if (!c.protected) c.#cancelTree(reason, errors);
    }
    this.#controller?.abort(reason);
  }

  /**
   * Registers `hook` to run when the context is cancelled. The caller must have checked
   * that the context is on. Returns nothing: remove the hook with {@link removeHook}.
   */
  addHook(hook: CancelHook): void {
    (this.#hooks ??= new Set()).add(hook);
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
