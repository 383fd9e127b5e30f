import { expect, test } from "vitest";
import { Cancel, Cancelled, Fiber, Time, Timeout, traceln } from "../core/index.ts";
import { Backend } from "./backend.ts";
import { Clock, MockClock } from "./clock.ts";

async function traced(fn: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  await Backend.run(fn, { onTrace: (l) => lines.push(l) });
  return lines;
}

test("Clock.make() gives a clock at 0 that moves only when told to", async () => {
  const clock = Clock.make();
  expect(clock).toBeInstanceOf(MockClock);
  expect(clock.now()).toBe(0);
  expect(clock.nextTimer).toBeUndefined();
  expect(clock.tryAdvance()).toBe(false);
  expect(() => clock.advance()).toThrow("No further events scheduled on mock clock");
});

test("MockClock.advance() wakes sleepers in deadline order, equal deadlines in call order", async () => {
  const lines = await traced(async () => {
    const clock = Clock.make();
    await Fiber.all([
      async () => {
        await clock.sleep(20);
        traceln("slept 20");
      },
      async () => {
        await clock.sleep(10);
        traceln("slept 10 (first)");
      },
      async () => {
        await clock.sleepUntil(10);
        traceln("slept until 10 (second)");
      },
      async () => {
        await Fiber.yield();
        clock.advance();
        await Fiber.yield();
        await Fiber.yield();
        clock.advance();
      },
    ]);
  });
  expect(lines).toEqual([
    "mock time is now 10",
    "slept 10 (first)",
    "slept until 10 (second)",
    "mock time is now 20",
    "slept 20",
  ]);
});

test("MockClock.setTime() wakes every sleeper whose deadline is reached", async () => {
  const lines = await traced(async () => {
    const clock = Clock.make();
    await Fiber.both(
      async () => {
        await clock.sleep(5);
        traceln("woke at %d", clock.now());
      },
      async () => {
        await Fiber.yield();
        clock.setTime(7);
      },
    );
    expect(() => clock.setTime(Number.NaN)).toThrow(RangeError);
  });
  expect(lines).toEqual(["mock time is now 7", "woke at 7"]);
});

test("MockClock.sleep() rejects with Cancelled and forgets its timer when cancelled", async () => {
  await Backend.run(async () => {
    const clock = Clock.make();
    const e = await Cancel.sub(async (scope) => {
      const p = clock.sleep(10);
      expect(clock.nextTimer).toBe(10);
      scope.cancel(new Error("stop"));
      return await p.catch((x: unknown) => x);
    });
    expect(e).toBeInstanceOf(Cancelled);
    expect(clock.nextTimer).toBeUndefined();
    const ac = new AbortController();
    const p = clock.sleep(10, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(Cancelled);
    await expect(clock.sleep(0, { signal: ac.signal })).rejects.toBeInstanceOf(Cancelled);
  });
});

test("MockClock.sleep() checks its argument", () => {
  const clock = Clock.make();
  expect(() => clock.sleep(-1)).toThrow("ms must be a number of ms >= 0, got -1");
  expect(() => clock.sleepUntil(Number.NaN)).toThrow("time must be a number, got NaN");
});

test("MockClock.sleep(0) yields once", async () => {
  const lines = await traced(() =>
    Fiber.both(
      async () => {
        await Clock.make().sleep(0);
        traceln("after sleep(0)");
      },
      () => traceln("other"),
    ),
  );
  expect(lines).toEqual(["other", "after sleep(0)"]);
});

test("Backend.runFull() advances its clock when every fiber waits", async () => {
  const lines: string[] = [];
  const t0 = performance.now();
  const r = await Backend.runFull(
    async (env) => {
      expect(env.clock).toBe(env.monoClock);
      await env.monoClock.sleep(3_600_000);
      const e = await Time.withTimeout(env.clock, 500, () => Fiber.awaitCancel()).catch(
        (x: unknown) => x,
      );
      return [env.monoClock.now(), e instanceof Timeout];
    },
    { onTrace: (l) => lines.push(l) },
  );
  expect(r).toEqual([3_600_500, true]);
  expect(lines).toEqual(["mock time is now 3600000", "mock time is now 3600500"]);
  expect(performance.now() - t0).toBeLessThan(1000);
});

test("MockClock.sleepUntil(Infinity) waits until cancelled (a deadlock if nothing else runs)", async () => {
  await expect(Backend.runFull((env) => env.clock.sleepUntil(Infinity))).rejects.toThrow(
    "Deadlock detected",
  );
});
