/**
 * Eio's "run_server with additional domains" on real worker threads: several threads serve one
 * port (SO_REUSEPORT), stop gracefully, are terminated on cancellation, and report errors.
 */
import { threadId } from "node:worker_threads";
import { describe, expect, test } from "vitest";
import { nodeNet } from "../../src/backend-node/node-net.ts";
import { runServerInDomains } from "../../src/backend-node/run-server-in-domains.ts";
import { Cancel, Cancelled, Fiber, isIoError, Switch } from "../../src/core/index.ts";
import { copyString, readAll, readExact } from "../../src/flow/flow-ops.ts";
import type { SockaddrLike } from "../../src/net/sockaddr.ts";
import type { ListeningSocket } from "../../src/net/types.ts";

const handlers = new URL("./fixtures/thread-handlers.ts", import.meta.url);

/** A resolvable promise. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve: (v: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Connects, sends "Hi", and returns the whole answer. */
async function hi(addr: SockaddrLike): Promise<string> {
  return Switch.run(async (sw) => {
    const flow = await nodeNet.connect(addr, { sw });
    await copyString("Hi", flow);
    await flow.shutdown("send");
    return readAll(flow, { maxSize: 100 });
  });
}

/** A TCP listener on 127.0.0.1 that worker threads may share. */
function listen(sw: Switch, reusePort = true): Promise<ListeningSocket> {
  return nodeNet.listen("tcp:127.0.0.1:0", { sw, backlog: 128, reusePort });
}

describe("runServerInDomains()", () => {
  test("3 workers and the main thread serve one port; a graceful stop ends them all", async () => {
    const served = new Map<string, number>();
    const result = await Switch.run(async (sw) => {
      const listener = await listen(sw);
      const ready = deferred<readonly number[]>();
      const stop = deferred<string>();
      let workerIds: readonly number[] = [];
      let value = "";
      await Fiber.both(
        async () => {
          value = await runServerInDomains(listener, {
            handlerModule: handlers,
            handlerExport: "hello",
            domains: 3,
            onError: (e) => {
              throw e;
            },
            stop: stop.promise,
            onReady: ready.resolve,
          });
        },
        async () => {
          const t0 = performance.now();
          workerIds = await ready.promise;
          console.info(`workers listening after ${Math.round(performance.now() - t0)} ms`);
          const answers = await Promise.all(
            Array.from({ length: 80 }, () => Switch.run(() => hi(listener.listeningAddr))),
          );
          for (const a of answers) {
            expect(a).toMatch(/^Bye from \d+$/);
            const id = a.slice("Bye from ".length);
            served.set(id, (served.get(id) ?? 0) + 1);
          }
          stop.resolve("stopped");
        },
      );
      expect(workerIds).toHaveLength(3);
      expect(new Set([...workerIds, threadId]).size).toBe(4);
      return value;
    });
    expect(result).toBe("stopped");
    const total = [...served.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(80);
    // SO_REUSEPORT spreads connections by a hash of their addresses: 80 of them cannot all
    // land on one of the four sockets
    expect(served.size).toBeGreaterThan(1);
    console.info(
      `connections per thread: ${[...served].map(([id, n]) => `thread ${id}: ${n}`).join(", ")}`,
    );
  });

  test("a graceful stop lets running handlers finish", async () => {
    await Switch.run(async (sw) => {
      const listener = await listen(sw);
      const ready = deferred<readonly number[]>();
      const stop = deferred<undefined>();
      await Fiber.both(
        () =>
          runServerInDomains(listener, {
            handlerModule: handlers,
            handlerExport: "slow",
            domains: 1,
            onError: (e) => {
              throw e;
            },
            stop: stop.promise,
            onReady: ready.resolve,
          }),
        async () => {
          await ready.promise;
          await Switch.run(async (csw) => {
            const flows = await Promise.all(
              Array.from({ length: 12 }, () =>
                nodeNet.connect(listener.listeningAddr, { sw: csw }),
              ),
            );
            // every handler has started once each client has its "S"
            for (const f of flows) await readExact(f, new Uint8Array(1));
            stop.resolve(undefined);
            const rest = await Promise.all(flows.map((f) => readAll(f, { maxSize: 100 })));
            for (const r of rest) expect(r).toMatch(/^E \d+$/);
          });
        },
      );
    });
  });

  test("maxConnections counts over all threads", async () => {
    await Switch.run(async (sw) => {
      const listener = await listen(sw);
      const ready = deferred<readonly number[]>();
      const stop = deferred<undefined>();
      await Fiber.both(
        () =>
          runServerInDomains(listener, {
            handlerModule: handlers,
            handlerExport: "slow",
            domains: 2,
            maxConnections: 2,
            onError: (e) => {
              throw e;
            },
            stop: stop.promise,
            onReady: ready.resolve,
          }),
        async () => {
          await ready.promise;
          const t0 = performance.now();
          const answers = await Promise.all(
            Array.from({ length: 6 }, () =>
              Switch.run(async (csw) => {
                const f = await nodeNet.connect(listener.listeningAddr, { sw: csw });
                return readAll(f, { maxSize: 100 });
              }),
            ),
          );
          const elapsed = performance.now() - t0;
          for (const a of answers) expect(a).toMatch(/^SE \d+$/);
          // 6 handlers of 150 ms, 2 at a time: at least three rounds
          expect(elapsed).toBeGreaterThanOrEqual(3 * 150 - 20);
          stop.resolve(undefined);
        },
      );
    });
  });

  test("cancelling the caller terminates the workers and closes every connection", async () => {
    await Switch.run(async (sw) => {
      const listener = await listen(sw);
      const ready = deferred<readonly number[]>();
      const e = await Cancel.sub(async (scope) => {
        await Fiber.both(
          () =>
            runServerInDomains(listener, {
              handlerModule: handlers,
              handlerExport: "hang",
              domains: 1,
              onError: (x) => {
                throw x;
              },
              onReady: ready.resolve,
            }),
          async () => {
            await ready.promise;
            await Switch.run(async (csw) => {
              const flows = await Promise.all(
                Array.from({ length: 8 }, () =>
                  nodeNet.connect(listener.listeningAddr, { sw: csw }),
                ),
              );
              for (const f of flows) await readExact(f, new Uint8Array(1));
              // every connection's handler is running (in whichever thread): cancel
              scope.cancel(new Error("shut down now"));
              // the peers see their connections end
              await Cancel.protect(async () => {
                for (const f of flows) {
                  const rest = await readAll(f, { maxSize: 10 }).catch((x: unknown) => x);
                  expect(rest === "" || isIoError(rest, "ConnectionReset")).toBe(true);
                }
              });
            });
          },
        );
      }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(Cancelled);
    });
  });

  test("a handler's error in a worker reaches onError in the main thread", async () => {
    const errors: unknown[] = [];
    await Switch.run(async (sw) => {
      const listener = await listen(sw);
      const ready = deferred<readonly number[]>();
      const stop = deferred<undefined>();
      await Fiber.both(
        () =>
          runServerInDomains(listener, {
            handlerModule: handlers,
            handlerExport: "failing",
            domains: 1,
            onError: (x) => errors.push(x),
            stop: stop.promise,
            onReady: ready.resolve,
          }),
        async () => {
          await ready.promise;
          // the handler fails without reading: the clients may see their connection reset
          await Promise.all(
            Array.from({ length: 20 }, () => hi(listener.listeningAddr).catch(() => "")),
          );
          // the errors of workers arrive asynchronously
          while (errors.length < 20) await new Promise((r) => setTimeout(r, 5));
          stop.resolve(undefined);
        },
      );
    });
    const threads = new Set(
      errors.map((e) => /handler failed in thread (\d+)/.exec(String((e as Error).message))?.[1]),
    );
    expect(threads.has(undefined)).toBe(false);
    expect(threads.size).toBeGreaterThan(1);
  });

  test("onError rethrowing a worker's error stops the whole server with it", async () => {
    const e = await Switch.run(async (sw) => {
      const listener = await listen(sw);
      const ready = deferred<readonly number[]>();
      return Fiber.both(
        () =>
          runServerInDomains(listener, {
            handlerModule: handlers,
            handlerExport: "failing",
            domains: 1,
            onError: (x) => {
              throw x;
            },
            onReady: ready.resolve,
          }),
        async () => {
          await ready.promise;
          for (;;) {
            await hi(listener.listeningAddr).catch((x: unknown) => {
              if (x instanceof Cancelled) throw x;
              return "";
            });
          }
        },
      );
    }).catch((x: unknown) => x);
    expect(String((e as Error).message)).toMatch(/^handler failed in thread \d+$/);
  });

  test("a listener made without reusePort makes the workers fail with a hint", async () => {
    const e = await Switch.run(async (sw) => {
      const listener = await listen(sw, false);
      return runServerInDomains(listener, {
        handlerModule: handlers,
        handlerExport: "hello",
        domains: 1,
        onError: (x) => {
          throw x;
        },
      });
    }).catch((x: unknown) => x);
    expect(isIoError(e, "AddressInUse")).toBe(true);
    expect((e as Error).message).toMatch(
      /listening on tcp:127\.0\.0\.1:\d+\n {2}running the accept loop of worker thread \d+ \(was the listener made with reusePort: true\?\)$/,
    );
  });

  test("checks its arguments", async () => {
    await Switch.run(async (sw) => {
      const listener = await listen(sw);
      const base = { handlerModule: handlers, onError: () => {} };
      expect(() => runServerInDomains(listener, { ...base, domains: -1 })).toThrow(
        "domains must be an integer >= 0, got -1",
      );
      expect(() =>
        runServerInDomains(listener, { ...base, domains: 1, maxConnections: 0 }),
      ).toThrow(new RangeError("maxConnections must be an integer > 0, got 0"));
      expect(() =>
        runServerInDomains(listener, { ...base, domains: 1, maxConnections: null as never }),
      ).toThrow(new TypeError("maxConnections must be an integer > 0, got null"));
      expect(() => runServerInDomains(listener, { ...base, domains: 1, backlog: 1e9 })).toThrow(
        new RangeError("backlog must be an integer in 0..65535, got 1000000000"),
      );
      expect(() => runServerInDomains(null as never, { ...base, domains: 1 })).toThrow(
        new TypeError("runServerInDomains: listener must be a ListeningSocket, got null"),
      );
      expect(() =>
        runServerInDomains(listener, { ...base, handlerModule: "./x.ts", domains: 1 }),
      ).toThrow(/handlerModule must be a URL/);
      await expect(
        runServerInDomains(listener, { ...base, handlerExport: "notAHandler", domains: 0 }),
      ).rejects.toThrow(/handlerExport "notAHandler" of .* must be a function, got string/);
      const unix = await nodeNet.listen(`unix:${process.cwd()}/.weir-test-${process.pid}.sock`, {
        sw,
        backlog: 5,
      });
      expect(() => runServerInDomains(unix, { ...base, domains: 1 })).toThrow(
        /needs a TCP listener .* got unix:/,
      );
    });
  });
});
