/**
 * `Monitor` (Async's monitors, as far as weir needs them): where an error raised by code that
 * belongs to no switch goes — a `Tcp.Server`'s handler with `onHandlerError: "raise"`. `run()`
 * installs one in the fiber context: a raised error cancels `run()`'s body and makes `run()`
 * reject with it. Outside any run, {@link raiseToMonitor} makes it an uncaught exception, as
 * Async raises to the main monitor (never an unhandled promise rejection).
 * @module
 */
import type { CancelContext } from "./cancel-context.ts";
import { combineErrors } from "./errors.ts";

/** The monitor of one `run()`: records the first raised error and cancels the run's body. */
export class Monitor {
  readonly #cc: CancelContext;
  #open = true;
  #failed = false;
  #error: unknown = undefined;

  /** A monitor that cancels `cc` when an error is raised to it. */
  constructor(cc: CancelContext) {
    this.#cc = cc;
  }

  /**
   * Raises `err` to this monitor: records it (later errors are kept on the first) and
   * cancels the run's body. Returns false, doing nothing, once the run has finished.
   */
  raise(err: unknown): boolean {
    if (!this.#open) return false;
    if (this.#failed) this.#error = combineErrors(this.#error, err);
    else {
      this.#failed = true;
      this.#error = err;
    }
    try {
      this.#cc.cancel(err);
    } catch {
      // a failing cancel hook does not stop the cancellation
    }
    return true;
  }

  /**
   * Ends the monitor (later raises go elsewhere) and gives the run's outcome: throws the raised
   * error if there was one (the body's own error, unless it is the cancellation, kept on it),
   * else `body`'s.
   */
  close<T>(body: { ok: true; value: T } | { ok: false; error: unknown }): T {
    this.#open = false;
    if (this.#failed) throw body.ok ? this.#error : combineErrors(this.#error, body.error);
    if (body.ok) return body.value;
    throw body.error;
  }
}

/**
 * Raises `err` to `monitor` (the one a server captured when it was made); with none, or once
 * that run has finished, makes `err` an uncaught exception of the process.
 * @example
 * ```ts
 * raiseToMonitor(currentFiber().monitor, new Error("handler failed"));
 * ```
 */
export function raiseToMonitor(monitor: Monitor | undefined, err: unknown): void {
  if (monitor?.raise(err) === true) return;
  queueMicrotask(() => {
    throw err;
  });
}
