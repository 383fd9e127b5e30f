/**
 * `Tcp.connectSock`, `Tcp.connect`, `Tcp.withConnection` on real sockets (127.0.0.1 and Unix
 * paths): every option and every error path.
 */
import { Buffer } from "node:buffer";
import { describe, expect, test } from "vitest";
import {
  Cancel,
  Cancelled,
  currentFiber,
  Fiber,
  type FiberContext,
  IoError,
  monoClock,
  runInFiber,
  Switch,
  suppressedErrors,
} from "../../src/core/index.ts";
import { Sockaddr, type TcpAddr } from "../../src/net/sockaddr.ts";
import { run } from "../../src/run.ts";
import {
  ConnectionAttemptAborted,
  ConnectionAttemptTimeout,
  Tcp,
  type TcpServer,
  WriterBufferAgeExceeded,
} from "../../src/tcp/index.ts";
import { deferred, HangingListener, SpyNet, tmpSockPath } from "./support.ts";

type Env = Parameters<Parameters<typeof run>[0]>[0];

/** An echo-lines server on 127.0.0.1 (or a Unix path), run for the duration of `fn`. */
async function withEchoServer<T>(
  env: Env,
  fn: (server: TcpServer) => Promise<T>,
  where: Parameters<typeof Tcp.Server.create>[0] = Tcp.WhereToListen.onPortChosenByOs({
    host: "127.0.0.1",
  }),
): Promise<T> {
  const server = await Tcp.Server.create(
    where,
    async (addr, reader, writer) => {
      for await (const line of reader.lines()) {
        writer.writeLine(line === "who" ? Sockaddr.format(addr) : line);
      }
    },
    { net: env.net, onHandlerError: "raise" },
  );
  try {
    return await fn(server as TcpServer);
  } finally {
    await server.close({ closeExistingConnections: true });
  }
}

const portOf = (s: TcpServer): number => s.listeningOn as number;

/** A TCP port nothing listens on. */
async function closedPort(env: Env): Promise<number> {
  return await Switch.run(async (sw) => {
    const l = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
    const port = (l.listeningAddr as TcpAddr).port;
    await l.close();
    return port;
  });
}

/** Connection attempts to `hl` until one hangs (the first may be queued and succeed). */
async function hangingAttempt(
  env: Env,
  hl: HangingListener,
  opts: Parameters<typeof Tcp.connectSock>[1],
): Promise<unknown> {
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    for (let i = 0; i < 4; i++) {
      try {
        opened.push(
          await Tcp.connectSock(Tcp.WhereToConnect.inetAddress(hl.addr), { net: env.net, ...opts }),
        );
      } catch (e) {
        return e;
      }
    }
    throw new Error("no connection attempt hung");
  } finally {
    for (const s of opened) await s.close();
  }
}

describe("Tcp.connect()", () => {
  test("returns the socket, a reader and a writer; closing the writer then the reader closes all", async () => {
    await run(async (env) => {
      await withEchoServer(env, async (server) => {
        const where = Tcp.WhereToConnect.hostAndPort("127.0.0.1", portOf(server));
        const { socket, reader, writer } = await Tcp.connect(where, { net: env.net });
        expect(Sockaddr.format(socket.peerAddr)).toBe(`tcp:127.0.0.1:${portOf(server)}`);
        writer.writeLine("hello");
        expect(await reader.readLine()).toBe("hello");
        await writer.close();
        await reader.close();
        await expect(reader.readLine()).rejects.toMatchObject({ err: { kind: "Closed" } });
      });
    });
  });

  test("closing the socket closes the reader and writer's connection", async () => {
    await run(async (env) => {
      await withEchoServer(env, async (server) => {
        const where = Tcp.WhereToConnect.inetAddress(`tcp:127.0.0.1:${portOf(server)}`);
        const { socket, reader, writer } = await Tcp.connect(where, { net: env.net });
        writer.writeLine("x");
        expect(await reader.readLine()).toBe("x");
        const p = socket.close();
        expect(socket.close()).toBe(p);
        await p;
        expect(() => writer.write("y")).not.toThrow(); // buffered; the flush fails
        await expect(writer.flushed()).rejects.toBeInstanceOf(IoError);
      });
    });
  });

  test("with sw, the connection belongs to the switch", async () => {
    await run(async (env) => {
      await withEchoServer(env, async (server) => {
        let sock: import("../../src/net/types.ts").StreamSocket | undefined;
        await Switch.run(async (sw) => {
          const c = await Tcp.connect(Tcp.WhereToConnect.hostAndPort("127.0.0.1", portOf(server)), {
            net: env.net,
            sw,
          });
          sock = c.socket;
          c.writer.writeLine("in a switch");
          expect(await c.reader.readLine()).toBe("in a switch");
        });
        await expect(sock?.readInto(new Uint8Array(1))).rejects.toMatchObject({
          err: { kind: "Closed" },
        });
      });
    });
  });

  test("connects to a Unix socket with WhereToConnect.file and .unixAddress", async () => {
    await run(async (env) => {
      const path = tmpSockPath("client");
      await withEchoServer(
        env,
        async () => {
          for (const where of [
            Tcp.WhereToConnect.file(path),
            Tcp.WhereToConnect.unixAddress(`unix:${path}`),
          ]) {
            const r = await Tcp.withConnection(
              where,
              async ({ reader, writer }) => {
                writer.writeLine("over unix");
                return await reader.readLine();
              },
              { net: env.net },
            );
            expect(r).toBe("over unix");
          }
        },
        Tcp.WhereToListen.onFile(path),
      );
    });
  });

  test("hostAndPort resolves a name and tries each address", async () => {
    await run(async (env) => {
      await withEchoServer(env, async (server) => {
        const r = await Tcp.withConnection(
          Tcp.WhereToConnect.hostAndPort("localhost", portOf(server)),
          async ({ reader, writer }) => {
            writer.writeLine("by name");
            return await reader.readLine();
          },
          { net: env.net },
        );
        expect(r).toBe("by name");
      });
    });
  });

  // Linux routes all of 127.0.0.0/8 to the loopback interface; macOS only 127.0.0.1
  test.skipIf(process.platform !== "linux")(
    "viaLocalInterface binds the local end before connecting",
    async () => {
      await run(async (env) => {
        await withEchoServer(env, async (server) => {
          for (const where of [
            Tcp.WhereToConnect.hostAndPort("127.0.0.1", portOf(server), {
              viaLocalInterface: "127.0.0.2",
            }),
            Tcp.WhereToConnect.inetAddress(`tcp:127.0.0.1:${portOf(server)}`, {
              viaLocalInterface: "127.0.0.2",
            }),
          ]) {
            const peer = await Tcp.withConnection(
              where,
              async ({ socket, reader, writer }) => {
                expect((socket.localAddr as TcpAddr).host.toString()).toBe("127.0.0.2");
                writer.writeLine("who");
                return await reader.readLine();
              },
              { net: env.net },
            );
            expect(peer).toMatch(/^tcp:127\.0\.0\.2:\d+$/);
          }
        });
      });
    },
  );

  test("sets TCP_NODELAY on the connection", async () => {
    await run(async (env) => {
      await withEchoServer(env, async (server) => {
        const spy = new SpyNet(env.net);
        await Tcp.withConnection(
          Tcp.WhereToConnect.hostAndPort("127.0.0.1", portOf(server)),
          async () => {},
          { net: spy },
        );
        expect(spy.record.noDelay).toEqual([true]);
      });
    });
  });
});

describe("Tcp.connectSock()", () => {
  test("returns a socket the caller owns", async () => {
    await run(async (env) => {
      await withEchoServer(env, async (server) => {
        const sock = await Tcp.connectSock(
          Tcp.WhereToConnect.hostAndPort("127.0.0.1", portOf(server)),
          { net: env.net },
        );
        await sock.write([Buffer.from("raw\n")]);
        const buf = new Uint8Array(10);
        const n = await sock.readInto(buf);
        expect(Buffer.from(buf.subarray(0, n)).toString()).toBe("raw\n");
        await sock.close();
      });
    });
  });

  test("a refused connection is an IoError with both context lines", async () => {
    await run(async (env) => {
      const port = await closedPort(env);
      const e = await Tcp.connectSock(Tcp.WhereToConnect.hostAndPort("127.0.0.1", port), {
        net: env.net,
      }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(IoError);
      expect((e as IoError).err).toMatchObject({ kind: "ConnectionFailure", reason: "Refused" });
      expect((e as IoError).context).toEqual([
        `connecting to tcp:127.0.0.1:${port}`,
        `connecting to "127.0.0.1":${port}`,
      ]);
    });
  });

  test("NoMatchingAddresses when no address has viaLocalInterface's family", async () => {
    await run(async (env) => {
      const e = await Tcp.connectSock(
        Tcp.WhereToConnect.hostAndPort("127.0.0.1", 80, { viaLocalInterface: "::1" }),
        { net: env.net },
      ).catch((x: unknown) => x);
      expect((e as IoError).err).toMatchObject({
        kind: "ConnectionFailure",
        reason: "NoMatchingAddresses",
      });
      expect((e as IoError).message).toBe(
        'Net ConnectionFailure NoMatchingAddresses\n  connecting to "127.0.0.1":80',
      );
    });
  });

  // A full accept queue drops SYNs on Linux (the attempt hangs); other systems may refuse
  test.skipIf(process.platform !== "linux")(
    "timeout: the attempt fails with 'connection attempt timeout' and the socket is closed",
    async () => {
      await run(async (env) => {
        const hl = new HangingListener();
        try {
          const t0 = performance.now();
          const e = await hangingAttempt(env, hl, { timeout: 150 });
          expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
          expect(e).toBeInstanceOf(ConnectionAttemptTimeout);
          expect(e).toBeInstanceOf(IoError);
          expect((e as IoError).err).toMatchObject({
            kind: "ConnectionFailure",
            reason: "Timeout",
          });
          expect((e as Error).message).toBe(
            `Net ConnectionFailure Timeout: connection attempt timeout after 150 ms\n  connecting to ${hl.addr}`,
          );
        } finally {
          hl.close();
        }
      });
    },
  );

  test("the default timeout is 30 000 ms", async () => {
    expect(Tcp.connectSock.length).toBe(2);
    const { DEFAULT_CONNECT_TIMEOUT } = await import("../../src/tcp/index.ts");
    expect(DEFAULT_CONNECT_TIMEOUT).toBe(30_000);
    // ...and it is the one used: the attempt's timer sleeps that long
    await run(async (env) => {
      const spy = new SpyNet(env.net);
      spy.hangConnect = true;
      const sleeps: number[] = [];
      const clock = {
        now: () => monoClock.now(),
        sleep: (ms: number) => {
          sleeps.push(ms);
          return Promise.reject(new Error("stop here"));
        },
        sleepUntil: () => Promise.resolve(),
      };
      await expect(
        Tcp.connectSock(Tcp.WhereToConnect.inetAddress("tcp:127.0.0.1:9"), { net: spy, clock }),
      ).rejects.toThrow("stop here");
      expect(sleeps).toEqual([30_000]);
    });
  });

  test.skipIf(process.platform !== "linux")(
    "interrupt (AbortSignal): 'connection attempt aborted', the socket closed",
    async () => {
      await run(async (env) => {
        const hl = new HangingListener();
        try {
          const ac = new AbortController();
          const reason = new Error("user gave up");
          setTimeout(() => ac.abort(reason), 30);
          const e = await hangingAttempt(env, hl, { interrupt: ac.signal });
          expect(e).toBeInstanceOf(ConnectionAttemptAborted);
          expect((e as Error).message).toBe(
            `connection attempt aborted\n  connecting to ${hl.addr}`,
          );
          expect((e as Error).cause).toBe(reason);
        } finally {
          hl.close();
        }
      });
    },
  );

  test("interrupt (a promise) aborts the attempt when it settles", async () => {
    await run(async (env) => {
      const spy = new SpyNet(env.net);
      spy.hangConnect = true;
      const d = deferred<string>();
      setTimeout(() => d.resolve("enough"), 20);
      const e = await Tcp.connectSock(Tcp.WhereToConnect.inetAddress("tcp:127.0.0.1:9"), {
        net: spy,
        interrupt: d.promise,
      }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ConnectionAttemptAborted);
      expect((e as Error).cause).toBe("enough");
    });
  });

  test("an interrupt already aborted stops the attempt before it starts", async () => {
    await run(async (env) => {
      const spy = new SpyNet(env.net);
      await expect(
        Tcp.connectSock(Tcp.WhereToConnect.inetAddress("tcp:127.0.0.1:9"), {
          net: spy,
          interrupt: AbortSignal.abort(),
        }),
      ).rejects.toBeInstanceOf(ConnectionAttemptAborted);
      expect(spy.record.connects).toEqual([]);
    });
  });

  test("cancelling the calling fiber cancels the attempt", async () => {
    await run(async (env) => {
      const spy = new SpyNet(env.net);
      spy.hangConnect = true;
      await expect(
        Cancel.sub(async (scope) => {
          setTimeout(() => scope.cancel(new Error("bye")), 10);
          return await Tcp.connectSock(Tcp.WhereToConnect.inetAddress("tcp:127.0.0.1:9"), {
            net: spy,
          });
        }),
      ).rejects.toBeInstanceOf(Cancelled);
    });
  });

  test("checks its arguments, naming them", async () => {
    await run(async (env) => {
      const where = Tcp.WhereToConnect.inetAddress("tcp:127.0.0.1:9");
      const net = env.net;
      await expect(Tcp.connectSock(where, { net, timeout: -5 })).rejects.toThrow(
        "timeout must be a number of ms >= 0, got -5",
      );
      await expect(
        Tcp.connectSock(where, { net, interrupt: 5 as unknown as AbortSignal }),
      ).rejects.toThrow("interrupt must be an AbortSignal or a promise, got number");
      await expect(Tcp.connect(where, { net, readerBufferSize: 0 })).rejects.toThrow(
        "readerBufferSize must be an integer > 0, got 0",
      );
      await expect(Tcp.connect(where, { net, bufferAgeLimit: { atMost: -1 } })).rejects.toThrow(
        "bufferAgeLimit.atMost must be a number of ms > 0, got -1",
      );
      await expect(Tcp.connectSock({} as never, { net })).rejects.toThrow(
        /where must be a Tcp.WhereToConnect/,
      );
    });
    expect(() => Tcp.WhereToConnect.hostAndPort("", 80)).toThrow(
      'host must be a non-empty string, got ""',
    );
    expect(() => Tcp.WhereToConnect.hostAndPort("h", 70000)).toThrow(
      "port must be an integer in 0..65535, got 70000",
    );
    expect(() => Tcp.WhereToConnect.inetAddress("unix:/x")).toThrow(
      'address must be a tcp: address, got "unix:/x"',
    );
    expect(() => Tcp.WhereToConnect.unixAddress("tcp:1.2.3.4:5")).toThrow(TypeError);
    expect(() => Tcp.WhereToConnect.hostAndPort("h", 1, { viaLocalInterface: "nope" })).toThrow(
      'invalid IP address "nope"',
    );
  });

  test("outside run() and without a net option, uses the real network", async () => {
    await expect(
      Tcp.connectSock(Tcp.WhereToConnect.inetAddress("tcp:127.0.0.1:9")),
    ).rejects.toMatchObject({ err: { kind: "ConnectionFailure", reason: "Refused" } });
  });

  test("takes its net from the running env when the fiber context carries one", async () => {
    await run(async (env) => {
      await withEchoServer(env, async (server) => {
        const ctx: FiberContext = Object.assign({}, currentFiber(), { env });
        const r = await runInFiber(ctx, () =>
          Tcp.withConnection(
            Tcp.WhereToConnect.hostAndPort("127.0.0.1", portOf(server)),
            async ({ reader, writer }) => {
              writer.writeLine("ambient");
              return await reader.readLine();
            },
          ),
        );
        expect(r).toBe("ambient");
      });
    });
  });
});

describe("Tcp.withConnection()", () => {
  test("returns fn's result; the writer is flushed before the socket closes", async () => {
    await run(async (env) => {
      const got = deferred<string>();
      const server = await Tcp.Server.create(
        Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" }),
        async (_addr, reader) => {
          got.resolve(await reader.contents());
        },
        { net: env.net, onHandlerError: "raise" },
      );
      const big = "z".repeat(300_000);
      const r = await Tcp.withConnection(
        Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn),
        async ({ writer }) => {
          writer.write(big);
          writer.write("end");
          return 42;
        },
        { net: env.net },
      );
      expect(r).toBe(42);
      expect(await got.promise).toBe(`${big}end`);
      await server.close({ closeExistingConnections: true });
    });
  });

  test("fn's error is thrown, after the connection is closed", async () => {
    await run(async (env) => {
      await withEchoServer(env, async (server) => {
        const boom = new Error("boom");
        let sock: import("../../src/net/types.ts").StreamSocket | undefined;
        await expect(
          Tcp.withConnection(
            Tcp.WhereToConnect.hostAndPort("127.0.0.1", portOf(server)),
            async ({ socket, writer }) => {
              sock = socket;
              writer.write("pending");
              throw boom;
            },
            { net: env.net },
          ),
        ).rejects.toBe(boom);
        await expect(sock?.write([Buffer.from("x")])).rejects.toMatchObject({
          err: { kind: "Closed" },
        });
      });
    });
  });

  test("bufferAgeLimit: a server that never reads makes the writer fail and fn is cancelled", async () => {
    await run(async (env) => {
      const server = await Tcp.Server.createSock(
        Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" }),
        async () => {
          await Fiber.awaitCancel(); // never reads (until closed)
        },
        { net: env.net, onHandlerError: "ignore" },
      );
      try {
        let cancelled = false;
        const e = await Tcp.withConnection(
          Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn),
          async ({ writer }) => {
            const chunk = Buffer.alloc(1 << 20);
            for (let i = 0; i < 64; i++) writer.schedule(chunk);
            try {
              await monoClock.sleep(10_000);
            } catch (x) {
              cancelled = x instanceof Cancelled;
              throw x;
            }
          },
          { net: env.net, bufferAgeLimit: { atMost: 100 }, writerMaxBuffered: 128 << 20 },
        ).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(WriterBufferAgeExceeded);
        expect((e as Error).message).toMatch(
          /^writer buffer has data older than 100ms \(\d+ bytes unflushed for \d+ms, writing to tcp:127\.0\.0\.1:\d+\)$/,
        );
        expect(cancelled).toBe(true);
      } finally {
        await server.close({ closeExistingConnections: true });
      }
    });
  });

  test("fn's own error wins over the writer's failure, which is kept on it", async () => {
    await run(async (env) => {
      const server = await Tcp.Server.createSock(
        Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" }),
        async () => {
          await Fiber.awaitCancel();
        },
        { net: env.net, onHandlerError: "ignore" },
      );
      try {
        const mine = new Error("mine");
        const e = await Tcp.withConnection(
          Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn),
          async ({ writer }) => {
            const chunk = Buffer.alloc(1 << 20);
            for (let i = 0; i < 64; i++) writer.schedule(chunk);
            try {
              await writer.flushed();
            } catch {
              throw mine;
            }
          },
          { net: env.net, bufferAgeLimit: { atMost: 100 }, writerMaxBuffered: 128 << 20 },
        ).catch((x: unknown) => x);
        expect(e).toBe(mine);
        expect(suppressedErrors(e).some((x) => x instanceof WriterBufferAgeExceeded)).toBe(true);
      } finally {
        await server.close({ closeExistingConnections: true });
      }
    });
  });

  test("takes every connect option (timeout, interrupt, readerBufferSize)", async () => {
    await run(async (env) => {
      await withEchoServer(env, async (server) => {
        const ac = new AbortController();
        const r = await Tcp.withConnection(
          Tcp.WhereToConnect.hostAndPort("127.0.0.1", portOf(server)),
          async ({ reader, writer }) => {
            ac.abort(); // after the connection: no effect
            writer.writeLine("opts");
            return await reader.readLine();
          },
          { net: env.net, timeout: 1000, interrupt: ac.signal, readerBufferSize: 1 },
        );
        expect(r).toBe("opts");
      });
    });
  });

  test("fn must be a function", async () => {
    await expect(
      Tcp.withConnection(
        Tcp.WhereToConnect.inetAddress("tcp:127.0.0.1:9"),
        5 as unknown as () => void,
      ),
    ).rejects.toThrow("fn must be a function, got number");
  });
});
