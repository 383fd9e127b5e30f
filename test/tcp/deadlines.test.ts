/**
 * `Tcp.Server` and `Tcp.connect` deadlines on real sockets: `idleTimeout` (a normal end, not a
 * handler error), `headerTimeout` against slowloris with a small `maxConnections`, and
 * `close({ drainTimeout })`. Then the same idle deadline on the mock, on mock time, as a trace.
 */

import { connect as rawConnect, type Socket } from "node:net";
import { describe, expect, test } from "vitest";
import { native } from "../../src/backend-node/native.ts";
import { Fiber, IoError } from "../../src/core/index.ts";
import { runtimeHas, UnsupportedOnRuntime } from "../../src/core/runtime.ts";
import { Mock } from "../../src/mock/index.ts";
import { Net } from "../../src/net/index.ts";
import { run } from "../../src/run.ts";
import { Tcp } from "../../src/tcp/index.ts";
import { Unix } from "../../src/unix/index.ts";
import { transcript } from "../network/mock-support.ts";
import { deferred, until } from "./support.ts";

const local = (): ReturnType<typeof Tcp.WhereToListen.onPortChosenByOs> =>
  Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" });

function rawClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = rawConnect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.closed) resolve();
    else s.once("close", () => resolve());
  });
}

describe("Tcp.Server deadlines", () => {
  test("idleTimeout closes a silent client; the Timeout is a normal end, never onHandlerError", async () => {
    const errors: unknown[] = [];
    const ends: string[] = [];
    await run(async (env) => {
      const server = await Tcp.Server.create(
        local(),
        async (_addr, reader) => {
          try {
            await reader.readLine();
            ends.push("line");
          } catch (e) {
            ends.push(e instanceof IoError ? `${e.err.kind}` : String(e));
            throw e;
          }
        },
        { net: env.net, onHandlerError: { call: (_a, e) => errors.push(e) }, idleTimeout: 150 },
      );
      const silent = await rawClient(server.listeningOn);
      silent.on("data", () => {});
      await closed(silent);
      await until(() => server.numConnections === 0);
      await server.close();
    });
    expect(ends).toEqual(["Timeout"]);
    expect(errors).toEqual([]);
  });

  test("headerTimeout: 8 slow clients cannot keep a maxConnections: 1 server from answering", async () => {
    await run(async (env) => {
      const server = await Tcp.Server.create(
        local(),
        async (_addr, reader, writer) => {
          const line = await reader.readLine();
          writer.writeLine(`hello ${line}`);
        },
        {
          net: env.net,
          onHandlerError: "ignore",
          maxConnections: 1,
          headerTimeout: 300,
          headerBytes: 4,
        },
      );
      const slow = await Promise.all(
        Array.from({ length: 8 }, () => rawClient(server.listeningOn)),
      );
      for (const s of slow) s.write("x"); // one byte of the four, then nothing
      const t0 = performance.now();
      const reply = await Tcp.withConnection(
        Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn),
        async ({ reader, writer }) => {
          writer.writeLine("world");
          return await reader.readLine();
        },
        { net: env.net, idleTimeout: 2000 },
      );
      expect(reply).toBe("hello world");
      expect(performance.now() - t0).toBeLessThan(250); // before any header deadline passed
      await Promise.all(slow.map(closed)); // each closed by its header deadline
      await server.close();
    });
  });

  test("close({ drainTimeout }) refuses new clients at once and closes the connections left after it", async () => {
    await run(async (env) => {
      const started = deferred<void>();
      const server = await Tcp.Server.create(
        local(),
        async (_addr, reader) => {
          started.resolve();
          await reader.readLine(); // a keep-alive client that never sends
        },
        { net: env.net, onHandlerError: "raise" },
      );
      const port = server.listeningOn;
      const idle = await rawClient(port);
      await started.promise;
      const t0 = performance.now();
      await server.close({ drainTimeout: 200 });
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(190);
      expect(took).toBeLessThan(2000);
      expect(server.numConnections).toBe(0);
      await closed(idle);
      await expect(rawClient(port)).rejects.toThrow(/ECONNREFUSED/);
    });
  });
});

test("idleTimeout on the mock: a silent client is closed after 8 s of mock time, swept once a second", async () => {
  const r = await transcript(async () => {
    const socket = Mock.Net.listeningSocket("tcp/80");
    const [client, server] = Mock.Flow.pair({ labels: ["client", "server"] });
    Mock.Net.onAccept(socket, [
      { return: [server, "tcp:127.0.0.1:1234"] },
      { run: Fiber.awaitCancel },
    ]);
    const stop = deferred<string>();
    const seen: string[] = [];
    const result = await Fiber.pair(
      () =>
        Net.runServer(
          socket,
          async (f) => {
            await f.readInto(new Uint8Array(8)); // the client never writes
          },
          { onError: (e) => seen.push(String(e)), idleTimeout: 8000, stop: stop.promise },
        ),
      async () => {
        await client.readInto(new Uint8Array(8)).catch((e: unknown) => seen.push(String(e)));
        await client.close();
        stop.resolve("stopped");
      },
    );
    return [result[0], ...seen];
  });
  // The sweep runs every second of mock time (an eighth of 8 s, at most 1 s); it fires at 8000,
  // before the clock traces that time (the clock calls its `at` callbacks first)
  expect(r.trace).toMatchInlineSnapshot(`
    "tcp/80: accepted connection from tcp:127.0.0.1:1234
    mock time is now 1000
    mock time is now 2000
    mock time is now 3000
    mock time is now 4000
    mock time is now 5000
    mock time is now 6000
    mock time is now 7000
    server: idle timeout
    server: closed
    mock time is now 8000
    client: closed
    tcp/80: closed"
  `);
  expect(r.value).toMatchInlineSnapshot(`
    [
      "stopped",
      "IoError: Net Timeout idle: no byte moved either way in 8000 ms
      handling connection from tcp:127.0.0.1:1234",
      "EndOfFile: End of file",
    ]
  `);
});

test("headerTimeout on the mock: a client that sends 1 of 4 header bytes is closed at 8 s of mock time, without a slot; the next is served", async () => {
  const r = await transcript(async () => {
    const socket = Mock.Net.listeningSocket("tcp/80");
    const [slowC, slowS] = Mock.Flow.pair({ labels: ["slow", "slow-server"] });
    const [goodC, goodS] = Mock.Flow.pair({ labels: ["good", "good-server"] });
    Mock.Net.onAccept(socket, [
      { return: [slowS, "tcp:127.0.0.1:1001"] },
      { return: [goodS, "tcp:127.0.0.1:1002"] },
      { run: Fiber.awaitCancel },
    ]);
    const stop = deferred<string>();
    const bytes = (t: string): Uint8Array => new TextEncoder().encode(t);
    const result = await Fiber.pair(
      () =>
        Net.runServer(
          socket,
          async (f) => {
            const buf = new Uint8Array(4);
            await f.readInto(buf);
            await f.write([bytes("ok")]);
          },
          {
            onError: () => {},
            maxConnections: 1,
            headerTimeout: 8000,
            headerBytes: 4,
            stop: stop.promise,
          },
        ),
      async () => {
        await slowC.write([bytes("G")]);
        await goodC.write([bytes("GET ")]);
        await goodC.readInto(new Uint8Array(2));
        await slowC.readInto(new Uint8Array(2)).catch(() => {});
        await slowC.close();
        await goodC.close();
        stop.resolve("stopped");
      },
    );
    return result[0];
  });
  // The good client is served at once although maxConnections is 1: the slow one holds no slot
  expect(r.trace).toMatchInlineSnapshot(`
    "tcp/80: accepted connection from tcp:127.0.0.1:1001
    tcp/80: accepted connection from tcp:127.0.0.1:1002
    slow: wrote "G"
    good: wrote "GET "
    good-server: read "GET "
    good-server: wrote "ok"
    good-server: closed
    good: read "ok"
    mock time is now 1000
    mock time is now 2000
    mock time is now 3000
    mock time is now 4000
    mock time is now 5000
    mock time is now 6000
    mock time is now 7000
    slow-server: closed
    mock time is now 8000
    slow: closed
    good: closed
    tcp/80: closed"
  `);
  expect(r.value).toBe("stopped");
});

describe.runIf(process.platform === "linux")("Tcp keepAlive", () => {
  test("Tcp.Server.createSock({ keepAlive }) sets it on every connection (read back from the kernel); Tcp.connect passes it to net.connect", async () => {
    const seen: unknown[] = [];
    if (!runtimeHas("socket-fd")) {
      // Deno: interval and count are set through the socket's fd, which it hides
      await run(async (env) => {
        await expect(
          Tcp.Server.createSock(local(), async () => {}, {
            net: env.net,
            onHandlerError: "raise",
            keepAlive: { idle: 20_000, interval: 2_000, count: 5 },
          }),
        ).rejects.toThrow(UnsupportedOnRuntime);
      });
      return;
    }
    await run(async (env) => {
      const got = deferred<unknown>();
      const server = await Tcp.Server.createSock(
        local(),
        async (_addr, socket) => {
          const fd = Unix.fdOpt(socket);
          got.resolve(fd === undefined ? "no fd" : native.getKeepAlive?.(fd));
          await socket.readInto(new Uint8Array(1)).catch(() => {});
        },
        {
          net: env.net,
          onHandlerError: "raise",
          keepAlive: { idle: 20_000, interval: 2_000, count: 5 },
        },
      );
      const spy = new Proxy(env.net, {
        get(target, key, receiver) {
          if (key !== "connect") return Reflect.get(target, key, receiver);
          return (addr: unknown, opts: { keepAlive?: unknown }) => {
            seen.push(opts.keepAlive);
            return target.connect(addr as string, opts as never);
          };
        },
      });
      const conn = await Tcp.connectSock(
        Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn),
        { net: spy, keepAlive: { idle: 7_000 } },
      );
      expect(await got.promise).toEqual({ on: true, idleS: 20, intervalS: 2, count: 5 });
      await conn.close();
      await server.close({ closeExistingConnections: true });
      await expect(
        Tcp.connectSock(Tcp.WhereToConnect.hostAndPort("127.0.0.1", 1), {
          net: env.net,
          keepAlive: "yes" as never,
        }),
      ).rejects.toThrow(/keepAlive must be false or \{ idle, interval\?, count\? \}, got "yes"/);
    });
    expect(seen).toEqual([{ idle: 7_000 }]);
  });
});
