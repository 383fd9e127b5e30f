/**
 * `Fiber` (Eio's `Fiber`): running functions concurrently, each branch in its own fiber,
 * with failures cancelling the other branches.
 * @module
 */
import { CancelContext } from "./cancel-context.ts";
import { Cancelled, combineErrors, isCancelled } from "./errors.ts";
import { afterFork, currentCancelContext, currentFiber, runInFiber } from "./fiber-context.ts";
import { suspend } from "./suspend.ts";
import { Switch } from "./switch.ts";

type Thunk<T> = () => T | Promise<T>;

class NotFirst extends Error {
  constructor() {
    super("Another branch finished first");
    this.name = "NotFirst";
  }
}

type AnyState<T> = { k: "new" } | { k: "ok"; v: T } | { k: "ex"; e: unknown };

/** Runs `fs` concurrently; the first to return wins and the others are cancelled. */
async function anyGen<T>(fs: readonly Thunk<T>[], combine?: (a: T, b: T) => T): Promise<T> {
  const parent = currentFiber();
  parent.cc.check();
  if (fs.length === 0) return awaitCancel();
  const cc = new CancelContext(parent.cc);
  const ctx = { ...parent, cc };
  let r: AnyState<T> = { k: "new" };
  const fail = (e: unknown): void => {
    if (r.k === "ex") r = { k: "ex", e: combineErrors(r.e, e) };
    else r = { k: "ex", e };
  };
  // `wrap` never rejects (errors go to `r`), so that every branch is waited for.
  const wrap = async (f: Thunk<T>): Promise<void> => {
    try {
      const x = await runInFiber(ctx, f);
      if (r.k === "new") {
        r = { k: "ok", v: x };
        cc.cancel(new NotFirst());
      } else if (r.k === "ok" && combine !== undefined) r = { k: "ok", v: combine(r.v, x) };
    } catch (e) {
      if (isCancelled(e) && !cc.isOn) return;
      const first = r.k === "new";
      if (r.k === "ok") r = { k: "ex", e };
      else fail(e);
      if (first) {
        try {
          cc.cancel(e);
        } catch (e2) {
          fail(e2);
        }
      }
    }
  };
  const running: Promise<void>[] = [];
  try {
    for (let i = 0; i < fs.length; i++) {
      running.push(wrap(fs[i] as Thunk<T>));
      if (i < fs.length - 1) {
        const p = afterFork();
        if (p !== undefined) await p;
      }
    }
    await Promise.all(running);
  } finally {
    cc.finish();
  }
  const state = r as AnyState<T>;
  const parentErr = parent.cc.cancelled ? new Cancelled(parent.cc.reason) : undefined;
  if (state.k === "ok") return state.v;
  if (state.k === "ex") throw parentErr === undefined ? state.e : combineErrors(state.e, parentErr);
  throw parentErr ?? new Error("Fiber.any: no branch finished");
}

/**
 * Waits until the calling fiber is cancelled.
 * @throws Cancelled always, once the fiber's context is cancelled.
 */
function awaitCancel(): Promise<never> {
  return suspend<never>(() => undefined);
}

/** Concurrency combinators (Eio's `Fiber`). */
export const Fiber = {
  /**
   * Runs `f` and `g` concurrently (`f` starts first) and waits for both. If one fails, the
   * other is cancelled, then the failure is raised.
   * @example
   * ```ts
   * await Fiber.both(async () => traceln("a"), async () => traceln("b"));
   * ```
   */
  both(f: Thunk<void>, g: Thunk<void>): Promise<void> {
    return Fiber.all([f, g]);
  },

  /**
   * Runs `f` and `g` concurrently and returns both results. If one fails, the other is
   * cancelled, then the failure is raised.
   */
  async pair<A, B>(f: Thunk<A>, g: Thunk<B>): Promise<[A, B]> {
    let a: A | undefined;
    const b = await Switch.run(async (sw) => {
      sw.fork(async () => {
        a = await f();
      });
      const p = afterFork();
      if (p !== undefined) await p;
      sw.check();
      return await g();
    });
    return [a as A, b];
  },

  /** Runs every function concurrently (in order of start) and waits for all of them. */
  all(fs: readonly Thunk<void>[]): Promise<void> {
    return Switch.run(async (sw) => {
      const last = fs.length - 1;
      for (let i = 0; i < last; i++) {
        sw.fork(fs[i] as Thunk<void>);
        const p = afterFork();
        if (p !== undefined) await p;
      }
      if (last >= 0) {
        sw.check();
        await (fs[last] as Thunk<void>)();
      }
    });
  },

  /**
   * Runs `f` and `g` concurrently; returns the result of the first to finish and cancels
   * the other. If both return (the loser ignored its cancellation), `combine` merges them.
   * @throws the first failure (the other branch is cancelled).
   */
  first<T>(f: Thunk<T>, g: Thunk<T>, opts?: { combine?: (a: T, b: T) => T }): Promise<T> {
    return anyGen([f, g], opts?.combine);
  },

  /** Like {@link Fiber.first}, for any number of functions. */
  any<T>(fs: readonly Thunk<T>[], opts?: { combine?: (a: T, b: T) => T }): Promise<T> {
    return anyGen(fs, opts?.combine);
  },

  /**
   * Lets every other runnable fiber run first (on the real backend, pending I/O callbacks
   * too), then continues.
   * @throws Cancelled if the fiber was cancelled meanwhile.
   */
  async yield(): Promise<void> {
    const ctx = currentFiber();
    await ctx.scheduler.yield();
    ctx.cc.check();
  },

  awaitCancel,

  /**
   * Throws if the calling fiber has been cancelled.
   * @throws Cancelled with the cancellation reason as cause.
   */
  check(): void {
    currentCancelContext().check();
  },

  /** Whether the calling fiber's context has been cancelled. */
  isCancelled(): boolean {
    return currentCancelContext().cancelled;
  },
};
