/**
 * `Net.runServer` on real sockets: the connection limit, graceful stop with clients in flight,
 * and cancellation closing every connection at once.
 */
import { describe, expect, test } from "vitest";
import {
  Cancel,
  Cancelled,
  type CancelScope,
  EndOfFile,
  Fiber,
  IoError,
  Switch,
} from "../../src/core/index.ts";
import { runServer } from "../../src/net/run-server.ts";
import type { StreamSocket } from "../../src/net/types.ts";
import { run } from "../../src/run.ts";
import { copyString, deferred, net, readAllText, request, sleep, until } from "./real-support.ts";

describe("runServer on real sockets", () => {
  test("maxConnections: exactly N handlers at once, while 10×N clients all get served", async () => {
    const N = 3;
    let active = 0;
    let most = 0;
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 10 * N });
        const stop = deferred<string>();
        const full = deferred<void>();
        const [result] = await Fiber.pair(
          () =>
            runServer(
              l,
              async (flow: StreamSocket) => {
                active++;
                most = Math.max(most, active);
                // The first N hold their slots until all N run at once: then the limit is full
                if (active === N) full.resolve();
                try {
                  await full.promise;
                  const msg = await readAllText(flow);
                  await copyString(`re: ${msg}`, flow);
                } finally {
                  active--;
                }
              },
              {
                maxConnections: N,
                onError: (e) => {
                  throw e;
                },
                stop: stop.promise,
              },
            ),
          async () => {
            const replies = await Promise.all(
              Array.from({ length: 10 * N }, async (_, i) => {
                const c = await net.connect(l.listeningAddr, { sw });
                const r = await request(c, `${i}`);
                await c.close();
                return r;
              }),
            );
            expect(replies).toEqual(Array.from({ length: 10 * N }, (_, i) => `re: ${i}`));
            stop.resolve("done");
          },
        );
        expect(result).toBe("done");
      }),
    );
    expect(most).toBe(N);
    expect(active).toBe(0);
  });

  test("graceful stop: no new connections, clients in flight finish, then stop's value", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 8 });
        const stop = deferred<string>();
        const gate = deferred<void>();
        let started = 0;
        const [result] = await Fiber.pair(
          () =>
            runServer(
              l,
              async (flow: StreamSocket) => {
                started++;
                const msg = await readAllText(flow);
                await gate.promise;
                await copyString(`bye ${msg}`, flow);
              },
              {
                onError: (e) => {
                  throw e;
                },
                stop: stop.promise,
              },
            ),
          async () => {
            const clients = await Promise.all(
              [0, 1, 2].map(async (i) => {
                const c = await net.connect(l.listeningAddr, { sw });
                await copyString(`${i}`, c);
                await c.shutdown("send");
                return c;
              }),
            );
            await until(() => started === 3, "the three handlers to start");
            stop.resolve("stopped");
            await sleep(10);
            // A late client is refused: the listener closed when stop resolved
            await expect(net.connect(l.listeningAddr, { sw })).rejects.toThrow(/Refused/);
            gate.resolve();
            const replies = await Promise.all(clients.map((c) => readAllText(c)));
            expect(replies).toEqual(["bye 0", "bye 1", "bye 2"]);
            expect(started).toBe(3);
          },
        );
        expect(result).toBe("stopped");
      }),
    );
  });

  test("cancelling the server closes every connection at once", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 8 });
        let started = 0;
        let scope: CancelScope | undefined;
        let outcome: unknown;
        await Fiber.both(
          async () => {
            outcome = await Cancel.sub((s) => {
              scope = s;
              return runServer(
                l,
                async () => {
                  started++;
                  await Fiber.awaitCancel();
                },
                { onError: (e) => void e },
              );
            }).catch((e: unknown) => e);
          },
          async () => {
            const clients = await Promise.all(
              [0, 1, 2, 3].map(() => net.connect(l.listeningAddr, { sw })),
            );
            await until(() => started === 4, "the four handlers to start");
            scope?.cancel(new Error("shut down now"));
            const ends = await Promise.all(
              clients.map((c) => c.readInto(new Uint8Array(1)).catch((e: unknown) => e)),
            );
            for (const e of ends) {
              const ended =
                e instanceof EndOfFile ||
                (e instanceof IoError && e.err.kind === "ConnectionReset");
              expect(ended).toBe(true);
            }
          },
        );
        expect(outcome).toBeInstanceOf(Cancelled);
      }),
    );
  });
});
