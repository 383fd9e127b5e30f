/**
 * `Semaphore` (Eio's tests/semaphore.md, ported), plus cancellation and argument checks.
 */
import { describe, expect, test } from "vitest";
import { Cancel } from "./cancel.ts";
import { Cancelled } from "./errors.ts";
import { Fiber } from "./fiber.ts";
import { Semaphore } from "./semaphore.ts";
import { traceOf } from "./test-helpers/trace.ts";
import { traceln } from "./trace.ts";

async function acquire(t: Semaphore): Promise<void> {
  traceln("Acquiring");
  await t.acquire();
  traceln("Acquired");
}

function release(t: Semaphore): void {
  traceln("Releasing");
  t.release();
  traceln("Released");
}

describe("semaphore.md", () => {
  test("Semaphore: acquire and release in turn", async () => {
    expect(
      await traceOf(async () => {
        const t = new Semaphore(1);
        await acquire(t);
        release(t);
        await acquire(t);
        release(t);
      }),
    ).toEqual([
      "Acquiring",
      "Acquired",
      "Releasing",
      "Released",
      "Acquiring",
      "Acquired",
      "Releasing",
      "Released",
    ]);
  });

  test("Semaphore: concurrent access with 2 permits and 4 fibers", async () => {
    expect(
      await traceOf(async () => {
        const t = new Semaphore(2);
        const fn = async () => {
          await acquire(t);
          await Fiber.yield();
          release(t);
        };
        await Fiber.all([fn, fn, fn, fn]);
      }),
    ).toEqual([
      // Eio interleaves "Acquired" with the next "Acquiring", and wakes a waiter after the
      // other yielded fiber has run: here a free permit and a wake-up are promise jobs, which
      // run before any fiber queued by Fiber.yield().
      "Acquiring",
      "Acquiring",
      "Acquiring",
      "Acquiring",
      "Acquired",
      "Acquired",
      "Releasing",
      "Released",
      "Acquired",
      "Releasing",
      "Released",
      "Acquired",
      "Releasing",
      "Released",
      "Releasing",
      "Released",
    ]);
  });

  test("Semaphore: a cancelled acquire takes no permit", async () => {
    expect(
      await traceOf(async () => {
        const t = new Semaphore(0);
        await Fiber.first(
          () => acquire(t),
          () => {},
        );
        release(t);
        await acquire(t);
      }),
    ).toEqual(["Acquiring", "Releasing", "Released", "Acquiring", "Acquired"]);
  });
});

describe("Semaphore", () => {
  test("sem.acquire() serves waiters first come, first served", async () => {
    expect(
      await traceOf(async () => {
        const t = new Semaphore(0);
        await Fiber.both(
          () =>
            Fiber.all(
              [1, 2, 3].map((n) => async () => {
                await t.acquire();
                traceln(`got ${n}`);
              }),
            ),
          async () => {
            traceln(`waiting: ${t.waiting}`);
            for (let i = 0; i < 3; i++) t.release();
          },
        );
        traceln(`available: ${t.available}, waiting: ${t.waiting}`);
      }),
    ).toEqual(["waiting: 3", "got 1", "got 2", "got 3", "available: 0, waiting: 0"]);
  });

  test("sem.acquire() skips cancelled waiters", async () => {
    const t = new Semaphore(0);
    const order: number[] = [];
    await Cancel.sub(async (scope) => {
      const a = t.acquire({ signal: AbortSignal.abort("no") }).catch((e: unknown) => e);
      const ac = new AbortController();
      const b = t.acquire({ signal: ac.signal }).catch((e: unknown) => e);
      const c = t.acquire().then(() => order.push(3));
      expect(t.waiting).toBe(2);
      ac.abort("b gone");
      expect(t.waiting).toBe(1);
      expect(await a).toEqual(new Cancelled("no"));
      expect(await b).toEqual(new Cancelled("b gone"));
      t.release();
      await c;
      expect(order).toEqual([3]);
      expect(t.available).toBe(0);
      scope.cancel("done");
    });
  });

  test("sem.release() with no waiter adds a permit", () => {
    const t = new Semaphore(0);
    t.release();
    t.release();
    expect(t.available).toBe(2);
  });

  test("sem.acquire() survives many cancelled waiters (compaction)", async () => {
    const t = new Semaphore(0);
    await Cancel.sub(async () => {
      const acs = Array.from({ length: 200 }, () => new AbortController());
      const ps = acs.map((ac) => t.acquire({ signal: ac.signal }).catch(() => "cancelled"));
      const last = t.acquire();
      for (const ac of acs) ac.abort();
      await Promise.all(ps);
      for (let i = 0; i < 3; i++) t.release();
      await last;
      expect(t.available).toBe(2);
      expect(t.waiting).toBe(0);
    });
  });

  test("new Semaphore() checks its argument", () => {
    expect(() => new Semaphore(-1)).toThrow(
      new RangeError("permits must be an integer >= 0, got -1"),
    );
    expect(() => new Semaphore(1.5)).toThrow(RangeError);
    expect(new Semaphore(Infinity).available).toBe(Infinity);
  });
});
