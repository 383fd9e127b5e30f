/**
 * Time limits: `Time.withTimeout` and `Timeout.ms`/`Timeout.none` (Eio's `Time.with_timeout`
 * and `Time.Timeout`, tests/time.md "Timeouts").
 */
import { describe, expect, test } from "vitest";
import { monoClock } from "./clock.ts";
import { Cancelled } from "./errors.ts";
import { Fiber } from "./fiber.ts";
import { suspend } from "./suspend.ts";
import { formatError, traceOf } from "./test-helpers/trace.ts";
import { Time, TimeLimit, Timeout } from "./time.ts";
import { traceln } from "./trace.ts";

const failure = (msg: string) => new Error(msg);

describe("Time.withTimeout", () => {
  test("Time.withTimeout() returns the value when the function finishes in time", async () => {
    await expect(Time.withTimeout(monoClock, 1000, async () => "done")).resolves.toBe("done");
    await expect(Time.withTimeout(monoClock, 0, () => "sync")).resolves.toBe("sync");
  });

  test("Time.withTimeout() rejects with Timeout and cancels the function", async () => {
    expect(
      await traceOf(() =>
        Time.withTimeout(monoClock, 5, async () => {
          try {
            await Fiber.awaitCancel();
          } catch (e) {
            traceln(`body: ${formatError(e)}`);
            throw e;
          }
        }),
      ),
    ).toEqual([
      "body: Cancelled: Timeout: Timed out after 5 ms",
      "Exception: Timeout: Timed out after 5 ms",
    ]);
  });

  test("Time.withTimeout() raises the function's own error", async () => {
    await expect(
      Time.withTimeout(monoClock, 1000, () => {
        throw failure("own");
      }),
    ).rejects.toThrow("own");
  });

  test("Time.withTimeout() leaves no timer behind when the function wins", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    await Time.withTimeout(monoClock, 60_000, async () => {
      await Fiber.yield();
      expect(timers()).toBe(before + 1);
    });
    expect(timers()).toBe(before);
  });

  test("Time.withTimeout() is cancelled with its caller", async () => {
    expect(
      await traceOf(() =>
        Fiber.both(
          () =>
            Time.withTimeout(monoClock, 60_000, () =>
              suspend<void>(() => () => traceln("body aborted")),
            ),
          () => {
            throw failure("caller cancelled");
          },
        ),
      ),
    ).toEqual(["body aborted", "Exception: Error: caller cancelled"]);
  });

  test("Time.withTimeout() throws RangeError for a bad duration", () => {
    expect(() => Time.withTimeout(monoClock, -1, () => {})).toThrow(
      new RangeError("ms must be a number of ms >= 0, got -1"),
    );
  });
});

describe("Timeout", () => {
  test("Timeout.none.run() runs the function without a limit; Timeout.ms() limits it (time.md)", async () => {
    expect(
      await traceOf(async () => {
        await Timeout.none.run(() => traceln("no limit"));
        const t = Timeout.ms(monoClock, 0.1);
        await t.run(() => Fiber.awaitCancel());
      }),
    ).toEqual(["no limit", "Exception: Timeout: Timed out after 0.1 ms"]);
  });

  test("Timeout is an Error; limits are TimeLimits", () => {
    const e = new Timeout();
    expect(e).toBeInstanceOf(Error);
    expect(String(e)).toBe("Timeout: Timeout");
    expect(Timeout.none).toBe(TimeLimit.none);
    expect(Timeout.ms(monoClock, 5)).toBeInstanceOf(TimeLimit);
  });

  test("limit.run() returns the value in time", async () => {
    await expect(Timeout.ms(monoClock, 1000).run(async () => 5)).resolves.toBe(5);
  });

  test("limit.runOr() rejects with what onTimeout returns", async () => {
    const mine = failure("my timeout");
    await expect(
      Timeout.ms(monoClock, 1).runOr(
        () => Fiber.awaitCancel(),
        () => mine,
      ),
    ).rejects.toBe(mine);
  });

  test("Timeout.none.runOr() and a limit of Infinity never time out", async () => {
    await expect(
      Timeout.none.runOr(
        async () => 1,
        () => failure("never"),
      ),
    ).resolves.toBe(1);
    await expect(Timeout.ms(monoClock, Infinity).run(async () => 2)).resolves.toBe(2);
  });

  test("limit.run() raises the function's error", async () => {
    await expect(
      Timeout.ms(monoClock, 1000).run(() => {
        throw failure("own");
      }),
    ).rejects.toThrow("own");
  });

  test("limit.run() on a cancelled fiber rejects with Cancelled", async () => {
    const ac = new AbortController();
    ac.abort("stop");
    await expect(
      Timeout.ms(monoClock, 1000).run(() => monoClock.sleep(10, { signal: ac.signal })),
    ).rejects.toEqual(new Cancelled("stop"));
  });

  test("Timeout.ms() throws RangeError for a bad duration", () => {
    expect(() => Timeout.ms(monoClock, -1)).toThrow(
      new RangeError("ms must be a number of ms >= 0, got -1"),
    );
    expect(() => Timeout.ms(monoClock, Number.NaN)).toThrow(RangeError);
  });

  test("limit.toString() shows the limit", () => {
    expect(String(Timeout.none)).toBe("none");
    expect(String(Timeout.ms(monoClock, 10_000))).toBe("10000 ms");
    expect(Timeout.ms(monoClock, 250).ms).toBe(250);
  });
});
