import { expect, test } from "vitest";
import {
  Cancel,
  Cancelled,
  Fiber,
  monoClock,
  Switch,
  suppressedErrors,
  Time,
  Timeout,
} from "./index.ts";

test("smoke", async () => {
  const log: string[] = [];
  await Fiber.both(
    async () => {
      log.push("a1");
      await Fiber.yield();
      log.push("a2");
    },
    async () => {
      log.push("b1");
    },
  );
  expect(log).toEqual(["a1", "b1", "a2"]);
  const e = await Switch.run(async (sw) => {
    sw.fork(async () => {
      await Fiber.awaitCancel();
    });
    sw.fork(async () => {
      throw new Error("one");
    });
    throw new Error("two");
  }).catch((e) => e);
  expect(e.message).toBe("one");
  expect((suppressedErrors(e)[0] as Error).message).toBe("two");
  await expect(Time.withTimeout(monoClock, 10, () => monoClock.sleep(1000))).rejects.toBeInstanceOf(
    Timeout,
  );
  const r = await Fiber.first(
    async () => {
      await monoClock.sleep(5);
      return 1;
    },
    async () => {
      await Fiber.awaitCancel();
      return 2;
    },
  );
  expect(r).toBe(1);
  const p = await Fiber.pair(
    async () => 1,
    async () => "x",
  );
  expect(p).toEqual([1, "x"]);
  const c = await Cancel.sub(async (s) => {
    s.cancel(new Error("r"));
    return await monoClock.sleep(10).catch((e) => e);
  });
  expect(c).toBeInstanceOf(Cancelled);
  const released: number[] = [];
  await Switch.run(async (sw) => {
    sw.onRelease(() => {
      released.push(1);
    });
    sw.onRelease(async () => {
      released.push(2);
    });
    sw.forkDaemon(async () => {
      await Fiber.awaitCancel();
    });
  });
  expect(released).toEqual([2, 1]);
});
