import { expect, test } from "vitest";
import { NodeNet } from "./backend-node/node-net.ts";
import { Cancel, Cancelled, Fiber, monoClock, realClock, Switch, traceln } from "./core/index.ts";
import { traceOf } from "./core/test-helpers/trace.ts";
import { run } from "./run.ts";

test("run() gives the real capabilities and returns fn's result", async () => {
  const r = await run(async (env) => {
    expect(env.net).toBeInstanceOf(NodeNet);
    expect(env.clock).toBe(realClock);
    expect(env.monoClock).toBe(monoClock);
    expect(env.domainMgr.sharesMemory).toBe(false);
    return 42;
  });
  expect(r).toBe(42);
});

test("run() keeps the caller's trace sink and rethrows fn's error", async () => {
  expect(
    await traceOf(() =>
      run(async () => {
        traceln("inside run");
        throw new Error("boom");
      }),
    ),
  ).toEqual(["inside run", "Exception: Error: boom"]);
});

test("run() runs fn in a child of the caller's cancellation context", async () => {
  const e = await Cancel.sub(async (scope) =>
    run(async () =>
      Switch.run(async () => {
        scope.cancel(new Error("outer"));
        await Fiber.yield();
      }),
    ).catch((x: unknown) => x),
  );
  expect(e).toBeInstanceOf(Cancelled);
});

test("run() refuses a non-function with TypeError", async () => {
  await expect(run(42 as unknown as () => void)).rejects.toThrow(
    new TypeError("fn must be a function, got number"),
  );
});

test("env.net connects for real", async () => {
  await run((env) =>
    Switch.run(async (sw) => {
      const l = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
      const [c, [s, addr]] = await Fiber.pair(
        () => env.net.connect(l.listeningAddr, { sw }),
        () => l.accept({ sw }),
      );
      expect(addr).toEqual(c.localAddr);
      expect(s.localAddr).toEqual(l.listeningAddr);
    }),
  );
});
