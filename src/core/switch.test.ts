/**
 * Eio's tests/switch.md, ported, plus weir's switch rules: waiting for every fiber,
 * release hooks, error reporting, forking on an off or finished switch, `sw.signal`.
 */
import { describe, expect, test } from "vitest";
import { Cancel } from "./cancel.ts";
import { Cancelled, isCancelled, suppressedErrors } from "./errors.ts";
import { Fiber } from "./fiber.ts";
import { currentFiber, runInFiber } from "./fiber-context.ts";
import { suspend } from "./suspend.ts";
import { Switch } from "./switch.ts";
import { eioPromise } from "./test-helpers/promise.ts";
import { formatError, traceOf, withTrace } from "./test-helpers/trace.ts";
import { traceln } from "./trace.ts";

/** Eio's `fork_sub`: a child switch in a new fiber; its `Cancelled` is ignored. */
function forkSub(sw: Switch, onError: (e: unknown) => void, fn: (sw: Switch) => Promise<void>) {
  sw.fork(async () => {
    try {
      await Switch.run(fn);
    } catch (e) {
      if (!isCancelled(e)) onError(e);
    }
  });
}

/** Eio's `release`: yields, then traces. */
async function release(label: string): Promise<void> {
  await Fiber.yield();
  traceln(`release ${label}`);
}

const failure = (msg: string) => new Error(msg);

describe("switch.md", () => {
  test("Switch.run() runs its body", async () => {
    expect(await traceOf(() => Switch.run(async () => traceln("Running")))).toEqual(["Running"]);
  });

  test("Switch.run() lets the body clean up after sw.fail(), then raises the error", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        traceln("Running");
        sw.fail(failure("Cancel"));
        traceln("Clean up");
      }),
    );
    expect(t).toEqual(["Running", "Clean up", "Exception: Error: Cancel"]);
  });

  test("Fiber.both() runs both branches, interleaved by Fiber.yield()", async () => {
    const loop = (name: string) => async () => {
      for (let i = 1; i <= 2; i++) {
        traceln(`${name} = ${i}`);
        await Fiber.yield();
      }
    };
    const t = await traceOf(() => Switch.run(() => Fiber.both(loop("i"), loop("j"))));
    expect(t).toEqual(["i = 1", "j = 1", "i = 2", "j = 2"]);
  });

  test("Fiber.both() cancels the first branch when the second fails", async () => {
    const t = await traceOf(() =>
      Switch.run(() =>
        Fiber.both(
          async () => {
            for (let i = 1; i <= 5; i++) {
              traceln(`i = ${i}`);
              await Fiber.yield();
            }
          },
          () => {
            throw failure("Failed");
          },
        ),
      ),
    );
    expect(t).toEqual(["i = 1", "Exception: Error: Failed"]);
  });

  test("Fiber.both() cancels the second branch when the first fails", async () => {
    const t = await traceOf(() =>
      Switch.run(() =>
        Fiber.both(
          async () => {
            await Fiber.yield();
            throw failure("Failed");
          },
          async () => {
            for (let i = 1; i <= 5; i++) {
              traceln(`i = ${i}`);
              await Fiber.yield();
            }
          },
        ),
      ),
    );
    expect(t).toEqual(["i = 1", "Exception: Error: Failed"]);
  });

  test("Fiber.both() does not start the second branch when the first fails at once", async () => {
    const t = await traceOf(() =>
      Switch.run(async () => {
        await Fiber.both(
          () => {
            throw failure("Failed");
          },
          () => traceln("Second OK"),
        );
        traceln("Not reached");
      }),
    );
    expect(t).toEqual(["Exception: Error: Failed"]);
  });

  test("Fiber.both() raises the second branch's failure", async () => {
    const t = await traceOf(() =>
      Switch.run(async () => {
        await Fiber.both(
          () => {},
          () => {
            throw failure("Failed");
          },
        );
        traceln("not reached");
      }),
    );
    expect(t).toEqual(["Exception: Error: Failed"]);
  });

  test("Fiber.both() raises the first failure and keeps the second when both fail", async () => {
    const branch = (msg: string) => async () => {
      await Cancel.protect(() => Fiber.yield());
      throw failure(msg);
    };
    const r = await withTrace(() =>
      Switch.run(() => Fiber.both(branch("Failed 1"), branch("Failed 2"))),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatError(r.error).split("\n")).toEqual([
      "Multiple exceptions:",
      "- Error: Failed 1",
      "- Error: Failed 2",
    ]);
    expect((r.error as Error).message).toBe("Failed 1");
    expect(suppressedErrors(r.error).map((e) => (e as Error).message)).toEqual(["Failed 2"]);
  });

  test("sw.fork() does not start the fiber when the switch is already off", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.fail(failure("Cancel"));
        sw.fork(async () => traceln("Not reached"));
        traceln("Main continues");
      }),
    );
    expect(t).toEqual(["Main continues", "Exception: Error: Cancel"]);
  });

  test("sw.check() throws Switch finished! once Switch.run() has returned", async () => {
    const sw = await Switch.run(async (sw) => sw);
    expect(() => sw.check()).toThrow(new Error("Switch finished!"));
    expect(sw.isOn).toBe(false);
  });

  test("a fiber waiting on a promise is cancelled when the other branch fails", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        const p = eioPromise();
        sw.fork(() =>
          Fiber.both(
            async () => {
              traceln("Waiting");
              await p.await();
              traceln("Resolved");
            },
            () => {
              throw failure("Cancelled");
            },
          ),
        );
        // Eio's trace has "Main thread done" here: its failure needs scheduler turns to reach
        // the switch, ours only promise jobs, which all run before the yield returns.
        await Cancel.protect(() => Fiber.yield());
        p.resolve();
        traceln("Main thread done");
      }),
    );
    expect(t).toEqual(["Waiting", "Main thread done", "Exception: Error: Cancelled"]);
  });

  test("a fiber whose promise resolves before the switch fails runs to the end", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        const p = eioPromise();
        sw.fork(async () => {
          traceln("Waiting");
          await p.await();
          traceln("Resolved");
        });
        p.resolve();
        await Fiber.yield();
        traceln("Now cancelling...");
        sw.fail(failure("Cancelled"));
      }),
    );
    expect(t).toEqual(["Waiting", "Resolved", "Now cancelling...", "Exception: Error: Cancelled"]);
  });

  test("a fiber waiting on a promise is cancelled when the switch fails first", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        const p = eioPromise();
        sw.fork(async () => {
          traceln("Waiting");
          await p.await();
          traceln("Resolved");
        });
        sw.fail(failure("Cancelled"));
        p.resolve();
      }),
    );
    expect(t).toEqual(["Waiting", "Exception: Error: Cancelled"]);
  });

  test("a fiber whose promise resolved just before sw.fail() (no yield between) still resumes", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        const p = eioPromise();
        sw.fork(async () => {
          traceln("Waiting");
          await p.await();
          traceln("Resolved");
        });
        p.resolve();
        traceln("Now cancelling...");
        sw.fail(failure("Cancelled"));
      }),
    );
    expect(t).toEqual(["Waiting", "Now cancelling...", "Resolved", "Exception: Error: Cancelled"]);
  });

  test("child switches are cancelled with their parent, without calling onError", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        const p = eioPromise();
        const onError = (e: unknown) => traceln(`child: ${formatError(e)}`);
        forkSub(sw, onError, async () => {
          traceln("Child 1");
          await p.await();
        });
        forkSub(sw, onError, async () => {
          traceln("Child 2");
          await p.await();
        });
        sw.fail(failure("Cancel parent"));
      }),
    );
    expect(t).toEqual(["Child 1", "Child 2", "Exception: Error: Cancel parent"]);
  });

  test("a child switch can fail without failing its parent", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        const p1 = eioPromise();
        const p2 = eioPromise();
        const onError = (e: unknown) => traceln(`child: ${formatError(e)}`);
        forkSub(sw, onError, async () => {
          traceln("Child 1");
          await p1.await();
        });
        forkSub(sw, onError, async () => {
          traceln("Child 2");
          await p2.await();
        });
        p1.reject(failure("Child error"));
        p2.resolve();
        await Fiber.yield();
        traceln("Parent fiber is still running");
      }),
    );
    expect(t).toEqual([
      "Child 1",
      "Child 2",
      "child: Error: Child error",
      "Parent fiber is still running",
    ]);
  });

  test("a child switch can be cancelled without cancelling its parent", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        const p = eioPromise();
        const onError = (e: unknown) => traceln(`child: ${formatError(e)}`);
        let child: Switch | undefined;
        forkSub(sw, onError, async (csw) => {
          traceln("Child 1");
          child = csw;
          await p.await();
        });
        child?.fail(failure("Cancel child"));
        await Fiber.yield();
        traceln("Parent fiber is still running");
      }),
    );
    expect(t).toEqual(["Child 1", "child: Error: Cancel child", "Parent fiber is still running"]);
  });

  test("an error raised by a child's error handler fails the parent", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        const p = eioPromise();
        forkSub(
          sw,
          (e) => {
            throw e;
          },
          async () => {
            traceln("Child");
            await p.await();
          },
        );
        p.reject(failure("Child error escapes"));
        await Fiber.yield();
        traceln("Not reached");
      }),
    );
    expect(t).toEqual(["Child", "Exception: Error: Child error escapes"]);
  });

  test("a child's error handler can deal with the error", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        const p = eioPromise();
        forkSub(
          sw,
          (e) => traceln(`caught: ${formatError(e)}`),
          async () => {
            traceln("Child");
            await p.await();
          },
        );
        p.reject(failure("Child error is caught"));
        await Fiber.yield();
        traceln("Still running");
      }),
    );
    expect(t).toEqual(["Child", "caught: Error: Child error is caught", "Still running"]);
  });
});

describe("switch.md: release handlers", () => {
  test("sw.onRelease() hooks run last-first when the switch succeeds", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.onRelease(() => release("1"));
        sw.onRelease(() => release("2"));
      }),
    );
    expect(t).toEqual(["release 2", "release 1"]);
  });

  test("sw.onRelease() hooks run last-first when the switch fails", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.onRelease(() => release("1"));
        sw.onRelease(() => release("2"));
        throw failure("Test error");
      }),
    );
    expect(t).toEqual(["release 2", "release 1", "Exception: Error: Test error"]);
  });

  test("a failing release hook is reported and the other hooks still run", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.onRelease(async () => {
          await release("1");
          throw failure("failure 1");
        });
        sw.onRelease(() => release("2"));
        sw.onRelease(async () => {
          await release("3");
          throw failure("failure 3");
        });
      }),
    );
    expect(t).toEqual([
      "release 3",
      "release 2",
      "release 1",
      "Exception: Multiple exceptions:",
      "- Error: failure 3",
      "- Error: failure 1",
    ]);
  });

  test("sw.onRelease() on a finished switch runs the hook protected and throws Switch finished!", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        const sub = await Switch.run(async (s) => s);
        sw.fail(failure("Parent cancelled too!"));
        // Eio runs the hook to completion before raising; a synchronous hook shows the same
        // order (an asynchronous one is only started: onRelease cannot wait).
        sub.onRelease(() => {
          Fiber.check();
          traceln("release 1");
        });
      }),
    );
    expect(t).toEqual([
      "release 1",
      "Exception: Multiple exceptions:",
      "- Error: Parent cancelled too!",
      "- Error: Switch finished!",
    ]);
  });

  test("sw.onRelease() from a fiber forked by a release hook runs the hook at once", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.onRelease(() => {
          sw.fork(async () => {
            traceln("Starting release 1");
            await Fiber.yield();
            traceln("Finished release 1");
          });
        });
        sw.onRelease(() => {
          sw.fork(async () => {
            traceln("Starting release 2");
            try {
              sw.onRelease(() => traceln("Immediate release"));
            } catch (e) {
              traceln(`on_release refused: ${(e as Error).message}`);
            }
            await Fiber.yield();
            traceln("Finished release 2");
          });
        });
        traceln("Main fiber done");
      }),
    );
    expect(t).toEqual([
      "Main fiber done",
      "Starting release 2",
      "Immediate release",
      "on_release refused: Switch finished!",
      "Starting release 1",
      "Finished release 2",
      "Finished release 1",
    ]);
  });
});

describe("switch.md: error reporting", () => {
  test("Switch.run() raises the body's error and keeps the fibers' clean-up errors", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        for (const n of [1, 2]) {
          sw.fork(async () => {
            try {
              await Fiber.awaitCancel();
            } catch {
              throw failure(`cancel${n} failed`);
            }
          });
        }
        throw failure("Exit");
      }),
    );
    expect(t).toEqual([
      "Exception: Multiple exceptions:",
      "- Error: Exit",
      "- Error: cancel1 failed",
      "- Error: cancel2 failed",
    ]);
  });

  test("errors during clean-up of a cancelled child switch are reported", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.fork(() =>
          Switch.run(async () => {
            try {
              await Fiber.awaitCancel();
            } catch {
              throw failure("cleanup failed");
            }
          }),
        );
        sw.fork(() => {
          throw failure("simulated error");
        });
      }),
    );
    expect(t).toEqual([
      "Exception: Multiple exceptions:",
      "- Error: simulated error",
      "- Error: cleanup failed",
    ]);
  });
});

describe("Switch", () => {
  test("Switch.run() waits for every fiber forked on the switch", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        for (const n of [1, 2]) {
          sw.fork(async () => {
            for (let i = 0; i < n; i++) await Fiber.yield();
            traceln(`fiber ${n} done`);
          });
        }
        traceln("body done");
      }).then(() => traceln("run returned")),
    );
    expect(t).toEqual(["body done", "fiber 1 done", "fiber 2 done", "run returned"]);
  });

  test("Switch.run() returns the body's value", async () => {
    await expect(Switch.run(() => 42)).resolves.toBe(42);
    await expect(Switch.run(async () => "x")).resolves.toBe("x");
  });

  test("Switch.run() waits for daemon fibers after cancelling them", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.forkDaemon(async () => {
          try {
            await Fiber.awaitCancel();
          } catch (e) {
            traceln(`daemon: ${formatError(e)}`);
            await Cancel.protect(() => Fiber.yield());
            traceln("daemon cleaned up");
            throw e;
          }
        });
        sw.onRelease(() => traceln("released"));
        traceln("body done");
      }).then(() => traceln("run returned")),
    );
    expect(t).toEqual([
      "body done",
      "daemon: Cancelled: DaemonsStop: Switch finished: stopping daemon fibers",
      "daemon cleaned up",
      "released",
      "run returned",
    ]);
  });

  test("Switch.run() does not run the body if the caller is already cancelled", async () => {
    const t = await traceOf(() =>
      Cancel.sub(async (scope) => {
        scope.cancel(failure("stop"));
        await Switch.run(async () => traceln("not reached"));
      }),
    );
    expect(t).toEqual(["Exception: Cancelled: Error: stop"]);
  });

  test("Switch.run() raises the first error and keeps the later ones", async () => {
    const r = await withTrace(() =>
      Switch.run(async (sw) => {
        sw.fork(async () => {
          await Fiber.awaitCancel();
        });
        sw.fork(() => {
          throw failure("one");
        });
        throw failure("two");
      }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect((r.error as Error).message).toBe("one");
    expect(suppressedErrors(r.error)).toEqual([failure("two")]);
  });

  test("Switch.run() drops a Cancelled in favour of a real error", async () => {
    const r = await withTrace(() =>
      Switch.run(async (sw) => {
        sw.fork(async () => {
          await Fiber.awaitCancel();
        });
        sw.fork(async () => {
          await Cancel.protect(() => Fiber.yield());
          throw failure("real");
        });
        throw new Cancelled(failure("something else"));
      }),
    );
    expect(r.ok ? "ok" : formatError(r.error)).toBe("Error: real");
  });

  test("Switch.run() raises Cancelled when only cancellations happened", async () => {
    const t = await traceOf(() =>
      Cancel.sub(async (scope) => {
        await Switch.run(async (sw) => {
          sw.fork(() => Fiber.awaitCancel());
          scope.cancel(failure("outer"));
          await Fiber.awaitCancel();
        });
      }),
    );
    expect(t).toEqual(["Exception: Cancelled: Error: outer"]);
  });

  test("sw.fork() runs the child at once, up to its first wait", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.fork(async () => {
          traceln("child starts");
          await Fiber.yield();
          traceln("child resumes");
        });
        traceln("parent continues");
      }),
    );
    expect(t).toEqual(["child starts", "parent continues", "child resumes"]);
  });

  test("sw.fork() and sw.forkDaemon() throw Switch finished! after Switch.run() returned", async () => {
    const sw = await Switch.run(async (sw) => sw);
    const noop = async () => {};
    expect(() => sw.fork(noop)).toThrow("Switch finished!");
    expect(() => sw.forkDaemon(noop)).toThrow("Switch finished!");
    expect(() => sw.forkPromise(noop)).toThrow("Switch finished!");
    expect(() => sw.fail(failure("late"))).toThrow("Switch finished!");
  });

  test("sw.onRelease() after Switch.run() returned runs the hook and throws Switch finished!", async () => {
    const sw = await Switch.run(async (sw) => sw);
    const ran: string[] = [];
    expect(() => sw.onRelease(() => void ran.push("hook"))).toThrow("Switch finished!");
    expect(ran).toEqual(["hook"]);
  });

  test("sw.forkDaemon() does not start the fiber when the switch is already off", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.fail(failure("off"));
        sw.forkDaemon(async () => traceln("not reached"));
      }),
    );
    expect(t).toEqual(["Exception: Error: off"]);
  });

  test("a failing daemon fiber fails the switch", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.forkDaemon(async () => {
          await Fiber.yield();
          throw failure("Simulated error");
        });
        await Fiber.yield();
      }),
    );
    expect(t).toEqual(["Exception: Error: Simulated error"]);
  });

  test("a release hook that sleeps while the switch is cancelled still completes", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.onRelease(async () => {
          traceln(`hook: switch on = ${sw.isOn}`);
          await suspend<void>((resolve) => {
            const timer = setTimeout(resolve, 5);
            return () => clearTimeout(timer);
          });
          await Fiber.yield();
          Fiber.check();
          traceln("hook done");
        });
        sw.fail(failure("boom"));
      }),
    );
    expect(t).toEqual(["hook: switch on = false", "hook done", "Exception: Error: boom"]);
  });

  test("release hooks run after every fiber has finished", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.onRelease(() => traceln("released"));
        sw.fork(async () => {
          await Fiber.yield();
          traceln("fiber done");
        });
      }),
    );
    expect(t).toEqual(["fiber done", "released"]);
  });

  test("handle.remove() takes a release hook back", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.onRelease(() => traceln("release 1"));
        const h = sw.onRelease(() => traceln("release 2"));
        expect(h.remove()).toBe(true);
        expect(h.remove()).toBe(false);
      }),
    );
    expect(t).toEqual(["release 1"]);
  });

  test("a release hook can remove a hook that has not run yet", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        const h1 = sw.onRelease(() => traceln("release 1"));
        sw.onRelease(() => traceln(`release 2 removes 1: ${h1.remove()}`));
      }),
    );
    expect(t).toEqual(["release 2 removes 1: true"]);
  });

  test("handle.remove() returns false once the hook has run", async () => {
    let h: { remove(): boolean } | undefined;
    await Switch.run(async (sw) => {
      h = sw.onRelease(() => {});
    });
    expect(h?.remove()).toBe(false);
  });

  test("sw.onRelease() from a release-phase fiber is waited for and its error reported", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.onRelease(() => {
          sw.fork(async () => {
            try {
              sw.onRelease(async () => {
                await Fiber.yield();
                traceln("late hook done");
                throw failure("late hook failed");
              });
            } catch (e) {
              traceln(`refused: ${(e as Error).message}`);
            }
          });
        });
      }).finally(() => traceln("run returned")),
    );
    expect(t).toEqual([
      "refused: Switch finished!",
      "late hook done",
      "run returned",
      "Exception: Error: late hook failed",
    ]);
  });

  test("sw.signal aborts with the error when the switch fails", async () => {
    let signal: AbortSignal | undefined;
    const err = failure("boom");
    const r = await withTrace(() =>
      Switch.run(async (sw) => {
        signal = sw.signal;
        expect(signal.aborted).toBe(false);
        sw.signal.addEventListener("abort", () => traceln("aborted"));
        sw.fork(() => {
          throw err;
        });
        expect(sw.signal.aborted).toBe(true);
      }),
    );
    expect(r.trace).toEqual(["aborted"]);
    expect(signal?.reason).toBe(err);
  });

  test("sw.signal is aborted at once when the switch is already off", async () => {
    await expect(
      Switch.run(async (sw) => {
        sw.fail(failure("off"));
        expect(sw.signal.aborted).toBe(true);
        expect(sw.signal.reason).toEqual(failure("off"));
      }),
    ).rejects.toThrow("off");
  });

  test("sw.signal aborts when the switch is cancelled from outside", async () => {
    const t = await traceOf(() =>
      Cancel.sub(async (scope) => {
        await Switch.run(async (sw) => {
          sw.signal.addEventListener("abort", () =>
            traceln(`aborted: ${formatError(sw.signal.reason)}`),
          );
          scope.cancel(failure("outer"));
        });
      }),
    );
    // As in Eio, a switch whose body and fibers all return normally does not raise.
    expect(t).toEqual(["aborted: Error: outer"]);
  });

  test("sw.check() throws Cancelled once the switch has failed", async () => {
    await Switch.run(async (sw) => {
      expect(() => sw.check()).not.toThrow();
      sw.fail(failure("off"));
      expect(() => sw.check()).toThrow(Cancelled);
      expect(sw.isOn).toBe(false);
    }).catch(() => {});
  });

  test("sw.forkPromise() resolves with the fiber's result", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        const p = sw.forkPromise(async () => {
          traceln("forked");
          await Fiber.yield();
          return 7;
        });
        traceln("caller continues");
        traceln(`got ${await p}`);
      }),
    );
    expect(t).toEqual(["forked", "caller continues", "got 7"]);
  });

  test("sw.forkPromise() rejects without failing the switch", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        const p = sw.forkPromise(() => {
          throw failure("fiber failed");
        });
        await p.catch((e) => traceln(`caught: ${formatError(e)}`));
        traceln(`switch on: ${sw.isOn}`);
      }),
    );
    expect(t).toEqual(["caught: Error: fiber failed", "switch on: true"]);
  });

  test("sw.forkPromise() on an off switch rejects with Cancelled without running the fiber", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.fail(failure("off"));
        await sw.forkPromise(() => traceln("not reached")).catch((e) => traceln(formatError(e)));
      }),
    );
    expect(t).toEqual(["Cancelled: Error: off", "Exception: Error: off"]);
  });

  test("Switch.run() waits for sw.forkPromise() fibers", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        void sw.forkPromise(async () => {
          await Fiber.yield();
          traceln("promise fiber done");
        });
      }).then(() => traceln("run returned")),
    );
    expect(t).toEqual(["promise fiber done", "run returned"]);
  });

  test("sw.forkPromise() runs in the switch's context, not the caller's (fiber.md)", async () => {
    const t = await traceOf(async () => {
      let sw: Switch | undefined;
      await Fiber.both(
        () =>
          Switch.run(async (s) => {
            sw = s;
            await Fiber.awaitCancel();
          }),
        () =>
          Cancel.protect(async () => {
            const s = sw as Switch;
            const child = s.forkPromise(async () => {
              traceln("Forked child");
              await Fiber.awaitCancel();
            });
            s.fail(failure("Exit"));
            await child;
          }),
      );
      traceln("not reached");
    });
    expect(t).toEqual(["Forked child", "Exception: Error: Exit"]);
  });

  test("a forked fiber inherits the forking fiber's trace sink, not the switch's (fiber.md)", async () => {
    const outer = await withTrace(() =>
      Switch.run(async (sw) => {
        const inner: string[] = [];
        runInFiber({ ...currentFiber(), trace: { write: (l) => void inner.push(l) } }, () =>
          sw.fork(async () => traceln("Key => 123")),
        );
        expect(inner).toEqual(["Key => 123"]);
      }),
    );
    expect(outer.trace).toEqual([]);
  });

  test("a fiber returning a non-native thenable is waited for", async () => {
    const t = await traceOf(() =>
      Switch.run(async (sw) => {
        sw.fork(
          () =>
            ({
              // biome-ignore lint/suspicious/noThenProperty: the point of the test
              then(ok: () => void, _ex: (e: unknown) => void) {
                setImmediate(() => {
                  traceln("thenable settles");
                  ok();
                });
              },
            }) as unknown as Promise<void>,
        );
      }).then(() => traceln("run returned")),
    );
    expect(t).toEqual(["thenable settles", "run returned"]);
  });
});
