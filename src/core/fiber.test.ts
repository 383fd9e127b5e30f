/**
 * Eio's tests/fiber.md, ported (the parts weir has: first, pair, all, any, awaitCancel,
 * scheduling order, daemons), plus yield/check and the branch-cancellation rules.
 */
import { describe, expect, test } from "vitest";
import { Cancel } from "./cancel.ts";
import { Cancelled } from "./errors.ts";
import { Fiber } from "./fiber.ts";
import { currentFiber, defaultScheduler, runInFiber } from "./fiber-context.ts";
import { suspend } from "./suspend.ts";
import { Switch } from "./switch.ts";
import { eioPromise } from "./test-helpers/promise.ts";
import { formatError, traceOf } from "./test-helpers/trace.ts";
import { traceln } from "./trace.ts";

/** fiber.md's `run`: traces the string the function returns. */
function run(fn: () => Promise<string>): Promise<string[]> {
  return traceOf(async () => traceln(await fn()));
}

const failure = (msg: string) => new Error(msg);
const raise = (msg: string) => (): never => {
  throw failure(msg);
};

describe("fiber.md: Fiber.first", () => {
  test("Fiber.first() returns the first branch's value and cancels the second", async () => {
    const p = eioPromise<string>();
    expect(
      await run(() =>
        Fiber.first(
          () => "a",
          () => p.await(),
        ),
      ),
    ).toEqual(["a"]);
  });

  test("Fiber.first() returns the second branch's value and cancels the first", async () => {
    const p = eioPromise<string>();
    expect(
      await run(() =>
        Fiber.first(
          () => p.await(),
          () => "b",
        ),
      ),
    ).toEqual(["b"]);
  });

  test("Fiber.first() picks the first value when both succeed and there is no combine", async () => {
    expect(
      await run(() =>
        Fiber.first(
          () => "a",
          () => "b",
        ),
      ),
    ).toEqual(["a"]);
  });

  test("Fiber.first() lets combine decide when both succeed", async () => {
    expect(
      await run(() =>
        Fiber.first(
          () => "a",
          () => "b",
          { combine: (_, x) => x },
        ),
      ),
    ).toEqual(["b"]);
  });

  test("Fiber.first() combines a loser that finished despite being cancelled", async () => {
    expect(
      await run(() =>
        Fiber.first(
          async () => {
            await Fiber.yield();
            return "a";
          },
          async () => {
            await Cancel.protect(() => Fiber.yield());
            return "b";
          },
          { combine: (x, y) => x + y },
        ),
      ),
    ).toEqual(["ab"]);
  });

  test("Fiber.first() raises the second branch's failure", async () => {
    expect(await run(() => Fiber.first(() => "a", raise("b crashed")))).toEqual([
      "Exception: Error: b crashed",
    ]);
  });

  test("Fiber.first() raises the first branch's failure", async () => {
    expect(await run(() => Fiber.first(raise("a crashed"), () => "b"))).toEqual([
      "Exception: Error: a crashed",
    ]);
  });

  test("Fiber.first() reports both failures when both branches crash", async () => {
    expect(await run(() => Fiber.first(raise("a crashed"), raise("b crashed")))).toEqual([
      "Exception: Multiple exceptions:",
      "- Error: a crashed",
      "- Error: b crashed",
    ]);
  });

  test("Fiber.first() cancels the loser before it can crash", async () => {
    expect(
      await run(() =>
        Fiber.first(
          () => "a",
          async () => {
            await Fiber.yield();
            throw failure("b crashed");
          },
        ),
      ),
    ).toEqual(["a"]);
  });

  test("Fiber.first() raises a Cancelled that a branch throws on its own (first branch)", async () => {
    expect(
      await run(() =>
        Fiber.first(
          () => {
            throw new Cancelled(failure("cancel-a"));
          },
          () => "b",
        ),
      ),
    ).toEqual(["Exception: Cancelled: Error: cancel-a"]);
  });

  test("Fiber.first() raises a Cancelled that a branch throws on its own (second branch)", async () => {
    expect(
      await run(() =>
        Fiber.first(
          async () => {
            await Fiber.yield();
            return "a";
          },
          () => {
            throw new Cancelled(failure("cancel-b"));
          },
        ),
      ),
    ).toEqual(["Exception: Cancelled: Error: cancel-b"]);
  });

  test("Fiber.first() is cancelled by its parent", async () => {
    const p = eioPromise<string>();
    expect(
      await run(async () => {
        await Fiber.both(async () => {
          throw failure(
            await Fiber.first(
              () => p.await(),
              () => p.await(),
            ),
          );
        }, raise("Parent cancel"));
        return "not-reached";
      }),
    ).toEqual(["Exception: Error: Parent cancel"]);
  });

  test("Fiber.first() returns its value even when the parent is cancelled meanwhile", async () => {
    expect(
      await run(async () => {
        await Fiber.both(
          async () => {
            traceln(
              await Fiber.first(
                () => "a",
                async () => {
                  await Fiber.yield();
                  throw failure("cancel-b");
                },
              ),
            );
            Fiber.check();
            traceln("Parent cancel failed");
          },
          () => {
            traceln("Cancelling parent");
            throw failure("Parent cancel");
          },
        );
        return "not-reached";
      }),
    ).toEqual(["Cancelling parent", "a", "Exception: Error: Parent cancel"]);
  });

  test("a cancelled sub-switch sees Cancelled(reason), the parent the reason itself", async () => {
    const p = eioPromise();
    expect(
      await run(async () => {
        await Fiber.both(async () => {
          try {
            await Switch.run(async () => {
              try {
                await p.await();
              } catch (e) {
                traceln(`Nested exception: ${formatError(e)}`);
                throw e;
              }
            });
          } catch (e) {
            traceln(`Parent exception: ${formatError(e)}`);
            throw e;
          }
        }, raise("Exit"));
        return "not-reached";
      }),
    ).toEqual([
      "Nested exception: Cancelled: Error: Exit",
      "Parent exception: Cancelled: Error: Exit",
      "Exception: Error: Exit",
    ]);
  });
});

describe("fiber.md: pair, all, any, awaitCancel", () => {
  test("Fiber.pair() returns both results", async () => {
    expect(
      await run(async () => {
        const [x, y] = await Fiber.pair(
          () => "a",
          () => "b",
        );
        return x + y;
      }),
    ).toEqual(["ab"]);
  });

  test("Fiber.all() runs every function, in order", async () => {
    expect(
      await run(async () => {
        await Fiber.all([]);
        await Fiber.all([0, 1, 2].map((x) => () => traceln(`fiber ${x}`)));
        return "done";
      }),
    ).toEqual(["fiber 0", "fiber 1", "fiber 2", "done"]);
  });

  test("Fiber.any() returns the first value and cancels the rest", async () => {
    expect(
      await run(async () =>
        String(
          await Fiber.any(
            [0, 1, 2].map((x) => async () => {
              traceln(String(x));
              await Fiber.yield();
              return x;
            }),
          ),
        ),
      ),
    ).toEqual(["0", "1", "2", "0"]);
  });

  test("Fiber.any() with combine collects every result", async () => {
    expect(
      await run(async () =>
        JSON.stringify(
          await Fiber.any(
            [0, 1, 2].map((x) => () => {
              traceln(String(x));
              return [x];
            }),
            { combine: (x, y) => [...x, ...y] },
          ),
        ),
      ),
    ).toEqual(["0", "1", "2", "[0,1,2]"]);
  });

  test("Fiber.awaitCancel() rejects with Cancelled when the other branch fails", async () => {
    expect(
      await run(async () => {
        await Fiber.both(async () => {
          try {
            await Fiber.awaitCancel();
          } catch (e) {
            traceln(`Caught: ${formatError(e)}`);
            throw e;
          }
        }, raise("simulated error"));
        return "not reached";
      }),
    ).toEqual(["Caught: Cancelled: Error: simulated error", "Exception: Error: simulated error"]);
  });
});

describe("fiber.md: scheduling order", () => {
  test("sw.fork() runs the child first, and the caller before queued work", async () => {
    expect(
      await run(() =>
        Switch.run(async (sw) => {
          sw.fork(async () => {
            traceln("1st child runs");
            await Fiber.yield();
            traceln("Queued work");
          });
          sw.fork(async () => traceln("2nd child runs immediately"));
          traceln("Caller runs before queued work");
          return "ok";
        }),
      ),
    ).toEqual([
      "1st child runs",
      "2nd child runs immediately",
      "Caller runs before queued work",
      "Queued work",
      "ok",
    ]);
  });

  for (const [name, combinator] of [
    ["Fiber.both()", Fiber.both],
    ["Fiber.first()", Fiber.first],
  ] as const) {
    test(`${name} runs its branches before queued work`, async () => {
      expect(
        await run(() =>
          Switch.run(async (sw) => {
            sw.fork(async () => {
              traceln("Enqueuing work for later");
              await Fiber.yield();
              traceln("Queued work");
            });
            await combinator(
              () => traceln("1st branch"),
              () => traceln("2nd branch"),
            );
            return "ok";
          }),
        ),
      ).toEqual(["Enqueuing work for later", "1st branch", "2nd branch", "Queued work", "ok"]);
    });
  }

  test("Fiber.both() in a cancelled branch of Fiber.first() does not start", async () => {
    expect(
      await run(() =>
        Fiber.first(raise("Simulated error"), async () => {
          await Fiber.both(
            () => traceln("Not reached"),
            () => traceln("Not reached"),
          );
          throw failure("assert false");
        }),
      ),
    ).toEqual(["Exception: Error: Simulated error"]);
  });
});

describe("fiber.md: daemon fibers", () => {
  test("sw.forkDaemon() runs until the non-daemon fibers finish", async () => {
    expect(
      await traceOf(() =>
        Switch.run(async (sw) => {
          sw.forkDaemon(async () => {
            for (let i = 1; i <= 10; i++) {
              traceln("Daemon running");
              await Fiber.yield();
            }
            throw failure("Test failed");
          });
          traceln("Main running 1");
          await Fiber.yield();
          traceln("Main running 2");
        }),
      ),
    ).toEqual(["Daemon running", "Main running 1", "Daemon running", "Main running 2"]);
  });

  test("sw.forkDaemon() with several daemon and non-daemon fibers", async () => {
    expect(
      await traceOf(() =>
        Switch.run(async (sw) => {
          sw.fork(async () => {
            traceln("Worker 1 starting");
            await Fiber.yield();
            traceln("Worker 1 running");
            await Fiber.yield();
            traceln("Worker 1 finished");
          });
          sw.fork(async () => {
            traceln("Worker 2 starting");
            await Fiber.yield();
            traceln("Worker 2 finished");
          });
          sw.forkDaemon(async () => {
            try {
              for (let i = 1; i <= 10; i++) {
                traceln("Daemon 1 running");
                await Fiber.yield();
              }
              throw failure("Test failed");
            } catch (e) {
              traceln("Daemon cancelled; trying to spawn more fibers");
              sw.forkDaemon(raise("Shouldn't start"));
              sw.fork(raise("Shouldn't start"));
              throw e;
            }
          });
          sw.forkDaemon(async () => {
            traceln("Daemon 2 running");
            await Fiber.yield();
            traceln("Daemon 2 finished");
          });
          traceln("Main running");
          await Fiber.yield();
          traceln("Main finished");
        }),
      ),
    ).toEqual([
      "Worker 1 starting",
      "Worker 2 starting",
      "Daemon 1 running",
      "Daemon 2 running",
      "Main running",
      "Worker 1 running",
      "Worker 2 finished",
      "Daemon 1 running",
      "Daemon 2 finished",
      "Main finished",
      "Worker 1 finished",
      "Daemon cancelled; trying to spawn more fibers",
    ]);
  });

  test("a failing daemon fiber gets its error reported", async () => {
    expect(
      await traceOf(() =>
        Switch.run(async (sw) => {
          sw.forkDaemon(async () => {
            await Fiber.yield();
            throw failure("Simulated error");
          });
          await Fiber.yield();
        }),
      ),
    ).toEqual(["Exception: Error: Simulated error"]);
  });
});

describe("Fiber", () => {
  test("Fiber.both() cancels the other branch when one fails, then raises", async () => {
    expect(
      await traceOf(() =>
        Fiber.both(
          async () => {
            try {
              await Fiber.awaitCancel();
            } catch (e) {
              traceln(`f: ${formatError(e)}`);
              throw e;
            }
          },
          async () => {
            await Fiber.yield();
            throw failure("g failed");
          },
        ),
      ),
    ).toEqual(["f: Cancelled: Error: g failed", "Exception: Error: g failed"]);
  });

  test("Fiber.pair() cancels the first branch when the second fails", async () => {
    expect(
      await traceOf(() =>
        Fiber.pair(async () => {
          try {
            return await Fiber.awaitCancel();
          } catch (e) {
            traceln(`f: ${formatError(e)}`);
            throw e;
          }
        }, raise("g failed")),
      ),
    ).toEqual(["f: Cancelled: Error: g failed", "Exception: Error: g failed"]);
  });

  test("Fiber.pair() cancels the second branch when the first fails", async () => {
    expect(
      await traceOf(() =>
        Fiber.pair(
          async () => {
            await Fiber.yield();
            throw failure("f failed");
          },
          async () => {
            try {
              return await Fiber.awaitCancel();
            } catch (e) {
              traceln(`g: ${formatError(e)}`);
              throw e;
            }
          },
        ),
      ),
    ).toEqual(["g: Cancelled: Error: f failed", "Exception: Error: f failed"]);
  });

  test("Fiber.all() cancels the others when one fails, and raises every real error", async () => {
    expect(
      await traceOf(() =>
        Fiber.all([
          async () => {
            await Fiber.awaitCancel().catch((e) => traceln(`0: ${formatError(e)}`));
          },
          async () => {
            await Fiber.yield();
            throw failure("1 failed");
          },
          async () => {
            await Fiber.awaitCancel().catch(() => {
              throw failure("2 failed while cancelling");
            });
          },
        ]),
      ),
    ).toEqual([
      "0: Cancelled: Error: 1 failed",
      "Exception: Multiple exceptions:",
      "- Error: 1 failed",
      "- Error: 2 failed while cancelling",
    ]);
  });

  test("Fiber.any() cancels the losers and waits for them", async () => {
    expect(
      await run(async () =>
        String(
          await Fiber.any(
            [1, 2, 3].map((x) => async () => {
              if (x === 2) return x;
              try {
                return await Fiber.awaitCancel();
              } catch (e) {
                traceln(`${x}: ${formatError(e)}`);
                await Cancel.protect(() => Fiber.yield());
                traceln(`${x}: cleaned up`);
                throw e;
              }
            }),
          ),
        ),
      ),
    ).toEqual([
      "1: Cancelled: NotFirst: Another branch finished first",
      "3: Cancelled: NotFirst: Another branch finished first",
      "1: cleaned up",
      "3: cleaned up",
      "2",
    ]);
  });

  test("Fiber.any() raises Cancelled when the parent is cancelled while it waits", async () => {
    expect(
      await traceOf(() =>
        Cancel.sub(async (scope) => {
          await Fiber.both(
            () =>
              Fiber.any(
                [0, 1].map((x) => () => Fiber.awaitCancel().finally(() => traceln(`${x} out`))),
              ),
            () => scope.cancel(failure("outer")),
          );
        }),
      ),
    ).toEqual(["0 out", "1 out", "Exception: Cancelled: Error: outer"]);
  });

  test("Fiber.any() keeps a branch's real error over the parent's cancellation", async () => {
    expect(
      await traceOf(() =>
        Cancel.sub(async (scope) => {
          await Fiber.any([
            () =>
              Fiber.awaitCancel().catch(() => {
                throw failure("cleanup failed");
              }),
            () => scope.cancel(failure("outer")),
          ]);
        }),
      ),
    ).toEqual(["Exception: Error: cleanup failed"]);
  });

  test("Fiber.any() throws Cancelled at once if the caller is cancelled", async () => {
    expect(
      await traceOf(() =>
        Cancel.sub(async (scope) => {
          scope.cancel(failure("before"));
          await Fiber.any([() => traceln("not reached")]);
        }),
      ),
    ).toEqual(["Exception: Cancelled: Error: before"]);
  });

  test("Fiber.any([]) waits until cancelled", async () => {
    expect(
      await traceOf(() =>
        Fiber.first(
          () => Fiber.any([]),
          async () => {
            await Fiber.yield();
            return "other";
          },
        ).then((x) => traceln(x)),
      ),
    ).toEqual(["other"]);
  });

  test("Fiber.any() reports every error when a loser's abort function throws", async () => {
    expect(
      await traceOf(() =>
        Fiber.any([
          () =>
            suspend<string>(() => () => {
              throw failure("abort failed");
            }),
          async () => {
            await Fiber.yield();
            return "b";
          },
          async () => {
            await Cancel.protect(() => Fiber.yield());
            await Cancel.protect(() => Fiber.yield());
            traceln("slow branch finished");
            return "c";
          },
        ]),
      ),
    ).toEqual(["slow branch finished", "Exception: Error: abort failed"]);
  });

  test("Fiber.any() waits for every branch when a failure's cancellation throws", async () => {
    expect(
      await traceOf(() =>
        Fiber.any([
          () =>
            suspend<string>(() => () => {
              throw failure("abort failed");
            }),
          async () => {
            await Fiber.yield();
            throw failure("b failed");
          },
          async () => {
            await Cancel.protect(() => Fiber.yield());
            await Cancel.protect(() => Fiber.yield());
            traceln("slow branch finished");
            return "c";
          },
        ]).finally(() => traceln("any returned")),
      ),
    ).toEqual([
      "slow branch finished",
      "any returned",
      "Exception: Multiple exceptions:",
      "- Error: b failed",
      "- Error: abort failed",
    ]);
  });

  test("Fiber.yield() lets other fibers run first", async () => {
    expect(
      await traceOf(() =>
        Fiber.both(
          async () => {
            traceln("a1");
            await Fiber.yield();
            traceln("a2");
          },
          async () => traceln("b1"),
        ),
      ),
    ).toEqual(["a1", "b1", "a2"]);
  });

  test("Fiber.yield() throws Cancelled if the fiber was cancelled meanwhile", async () => {
    expect(
      await traceOf(() =>
        Cancel.sub(async (scope) => {
          const y = Fiber.yield();
          scope.cancel(failure("stop"));
          await y;
        }),
      ),
    ).toEqual(["Exception: Cancelled: Error: stop"]);
  });

  test("Fiber.yield() uses the current fiber's scheduler", async () => {
    let yields = 0;
    const scheduler = {
      yield: () => {
        yields++;
        return Promise.resolve();
      },
    };
    await runInFiber({ ...currentFiber(), scheduler }, () => Fiber.yield());
    expect(yields).toBe(1);
  });

  test("Fiber.check() and Fiber.isCancelled() see the fiber's cancellation", async () => {
    expect(
      await traceOf(() =>
        Cancel.sub(async (scope) => {
          Fiber.check();
          traceln(`cancelled: ${Fiber.isCancelled()}`);
          scope.cancel(failure("stop"));
          traceln(`cancelled: ${Fiber.isCancelled()}`);
          Fiber.check();
        }),
      ),
    ).toEqual(["cancelled: false", "cancelled: true", "Exception: Cancelled: Error: stop"]);
  });

  test("Fiber.awaitCancel() rejects with Cancelled whose cause is the reason", async () => {
    const reason = failure("why");
    const e = await Cancel.sub(async (scope) => {
      const p = Fiber.awaitCancel();
      scope.cancel(reason);
      return p.catch((e: unknown) => e);
    });
    expect(e).toBeInstanceOf(Cancelled);
    expect((e as Cancelled).cause).toBe(reason);
  });
});

describe("fiber context", () => {
  test("currentFiber() outside any fiber is the root context, never cancelled", async () => {
    const root = currentFiber();
    expect(root.cc.isOn).toBe(true);
    expect(root.scheduler).toBe(defaultScheduler);
    expect(root.tracePrefix).toBe("");
  });

  test("runInFiber() sets the context for the call and every continuation it starts", async () => {
    const ctx = { ...currentFiber(), tracePrefix: "[ctx] " };
    const seen: string[] = [];
    const p = runInFiber(ctx, async () => {
      seen.push(currentFiber().tracePrefix);
      await Fiber.yield();
      seen.push(currentFiber().tracePrefix);
      await new Promise<void>((r) => setTimeout(r, 1));
      seen.push(currentFiber().tracePrefix);
    });
    seen.push(`outside: ${currentFiber().tracePrefix}`);
    await p;
    expect(seen).toEqual(["[ctx] ", "outside: ", "[ctx] ", "[ctx] "]);
  });

  test("Switch.run() restores the caller's context after its body", async () => {
    const before = currentFiber();
    await Switch.run(async (sw) => {
      expect(currentFiber().cc).toBe(sw.cancelContext);
      await Fiber.yield();
    });
    expect(currentFiber()).toBe(before);
  });
});
