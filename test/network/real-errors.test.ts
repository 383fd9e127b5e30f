/**
 * Every error path of the Node backend's stream sockets: each is an `IoError` of the right
 * kind with its context lines (never a raw Node error), or a `TypeError`/`RangeError` naming
 * the bad argument.
 */
import { writeFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { Fiber, IoError, Switch } from "../../src/core/index.ts";
import { Sockaddr } from "../../src/net/sockaddr.ts";
import { run } from "../../src/run.ts";
import {
  bytes,
  copyString,
  deferred,
  net,
  rawOf,
  socketPair,
  tmpSockPath,
  unixPair,
} from "./real-support.ts";

async function failure(p: Promise<unknown>): Promise<IoError> {
  const e = await p.then(
    () => new Error("expected a failure"),
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(IoError);
  return e as IoError;
}

/** A TCP port nothing listens on: listen on port 0, note the port, close. */
async function closedPort(): Promise<number> {
  return Switch.run(async (sw) => {
    const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
    const a = l.listeningAddr;
    await l.close();
    return a.type === "tcp" ? a.port : -1;
  });
}

describe("connect errors", () => {
  test("connection refused on a closed port: ConnectionFailure Refused, with context", async () => {
    await run(async () => {
      const port = await closedPort();
      await Switch.run(async (sw) => {
        const e = await failure(net.connect(`tcp:127.0.0.1:${port}`, { sw }));
        expect(e.err.kind).toBe("ConnectionFailure");
        expect(e.err.kind === "ConnectionFailure" && e.err.reason).toBe("Refused");
        expect(e.context).toEqual([`connecting to tcp:127.0.0.1:${port}`]);
        expect(e.message).toBe(
          `Net ConnectionFailure Refused: connect ECONNREFUSED 127.0.0.1:${port}\n` +
            `  connecting to tcp:127.0.0.1:${port}`,
        );
      });
    });
  });

  test("a missing Unix path: NotFound", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const path = tmpSockPath("missing");
        const e = await failure(net.connect(Sockaddr.unix(path), { sw }));
        expect(e.err.kind).toBe("NotFound");
        expect(e.context).toEqual([`connecting to unix:${path}`]);
      }),
    );
  });

  test("a Unix path that is not a socket: ConnectionFailure Refused", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const path = tmpSockPath("plainfile");
        writeFileSync(path, "");
        const e = await failure(net.connect(Sockaddr.unix(path), { sw }));
        expect(e.err.kind).toBe("ConnectionFailure");
      }),
    );
  });

  test("bad address text and non-stream addresses: TypeError", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        await expect(net.connect("tcp:1.2.3.4", { sw })).rejects.toThrow(
          new TypeError(
            'invalid socket address "tcp:1.2.3.4" (expected tcp:HOST:PORT, udp:HOST:PORT or unix:PATH)',
          ),
        );
        await expect(net.connect("udp:127.0.0.1:53", { sw })).rejects.toThrow(
          new TypeError('addr must be a stream address (tcp: or unix:), got "udp:127.0.0.1:53"'),
        );
        await expect(net.listen("tcp:300.1.1.1:80", { sw, backlog: 1 })).rejects.toThrow(TypeError);
      }),
    );
  });

  test("invalid options: TypeError/RangeError naming them", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        await expect(
          net.connect("tcp:127.0.0.1:1", {} as unknown as { sw: Switch }),
        ).rejects.toThrow(new TypeError("connect: option sw (a Switch) is required"));
        await expect(net.listen("tcp:127.0.0.1:0", { sw, backlog: -1 })).rejects.toThrow(
          new RangeError("backlog must be an integer in 0..65535, got -1"),
        );
        await expect(net.listen("tcp:127.0.0.1:0", { sw, backlog: 1.5 })).rejects.toThrow(
          new RangeError("backlog must be an integer in 0..65535, got 1.5"),
        );
        await expect(
          net.connect(Sockaddr.unix(tmpSockPath("x")), { sw, bindTo: "tcp:127.0.0.1:0" }),
        ).rejects.toThrow(TypeError);
        await expect(
          net.connect("tcp:127.0.0.1:1", { sw, bindTo: Sockaddr.unix("/tmp/x") }),
        ).rejects.toThrow(
          new TypeError(
            'bindTo must be a tcp: address to connect to tcp:127.0.0.1:1, got "unix:/tmp/x"',
          ),
        );
        const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
        expect(() => l.accept({} as unknown as { sw: Switch })).toThrow(
          new TypeError("accept: option sw (a Switch) is required"),
        );
      }),
    );
  });

  test("bindTo picks the local address", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
        const [c, [, peer]] = await Fiber.pair(
          () => net.connect(l.listeningAddr, { sw, bindTo: "tcp:127.0.0.2:0" }),
          () => l.accept({ sw }),
        );
        expect(Sockaddr.format(peer).startsWith("tcp:127.0.0.2:")).toBe(true);
        expect(Sockaddr.format(c.localAddr)).toBe(Sockaddr.format(peer));
      }),
    );
  });
});

describe("listen errors", () => {
  test("a TCP port in use: AddressInUse, with context", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
        const addr = Sockaddr.format(l.listeningAddr);
        const e = await failure(net.listen(addr, { sw, backlog: 1 }));
        expect(e.err.kind).toBe("AddressInUse");
        expect(e.context).toEqual([`listening on ${addr}`]);
        expect(e.message.startsWith("Net AddressInUse: listen EADDRINUSE")).toBe(true);
      }),
    );
  });

  test("a Unix path in use, even with reuseAddr (the live socket is not stale)", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const path = tmpSockPath("inuse");
        await net.listen(Sockaddr.unix(path), { sw, backlog: 1 });
        const e = await failure(net.listen(Sockaddr.unix(path), { sw, backlog: 1 }));
        expect(e.err.kind).toBe("AddressInUse");
        expect(e.context).toEqual([`listening on unix:${path}`]);
      }),
    );
  });

  test("reuseAddr leaves a file that is not a socket alone: AddressInUse", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const path = tmpSockPath("regular");
        writeFileSync(path, "keep me");
        const e = await failure(
          net.listen(Sockaddr.unix(path), { sw, backlog: 1, reuseAddr: true }),
        );
        expect(e.err.kind).toBe("AddressInUse");
        const { readFileSync, unlinkSync } = await import("node:fs");
        expect(readFileSync(path, "utf8")).toBe("keep me");
        unlinkSync(path);
      }),
    );
  });

  test("a Unix path in a missing directory: NotFound", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const path = `${tmpSockPath("nodir")}/sub/x.sock`;
        const e = await failure(net.listen(Sockaddr.unix(path), { sw, backlog: 1 }));
        expect(e.err.kind).toBe("NotFound");
      }),
    );
  });
});

describe("I/O errors", () => {
  test("ECONNRESET on read: ConnectionReset (TCP, peer closed with unread data)", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        await copyString("unread by the server", client);
        await server.close(); // unread data: the kernel resets the connection
        const e = await client.readInto(new Uint8Array(8)).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(IoError);
        expect((e as IoError).err.kind).toBe("ConnectionReset");
        // every later operation reports it too
        const w = await client.write([bytes("x")]).catch((x: unknown) => x);
        expect((w as IoError).err.kind).toBe("ConnectionReset");
      }),
    );
  });

  test("EPIPE on write over TCP: ConnectionReset, once the reset arrives", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        await server.close();
        let e: unknown;
        for (let i = 0; i < 100 && e === undefined; i++) {
          e = await client.write([bytes("ping")]).then(
            () => undefined,
            (x: unknown) => x,
          );
          if (e === undefined) await new Promise((r) => setTimeout(r, 2));
        }
        expect(e).toBeInstanceOf(IoError);
        expect((e as IoError).err.kind).toBe("ConnectionReset");
      }),
    );
  });

  test("EPIPE on a Unix socket: ConnectionReset at once; shutdown after it too", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { a, b } = await unixPair(sw);
        await b.close();
        const e = await failure(a.write([bytes("x")]));
        expect(e.err.kind).toBe("ConnectionReset");
        const s = await failure(a.shutdown("send"));
        expect(s.err.kind).toBe("ConnectionReset");
      }),
    );
  });

  test("a handler's IoError gets 'handling connection from ADDR' (acceptFork)", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
        let got: unknown;
        const handled = deferred<void>();
        const [c] = await Fiber.pair(
          () => net.connect(l.listeningAddr, { sw }),
          () =>
            l.acceptFork(
              {
                sw,
                onError: (e) => {
                  got = e;
                  handled.resolve();
                },
              },
              async (flow) => {
                await flow.readInto(new Uint8Array(1)); // the client resets
              },
            ),
        );
        rawOf(c).resetAndDestroy(); // RST
        await handled.promise;
        expect(got).toBeInstanceOf(IoError);
        const e = got as IoError;
        expect(e.err.kind).toBe("ConnectionReset");
        expect(e.context.length).toBe(1);
        expect(e.context[0]?.startsWith("handling connection from tcp:127.0.0.1:")).toBe(true);
      }),
    );
  });
});
