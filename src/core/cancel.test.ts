/**
 * Cancellation: `Cancel.protect`, `Cancel.sub` and the `CancelContext` tree under them
 * (Eio's `Cancel`; Eio has no cancel.md, so these follow lib_eio/core/cancel.ml).
 */
import { describe, expect, test } from "vitest";
import { Cancel } from "./cancel.ts";
import { CancelContext, cancelledError } from "./cancel-context.ts";
import { Cancelled, suppressedErrors } from "./errors.ts";
import { Fiber } from "./fiber.ts";
import { currentCancelContext } from "./fiber-context.ts";
import { suspend } from "./suspend.ts";
import { Switch } from "./switch.ts";
import { formatError, traceOf } from "./test-helpers/trace.ts";
import { traceln } from "./trace.ts";

const failure = (msg: string) => new Error(msg);

describe("Cancel.protect", () => {
  test("Cancel.protect() is not cancelled when its parent is", async () => {
    expect(
      await traceOf(() =>
        Cancel.sub(async (scope) => {
          await Cancel.protect(async () => {
            scope.cancel(failure("outer"));
            traceln(`protected cancelled: ${Fiber.isCancelled()}`);
            await Fiber.yield();
            traceln("protected work done");
          });
          traceln("after protect, not checked");
          Fiber.check();
        }),
      ),
    ).toEqual([
      "protected cancelled: false",
      "protected work done",
      "after protect, not checked",
      "Exception: Cancelled: Error: outer",
    ]);
  });

  test("Cancel.protect() runs even when the caller is already cancelled", async () => {
    expect(
      await traceOf(() =>
        Cancel.sub(async (scope) => {
          scope.cancel(failure("outer"));
          traceln(await Cancel.protect(async () => "ran"));
        }),
      ),
    ).toEqual(["ran"]);
  });

  test("Cancel.protect() returns its value and raises its error", async () => {
    await expect(Cancel.protect(() => 1)).resolves.toBe(1);
    await expect(
      Cancel.protect(() => {
        throw failure("inner");
      }),
    ).rejects.toThrow("inner");
  });

  test("Cancel.protect() keeps a switch's fibers running while the caller is cancelled", async () => {
    expect(
      await traceOf(() =>
        Cancel.sub(async (scope) => {
          await Cancel.protect(() =>
            Switch.run(async (sw) => {
              sw.fork(async () => {
                await Fiber.yield();
                traceln("fiber done");
              });
              scope.cancel(failure("outer"));
            }),
          );
        }),
      ),
    ).toEqual(["fiber done"]);
  });

  test("a Cancel.sub() inside Cancel.protect() can still be cancelled on its own", async () => {
    expect(
      await traceOf(() =>
        Cancel.protect(() =>
          Cancel.sub(async (scope) => {
            scope.cancel(failure("inner"));
            Fiber.check();
          }),
        ),
      ),
    ).toEqual(["Exception: Cancelled: Error: inner"]);
  });
});

describe("Cancel.sub", () => {
  test("scope.cancel() cancels the scope but not the caller", async () => {
    expect(
      await traceOf(async () => {
        const e = await Cancel.sub(async (scope) => {
          const p = Fiber.awaitCancel().catch((e: unknown) => e);
          scope.cancel(failure("scope"));
          traceln(`scope cancelled: ${scope.cancelled}, signal aborted: ${scope.signal.aborted}`);
          return p;
        });
        traceln(`sub got: ${formatError(e)}`);
        traceln(`caller cancelled: ${Fiber.isCancelled()}`);
      }),
    ).toEqual([
      "scope cancelled: true, signal aborted: true",
      "sub got: Cancelled: Error: scope",
      "caller cancelled: false",
    ]);
  });

  test("Cancel.sub() throws Cancelled at once if the caller is cancelled", async () => {
    expect(
      await traceOf(() =>
        Cancel.sub(async (outer) => {
          outer.cancel(failure("outer"));
          await Cancel.sub(async () => traceln("not reached"));
        }),
      ),
    ).toEqual(["Exception: Cancelled: Error: outer"]);
  });

  test("Cancel.sub() is cancelled when its parent is", async () => {
    expect(
      await traceOf(() =>
        Cancel.sub(async (outer) => {
          await Cancel.sub(async (inner) => {
            outer.cancel(failure("outer"));
            traceln(`inner cancelled: ${inner.cancelled}`);
          });
        }),
      ),
    ).toEqual(["inner cancelled: true"]);
  });

  test("Cancel.sub() does not check for cancellation when it returns", async () => {
    expect(
      await traceOf(async () => {
        traceln(
          await Cancel.sub(async (scope) => {
            scope.cancel(failure("ignored"));
            return "value";
          }),
        );
      }),
    ).toEqual(["value"]);
  });

  test("scope.cancel() after Cancel.sub() returned does nothing", async () => {
    let saved: { cancel(r: unknown): void; readonly cancelled: boolean } | undefined;
    await Cancel.sub((scope) => {
      saved = scope;
    });
    saved?.cancel(failure("late"));
    expect(saved?.cancelled).toBe(false);
    expect(Fiber.isCancelled()).toBe(false);
  });
});

describe("CancelContext", () => {
  test("cancel() marks the whole subtree before waking any operation", async () => {
    const root = new CancelContext(currentCancelContext());
    const child = new CancelContext(root);
    const grandchild = new CancelContext(child);
    const seen: string[] = [];
    root.addHook({
      cancelled: () =>
        seen.push(`hook: child ${child.cancelled}, grandchild ${grandchild.cancelled}`),
    });
    root.cancel(failure("r"));
    expect(seen).toEqual(["hook: child true, grandchild true"]);
    grandchild.finish();
    child.finish();
    root.finish();
  });

  test("cancel() skips protected children and their subtrees", () => {
    const root = new CancelContext(null);
    const prot = new CancelContext(root, true);
    const below = new CancelContext(prot);
    root.cancel("r");
    expect([root.cancelled, prot.cancelled, below.cancelled]).toEqual([true, false, false]);
    expect(prot.isOn).toBe(true);
  });

  test("a context made under a cancelled parent starts cancelled (unless protected)", () => {
    const root = new CancelContext(null);
    root.cancel("why");
    const child = new CancelContext(root);
    expect(child.cancelled).toBe(true);
    expect(child.reason).toBe("why");
    expect(new CancelContext(root, true).cancelled).toBe(false);
  });

  test("cancel() a second time keeps the first reason", () => {
    const cc = new CancelContext(null);
    cc.cancel("first");
    cc.cancel("second");
    expect(cc.reason).toBe("first");
    expect(() => cc.check()).toThrow(new Cancelled("first"));
  });

  test("cancel() runs every hook and rethrows their errors combined", () => {
    const cc = new CancelContext(null);
    const ran: number[] = [];
    for (const n of [1, 2, 3]) {
      cc.addHook({
        cancelled: () => {
          ran.push(n);
          if (n !== 2) throw failure(`hook ${n}`);
        },
      });
    }
    let error: unknown;
    try {
      cc.cancel("r");
    } catch (e) {
      error = e;
    }
    expect(ran).toEqual([1, 2, 3]);
    expect(formatError(error)).toBe("Multiple exceptions:\n- Error: hook 1\n- Error: hook 3");
    expect(suppressedErrors(error)).toHaveLength(1);
  });

  test("removeHook() stops a hook from running", () => {
    const cc = new CancelContext(null);
    const ran: string[] = [];
    const hook = { cancelled: () => void ran.push("hook") };
    cc.addHook(hook);
    cc.removeHook(hook);
    cc.cancel("r");
    expect(ran).toEqual([]);
  });

  test("signal aborts after the hooks ran, with the reason", () => {
    const cc = new CancelContext(null);
    const seen: string[] = [];
    cc.signal.addEventListener("abort", () => seen.push(`abort: ${String(cc.signal.reason)}`));
    cc.addHook({ cancelled: () => void seen.push("hook") });
    cc.cancel("why");
    expect(seen).toEqual(["hook", "abort: why"]);
  });

  test("signal of an already-cancelled context is aborted", () => {
    const cc = new CancelContext(null);
    cc.cancel("why");
    expect(cc.signal.aborted).toBe(true);
    expect(cc.signal.reason).toBe("why");
  });

  test("finish() unlinks the context: cancelling the parent no longer reaches it", () => {
    const root = new CancelContext(null);
    const child = new CancelContext(root);
    child.finish();
    root.cancel("r");
    expect(child.cancelled).toBe(false);
    expect(child.isOn).toBe(false);
  });

  test("cancel() rejects every operation of the subtree with one shared Cancelled", async () => {
    const reason = failure("stop");
    const errors = await Cancel.sub(async (scope) => {
      const ops = [
        suspend<void>(() => undefined),
        suspend<void>(() => undefined),
        Cancel.sub(() => suspend<void>(() => undefined)),
      ].map((p) => p.catch((e: unknown) => e));
      scope.cancel(reason);
      return Promise.all(ops);
    });
    expect(errors[0]).toBeInstanceOf(Cancelled);
    expect((errors[0] as Cancelled).cause).toBe(reason);
    expect(errors[1]).toBe(errors[0]);
    expect(errors[2]).toBe(errors[0]);
  });

  test("cancelledError() makes a new Cancelled outside a cancellation", () => {
    const a = cancelledError("r");
    expect(a).toEqual(new Cancelled("r"));
    expect(cancelledError("r")).not.toBe(a);
  });

  test("cancelledError() during a cancellation shares only that cancellation's error", () => {
    const cc = new CancelContext(null);
    const got: Cancelled[] = [];
    cc.addHook({
      cancelled: (reason) => {
        got.push(cancelledError(reason), cancelledError(reason), cancelledError("other"));
      },
    });
    cc.cancel("mine");
    expect(got[0]).toBe(got[1]);
    expect(got[0]?.cause).toBe("mine");
    expect(got[2]).not.toBe(got[0]);
    expect(got[2]?.cause).toBe("other");
  });

  test("a suspended operation is woken by cancelling an ancestor", async () => {
    expect(
      await traceOf(() =>
        Cancel.sub(async (scope) => {
          await Switch.run(async (sw) => {
            sw.fork(() =>
              Cancel.sub(() =>
                suspend<void>(() => () => traceln("aborted")).catch((e) => {
                  traceln(formatError(e));
                }),
              ),
            );
            scope.cancel(failure("top"));
          });
        }),
      ),
    ).toEqual(["aborted", "Cancelled: Error: top"]);
  });
});
