/**
 * `Tcp.Server` on real sockets (127.0.0.1 and Unix paths): every option, every error path,
 * the connection limit under 10× the load, and leak checks after closing everything.
 */
import { Buffer } from "node:buffer";
import { existsSync } from "node:fs";
import type { Socket } from "node:net";
import { describe, expect, test } from "vitest";
import { NodeStreamSocket } from "../../src/backend-node/stream-socket.ts";
import { Fiber, IoError, monoClock, Switch } from "../../src/core/index.ts";
import { Sockaddr, type TcpAddr } from "../../src/net/sockaddr.ts";
import type { StreamSocket } from "../../src/net/types.ts";
import { run } from "../../src/run.ts";
import { Tcp, type TcpServer, WriterBufferAgeExceeded } from "../../src/tcp/index.ts";
import { deferred, SpyNet, tick, tmpSockPath, until, WrappedListener } from "./support.ts";

type Env = Parameters<Parameters<typeof run>[0]>[0];

const local = (): ReturnType<typeof Tcp.WhereToListen.onPortChosenByOs> =>
  Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" });

/** Sends `line` and returns the reply line (or null). */
function ask(env: Env, port: number, line: string): Promise<string | null> {
  return Tcp.withConnection(
    Tcp.WhereToConnect.hostAndPort("127.0.0.1", port),
    async ({ reader, writer }) => {
      writer.writeLine(line);
      return await reader.readLine();
    },
    { net: env.net },
  );
}

/** A handler that answers each line with the line upper-cased. */
async function shout(
  _addr: unknown,
  reader: InstanceType<typeof Tcp.Reader>,
  writer: InstanceType<typeof Tcp.Writer>,
): Promise<void> {
  for await (const line of reader.lines()) writer.writeLine(line.toUpperCase());
}

function rawOf(s: StreamSocket): Socket {
  return NodeStreamSocket.raw(s as NodeStreamSocket);
}

describe("Tcp.Server.create()", () => {
  test("serves each connection with a reader and a writer, on a port the OS chose", async () => {
    await run(async (env) => {
      await using server = await Tcp.Server.create(local(), shout, {
        net: env.net,
        onHandlerError: "raise",
      });
      const port = server.listeningOn;
      expect(port).toBeGreaterThan(0);
      expect(Sockaddr.format(server.listeningOnAddress)).toBe(`tcp:127.0.0.1:${port}`);
      expect(await ask(env, port, "hello")).toBe("HELLO");
      expect(await ask(env, port, "again")).toBe("AGAIN");
      await until(() => server.numConnections === 0);
      server.invariant();
      expect(server.toJSON()).toEqual({
        listeningOn: port,
        listeningOnAddress: `tcp:127.0.0.1:${port}`,
        state: "listening",
        numConnections: 0,
        maxConnections: server.maxConnections,
        maxAcceptsPerBatch: 1,
        dropIncomingConnections: false,
      });
      expect(String(server)).toBe(`Tcp.Server(tcp:127.0.0.1:${port}, listening, 0 connections)`);
    });
  });

  test("the handler gets the peer's address; onPort() listens on every address", async () => {
    await run(async (env) => {
      const free = await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
        const p = (l.listeningAddr as TcpAddr).port;
        await l.close();
        return p;
      });
      const peers: string[] = [];
      await using server = await Tcp.Server.create(
        Tcp.WhereToListen.onPort(free),
        async (addr, reader, writer) => {
          peers.push(Sockaddr.format(addr));
          writer.writeLine(Sockaddr.format(addr));
          await reader.contents();
        },
        { net: env.net, onHandlerError: "raise" },
      );
      expect(server.listeningOn).toBe(free);
      expect(Sockaddr.format(server.listeningOnAddress)).toBe(`tcp:0.0.0.0:${free}`);
      const seen = await Tcp.withConnection(
        Tcp.WhereToConnect.hostAndPort("127.0.0.1", free),
        async ({ socket, reader }) => {
          const line = await reader.readLine();
          expect(line).toBe(Sockaddr.format(socket.localAddr));
          return line;
        },
        { net: env.net },
      );
      expect(peers).toEqual([seen]);
    });
  });

  test("a writer whose peer never reads fails the handler after bufferAgeLimit", async () => {
    await run(async (env) => {
      const failed = deferred<unknown>();
      await using server = await Tcp.Server.create(
        local(),
        async (_addr, _reader, writer) => {
          const chunk = Buffer.alloc(1 << 20, 0x78);
          for (let i = 0; i < 64; i++) writer.schedule(chunk);
          await Fiber.awaitCancel();
        },
        {
          net: env.net,
          bufferAgeLimit: { atMost: 100 },
          writerMaxBuffered: 128 << 20,
          onHandlerError: { call: (_addr, e) => failed.resolve(e) },
        },
      );
      await Switch.run(async (sw) => {
        // A client that connects and never reads
        await env.net.connect(`tcp:127.0.0.1:${server.listeningOn}`, { sw });
        const e = await failed.promise;
        expect(e).toBeInstanceOf(WriterBufferAgeExceeded);
        expect((e as Error).message).toMatch(
          /^writer buffer has data older than 100ms \(\d+ bytes unflushed for \d+ms, writing to tcp:127\.0\.0\.1:\d+\)$/,
        );
      });
      await until(() => server.numConnections === 0);
    });
  });

  test("a peer that resets the connection is a normal end, not a handler error", async () => {
    await run(async (env) => {
      const errors: unknown[] = [];
      const ended = deferred();
      await using server = await Tcp.Server.create(
        local(),
        async (_addr, reader, writer) => {
          try {
            await reader.readLine();
            for (;;) {
              writer.write(Buffer.alloc(65536));
              await writer.flushed();
            }
          } finally {
            ended.resolve();
          }
        },
        { net: env.net, onHandlerError: { call: (_a, e) => errors.push(e) } },
      );
      await Switch.run(async (sw) => {
        const sock = await env.net.connect(`tcp:127.0.0.1:${server.listeningOn}`, { sw });
        await sock.write([Buffer.from("go\n")]);
        await sock.readInto(new Uint8Array(1));
        rawOf(sock).resetAndDestroy();
        await ended.promise;
      });
      await until(() => server.numConnections === 0);
      expect(errors).toEqual([]);
    });
  });

  test("checks readerBufferSize and bufferAgeLimit", async () => {
    await run(async (env) => {
      await expect(
        Tcp.Server.create(local(), shout, {
          net: env.net,
          onHandlerError: "raise",
          readerBufferSize: 1.5,
        }),
      ).rejects.toThrow("readerBufferSize must be an integer > 0, got 1.5");
      await expect(
        Tcp.Server.create(local(), shout, {
          net: env.net,
          onHandlerError: "raise",
          bufferAgeLimit: "never" as unknown as "unlimited",
        }),
      ).rejects.toThrow('bufferAgeLimit must be { atMost: ms } or "unlimited", got "never"');
    });
  });
});

describe("Tcp.Server.createSock()", () => {
  test("serves a Unix socket (onFile); listeningOn is the path, removed at close", async () => {
    await run(async (env) => {
      const path = tmpSockPath("server");
      const server = await Tcp.Server.createSock(
        Tcp.WhereToListen.onFile(path),
        async (_addr, socket) => {
          const buf = new Uint8Array(100);
          const n = await socket.readInto(buf);
          await socket.write([buf.subarray(0, n)]);
        },
        { net: env.net, onHandlerError: "raise" },
      );
      expect(server.listeningOn).toBe(path);
      expect(server.listeningOnAddress).toEqual({ type: "unix", path });
      expect(existsSync(path)).toBe(true);
      const r = await Tcp.withConnection(
        Tcp.WhereToConnect.file(path),
        async ({ reader, writer }) => {
          writer.write("ping");
          return await reader.readChunk();
        },
        { net: env.net },
      );
      expect(Buffer.from(r as Uint8Array).toString()).toBe("ping");
      await server.close();
      expect(existsSync(path)).toBe(false);
    });
  });

  test("closes the socket when the handler returns", async () => {
    await run(async (env) => {
      await using server = await Tcp.Server.createSock(
        local(),
        async (_addr, socket) => {
          await socket.write([Buffer.from("bye")]);
        },
        { net: env.net, onHandlerError: "raise" },
      );
      const got = await Tcp.withConnection(
        Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn),
        ({ reader }) => reader.contents(),
        { net: env.net },
      );
      expect(got).toBe("bye");
    });
  });

  test("sets TCP_NODELAY on every accepted connection", async () => {
    await run(async (env) => {
      const spy = new SpyNet(env.net);
      await using server = await Tcp.Server.createSock(local(), async () => {}, {
        net: spy,
        onHandlerError: "raise",
      });
      for (let i = 0; i < 2; i++) {
        await Tcp.withConnection(
          Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn),
          ({ reader }) => reader.contents(),
          { net: env.net },
        );
      }
      await until(() => spy.record.noDelay.length === 2);
      expect(spy.record.noDelay).toEqual([true, true]);
    });
  });

  test("backlog: 1024 by default, passed to listen, checked", async () => {
    await run(async (env) => {
      const spy = new SpyNet(env.net);
      const a = await Tcp.Server.createSock(local(), async () => {}, {
        net: spy,
        onHandlerError: "raise",
      });
      const b = await Tcp.Server.createSock(local(), async () => {}, {
        net: spy,
        onHandlerError: "raise",
        backlog: 5,
      });
      expect(spy.record.listens.map((o) => [o.backlog, o.reuseAddr])).toEqual([
        [1024, true],
        [5, true],
      ]);
      await a.close();
      await b.close();
      await expect(
        Tcp.Server.createSock(local(), async () => {}, {
          net: spy,
          onHandlerError: "raise",
          backlog: -1,
        }),
      ).rejects.toThrow("backlog must be an integer in 0..65535, got -1");
    });
  });

  test("socket: serves on an existing listening socket, and closes it", async () => {
    await run(async (env) => {
      await Switch.run(async (sw) => {
        const listener = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 8 });
        const server = await Tcp.Server.create(local(), shout, {
          onHandlerError: "raise",
          socket: listener,
        });
        expect(server.listeningSocket).toBe(listener);
        expect(server.listeningOn).toBe((listener.listeningAddr as TcpAddr).port);
        expect(await ask(env, server.listeningOn, "mine")).toBe("MINE");
        await server.close();
        await expect(listener.accept({ sw })).rejects.toMatchObject({ err: { kind: "Closed" } });
      });
    });
  });

  test("a listen error is an IoError with its context", async () => {
    await run(async (env) => {
      await using a = await Tcp.Server.createSock(local(), async () => {}, {
        net: env.net,
        onHandlerError: "raise",
      });
      const e = await Tcp.Server.createSock(
        Tcp.WhereToListen.onPort(a.listeningOn, { host: "127.0.0.1" }),
        async () => {},
        { net: env.net, onHandlerError: "raise" },
      ).catch((x: unknown) => x);
      expect((e as IoError).err.kind).toBe("AddressInUse");
      expect((e as IoError).context).toEqual([`listening on tcp:127.0.0.1:${a.listeningOn}`]);
    });
  });

  test("checks its arguments, naming them", async () => {
    await run(async (env) => {
      const net = env.net;
      const bad = (opts: object) =>
        Tcp.Server.createSock(local(), async () => {}, {
          net,
          onHandlerError: "raise",
          ...opts,
        } as Parameters<typeof Tcp.Server.createSock>[2]);
      await expect(bad({ maxConnections: 0 })).rejects.toThrow(
        new RangeError("maxConnections must be an integer > 0, got 0"),
      );
      await expect(bad({ maxConnections: 2.5 })).rejects.toThrow(
        new RangeError("maxConnections must be an integer > 0, got 2.5"),
      );
      await expect(bad({ maxConnections: "10" })).rejects.toThrow(
        new TypeError('maxConnections must be an integer > 0, got "10"'),
      );
      await expect(bad({ maxConnections: null })).rejects.toThrow(
        new TypeError("maxConnections must be an integer > 0, got null"),
      );
      await expect(bad({ backlog: 1e9 })).rejects.toThrow(
        new RangeError("backlog must be an integer in 0..65535, got 1000000000"),
      );
      await expect(bad({ maxAcceptsPerBatch: 0 })).rejects.toThrow(
        "maxAcceptsPerBatch must be an integer > 0, got 0",
      );
      await expect(bad({ onHandlerError: undefined })).rejects.toThrow(
        new TypeError(
          'Tcp.Server.createSock: option onHandlerError is required ("raise", "ignore" or { call(addr, err) })',
        ),
      );
      await expect(bad({ onHandlerError: "log" })).rejects.toThrow(
        'onHandlerError must be "raise", "ignore" or { call(addr, err) }, got "log"',
      );
      await expect(
        Tcp.Server.createSock(local(), async () => {}, undefined as never),
      ).rejects.toThrow("Tcp.Server.createSock: options with onHandlerError are required");
      await expect(
        Tcp.Server.createSock(local(), 1 as never, { net, onHandlerError: "raise" }),
      ).rejects.toThrow("handler must be a function, got 1");
      await expect(bad({ onWarning: 3 })).rejects.toThrow("onWarning must be a function");
    });
    expect(() => Tcp.WhereToListen.onPort(-1)).toThrow(RangeError);
    expect(() =>
      Tcp.WhereToListen.create({ address: "udp:1.2.3.4:5", listeningOn: () => 1 }),
    ).toThrow(TypeError);
  });
});

describe("onHandlerError", () => {
  test('"raise" inside run(): run() rejects with it; the listener closes, running connections go on', async () => {
    const boom = new Error("boom");
    const listening = Promise.withResolvers<TcpServer<TcpAddr, number>>();
    const ran = run(async () => {
      // No net option: Tcp takes the run's network
      const server = await Tcp.Server.create(
        local(),
        async (_addr, reader, writer) => {
          const line = await reader.readLine();
          if (line === "fail") throw boom;
          writer.writeLine(`ok ${line}`);
          writer.writeLine(`still ${await reader.readLine()}`);
        },
        { onHandlerError: "raise" },
      );
      listening.resolve(server);
      await Fiber.awaitCancel();
    });
    const failed = ran.catch((e: unknown) => e);
    const server = await listening.promise;
    const port = server.listeningOn;
    // Outside run(): Tcp uses the real network
    const where = Tcp.WhereToConnect.hostAndPort("127.0.0.1", port);
    await Tcp.withConnection(where, async ({ reader, writer }) => {
      writer.writeLine("a");
      expect(await reader.readLine()).toBe("ok a");
      const asked = await Tcp.withConnection(where, async (c) => {
        c.writer.writeLine("fail");
        return await c.reader.readLine();
      });
      expect(asked).toBeNull();
      expect(await failed).toBe(boom);
      await expect(server.closeFinished).rejects.toBe(boom);
      expect(server.isClosed).toBe(true);
      // the listener is closed...
      await expect(Tcp.connectSock(where)).rejects.toMatchObject({
        err: { kind: "ConnectionFailure", reason: "Refused" },
      });
      // ...but this connection goes on
      writer.writeLine("b");
      expect(await reader.readLine()).toBe("still b");
    });
    await expect(server.close({ closeExistingConnections: true })).rejects.toBe(boom);
  });

  test('"raise" adds the peer address to an IoError', async () => {
    const listening = Promise.withResolvers<TcpServer<TcpAddr, number>>();
    const failed = run(async (env) => {
      listening.resolve(
        await Tcp.Server.createSock(
          local(),
          async () => {
            throw new IoError({ kind: "Unknown", cause: new Error("bad request") });
          },
          { net: env.net, onHandlerError: "raise" },
        ),
      );
      await Fiber.awaitCancel();
    }).catch((x: unknown) => x);
    const server = await listening.promise;
    const port = await Tcp.withConnection(
      Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn),
      async ({ socket, reader }) => {
        await reader.contents();
        return (socket.localAddr as TcpAddr).port;
      },
    );
    const e = (await failed) as IoError;
    await expect(server.close()).rejects.toBe(e);
    expect(e.message).toBe(
      `Io Unknown: bad request\n  handling connection from tcp:127.0.0.1:${port}`,
    );
  });

  test('"raise" with sw fails the switch', async () => {
    await run(async (env) => {
      const boom = new Error("raised to the switch");
      let server: TcpServer | undefined;
      const e = await Switch.run(async (sw) => {
        const s = await Tcp.Server.createSock(
          local(),
          async () => {
            throw boom;
          },
          { net: env.net, onHandlerError: "raise", sw },
        );
        server = s;
        await Tcp.withConnection(
          Tcp.WhereToConnect.hostAndPort("127.0.0.1", s.listeningOn),
          ({ reader }) => reader.contents(),
          { net: env.net },
        );
        await Fiber.awaitCancel();
      }).catch((x: unknown) => x);
      expect(e).toBe(boom);
      expect(server?.isClosed).toBe(true);
      await server?.closeFinished;
    });
  });

  test('"ignore": the server goes on', async () => {
    await run(async (env) => {
      let n = 0;
      await using server = await Tcp.Server.create(
        local(),
        async (_addr, reader, writer) => {
          n++;
          const line = await reader.readLine();
          if (line === "fail") throw new Error("ignored");
          writer.writeLine(line ?? "");
        },
        { net: env.net, onHandlerError: "ignore" },
      );
      expect(await ask(env, server.listeningOn, "fail")).toBeNull();
      expect(await ask(env, server.listeningOn, "fine")).toBe("fine");
      expect(n).toBe(2);
      expect(server.isClosed).toBe(false);
    });
  });

  test("{ call }: gets the address and the error; if it throws, that is raised", async () => {
    const seen: Array<[string, unknown]> = [];
    const again = new Error("call failed");
    const listening = Promise.withResolvers<TcpServer<TcpAddr, number>>();
    const failed = run(async (env) => {
      listening.resolve(
        await Tcp.Server.createSock(
          local(),
          async () => {
            throw new Error(`failure ${seen.length}`);
          },
          {
            net: env.net,
            onHandlerError: {
              call: (addr, e) => {
                seen.push([Sockaddr.format(addr), e]);
                if (seen.length === 2) throw again;
              },
            },
          },
        ),
      );
      await Fiber.awaitCancel();
    }).catch((x: unknown) => x);
    const server = await listening.promise;
    const where = Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn);
    const local1 = await Tcp.withConnection(where, async ({ socket, reader }) => {
      await reader.contents();
      return Sockaddr.format(socket.localAddr);
    });
    await until(() => seen.length === 1);
    expect(seen[0]?.[0]).toBe(local1);
    expect(String(seen[0]?.[1])).toBe("Error: failure 0");
    expect(server.isClosed).toBe(false);
    await Tcp.withConnection(where, ({ reader }) => reader.contents());
    expect(await failed).toBe(again);
    await expect(server.closeFinished).rejects.toBe(again);
    expect(server.isClosed).toBe(true);
  });

  test("Cancelled (closeExistingConnections) is not a handler error", async () => {
    await run(async (env) => {
      const errors: unknown[] = [];
      const started = deferred();
      const server = await Tcp.Server.create(
        local(),
        async (_addr, reader) => {
          started.resolve();
          await reader.readLine();
        },
        { net: env.net, onHandlerError: { call: (_a, e) => errors.push(e) } },
      );
      await Switch.run(async (sw) => {
        await env.net.connect(`tcp:127.0.0.1:${server.listeningOn}`, { sw });
        await started.promise;
        await server.close({ closeExistingConnections: true });
      });
      expect(errors).toEqual([]);
    });
  });
});

describe("maxConnections", () => {
  test("10× more clients than the limit: all served, never more than the limit at once", async () => {
    await run(async (env) => {
      const limit = 4;
      let active = 0;
      let peak = 0;
      const warnings: string[] = [];
      await using server = await Tcp.Server.create(
        local(),
        async (_addr, reader, writer) => {
          active++;
          peak = Math.max(peak, active);
          try {
            const line = await reader.readLine();
            await monoClock.sleep(2);
            writer.writeLine(`re ${line}`);
          } finally {
            active--;
          }
        },
        {
          net: env.net,
          onHandlerError: "raise",
          maxConnections: limit,
          onWarning: (m) => warnings.push(m),
        },
      );
      expect(server.maxConnections).toBe(limit);
      const replies: Array<string | null> = [];
      await Fiber.all(
        Array.from({ length: 10 * limit }, (_, i) => async () => {
          replies[i] = await ask(env, server.listeningOn, `c${i}`);
          server.invariant();
        }),
      );
      expect(replies).toEqual(Array.from({ length: 10 * limit }, (_, i) => `re c${i}`));
      expect(peak).toBe(limit);
      expect(warnings).toEqual([
        `Tcp.Server on tcp:127.0.0.1:${server.listeningOn} is at its limit of 4 connections (maxConnections): new clients wait until one closes`,
      ]);
    });
  });

  test("the default is max(10 000, 90% of the fd limit)", async () => {
    const { defaultMaxConnections } = await import("../../src/tcp/index.ts");
    const n = defaultMaxConnections();
    expect(n).toBeGreaterThanOrEqual(10_000);
    await run(async (env) => {
      await using server = await Tcp.Server.createSock(local(), async () => {}, {
        net: env.net,
        onHandlerError: "raise",
      });
      expect(server.maxConnections).toBe(n);
    });
  });
});

describe("maxAcceptsPerBatch", () => {
  test("8 serves every pending connection, with one accept each (batches: test/tcp/mock.test.ts)", async () => {
    await run(async (env) => {
      const wrapped = await Switch.run(async (sw) => {
        const inner = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 16 });
        const l = new WrappedListener(inner);
        const server = await Tcp.Server.create(local(), shout, {
          onHandlerError: "raise",
          socket: l,
          maxAcceptsPerBatch: 8,
        });
        expect(server.toJSON().maxAcceptsPerBatch).toBe(8);
        const port = server.listeningOn;
        const got = await Promise.all(Array.from({ length: 8 }, (_, i) => ask(env, port, `b${i}`)));
        expect(got).toEqual(Array.from({ length: 8 }, (_, i) => `B${i}`));
        await server.close({ closeExistingConnections: true });
        return l;
      });
      // 8 accepts that each gave a connection, and the 9th, waiting when the server closed
      expect(wrapped.accepts).toBe(9);
    });
  });
});

describe("close()", () => {
  test("is idempotent; closeFinished and isClosed follow it; no handler is called after", async () => {
    await run(async (env) => {
      let calls = 0;
      const server = await Tcp.Server.createSock(
        local(),
        async () => {
          calls++;
        },
        { net: env.net, onHandlerError: "raise" },
      );
      expect(server.isClosed).toBe(false);
      const p = server.close();
      expect(server.close()).toBe(p);
      expect(server.closeFinished).toBe(p);
      expect(server.isClosed).toBe(true);
      await p;
      const all = server.close({ closeExistingConnections: true });
      expect(server.close({ closeExistingConnections: true })).toBe(all);
      await all;
      await expect(ask(env, server.listeningOn, "x")).rejects.toBeInstanceOf(IoError);
      expect(calls).toBe(0);
      expect(server.toJSON().state).toBe("closed");
    });
  });

  test("a connection accepted after close() began is closed, its handler never called", async () => {
    await run(async (env) => {
      await Switch.run(async (sw) => {
        const inner = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 4 });
        const l = new WrappedListener(inner);
        const gate = deferred();
        l.gate = gate.promise;
        let calls = 0;
        const server = await Tcp.Server.createSock(
          local(),
          async () => {
            calls++;
          },
          { onHandlerError: "raise", socket: l },
        );
        const client = await env.net.connect(inner.listeningAddr, { sw });
        await until(() => l.accepts === 1);
        await tick();
        const closing = server.close();
        gate.resolve();
        await closing;
        // the accepted connection was closed: the client reads end of file
        await expect(client.readInto(new Uint8Array(1))).rejects.toThrow(
          /End of file|Closed|reset/i,
        );
        expect(calls).toBe(0);
      });
    });
  });

  test("closeExistingConnections: closes the sockets, cancels the handlers, leaves nothing", async () => {
    await run(async (env) => {
      const started = deferred();
      let n = 0;
      const server = await Tcp.Server.create(
        local(),
        async (_addr, reader) => {
          if (++n === 3) started.resolve();
          await reader.contents();
        },
        { net: env.net, onHandlerError: "raise" },
      );
      await Switch.run(async (sw) => {
        const clients = await Promise.all(
          [1, 2, 3].map(() => env.net.connect(`tcp:127.0.0.1:${server.listeningOn}`, { sw })),
        );
        await started.promise;
        expect(server.numConnections).toBe(3);
        await server.close({ closeExistingConnections: true });
        expect(server.numConnections).toBe(0);
        server.invariant();
        for (const c of clients) {
          await expect(c.readInto(new Uint8Array(1))).rejects.toThrow();
        }
      });
    });
  });

  test("closeExistingConnections from inside a handler does not wait for that handler", async () => {
    await run(async (env) => {
      const server = await Tcp.Server.create(
        local(),
        async (_addr, reader, writer) => {
          if ((await reader.readLine()) === "stop") {
            writer.writeLine("stopping");
            await writer.flushed();
            await server.close({ closeExistingConnections: true });
          }
        },
        { net: env.net, onHandlerError: "raise" },
      );
      expect(await ask(env, server.listeningOn, "stop")).toBe("stopping");
      await server.closeFinished;
      await until(() => server.numConnections === 0);
    });
  });

  test("without closeExistingConnections, running connections go on after close()", async () => {
    await run(async (env) => {
      const started = deferred();
      const server = await Tcp.Server.create(
        local(),
        async (_addr, reader, writer) => {
          started.resolve();
          writer.writeLine(`late ${await reader.readLine()}`);
        },
        { net: env.net, onHandlerError: "raise" },
      );
      await Tcp.withConnection(
        Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn),
        async ({ reader, writer }) => {
          await started.promise;
          await server.close();
          expect(server.numConnections).toBe(1);
          writer.writeLine("reply");
          expect(await reader.readLine()).toBe("late reply");
        },
        { net: env.net },
      );
      await until(() => server.numConnections === 0);
    });
  });

  test("with sw, the server closes (with its connections) when the switch is done", async () => {
    await run(async (env) => {
      let server: TcpServer | undefined;
      const started = deferred();
      await Switch.run(async (sw) => {
        const s = await Tcp.Server.create(
          local(),
          async (_addr, reader) => {
            started.resolve();
            await reader.contents();
          },
          { net: env.net, onHandlerError: "raise", sw },
        );
        server = s;
        await env.net.connect(`tcp:127.0.0.1:${s.listeningOn}`, { sw });
        await started.promise;
      });
      expect(server?.isClosed).toBe(true);
      await server?.closeFinished;
      expect(server?.numConnections).toBe(0);
    });
  });
});

describe("setDropIncomingConnections()", () => {
  test("accepts and closes new connections at once; off again, serves them", async () => {
    await run(async (env) => {
      let calls = 0;
      await using server = await Tcp.Server.create(
        local(),
        async (a, r, w) => {
          calls++;
          await shout(a, r, w);
        },
        { net: env.net, onHandlerError: "raise" },
      );
      server.setDropIncomingConnections(true);
      expect(server.toJSON().dropIncomingConnections).toBe(true);
      for (let i = 0; i < 3; i++) expect(await ask(env, server.listeningOn, "x")).toBeNull();
      expect(calls).toBe(0);
      server.setDropIncomingConnections(false);
      expect(await ask(env, server.listeningOn, "back")).toBe("BACK");
      expect(calls).toBe(1);
      expect(() => server.setDropIncomingConnections(1 as unknown as boolean)).toThrow(
        "drop must be a boolean, got 1",
      );
    });
  });
});

describe("accept errors", () => {
  test("EMFILE and kin: the accept loop backs off and retries, warning once", async () => {
    await run(async (env) => {
      await Switch.run(async (sw) => {
        const inner = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 4 });
        const l = new WrappedListener(inner);
        l.failures = 3;
        const warnings: string[] = [];
        await using server = await Tcp.Server.create(local(), shout, {
          onHandlerError: "raise",
          socket: l,
          onWarning: (m) => warnings.push(m),
        });
        expect(await ask(env, server.listeningOn, "after")).toBe("AFTER");
        expect(l.accepts).toBeGreaterThanOrEqual(4);
        expect(warnings).toEqual([
          `Tcp.Server on ${Sockaddr.format(inner.listeningAddr)}: accept failed, retrying in 10 ms: Io Unknown: accept EMFILE: too many open files`,
        ]);
        expect(server.isClosed).toBe(false);
      });
    });
  });

  test("a listening socket closed under the server closes the server, with a warning", async () => {
    await run(async (env) => {
      const warnings: string[] = [];
      const server = await Tcp.Server.createSock(local(), async () => {}, {
        net: env.net,
        onHandlerError: "raise",
        onWarning: (m) => warnings.push(m),
      });
      await server.listeningSocket.close();
      await server.closeFinished;
      expect(server.isClosed).toBe(true);
      expect(warnings).toEqual([
        `Tcp.Server on tcp:127.0.0.1:${server.listeningOn}: its listening socket was closed; the server is closing`,
      ]);
    });
  });
});
