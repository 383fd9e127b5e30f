import { afterEach, expect, test, vi } from "vitest";
import { awaitCancellable, Fiber, Switch, traceln } from "../core/index.ts";
import { currentEnv } from "../net/env.ts";
import { Backend, type MockEnv } from "./backend.ts";
import { MockClock } from "./clock.ts";
import { MockDomainManager } from "./domain-manager.ts";
import { Flow } from "./flow.ts";
import { MockNet } from "./net.ts";
import { DeadlockDetected } from "./scheduler.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

test("Backend.run() returns what fn returns", async () => {
  expect(await Backend.run(() => 1)).toBe(1);
  expect(await Backend.run(async () => "x")).toBe("x");
});

test("Backend.run() rejects with what fn throws, synchronously or not", async () => {
  await expect(
    Backend.run(() => {
      throw new Error("sync");
    }),
  ).rejects.toThrow("sync");
  await expect(
    Backend.run(async () => {
      throw new Error("async");
    }),
  ).rejects.toThrow("async");
});

test("Backend.run() rejects a non-function with a TypeError naming fn", () => {
  expect(() => Backend.run(42 as never)).toThrow("fn must be a function, got number");
  expect(() => Backend.runFull(null as never)).toThrow(TypeError);
});

test("Backend.run() sends each trace line to onTrace, splitting multi-line text", async () => {
  const lines: string[] = [];
  await Backend.run(() => traceln("a\nb"), { onTrace: (l) => lines.push(l) });
  expect(lines).toEqual(["a", "b"]);
});

test("Backend.run() writes trace lines to stderr without onTrace", async () => {
  const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  await Backend.run(() => traceln("to stderr"));
  expect(write).toHaveBeenCalledWith("to stderr\n");
});

test("Backend.run() resumes yielding fibers in order, each after the others have run", async () => {
  const lines: string[] = [];
  await Backend.run(
    () =>
      Fiber.all([
        async () => {
          traceln("a1");
          await Fiber.yield();
          traceln("a2");
          await Fiber.yield();
          traceln("a3");
        },
        async () => {
          traceln("b1");
          await Fiber.yield();
          traceln("b2");
        },
        () => traceln("c1"),
      ]),
    { onTrace: (l) => lines.push(l) },
  );
  expect(lines).toEqual(["a1", "b1", "c1", "a2", "b2", "a3"]);
});

test("Backend.run() reports a deadlock instead of hanging (Eio mocks.md)", async () => {
  const e = await Backend.run(() => awaitCancellable(new Promise(() => {}))).catch(
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(DeadlockDetected);
  expect(Backend.DeadlockDetected).toBe(DeadlockDetected);
  expect((e as Error).message).toBe(
    "Deadlock detected: the main function has not returned, but no fiber can run and no mock timer is pending",
  );
});

test("Backend.run() names the mock operations still waiting in a deadlock", async () => {
  const e = (await Backend.run(async () => {
    const flow = Flow.make("flow");
    Flow.onRead(flow, [{ await: new Promise<string>(() => {}) }]);
    await Switch.run(async (sw) => {
      sw.fork(async () => {
        await flow.readInto(new Uint8Array(4));
      });
      const [a, b] = Flow.pair({ sw, labels: ["a", "b"] });
      await Fiber.both(
        () => a.readInto(new Uint8Array(1)).then(() => {}),
        () => b.readInto(new Uint8Array(1)).then(() => {}),
      );
    });
  }).catch((x: unknown) => x)) as DeadlockDetected;
  expect(e).toBeInstanceOf(DeadlockDetected);
  expect(e.waiting).toEqual(["flow: read", "a: read", "b: read"]);
  expect(e.message).toContain("still waiting: flow: read, a: read, b: read");
});

test("Backend.runFull() passes an environment shaped like the real run's, and installs it", async () => {
  await Backend.runFull(async (env: MockEnv) => {
    expect(currentEnv()).toBe(env);
    await Fiber.both(
      () => expect(currentEnv()).toBe(env),
      () => expect(currentEnv()).toBe(env),
    );
    expect(env.net).toBeInstanceOf(MockNet);
    expect(env.net.label).toBe("net");
    expect(env.clock).toBeInstanceOf(MockClock);
    expect(env.monoClock.now()).toBe(0);
    expect(env.domainMgr).toBeInstanceOf(MockDomainManager);
    expect(env.domainMgr.sharesMemory).toBe(true);
  });
});

test("Backend.run() may be nested, and runs may overlap", async () => {
  const lines: string[] = [];
  const inner = (name: string) =>
    Backend.runFull(
      async (env) => {
        await env.clock.sleep(5);
        await Fiber.yield();
        return name;
      },
      { onTrace: (l) => lines.push(`${name}: ${l}`) },
    );
  const r = await Backend.run(async () => [await inner("nested"), await Fiber.yield()]);
  expect(r).toEqual(["nested", undefined]);
  expect(await Promise.all([inner("x"), inner("y")])).toEqual(["x", "y"]);
  expect(lines.sort()).toEqual([
    "nested: mock time is now 5",
    "x: mock time is now 5",
    "y: mock time is now 5",
  ]);
});

test("Fiber.yield() outside a run, after a run ended, uses the real scheduler", async () => {
  let later: Promise<string> | undefined;
  await Backend.run(() => {
    later = (async () => {
      await Promise.resolve();
      await Fiber.yield(); // on the ended run's scheduler it would never wake up
      return "woke up";
    })();
  });
  const { promise: stuck, resolve } = Promise.withResolvers<string>();
  const timer = setTimeout(() => resolve("still waiting after 2 s"), 2000);
  expect(await Promise.race([later, stuck])).toBe("woke up");
  clearTimeout(timer);
});
