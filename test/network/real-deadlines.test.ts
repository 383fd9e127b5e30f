/**
 * Deadlines on real sockets, against hostile peers: a silent peer (`idleTimeout`), slowloris
 * (`headerTimeout` with `maxConnections`), late clients after a graceful stop, handlers past
 * `drainTimeout`, and a client that resets mid-write. Every test leaves fds, timers and
 * listeners as it found them (the leak check in test/helpers/setup.ts).
 */
import { connect as rawConnect, type Socket } from "node:net";
import { describe, expect, test } from "vitest";
import { EndOfFile, Fiber, IoError, isCancelled, Switch } from "../../src/core/index.ts";
import { runServer } from "../../src/net/run-server.ts";
import type { StreamAddr } from "../../src/net/sockaddr.ts";
import type { StreamSocket } from "../../src/net/types.ts";
import { run } from "../../src/run.ts";
import {
  bytes,
  copyString,
  deferred,
  net,
  readAllText,
  sleep,
  text,
  until,
} from "./real-support.ts";

/** How an error reads in the assertions: `IoError Timeout idle`, `EndOfFile`, ... */
function kindOf(e: unknown): string {
  if (e instanceof IoError) {
    const err = e.err;
    return err.kind === "Timeout" ? `IoError Timeout ${err.during}` : `IoError ${err.kind}`;
  }
  if (e instanceof EndOfFile) return "EndOfFile";
  if (isCancelled(e)) return "Cancelled";
  return String(e);
}

async function readFails(flow: StreamSocket): Promise<string> {
  try {
    await flow.readInto(new Uint8Array(16));
    return "read data";
  } catch (e) {
    return kindOf(e);
  }
}

function port(a: StreamAddr): number {
  if (a.type !== "tcp") throw new Error("not tcp");
  return a.port;
}

/** A raw Node client (the hostile peer), with its close awaited. */
function rawClient(p: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = rawConnect({ host: "127.0.0.1", port: p }, () => resolve(s));
    s.on("error", reject);
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.closed) resolve();
    else s.once("close", () => resolve());
  });
}

describe("idleTimeout", () => {
  test("net.connect({ idleTimeout }) closes a socket whose server says nothing, and a blocked read rejects with Timeout idle", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw });
        const [client, [server]] = await Fiber.pair(
          () => net.connect(l.listeningAddr, { sw, idleTimeout: 200 }),
          () => l.accept({ sw }),
        );
        const t0 = performance.now();
        expect(await readFails(client)).toBe("IoError Timeout idle");
        const took = performance.now() - t0;
        expect(took).toBeGreaterThanOrEqual(190);
        expect(took).toBeLessThan(2000);
        // The server's end sees the close
        expect(await readFails(server)).toBe("EndOfFile");
        // Later operations fail the same way
        await expect(client.write([bytes("x")])).rejects.toThrow(/Timeout idle/);
      }),
    );
  });

  test("bytes either way keep a connection alive; setIdleTimeout(null) turns the deadline off", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw });
        const [client, [server]] = await Fiber.pair(
          () => net.connect(l.listeningAddr, { sw }),
          () => l.accept({ sw, idleTimeout: 150 }),
        );
        // 8 writes 60 ms apart, read as they come: 480 ms in all, never 150 ms without a byte
        const buf = new Uint8Array(16);
        await Fiber.both(
          async () => {
            for (let i = 0; i < 8; i++) {
              await client.write([bytes("a")]);
              await sleep(60);
            }
          },
          async () => {
            for (let got = 0; got < 8; ) got += await server.readInto(buf);
          },
        );
        // The server writing keeps it alive too
        for (let i = 0; i < 4; i++) {
          await server.write([bytes("b")]);
          await sleep(60);
        }
        server.setIdleTimeout(null);
        await sleep(300);
        await server.write([bytes("c")]);
        expect(text(buf.subarray(0, await client.readInto(buf)))).toMatch(/^b+c?$/);
        expect(() => server.setIdleTimeout(0)).toThrow(
          "ms must be a number of ms > 0 and <= 2147483647, got 0",
        );
        expect(() => server.setIdleTimeout("10" as unknown as number)).toThrow(
          'ms must be a number of ms >= 0, got "10"',
        );
      }),
    );
  });

  test("runServer({ idleTimeout }) closes a silent client; its handler's read rejects with Timeout idle", async () => {
    const seen: string[] = [];
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw });
        const stop = deferred<string>();
        const [result] = await Fiber.pair(
          () =>
            runServer(
              l,
              async (flow) => {
                seen.push(await readFails(flow));
              },
              {
                onError: (e) => seen.push(`onError ${kindOf(e)}`),
                idleTimeout: 200,
                stop: stop.promise,
              },
            ),
          async () => {
            const silent = await rawClient(port(l.listeningAddr));
            silent.on("data", () => {});
            await closed(silent); // the server closed it
            stop.resolve("stopped");
          },
        );
        expect(result).toBe("stopped");
      }),
    );
    expect(seen).toEqual(["IoError Timeout idle"]);
  });
});

describe("headerTimeout", () => {
  test("slowloris: 12 clients sending a byte every 100 ms cannot keep a maxConnections: 2 server from a well-behaved client", async () => {
    let served = 0;
    let headerClosed = 0;
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw });
        const p = port(l.listeningAddr);
        const stop = deferred<void>();
        await Fiber.both(
          () =>
            runServer(
              l,
              async (flow) => {
                const line = await readAllText(flow).catch(kindOf);
                served++;
                await copyString(`re: ${line}`, flow).catch(() => {});
              },
              {
                onError: () => {},
                maxConnections: 2,
                headerTimeout: 300,
                headerBytes: 8,
                stop: stop.promise,
              },
            ),
          async () => {
            const slow = await Promise.all(Array.from({ length: 12 }, () => rawClient(p)));
            const dripping = setInterval(() => {
              for (const s of slow) if (!s.destroyed) s.write("x");
            }, 100);
            for (const s of slow) {
              s.on("error", () => {});
              s.on("close", () => headerClosed++);
            }
            try {
              // Meanwhile a client that sends its request at once is served
              const t0 = performance.now();
              const good = await net.connect(`tcp:127.0.0.1:${p}`, { sw });
              await copyString("GET / HTTP/1.0\n", good);
              await good.shutdown("send");
              expect(await readAllText(good)).toBe("re: GET / HTTP/1.0\n");
              expect(performance.now() - t0).toBeLessThan(1000);
              await good.close();
              // Every slow client is closed by its header deadline
              await until(() => headerClosed === 12, "the slow clients closed", 3000);
            } finally {
              clearInterval(dripping);
              for (const s of slow) s.destroy();
              await Promise.all(slow.map(closed));
              stop.resolve();
            }
          },
        );
      }),
    );
    expect(served).toBe(1);
    expect(headerClosed).toBe(12);
  });
});

describe("graceful stop", () => {
  test("late clients after stop are refused at once; runServer returns stop's value once handlers finish", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw });
        const addr = l.listeningAddr;
        const stop = deferred<string>();
        const release = deferred<void>();
        let handled = 0;
        const [result] = await Fiber.pair(
          () =>
            runServer(
              l,
              async (flow) => {
                handled++;
                await release.promise;
                await copyString("bye", flow);
              },
              {
                onError: (e) => {
                  throw e;
                },
                stop: stop.promise,
              },
            ),
          async () => {
            const early = await net.connect(addr, { sw });
            await until(() => handled === 1, "the first handler runs");
            stop.resolve("done");
            await sleep(20);
            const t0 = performance.now();
            await expect(net.connect(addr, { sw })).rejects.toThrow(/Refused/);
            expect(performance.now() - t0).toBeLessThan(500);
            // The running handler goes on
            release.resolve();
            expect(await readAllText(early)).toBe("bye");
          },
        );
        expect(result).toBe("done");
        expect(handled).toBe(1);
      }),
    );
  });

  test("drainTimeout: handlers still running that long after stop are cancelled, not reported", async () => {
    const errors: unknown[] = [];
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw });
        const stop = deferred<number>();
        let started = 0;
        let cancelled = 0;
        const [result] = await Fiber.pair(
          () =>
            runServer(
              l,
              async (flow) => {
                started++;
                try {
                  await flow.readInto(new Uint8Array(8)); // an idle keep-alive client
                } catch (e) {
                  if (isCancelled(e)) cancelled++;
                  throw e;
                }
              },
              { onError: (e) => errors.push(e), stop: stop.promise, drainTimeout: 200 },
            ),
          async () => {
            const idle = await Promise.all(
              [1, 2, 3].map(() => net.connect(l.listeningAddr, { sw })),
            );
            await until(() => started === 3, "three handlers run");
            const t0 = performance.now();
            stop.resolve(42);
            for (const c of idle) expect(await readFails(c)).toBe("EndOfFile");
            const took = performance.now() - t0;
            expect(took).toBeGreaterThanOrEqual(190);
            expect(took).toBeLessThan(2000);
          },
        );
        expect(result).toBe(42);
        expect(cancelled).toBe(3);
      }),
    );
    expect(errors).toEqual([]);
  });
});

test("a client that resets mid-write ends its handler with ConnectionReset; the server goes on serving", async () => {
  const seen: string[] = [];
  await run(() =>
    Switch.run(async (sw) => {
      const l = await net.listen("tcp:127.0.0.1:0", { sw });
      const p = port(l.listeningAddr);
      const stop = deferred<void>();
      const big = new Uint8Array(1 << 20);
      await Fiber.both(
        () =>
          runServer(
            l,
            async (flow) => {
              const first = new Uint8Array(1);
              await flow.readInto(first);
              if (first[0] === 0x72 /* r */) {
                try {
                  for (let i = 0; i < 64; i++) await flow.write([big]);
                  seen.push("wrote everything");
                } catch (e) {
                  seen.push(kindOf(e));
                }
              } else await copyString("ok", flow);
            },
            {
              onError: (e) => seen.push(`onError ${kindOf(e)}`),
              idleTimeout: 5000,
              stop: stop.promise,
            },
          ),
        async () => {
          const resetter = await rawClient(p);
          resetter.on("error", () => {});
          resetter.write("r");
          // Read a little of the flood, then reset (RST: SO_LINGER 0)
          await new Promise<void>((resolve) => resetter.once("data", () => resolve()));
          resetter.resetAndDestroy();
          await closed(resetter);
          await until(() => seen.length === 1, "the writing handler ends");
          const c = await net.connect(`tcp:127.0.0.1:${p}`, { sw });
          await copyString("n", c);
          expect(await readAllText(c)).toBe("ok");
          await c.close();
          stop.resolve();
        },
      );
    }),
  );
  expect(seen).toEqual(["IoError ConnectionReset"]);
});
