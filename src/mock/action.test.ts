import { expect, test } from "vitest";
import { Cancel, Cancelled, Fiber, IoError, traceln } from "../core/index.ts";
import { type Action, mapAction, runAction } from "./action.ts";
import { Backend } from "./backend.ts";

test("runAction() returns a return action's value", async () => {
  expect(await runAction({ return: 42 })).toBe(42);
});

test("runAction() throws a raise action's error", async () => {
  const e = new Error("boom");
  await expect(runAction({ raise: e })).rejects.toBe(e);
});

test("runAction() copies an IoError at each raise, so context lines do not pile up", async () => {
  const e = new IoError({ kind: "NotFound" }, ["first"]);
  const a: Action<number> = { raise: e };
  const e1 = (await runAction(a).catch((x: unknown) => x)) as IoError;
  e1.addContext("added");
  const e2 = (await runAction(a).catch((x: unknown) => x)) as IoError;
  expect(e1).not.toBe(e2);
  expect(e2.context).toEqual(["first"]);
  expect(e.context).toEqual(["first"]);
});

test("runAction() runs a run action's function, sync or async", async () => {
  expect(await runAction({ run: () => 1 })).toBe(1);
  expect(await runAction({ run: async () => 2 })).toBe(2);
});

test("runAction() waits for an await action's promise", async () => {
  expect(await runAction({ await: Promise.resolve("x") })).toBe("x");
  await expect(runAction({ await: Promise.reject(new Error("no")) })).rejects.toThrow("no");
});

test("runAction() cancels an await action with the calling fiber", async () => {
  const e = await Cancel.sub(async (scope) => {
    const p = runAction({ await: new Promise<number>(() => {}) });
    scope.cancel(new Error("stop"));
    return await p.catch((x: unknown) => x);
  });
  expect(e).toBeInstanceOf(Cancelled);
});

test("runAction() yields before a yieldThen action", async () => {
  const lines: string[] = [];
  await Backend.run(
    () =>
      Fiber.both(
        async () => traceln("a: %s", await runAction({ yieldThen: { return: "late" } })),
        () => traceln("b"),
      ),
    { onTrace: (l) => lines.push(l) },
  );
  expect(lines).toEqual(["b", "a: late"]);
});

test("runAction() rejects something that is not an action with a TypeError naming it", async () => {
  await expect(runAction({ retrun: 1 } as unknown as Action<number>)).rejects.toThrow(
    "action must have one of return, raise, run, await, yieldThen, got { retrun }",
  );
  await expect(runAction(null as unknown as Action<number>)).rejects.toThrow(TypeError);
});

test("mapAction() transforms the result of every kind of action", async () => {
  const len = (s: string): number => s.length;
  expect(await runAction(mapAction(len, { return: "abc" }))).toBe(3);
  expect(await runAction(mapAction(len, { run: () => "ab" }))).toBe(2);
  expect(await runAction(mapAction(len, { await: Promise.resolve("a") }))).toBe(1);
  expect(await runAction(mapAction(len, { yieldThen: { return: "abcd" } }))).toBe(4);
  await expect(runAction(mapAction(len, { raise: new Error("r") }))).rejects.toThrow("r");
});
