import { expect, test } from "vitest";
import { Cancelled, Fiber } from "../core/index.ts";
import { Backend } from "./backend.ts";
import { Handler } from "./handler.ts";

const notConfigured = { raise: new Error("not configured") };

test("Handler.run() performs the default action when nothing is scripted", async () => {
  const h = new Handler<number>("h", notConfigured);
  await expect(h.run()).rejects.toThrow("not configured");
});

test("Handler.run() consumes the scripted actions one per call, then the default", async () => {
  const h = new Handler<number>("h", { return: 0 });
  h.seq([{ return: 1 }, { return: 2 }]);
  expect(h.pending).toBe(2);
  expect([await h.run(), await h.run(), await h.run(), await h.run()]).toEqual([1, 2, 0, 0]);
  expect(h.pending).toBe(0);
});

test("Handler.seq() replaces the script, and its default option the default", async () => {
  const h = new Handler<number>("h", notConfigured);
  h.seq([{ return: 1 }, { return: 2 }]);
  h.seq([{ return: 3 }], { default: { return: 9 } });
  expect([await h.run(), await h.run(), await h.run()]).toEqual([3, 9, 9]);
  expect(await h.runDefaultAction()).toBe(9);
});

test("Handler.setDefault() sets the action run once the script is used up", async () => {
  const h = new Handler<string>("h", notConfigured);
  h.setDefault({ return: "d" });
  expect(await h.run()).toBe("d");
});

test("Handler.setHandler() calls a function on every call", async () => {
  const h = new Handler<number>("h", notConfigured);
  let n = 0;
  h.setHandler(() => ++n);
  expect([await h.run(), await h.run()]).toEqual([1, 2]);
  h.seq([{ return: 10 }]);
  expect(await h.run()).toBe(10);
});

test("Handler.seq() rejects a non-array with a TypeError naming actions", () => {
  const h = new Handler<number>("h", notConfigured);
  expect(() => h.seq({ return: 1 } as never)).toThrow("actions must be an array");
});

test("Handler.run() is cancelled by its signal option", async () => {
  const h = new Handler<number>("h", { run: () => Fiber.awaitCancel() });
  const ac = new AbortController();
  const p = h.run({ signal: ac.signal });
  ac.abort(new Error("enough"));
  await expect(p).rejects.toBeInstanceOf(Cancelled);
  const aborted = AbortSignal.abort(new Error("already"));
  await expect(h.run({ signal: aborted })).rejects.toBeInstanceOf(Cancelled);
});

test("Handler.run() names a waiting operation in a deadlock report", async () => {
  const h = new Handler<number>("thing: poke", { await: new Promise<number>(() => {}) });
  await expect(Backend.run(() => h.run())).rejects.toThrow("still waiting: thing: poke");
});
