/**
 * `Switch` (Eio's `Switch`): groups fibers and resources. `Switch.run` returns only when
 * every fiber attached to the switch has finished, then releases its resources, last first.
 * @module
 */

import { CancelContext } from "./cancel-context.ts";
import { isThenable } from "./checks.ts";
import { Cancelled, combineErrors, isCancelled } from "./errors.ts";
import { currentFiber, type FiberContext, runInFiber } from "./fiber-context.ts";

/** A handle on a release hook, to take it back (for a resource closed early). */
export interface ReleaseHandle {
  /** Removes the hook; returns false if it had already run or been removed. */
  remove(): boolean;
}

/** The reason daemon fibers are cancelled with once every other fiber has finished. */
class DaemonsStop extends Error {
  constructor() {
    super("Switch finished: stopping daemon fibers");
    this.name = "DaemonsStop";
  }
}

type ReleaseFn = () => void | Promise<void>;

class ReleaseNode implements ReleaseHandle {
  fn: ReleaseFn | null;
  readonly #set: Set<ReleaseNode>;
  constructor(fn: ReleaseFn, set: Set<ReleaseNode>) {
    this.fn = fn;
    this.#set = set;
  }
  remove(): boolean {
    if (this.fn === null) return false;
    this.fn = null;
    this.#set.delete(this);
    return true;
  }
}

/**
 * A switch: a scope for fibers and resources. Made only by {@link Switch.run}.
 *
 * If the body or any fiber fails, the switch turns off: every other fiber in it is
 * cancelled, and `run` rethrows the first error once all have finished (later errors are
 * kept on it; a `Cancelled` loses to any real error).
 */
export class Switch {
  readonly #cc: CancelContext;
  readonly #ctx: FiberContext;
  #fibers = 1;
  #daemons = 0;
  #hasError = false;
  #error: unknown = undefined;
  #release: Set<ReleaseNode> | null = new Set();
  #finished = false;
  #waiter: (() => void) | null = null;

  private constructor(cc: CancelContext, ctx: FiberContext) {
    this.#cc = cc;
    this.#ctx = ctx;
  }

  /**
   * Runs `fn` with a new switch and waits for it and every fiber forked on the switch
   * (daemons included) to finish; then runs the release hooks last-first, each protected
   * from cancellation. Returns `fn`'s result.
   * @throws the first error of `fn`, a fiber or a release hook (later ones are kept on it);
   *   `Cancelled` at once, without running `fn`, if the calling fiber is already cancelled.
   * @example
   * ```ts
   * await Switch.run(async (sw) => {
   *   sw.fork(async () => traceln("in a fiber"));
   * });
   * ```
   */
  static async run<T>(fn: (sw: Switch) => T | Promise<T>): Promise<T> {
    const parent = currentFiber();
    parent.cc.check();
    const cc = new CancelContext(parent.cc);
    const ctx: FiberContext = { ...parent, cc };
    const sw = new Switch(cc, ctx);
    let value: T | undefined;
    try {
      value = await runInFiber(ctx, () => fn(sw));
      sw.#decFibers();
    } catch (e) {
      sw.#decFibers();
      sw.fail(e);
    }
    // Most switches (Fiber.both, ...) are idle by now and have no hooks: skip the await.
    if (sw.#fibers > 0 || (sw.#release !== null && sw.#release.size > 0)) await sw.#awaitIdle();
    else sw.#release = null;
    sw.#finished = true;
    cc.finish();
    if (sw.#hasError) throw sw.#error;
    return value as T;
  }

  /** An `AbortSignal` that aborts when the switch turns off (fails or is cancelled). */
  get signal(): AbortSignal {
    return this.#cc.signal;
  }

  /** Whether the switch is still on: not failed, not cancelled, not finished. */
  get isOn(): boolean {
    return !this.#finished && this.#cc.isOn;
  }

  /** The switch's cancellation context. */
  get cancelContext(): CancelContext {
    return this.#cc;
  }

  /**
   * Throws if the switch is off.
   * @throws Cancelled if the switch has been turned off; Error "Switch finished!" after `run` returned.
   */
  check(): void {
    if (this.#finished) throw new Error("Switch finished!");
    this.#cc.check();
  }

  /**
   * Turns the switch off with `err`: `run` will rethrow it, and every fiber in the switch
   * is cancelled (blocking operations reject with `Cancelled`, cause `err`).
   * @throws Error "Switch finished!" after `run` returned.
   */
  fail(err: unknown): void {
    if (this.#finished) throw new Error("Switch finished!");
    this.#record(err);
    try {
      this.#cc.cancel(err);
    } catch (e) {
      this.#record(e);
    }
  }

  #record(err: unknown): void {
    if (this.#hasError) this.#error = combineErrors(this.#error, err);
    else {
      this.#hasError = true;
      this.#error = err;
    }
  }

  /**
   * Runs `fn` in a new fiber attached to the switch. The fiber starts at once and runs until
   * it first waits; `fork` then returns. If it fails, the switch fails. If the switch is
   * already off, `fn` is not run (the switch is failing anyway).
   * @throws Error "Switch finished!" after `run` returned.
   */
  fork(fn: () => void | Promise<void>): void {
    if (this.#finished) throw new Error("Switch finished!");
    if (!this.#cc.isOn) return;
    this.#fibers++;
    this.#start(fn, false);
  }

  /**
   * Like {@link fork}, but the switch does not wait for the fiber: once every other fiber
   * has finished, daemon fibers are cancelled (and that cancellation is not an error).
   * @throws Error "Switch finished!" after `run` returned.
   */
  forkDaemon(fn: () => void | Promise<void>): void {
    if (this.#finished) throw new Error("Switch finished!");
    if (!this.#cc.isOn) return;
    this.#fibers++;
    this.#daemons++;
    this.#start(fn, true);
  }

  /**
   * Runs `fn` in a new fiber attached to the switch and returns a promise of its result.
   * If `fn` fails, the promise rejects (the switch is not failed: await the promise).
   * If the switch is off, `fn` is not run and the promise rejects with `Cancelled`.
   * @throws Error "Switch finished!" after `run` returned.
   */
  forkPromise<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.#finished) throw new Error("Switch finished!");
    if (this.#cc.cancelled) return Promise.reject(new Cancelled(this.#cc.reason));
    this.#fibers++;
    return new Promise<T>((resolve, reject) => {
      let r: T | Promise<T>;
      try {
        r = this.#runInSwitch(fn);
      } catch (e) {
        reject(e);
        this.#decFibers();
        return;
      }
      Promise.resolve(r).then(
        (v) => {
          resolve(v);
          this.#decFibers();
        },
        (e: unknown) => {
          reject(e);
          this.#decFibers();
        },
      );
    });
  }

  #start(fn: () => void | Promise<void>, daemon: boolean): void {
    let r: void | Promise<void>;
    try {
      r = this.#runInSwitch(fn);
    } catch (e) {
      this.#fiberEnded(daemon, e, true);
      return;
    }
    if (isThenable(r)) {
      // Callbacks made once per switch, not per fiber: a server's idle connections hold them
      if (daemon) {
        this.#daemonOk ??= () => this.#fiberEnded(true, undefined, false);
        this.#daemonErr ??= (e: unknown) => this.#fiberEnded(true, e, true);
        r.then(this.#daemonOk, this.#daemonErr);
      } else {
        this.#fiberOk ??= () => this.#fiberEnded(false, undefined, false);
        this.#fiberErr ??= (e: unknown) => this.#fiberEnded(false, e, true);
        r.then(this.#fiberOk, this.#fiberErr);
      }
    } else this.#fiberEnded(daemon, undefined, false);
  }
  #fiberOk: (() => void) | null = null;
  #fiberErr: ((e: unknown) => void) | null = null;
  #daemonOk: (() => void) | null = null;
  #daemonErr: ((e: unknown) => void) | null = null;

  /**
   * Calls `fn` as a new fiber in the switch's cancellation context, inheriting the rest of
   * the calling fiber's context (as Eio's fibers inherit the caller's fiber-local values).
   */
  #runInSwitch<T>(fn: () => T): T {
    const cur = currentFiber();
    // Forking from a fiber already in the switch's context (the body, or another fiber of
    // the switch) needs no new context: skipping `AsyncLocalStorage.run` saves a quarter
    // of the cost of a fork.
    if (cur.cc === this.#cc) return fn();
    return runInFiber({ ...cur, cc: this.#cc }, fn);
  }

  #fiberEnded(daemon: boolean, err: unknown, failed: boolean): void {
    if (failed) {
      const daemonStopped =
        daemon && isCancelled(err) && err.cause instanceof DaemonsStop && !this.#cc.isOn;
      if (!daemonStopped) this.#failQuietly(err);
    }
    if (daemon) this.#daemons--;
    this.#decFibers();
  }

  #failQuietly(err: unknown): void {
    this.#record(err);
    try {
      this.#cc.cancel(err);
    } catch (e) {
      this.#record(e);
    }
  }

  #decFibers(): void {
    this.#fibers--;
    if (this.#daemons > 0 && this.#fibers === this.#daemons) {
      try {
        this.#cc.cancel(new DaemonsStop());
      } catch (e) {
        this.#record(e);
      }
    }
    if (this.#fibers === 0 && this.#waiter !== null) {
      const w = this.#waiter;
      this.#waiter = null;
      w();
    }
  }

  /**
   * Registers `fn` to run when the switch finishes (after all its fibers), protected from
   * cancellation; hooks run last-registered first. A failing hook fails the switch, and the
   * other hooks still run.
   * @throws Error "Switch finished!" if the switch has already released its resources (then
   *   `fn` is run at once, so nothing leaks; if the switch is still running its release
   *   hooks, `run` waits for `fn` and reports its error).
   */
  onRelease(fn: () => void | Promise<void>): ReleaseHandle {
    if (this.#release === null) {
      if (this.#finished) void runProtected(this.#ctx, fn).catch(() => {});
      else {
        // Releasing (a fiber forked by a release hook attaches a resource): run `fn` now,
        // as a fiber of the switch, so that `run` still waits for it and reports its error.
        this.#fibers++;
        runProtected(this.#ctx, fn).then(
          () => this.#decFibers(),
          (e: unknown) => {
            this.#failQuietly(e);
            this.#decFibers();
          },
        );
      }
      throw new Error("Switch finished!");
    }
    const node = new ReleaseNode(fn, this.#release);
    this.#release.add(node);
    return node;
  }

  async #awaitIdle(): Promise<void> {
    for (;;) {
      while (this.#fibers > 0) {
        await new Promise<void>((resolve) => {
          this.#waiter = resolve;
        });
      }
      const hooks = this.#release === null ? [] : [...this.#release].reverse();
      this.#release = null;
      for (const h of hooks) {
        const fn = h.fn;
        h.fn = null;
        if (fn === null) continue;
        try {
          await runProtected(this.#ctx, fn);
        } catch (e) {
          this.#failQuietly(e);
        }
      }
      if (this.#fibers === 0) return;
    }
  }
}

/** Runs `fn` in a protected child of `ctx`'s cancellation context. */
async function runProtected(ctx: FiberContext, fn: () => void | Promise<void>): Promise<void> {
  const cc = new CancelContext(ctx.cc, true);
  try {
    await runInFiber({ ...ctx, cc }, fn);
  } finally {
    cc.finish();
  }
}

/** Thrown into fibers to make them finish; exported for `Fiber.any`'s use. */
export function isDaemonStop(e: unknown): boolean {
  return e instanceof Cancelled && e.cause instanceof DaemonsStop;
}
