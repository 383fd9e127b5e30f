/**
 * Metrics on real sockets: `Net.runServer`'s `weir:connection:*` events with the bytes the
 * kernel moved and real durations, `Net.serverStats` while connections are open and after,
 * deadlines (idle, header), handler errors, and `net.connect` attempts (connected, refused).
 */
import { connect as rawConnect, type Socket } from "node:net";
import { describe, expect, test } from "vitest";
import { Fiber, Switch } from "../../src/core/index.ts";
import { Net } from "../../src/net/index.ts";
import type { StreamAddr } from "../../src/net/sockaddr.ts";
import type { ListeningSocket } from "../../src/net/types.ts";
import { run } from "../../src/run.ts";
import { type Recorded, recordMetrics } from "../helpers/metrics.ts";
import { certs } from "../tls/support.ts";
import { copyString, deferred, echo, fmt, net, readAllText, until } from "./real-support.ts";

function port(a: StreamAddr): number {
  if (a.type !== "tcp") throw new Error("not tcp");
  return a.port;
}

/** A raw Node client that connects and stays silent; resolves once it is closed. */
async function silentClient(p: number): Promise<void> {
  const s: Socket = await new Promise((resolve, reject) => {
    const c = rawConnect({ host: "127.0.0.1", port: p }, () => resolve(c));
    c.on("error", reject);
  });
  s.on("data", () => {});
  s.on("error", () => {});
  await new Promise<void>((resolve) => (s.closed ? resolve() : s.once("close", () => resolve())));
}

type MsgOf<C extends Recorded["channel"]> = Extract<Recorded, { channel: C }>["msg"];

/** The messages of one channel. */
function on<C extends Recorded["channel"]>(messages: Recorded[], channel: C): MsgOf<C>[] {
  return messages.filter((m) => m.channel === channel).map((m) => m.msg as unknown as MsgOf<C>);
}

describe("Net.runServer metrics on 127.0.0.1", () => {
  test("an echoed connection: open, then close with the bytes each way and its duration; stats count them", async () => {
    const data = "x".repeat(10_000);
    const { value, messages } = await recordMetrics(() =>
      run(() =>
        Switch.run(async (sw) => {
          const l = await net.listen("tcp:127.0.0.1:0", { sw });
          const stop = deferred();
          let reply = "";
          let during = Net.serverStats(l);
          await Fiber.both(
            () => Net.runServer(l, echo, { onError: (e) => sw.fail(e), stop: stop.promise }),
            async () => {
              const c = await net.connect(l.listeningAddr, { sw });
              await copyString(data, c);
              await until(() => Net.serverStats(l).bytesOut === data.length, "the echo");
              during = Net.serverStats(l);
              await c.shutdown("send");
              reply = await readAllText(c);
              await c.close();
              await until(() => Net.serverStats(l).closed === 1, "the server's close");
              stop.resolve();
            },
          );
          return { reply, during, after: Net.serverStats(l), server: l.listeningAddr };
        }),
      ),
    );
    expect(value.reply).toBe(data);
    expect(value.during).toMatchObject({ open: 1, accepted: 1, closed: 0 });
    expect(value.during.bytesIn).toBe(data.length);
    expect(value.after).toEqual({
      open: 0,
      waiting: 0,
      accepted: 1,
      closed: 1,
      refused: 0,
      limitReached: 0,
      timedOut: 0,
      errors: 0,
      bytesIn: data.length,
      bytesOut: data.length,
    });
    const [open] = on(messages, "weir:connection:open");
    const [close] = on(messages, "weir:connection:close");
    expect(open?.server).toEqual(value.server);
    expect(close).toMatchObject({
      id: open?.id,
      outcome: "ok",
      bytesIn: data.length,
      bytesOut: data.length,
    });
    expect(close?.durationMs).toBeGreaterThan(0);
    expect(close?.durationMs).toBeLessThan(5000);
    expect(on(messages, "weir:connect:attempt").map((m) => [fmt(m.addr), m.outcome])).toEqual([
      [fmt(value.server), "connected"],
    ]);
  });

  test("a silent client past idleTimeout and another past headerTimeout: timeout events, closes with outcome timeout, counted as timed out", async () => {
    const { value, messages } = await recordMetrics(() =>
      run(() =>
        Switch.run(async (sw) => {
          const serve = async (opts: { idleTimeout?: number; headerTimeout?: number }) => {
            const l = await net.listen("tcp:127.0.0.1:0", { sw });
            const stop = deferred();
            await Fiber.both(
              () =>
                Net.runServer(l, echo, {
                  onError: () => {}, // the idle Timeout reaches onError: not what is tested here
                  stop: stop.promise,
                  ...opts,
                }),
              async () => {
                await silentClient(port(l.listeningAddr));
                await until(() => Net.serverStats(l).closed === 1, "the server's close");
                stop.resolve();
              },
            );
            return Net.serverStats(l);
          };
          return [await serve({ idleTimeout: 100 }), await serve({ headerTimeout: 100 })];
        }),
      ),
    );
    for (const stats of value) {
      expect(stats).toMatchObject({ accepted: 1, closed: 1, timedOut: 1, errors: 0, open: 0 });
    }
    expect(on(messages, "weir:connection:timeout").map((m) => [m.during, m.ms])).toEqual([
      ["idle", 100],
      ["header", 100],
    ]);
    expect(on(messages, "weir:connection:close").map((m) => [m.outcome, m.timeout])).toEqual([
      ["timeout", "idle"],
      ["timeout", "header"],
    ]);
  });

  test("a handler that throws: weir:server:error with the peer, a close with outcome error, one error counted", async () => {
    let l: ListeningSocket | undefined;
    const { value, messages } = await recordMetrics(() =>
      run(() =>
        Switch.run(async (sw) => {
          l = await net.listen("tcp:127.0.0.1:0", { sw });
          const listener = l;
          const stop = deferred();
          let clientAddr: StreamAddr | undefined;
          await Fiber.both(
            () =>
              Net.runServer(
                listener,
                () => {
                  throw new Error("handler failed");
                },
                { onError: () => {}, stop: stop.promise },
              ),
            async () => {
              const c = await net.connect(listener.listeningAddr, { sw });
              clientAddr = c.localAddr;
              await until(() => Net.serverStats(listener).closed === 1, "the server's close");
              await c.close();
              stop.resolve();
            },
          );
          return clientAddr;
        }),
      ),
    );
    expect(Net.serverStats(l as ListeningSocket)).toMatchObject({ errors: 1, closed: 1 });
    const [error] = on(messages, "weir:server:error");
    expect(error?.during).toBe("handler");
    expect(error?.peer).toEqual(value);
    expect(String(error?.error)).toContain("handler failed");
    expect(on(messages, "weir:connection:close").map((m) => m.outcome)).toEqual(["error"]);
  });

  test("behind a load balancer (PROXY v1): the close names the client of the header, and counts the header's bytes", async () => {
    const header = "PROXY TCP4 192.0.2.9 127.0.0.1 40000 80\r\n";
    const { value, messages } = await recordMetrics(() =>
      run(() =>
        Switch.run(async (sw) => {
          const l = await net.listen("tcp:127.0.0.1:0", { sw, proxyProtocol: "v1" });
          const stop = deferred();
          let reply = "";
          await Fiber.both(
            () => Net.runServer(l, echo, { onError: (e) => sw.fail(e), stop: stop.promise }),
            async () => {
              const c = await net.connect(l.listeningAddr, { sw });
              await copyString(`${header}hello`, c);
              await c.shutdown("send");
              reply = await readAllText(c);
              await c.close();
              await until(() => Net.serverStats(l).closed === 1, "the server's close");
              stop.resolve();
            },
          );
          return { reply, stats: Net.serverStats(l) };
        }),
      ),
    );
    expect(value.reply).toBe("hello");
    expect(value.stats).toMatchObject({ bytesIn: header.length + 5, bytesOut: 5 });
    const [close] = on(messages, "weir:connection:close");
    expect(close && fmt(close.peer)).toBe("tcp:192.0.2.9:40000");
    expect(close).toMatchObject({ outcome: "ok", bytesIn: header.length + 5, bytesOut: 5 });
  });

  test("over TLS: the bytes are the application's (the decrypted text, not the records), counted in the stats", async () => {
    const { value, messages } = await recordMetrics(() =>
      run(() =>
        Switch.run(async (sw) => {
          const l = await net.listen("tcp:127.0.0.1:0", { sw, tls: certs.server });
          const stop = deferred();
          let reply = "";
          await Fiber.both(
            () => Net.runServer(l, echo, { onError: (e) => sw.fail(e), stop: stop.promise }),
            async () => {
              const c = await net.connect(l.listeningAddr, {
                sw,
                tls: { ca: certs.ca, serverName: "localhost" },
              });
              await copyString("hello", c);
              await c.shutdown("send");
              reply = await readAllText(c);
              await c.close();
              await until(() => Net.serverStats(l).closed === 1, "the server's close");
              stop.resolve();
            },
          );
          return { reply, stats: Net.serverStats(l) };
        }),
      ),
    );
    expect(value.reply).toBe("hello");
    const [close] = on(messages, "weir:connection:close");
    expect(close?.outcome).toBe("ok");
    expect(close).toMatchObject({ bytesIn: 5, bytesOut: 5 });
    expect(value.stats).toMatchObject({ bytesIn: 5, bytesOut: 5 });
  });

  test("a client's idleTimeout: weir:connection:timeout with the client's addresses", async () => {
    const { value, messages } = await recordMetrics(() =>
      run(() =>
        Switch.run(async (sw) => {
          const l = await net.listen("tcp:127.0.0.1:0", { sw });
          const [c, [s]] = await Fiber.pair(
            () => net.connect(l.listeningAddr, { sw, idleTimeout: 100 }),
            () => l.accept({ sw }),
          );
          await expect(c.readInto(new Uint8Array(4))).rejects.toThrow(/Timeout idle/);
          await s.close();
          return { local: c.localAddr, peer: c.peerAddr, idle: c.idleTimedOut };
        }),
      ),
    );
    expect(value.idle).toBe(true);
    expect(on(messages, "weir:connection:timeout")).toEqual([
      { during: "idle", ms: 100, local: value.local, peer: value.peer },
    ]);
  });

  test("net.connect to a closed port: a failed attempt carrying the Refused error", async () => {
    const { messages } = await recordMetrics(() =>
      run(() =>
        Switch.run(async (sw) => {
          const l = await net.listen("tcp:127.0.0.1:0", { sw });
          const addr = l.listeningAddr;
          await l.close();
          await expect(net.connect(addr, { sw })).rejects.toThrow(/Refused/);
        }),
      ),
    );
    const attempts = on(messages, "weir:connect:attempt");
    expect(attempts.map((m) => m.outcome)).toEqual(["failed"]);
    expect(String(attempts[0]?.error)).toMatch(/ConnectionFailure Refused/);
  });
});
