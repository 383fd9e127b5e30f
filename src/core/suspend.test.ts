/**
 * `suspend` and `awaitCancellable`: how every blocking operation waits, is cancelled, and
 * releases what it registered (cancel hooks, AbortSignal listeners).
 */
import { getEventListeners } from "node:events";
import { describe, expect, test, vi } from "vitest";
import { Cancel } from "./cancel.ts";
import { CancelContext } from "./cancel-context.ts";
import { Cancelled } from "./errors.ts";
import { Fiber } from "./fiber.ts";
import { currentCancelContext } from "./fiber-context.ts";
import { awaitCancellable, suspend } from "./suspend.ts";
import { formatError, traceOf } from "./test-helpers/trace.ts";
import { traceln } from "./trace.ts";

const failure = (msg: string) => new Error(msg);
const listeners = (s: AbortSignal) => getEventListeners(s, "abort").length;

/** `Promise.withResolvers` (not in this project's `lib` yet). */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, ex) => {
    resolve = ok;
    reject = ex;
  });
  return { promise, resolve, reject };
}

describe("suspend", () => {
  test("suspend() resolves with the value given to resolve", async () => {
    await expect(
      suspend<number>((resolve) => {
        resolve(3);
        return undefined;
      }),
    ).resolves.toBe(3);
    await expect(
      suspend<number>((resolve) => {
        setImmediate(() => resolve(4));
        return undefined;
      }),
    ).resolves.toBe(4);
  });

  test("suspend() rejects with the error given to reject, or thrown by start", async () => {
    await expect(
      suspend<void>((_, reject) => {
        reject(failure("r"));
        return undefined;
      }),
    ).rejects.toThrow("r");
    await expect(
      suspend<void>(() => {
        throw failure("start failed");
      }),
    ).rejects.toThrow("start failed");
  });

  test("suspend() rejects with Cancelled (cause = reason) when the context is cancelled", async () => {
    const reason = failure("why");
    const e = await Cancel.sub(async (scope) => {
      const p = suspend<void>(() => undefined);
      scope.cancel(reason);
      return p.catch((e: unknown) => e);
    });
    expect(e).toBeInstanceOf(Cancelled);
    expect((e as Cancelled).cause).toBe(reason);
  });

  test("suspend() rejects with Cancelled (cause = reason) when the signal aborts", async () => {
    const ac = new AbortController();
    const reason = failure("aborted");
    const p = suspend<void>(() => undefined, ac.signal);
    expect(listeners(ac.signal)).toBe(1);
    ac.abort(reason);
    const e = await p.catch((e: unknown) => e);
    expect(e).toBeInstanceOf(Cancelled);
    expect((e as Cancelled).cause).toBe(reason);
    expect(listeners(ac.signal)).toBe(0);
  });

  test("suspend() rejects at once, without calling start, if already cancelled", async () => {
    const ac = new AbortController();
    ac.abort(failure("before"));
    let started = false;
    const start = () => {
      started = true;
      return undefined;
    };
    await expect(suspend<void>(start, ac.signal)).rejects.toEqual(new Cancelled(failure("before")));
    expect(
      await traceOf(() =>
        Cancel.sub(async (scope) => {
          scope.cancel(failure("ctx"));
          await suspend<void>(start);
        }),
      ),
    ).toEqual(["Exception: Cancelled: Error: ctx"]);
    expect(started).toBe(false);
  });

  test("suspend() calls the abort function exactly once when cancelled", async () => {
    let aborts = 0;
    const ac = new AbortController();
    await Cancel.sub(async (scope) => {
      const p = suspend<void>(() => () => void aborts++, ac.signal);
      scope.cancel("ctx");
      ac.abort("signal");
      scope.cancel("again");
      await p.catch(() => {});
    });
    expect(aborts).toBe(1);
  });

  test("suspend() does not call the abort function once it has settled", async () => {
    let aborts = 0;
    await Cancel.sub(async (scope) => {
      let resolve: (() => void) | undefined;
      const p = suspend<void>((r) => {
        resolve = () => r();
        return () => void aborts++;
      });
      resolve?.();
      scope.cancel("late");
      await p;
    });
    expect(aborts).toBe(0);
  });

  test("suspend() ignores resolve and reject after it was cancelled", async () => {
    const calls: Array<() => void> = [];
    const e = await Cancel.sub(async (scope) => {
      const p = suspend<string>((resolve, reject) => {
        calls.push(
          () => resolve("late"),
          () => reject(failure("late")),
        );
        return undefined;
      });
      scope.cancel("first");
      for (const c of calls) c();
      return p.catch((e: unknown) => e);
    });
    expect(e).toEqual(new Cancelled("first"));
  });

  test("suspend() removes its AbortSignal listener when it settles", async () => {
    const ac = new AbortController();
    for (let i = 0; i < 3; i++) {
      await suspend<void>((resolve) => {
        setImmediate(resolve);
        return undefined;
      }, ac.signal);
      await suspend<void>((_, reject) => {
        setImmediate(() => reject(failure("x")));
        return undefined;
      }, ac.signal).catch(() => {});
    }
    expect(listeners(ac.signal)).toBe(0);
  });

  test("suspend() removes its cancel hook when it settles or the signal cancels it", async () => {
    const added = vi.spyOn(CancelContext.prototype, "addHook");
    const removed = vi.spyOn(CancelContext.prototype, "removeHook");
    try {
      const ac = new AbortController();
      await suspend<void>((resolve) => {
        setImmediate(resolve);
        return undefined;
      });
      await suspend<void>((_, reject) => {
        setImmediate(() => reject(failure("x")));
        return undefined;
      }).catch(() => {});
      const p = suspend<void>(() => undefined, ac.signal);
      ac.abort("signal");
      await p.catch(() => {});
      expect(added).toHaveBeenCalledTimes(3);
      expect(removed.mock.calls.map((c) => c[0])).toEqual(added.mock.calls.map((c) => c[0]));
    } finally {
      added.mockRestore();
      removed.mockRestore();
    }
  });

  test("suspend() removes its AbortSignal listener when the context cancels it", async () => {
    const ac = new AbortController();
    await Cancel.sub(async (scope) => {
      const p = suspend<void>(() => undefined, ac.signal);
      expect(listeners(ac.signal)).toBe(1);
      scope.cancel("ctx");
      await p.catch(() => {});
    });
    expect(listeners(ac.signal)).toBe(0);
  });

  test("suspend() removes its cancel hook when the signal cancels it", async () => {
    const ac = new AbortController();
    let aborts = 0;
    await Cancel.sub(async (scope) => {
      const p = suspend<void>(() => () => void aborts++, ac.signal);
      ac.abort("signal");
      await expect(p).rejects.toEqual(new Cancelled("signal"));
      scope.cancel("ctx");
    });
    expect(aborts).toBe(1);
  });

  test("suspend() does not register anything when start settles at once", async () => {
    const ac = new AbortController();
    await suspend<void>((resolve) => {
      resolve();
      return undefined;
    }, ac.signal);
    expect(listeners(ac.signal)).toBe(0);
  });

  test("suspend() is cancelled when start itself cancels the context", async () => {
    expect(
      await traceOf(() =>
        Cancel.sub(async (scope) => {
          await suspend<void>(() => {
            scope.cancel(failure("from start"));
            return () => traceln("aborted");
          });
        }),
      ),
    ).toEqual(["aborted", "Exception: Cancelled: Error: from start"]);
  });

  test("suspend() is cancelled when start itself aborts the signal", async () => {
    const ac = new AbortController();
    const p = suspend<void>(() => {
      ac.abort(failure("from start"));
      return undefined;
    }, ac.signal);
    await expect(p).rejects.toEqual(new Cancelled(failure("from start")));
    expect(listeners(ac.signal)).toBe(0);
  });

  test("an error thrown by the abort function goes to the canceller; the operation is Cancelled", async () => {
    expect(
      await traceOf(() =>
        Cancel.sub(async (scope) => {
          const p = suspend<void>(() => () => {
            throw failure("abort failed");
          });
          try {
            scope.cancel("stop");
          } catch (e) {
            traceln(`cancel threw: ${formatError(e)}`);
          }
          await p;
        }),
      ),
    ).toEqual(["cancel threw: Error: abort failed", "Exception: Cancelled: stop"]);
  });

  test("suspend() belongs to the fiber that called it", async () => {
    expect(
      await traceOf(() =>
        Fiber.both(
          () => suspend<void>(() => () => traceln("first aborted")),
          async () => {
            await Cancel.sub(async (scope) => {
              const p = suspend<void>(() => () => traceln("second aborted"));
              scope.cancel("only the second");
              await p.catch(() => {});
            });
            throw failure("done");
          },
        ),
      ),
    ).toEqual(["second aborted", "first aborted", "Exception: Error: done"]);
  });
});

describe("awaitCancellable", () => {
  test("awaitCancellable() resolves and rejects as the promise does", async () => {
    await expect(awaitCancellable(Promise.resolve(1))).resolves.toBe(1);
    await expect(awaitCancellable(Promise.reject(failure("no")))).rejects.toThrow("no");
  });

  test("awaitCancellable() rejects with Cancelled when the fiber is cancelled first", async () => {
    const { promise, resolve } = deferred<number>();
    const e = await Cancel.sub(async (scope) => {
      const p = awaitCancellable(promise);
      scope.cancel("stop");
      return p.catch((e: unknown) => e);
    });
    expect(e).toEqual(new Cancelled("stop"));
    resolve(1);
  });

  test("awaitCancellable() takes a signal, and leaves no listener behind", async () => {
    const ac = new AbortController();
    const { promise, reject } = deferred<number>();
    const p = awaitCancellable(promise, ac.signal);
    ac.abort("stop");
    await expect(p).rejects.toEqual(new Cancelled("stop"));
    expect(listeners(ac.signal)).toBe(0);
    // The abandoned promise's rejection is handled (no unhandled rejection).
    reject(failure("later"));
    await new Promise((r) => setImmediate(r));
  });

  test("awaitCancellable() works in the current fiber's context", async () => {
    expect(currentCancelContext().cancelled).toBe(false);
    await expect(awaitCancellable(Promise.resolve("ok"))).resolves.toBe("ok");
  });
});
