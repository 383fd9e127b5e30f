/**
 * The real clocks (Eio's tests/time.md, the parts on the real clock): sleeping, cancelling a
 * sleep, argument checks.
 */
import { describe, expect, test } from "vitest";
import { Cancel } from "./cancel.ts";
import { checkMs, monoClock, realClock } from "./clock.ts";
import { Cancelled } from "./errors.ts";
import { Fiber } from "./fiber.ts";
import { Switch } from "./switch.ts";
import { traceOf } from "./test-helpers/trace.ts";
import { traceln } from "./trace.ts";

const failure = (msg: string) => new Error(msg);

describe("clock.sleep", () => {
  for (const [name, clock] of [
    ["monoClock", monoClock],
    ["realClock", realClock],
  ] as const) {
    test(`${name}.sleep() waits at least the given ms`, async () => {
      const t0 = clock.now();
      await clock.sleep(10);
      expect(clock.now() - t0).toBeGreaterThanOrEqual(10);
    });
  }

  test("monoClock.now() never goes backwards; realClock.now() is the epoch time", () => {
    const a = monoClock.now();
    expect(monoClock.now()).toBeGreaterThanOrEqual(a);
    expect(Math.abs(realClock.now() - Date.now())).toBeLessThan(1000);
  });

  test("clock.sleep() is cancelled when the other branch fails (time.md)", async () => {
    expect(
      await traceOf(() =>
        Fiber.both(
          async () => {
            await monoClock.sleep(1_200_000);
            traceln("assert false");
          },
          () => {
            throw failure("Simulated cancel");
          },
        ),
      ),
    ).toEqual(["Exception: Error: Simulated cancel"]);
  });

  test("clock.sleep() rejects at once when the switch is already off (time.md)", async () => {
    expect(
      await traceOf(() =>
        Switch.run(async (sw) => {
          sw.fail(failure("Simulated failure"));
          await monoClock.sleep(1_200_000);
          traceln("assert false");
        }),
      ),
    ).toEqual(["Exception: Error: Simulated failure"]);
  });

  test("clock.sleep(0) lets the other branch run first (time.md: a timer already due)", async () => {
    expect(
      await traceOf(() =>
        Fiber.both(
          async () => {
            traceln("First fiber runs");
            await monoClock.sleep(0);
            traceln("Sleep done");
          },
          () => traceln("Second fiber runs"),
        ),
      ),
    ).toEqual(["First fiber runs", "Second fiber runs", "Sleep done"]);
  });

  test("the shorter sleep finishes first (time.md: ordering)", async () => {
    expect(
      await traceOf(() =>
        Fiber.both(
          async () => {
            await monoClock.sleep(1_200_000);
            traceln("assert false");
          },
          async () => {
            await monoClock.sleep(10);
            traceln("Short timer finished");
            throw failure("Simulated cancel");
          },
        ),
      ),
    ).toEqual(["Short timer finished", "Exception: Error: Simulated cancel"]);
  });

  test("a timer fires while another fiber busy-loops on Fiber.yield() (time.md)", async () => {
    await Fiber.yield();
    await monoClock.sleep(5);
    await Fiber.first(
      async () => {
        for (;;) await Fiber.yield();
      },
      () => monoClock.sleep(5),
    );
  });

  test("clock.sleep() takes a signal", async () => {
    const ac = new AbortController();
    const p = monoClock.sleep(1_000_000, { signal: ac.signal });
    ac.abort(failure("stop"));
    await expect(p).rejects.toEqual(new Cancelled(failure("stop")));
  });

  test("clock.sleep(Infinity) waits until cancelled", async () => {
    const e = await Cancel.sub(async (scope) => {
      const p = monoClock.sleep(Infinity);
      scope.cancel("stop");
      return p.catch((e: unknown) => e);
    });
    expect(e).toEqual(new Cancelled("stop"));
  });

  test("clock.sleep() longer than setTimeout's limit is cancelled cleanly", async () => {
    const e = await Cancel.sub(async (scope) => {
      const p = realClock.sleep(2 ** 31 + 5);
      await Fiber.yield();
      scope.cancel("stop");
      return p.catch((e: unknown) => e);
    });
    expect(e).toEqual(new Cancelled("stop"));
  });

  test("clock.sleepUntil() a time in the past returns at once, before any timer", async () => {
    for (const past of [monoClock.now() - 1000, -Infinity]) {
      const slept = monoClock.sleepUntil(past).then(() => "slept");
      const { promise: timerRan, resolve } = Promise.withResolvers<string>();
      const timer = setTimeout(() => resolve("a timer ran first"), 0);
      expect(await Promise.race([slept, timerRan])).toBe("slept");
      clearTimeout(timer);
    }
  });

  test("clock.sleepUntil() waits until the time", async () => {
    const until = monoClock.now() + 8;
    await monoClock.sleepUntil(until);
    expect(monoClock.now()).toBeGreaterThanOrEqual(until);
  });
});

describe("argument checks", () => {
  test("clock.sleep() throws RangeError for a negative or NaN duration", () => {
    expect(() => monoClock.sleep(-1)).toThrow(
      new RangeError("ms must be a number of ms >= 0, got -1"),
    );
    expect(() => monoClock.sleep(Number.NaN)).toThrow(
      new RangeError("ms must be a number of ms >= 0, got NaN"),
    );
    expect(() => realClock.sleep(-0.5)).toThrow(RangeError);
  });

  test("clock.sleepUntil() throws RangeError for NaN", () => {
    expect(() => monoClock.sleepUntil(Number.NaN)).toThrow(
      new RangeError("time must be a number, got NaN"),
    );
  });

  test("checkMs() names the argument and accepts 0 and Infinity", () => {
    expect(() => checkMs("timeout", -5)).toThrow(
      new RangeError("timeout must be a number of ms >= 0, got -5"),
    );
    expect(() => checkMs("timeout", "5" as unknown as number)).toThrow(
      new RangeError("timeout must be a number of ms >= 0, got 5"),
    );
    expect(() => checkMs("timeout", 0)).not.toThrow();
    expect(() => checkMs("timeout", Infinity)).not.toThrow();
  });
});
