/**
 * `Handler` (Eio's `Eio_mock.Handler`): the script of one mock operation — a queue of
 * actions consumed one per call, then a default action forever.
 * @module
 */
import { type BlockingOptions, Cancel } from "../core/index.ts";
import { type Action, isImmediate, runAction } from "./action.ts";
import { currentMockScheduler } from "./scheduler.ts";

/** Options of the `on*` scripting functions. */
export interface ScriptOptions<T> {
  /**
   * What to do on every call once the scripted actions are used up (instead of the mock's
   * own default, usually an error saying the handler is not configured).
   */
  readonly default?: Action<T> | undefined;
}

/**
 * The script of one mock operation. Each call takes the next scripted action; when none is
 * left it performs the default action (given to the constructor, or set by
 * {@link setDefault}).
 * @example
 * ```ts
 * const h = new Handler<number>("counter: next", { raise: new Error("not configured") });
 * h.seq([{ return: 1 }, { return: 2 }]);
 * await h.run(); // 1
 * ```
 */
export class Handler<T> {
  /** What the handler scripts, for deadlock reports (`tcp/80: accept`). */
  readonly what: string;
  #default: Action<T>;
  #queue: Action<T>[] = [];
  #fn: (() => Promise<T>) | undefined = undefined;

  constructor(what: string, defaultAction: Action<T>) {
    this.what = what;
    this.#default = defaultAction;
  }

  /**
   * Replaces the script: each later call performs the next of `actions`, then the default.
   * @throws TypeError if `actions` is not an array.
   */
  seq(actions: readonly Action<T>[], opts?: ScriptOptions<T>): void {
    if (!Array.isArray(actions)) {
      throw new TypeError(`actions must be an array of actions, got ${typeof actions}`);
    }
    this.#queue = [...actions];
    this.#fn = undefined;
    if (opts?.default !== undefined) this.#default = opts.default;
  }

  /** Sets the action performed once the script is used up. */
  setDefault(action: Action<T>): void {
    this.#default = action;
  }

  /** Replaces the script with a function called on every call (Eio's `set_handler`). */
  setHandler(fn: () => T | Promise<T>): void {
    this.#fn = async () => await fn();
    this.#queue = [];
  }

  /** How many scripted actions are left. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Performs the next action (or the default). While it waits, the operation is listed as
   * blocked if the run deadlocks; `opts.signal` cancels it as cancelling the fiber would.
   * @throws what the action throws.
   */
  run(opts?: BlockingOptions): Promise<T> {
    const fn = this.#fn;
    if (fn !== undefined) return this.#perform(fn, false, opts?.signal);
    const action = this.#queue.shift() ?? this.#default;
    return this.#perform(() => runAction(action), isImmediate(action), opts?.signal);
  }

  /** Performs the default action. */
  runDefaultAction(): Promise<T> {
    return runAction(this.#default);
  }

  async #perform(
    fn: () => Promise<T>,
    immediate: boolean,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    if (immediate) return await fn();
    const done = currentMockScheduler()?.waiting(this.what);
    try {
      return await withSignal(signal, fn);
    } finally {
      done?.();
    }
  }
}

/** Runs `fn`, cancelling it (as cancelling its fiber would) when `signal` aborts. */
export async function withSignal<T>(
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (signal === undefined) return await fn();
  return await Cancel.sub(async (scope) => {
    if (signal.aborted) scope.cancel(signal.reason);
    const onAbort = (): void => scope.cancel(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await fn();
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  });
}
