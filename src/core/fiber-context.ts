/**
 * The current fiber's context, carried by `AsyncLocalStorage`: its cancellation context
 * and the fiber-local settings (trace sink) that child fibers inherit.
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { CancelContext } from "./cancel-context.ts";
import type { Monitor } from "./monitor.ts";

/** Where `traceln` lines go, and what prefixes them (mock domains add `[id] `). */
export interface TraceSink {
  readonly write: (line: string) => void;
}

/** The state a fiber carries: inherited by every fiber it forks. */
export interface FiberContext {
  /** The cancellation context the fiber runs in. */
  readonly cc: CancelContext;
  /** Where `traceln` writes; `undefined` means standard error. */
  readonly trace: TraceSink | undefined;
  /** Optional prefix for trace lines (mock domains use `[1] `). */
  readonly tracePrefix: string;
  /** The scheduler hooks of the running backend (the mock replaces `yield`). */
  readonly scheduler: Scheduler;
  /**
   * The environment (capabilities) of the enclosing `run` / `Mock.Backend.runFull`, for
   * Async-style code that finds its network in the running env (`weir`'s `Tcp`). Opaque here:
   * `net/env.ts` gives it its type.
   */
  readonly env?: unknown;
  /**
   * Where errors raised by code of no switch go (`Tcp.Server`'s `onHandlerError: "raise"`):
   * `run()` installs one; absent outside any run (then such an error is uncaught).
   */
  readonly monitor?: Monitor | undefined;
}

/** What a backend decides about scheduling. */
export interface Scheduler {
  /** Resolves once every other runnable fiber has had a turn. */
  yield(): Promise<void>;
  /**
   * Called by `suspend` when a blocking operation completes or is cancelled: runs `resume`
   * (which settles the operation's promise) now or later. The mock backend queues it behind
   * the fibers already runnable, as Eio's run queue does, so that mock runs are deterministic
   * and interleave as Eio's. Absent (real backends): `resume` runs at once.
   */
  wake?(resume: () => void): void;
  /**
   * Awaited (through {@link afterFork}) after starting a new fiber and before the parent goes
   * on: resolves once the new fiber has run until it blocks, as Eio's `fork` runs the new fiber
   * first. Absent (real backends): no wait.
   */
  forked?(): Promise<void>;
  /**
   * Called by code that hands work to Node's own machinery, which finishes it on a later turn
   * of the event loop without going through `suspend` (`node:tls` over an in-memory flow):
   * until the returned function is called, the mock backend does not take "no fiber can run"
   * for a deadlock. Absent (real backends): nothing to do.
   */
  hold?(): () => void;
}

/** The real scheduler: yielding lets pending promise jobs and I/O callbacks run first. */
export const defaultScheduler: Scheduler = {
  yield: () =>
    new Promise<void>((resolve) => {
      setImmediate(resolve);
    }),
};

const storage = new AsyncLocalStorage<FiberContext>();

const root: FiberContext = {
  cc: new CancelContext(null),
  trace: undefined,
  tracePrefix: "",
  scheduler: defaultScheduler,
};

/** The context of the calling fiber (a root context, never cancelled, outside any run). */
export function currentFiber(): FiberContext {
  return storage.getStore() ?? root;
}

/** The cancellation context of the calling fiber. */
export function currentCancelContext(): CancelContext {
  return (storage.getStore() ?? root).cc;
}

/** Runs `fn` as a fiber with context `ctx`; asynchronous continuations keep it. */
export function runInFiber<T>(ctx: FiberContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/**
 * Lets a fiber just forked run until it blocks before its parent goes on, as Eio's `fork`
 * does, when the backend asks for it (the mock backend does). Returns the promise to await, or
 * `undefined` on real backends; write `const p = afterFork(); if (p !== undefined) await p;`
 * so that real backends pay no extra tick.
 */
export function afterFork(): Promise<void> | undefined {
  return currentFiber().scheduler.forked?.();
}

/** A copy of the current context with another cancellation context. */
export function withCancelContext(cc: CancelContext): FiberContext {
  const cur = currentFiber();
  return { cc, trace: cur.trace, tracePrefix: cur.tracePrefix, scheduler: cur.scheduler };
}
