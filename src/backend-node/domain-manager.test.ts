import { threadId } from "node:worker_threads";
import { describe, expect, test } from "vitest";
import { Cancel, Cancelled, isIoError } from "../core/index.ts";
import { domainMgr } from "./domain-manager.ts";
import { moduleHref, workerEntryUrl } from "./domain-worker-protocol.ts";
import { SharedSemaphore } from "./shared-semaphore.ts";

const jobs = new URL("./test-helpers/domain-jobs.ts", import.meta.url);

describe("domainMgr", () => {
  test("does not share memory, and run(fn) throws a TypeError explaining why", () => {
    expect(domainMgr.sharesMemory).toBe(false);
    expect(() => domainMgr.run(() => 1)).toThrow(TypeError);
    expect(() => domainMgr.run(() => 1)).toThrow(/cannot run a closure; use domainMgr.runModule/);
  });

  test("the worker entry has this file's extension", () => {
    expect(workerEntryUrl().pathname).toMatch(/\/backend-node\/domain-worker\.ts$/);
  });

  test("runModule() calls a module's export in another thread", async () => {
    const r = await domainMgr.runModule<{ sum: number; threadId: number }>(jobs, {
      exportName: "add",
      args: [2, 3],
    });
    expect(r.sum).toBe(5);
    expect(r.threadId).not.toBe(threadId);
  });

  test("runModule() rebuilds an IoError thrown in the worker", async () => {
    const e = await domainMgr.runModule(jobs, { exportName: "failIo" }).catch((x: unknown) => x);
    expect(isIoError(e, "ConnectionReset")).toBe(true);
    expect((e as Error).message).toBe("Net ConnectionReset: peer gone\n  writing");
  });

  test("runModule() reports a missing export and an unclonable result", async () => {
    await expect(domainMgr.runModule(jobs, { exportName: "notAFunction" })).rejects.toThrow(
      /export "notAFunction" of .* must be a function, got number/,
    );
    await expect(domainMgr.runModule(jobs, { exportName: "unclonable" })).rejects.toThrow(
      /cannot be sent to the calling thread/,
    );
  });

  test("runModule() terminates the thread when the caller is cancelled", async () => {
    const e = await Cancel.sub(async (scope) => {
      const p = domainMgr.runModule(jobs, { exportName: "forever" });
      setTimeout(() => scope.cancel(new Error("enough")), 50);
      return await p;
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Cancelled);
    // the leak check after the test sees no Worker left
  });

  test("moduleHref() takes URLs, absolute paths and package names, not relative paths", () => {
    expect(moduleHref("/srv/h.js")).toBe("file:///srv/h.js");
    expect(moduleHref(new URL("file:///x.js"))).toBe("file:///x.js");
    expect(moduleHref("some-package/handler")).toBe("some-package/handler");
    expect(() => moduleHref("./h.js", "handlerModule")).toThrow(
      /handlerModule must be a URL .* got "\.\/h\.js"/,
    );
  });
});

describe("SharedSemaphore", () => {
  test("limits holders across threads", async () => {
    const sem = SharedSemaphore.create(1);
    expect(sem.tryAcquire()).toBe(true);
    expect(sem.tryAcquire()).toBe(false);
    // the worker waits for the permit this thread holds
    const t0 = Date.now();
    const p = domainMgr.runModule<number>(jobs, {
      exportName: "holdPermit",
      args: [sem.buffer, 1],
    });
    await new Promise((r) => setTimeout(r, 100));
    sem.release();
    await p;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(sem.available).toBe(1);
  });

  test("acquire() in a worker with nothing else to do keeps the thread alive until it gets the permit", async () => {
    // Atomics.waitAsync alone does not keep an event loop alive: without a handle held
    // while waiting, this worker's thread would exit (code 13) before the release.
    const buf = new SharedArrayBuffer(8);
    const sem = new SharedSemaphore(buf);
    const waiting = new Int32Array(buf);
    const p = domainMgr.runModule<number>(jobs, { exportName: "waitIdleForPermit", args: [buf] });
    while (Atomics.load(waiting, 1) === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 200)); // the worker is idle in acquire() meanwhile
    sem.release();
    expect(await p).not.toBe(threadId);
    expect(sem.available).toBe(1);
  });

  test("acquire() waits for release() and is cancellable", async () => {
    const sem = SharedSemaphore.create(0);
    const e = await Cancel.sub(async (scope) => {
      const p = sem.acquire();
      scope.cancel(new Error("stop"));
      return await p;
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Cancelled);
    const q = sem.acquire();
    sem.release();
    await q;
    expect(sem.available).toBe(0);
    expect(() => SharedSemaphore.create(-1)).toThrow(RangeError);
  });
});
