/**
 * Scripted actions (Eio's `Eio_mock.Action`): what a mock does when it is called.
 * @module
 */
import { awaitCancellable, Fiber, IoError } from "../core/index.ts";

/**
 * What a mock does on one call:
 * - `{ return: v }`: returns `v` at once;
 * - `{ raise: err }`: throws `err` (an `IoError` is copied at each raise, since callers add
 *   context lines to it in place);
 * - `{ run: fn }`: runs `fn` in the calling fiber and returns what it returns (it may block,
 *   e.g. `{ run: Fiber.awaitCancel }`, and is cancelled with the caller);
 * - `{ await: promise }`: waits for `promise` (cancellably) and returns its value;
 * - `{ yieldThen: action }`: calls `Fiber.yield()`, then performs `action`.
 * @example
 * ```ts
 * const actions: Action<string>[] = [
 *   { return: "Hi" },
 *   { yieldThen: { return: "there" } },
 *   { raise: new EndOfFile() },
 * ];
 * ```
 */
export type Action<T> =
  | { readonly return: T }
  | { readonly raise: unknown }
  | { readonly run: () => T | PromiseLike<T> }
  | { readonly await: PromiseLike<T> }
  | { readonly yieldThen: Action<T> };

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x !== "object") return typeof x;
  return `{ ${Object.keys(x).join(", ")} }`;
}

function copyIfIoError(e: unknown): unknown {
  if (!(e instanceof IoError)) return e;
  const copy = new IoError(e.err, e.context);
  if (e.stack !== undefined) copy.stack = e.stack;
  return copy;
}

/**
 * Performs `action` and returns its result.
 * @throws what a `raise` action holds or what `run`/`await` throw; Cancelled if the calling
 *   fiber is cancelled while a `run`, `await` or `yieldThen` action waits; TypeError for
 *   something that is not an action.
 * @example
 * ```ts
 * await runAction({ return: 42 }); // 42
 * ```
 */
export async function runAction<T>(action: Action<T>): Promise<T> {
  if (typeof action !== "object" || action === null) {
    throw new TypeError(`action must be an Action object, got ${describe(action)}`);
  }
  if ("return" in action) return action.return;
  if ("raise" in action) throw copyIfIoError(action.raise);
  if ("run" in action) return await action.run();
  if ("await" in action) return await awaitCancellable(action.await);
  if ("yieldThen" in action) {
    await Fiber.yield();
    return await runAction(action.yieldThen);
  }
  throw new TypeError(
    `action must have one of return, raise, run, await, yieldThen, got ${describe(action)}`,
  );
}

/**
 * Whether `action` finishes without waiting (`return` or `raise`): the mocks only report
 * waiting actions as blocked when a run deadlocks.
 */
export function isImmediate(action: Action<unknown>): boolean {
  return typeof action === "object" && action !== null && ("return" in action || "raise" in action);
}

/**
 * An action that performs `action` and transforms its result with `f`
 * (`runAction(mapAction(f, a))` is `f(await runAction(a))`).
 * @example
 * ```ts
 * const a = mapAction((s: string) => s.length, { return: "abc" }); // performs to 3
 * ```
 */
export function mapAction<A, B>(f: (a: A) => B, action: Action<A>): Action<B> {
  if ("return" in action) return { return: f(action.return) };
  if ("raise" in action) return action;
  if ("yieldThen" in action) return { yieldThen: mapAction(f, action.yieldThen) };
  return { run: async () => f(await runAction(action)) };
}

/** Actions (Eio's `Eio_mock.Action`): perform and transform scripted actions. */
export const Action = {
  run: runAction,
  map: mapAction,
};
