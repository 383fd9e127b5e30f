/**
 * Eio's `tests/network.md`, the real-socket stream cases, on the Node backend. Each transcript
 * (trace lines, then `Exception: ...`) is compared whole with Eio's. Eio's fixed ports become
 * port 0 (the client connects to `listeningAddr`), its relative Unix paths temp paths.
 */
import { describe, expect, test } from "vitest";
import { Cancelled, EndOfFile, Fiber, IoError, Switch, traceln } from "../../src/core/index.ts";
import { eioPromise } from "../../src/core/test-helpers/promise.ts";
import { BufRead } from "../../src/flow/buf-read.ts";
import { readExact } from "../../src/flow/flow-ops.ts";
import { Sockaddr, type SockaddrLike, type StreamAddr } from "../../src/net/sockaddr.ts";
import type { ListeningSocket, Net } from "../../src/net/types.ts";
import { run } from "../../src/run.ts";
import {
  abstractName,
  copyString,
  net,
  readAllText,
  realTrace,
  tmpSockPath,
  traceOf,
  unixPair,
} from "./real-support.ts";

class GracefulShutdown extends Error {
  constructor() {
    super("Graceful_shutdown");
    this.name = "GracefulShutdown";
  }
}

// A simple client:
async function runClient(sw: Switch, addr: StreamAddr): Promise<void> {
  traceln("Connecting to server...");
  const flow = await net.connect(addr, { sw });
  await copyString("Hello from client", flow);
  await flow.shutdown("send");
  const msg = await readAllText(flow);
  traceln("Client received: %j", msg);
}

// A simple server:
async function runServerLoop(sw: Switch, socket: ListeningSocket): Promise<never> {
  for (;;) {
    await socket.acceptFork(
      {
        sw,
        onError: (ex) => {
          if (ex instanceof GracefulShutdown) return;
          traceln("Error handling connection: %s", ex);
        },
      },
      async (flow, _addr) => {
        traceln("Server accepted connection from client");
        try {
          const msg = await readAllText(flow);
          traceln("Server received: %j", msg);
        } finally {
          await copyString("Bye", flow);
        }
      },
    );
  }
}

async function testAddress(addr: SockaddrLike, sw: Switch): Promise<void> {
  const server = await net.listen(addr, { sw, reuseAddr: true, backlog: 5 });
  await Fiber.both(
    () => runServerLoop(sw, server),
    async () => {
      await runClient(sw, server.listeningAddr);
      traceln("Client finished - cancelling server");
      throw new GracefulShutdown();
    },
  );
}

const oneConnection = [
  "Connecting to server...",
  "Server accepted connection from client",
  'Server received: "Hello from client"',
  'Client received: "Bye"',
  "Client finished - cancelling server",
  "Exception: GracefulShutdown: Graceful_shutdown",
];

describe("Eio network.md on real sockets", () => {
  test("handling one connection, then cancelling the server (TCP, IPv4)", async () => {
    expect(await realTrace(() => Switch.run((sw) => testAddress("tcp:127.0.0.1:0", sw)))).toEqual(
      oneConnection,
    );
  });

  test("handling one connection on a Unix domain socket", async () => {
    const path = tmpSockPath("eio-test");
    expect(await realTrace(() => Switch.run((sw) => testAddress(Sockaddr.unix(path), sw)))).toEqual(
      oneConnection,
    );
  });

  test.runIf(process.platform === "linux")(
    "handling one connection on an abstract Unix domain socket",
    async () => {
      const name = abstractName("eio-test");
      expect(
        await realTrace(() => Switch.run((sw) => testAddress(Sockaddr.unix(name), sw))),
      ).toEqual(oneConnection);
    },
  );

  test("handling one connection using IPv6", async () => {
    expect(await realTrace(() => Switch.run((sw) => testAddress("tcp:[::1]:0", sw)))).toEqual(
      oneConnection,
    );
  });

  test("cancelling the read", async () => {
    const transcript = await realTrace(() =>
      Switch.run(async (sw) => {
        const shutdown = eioPromise<GracefulShutdown>();
        const server = await net.listen("tcp:127.0.0.1:0", { sw, reuseAddr: true, backlog: 5 });
        await Fiber.both(
          () =>
            server.acceptFork(
              {
                sw,
                onError: (e) => {
                  throw e;
                },
              },
              async (flow, _addr) => {
                try {
                  await Fiber.both(
                    async () => {
                      throw await shutdown.await();
                    },
                    async () => {
                      const msg = await readAllText(flow);
                      traceln("Server received: %j", msg);
                    },
                  );
                } catch (e) {
                  if (!(e instanceof GracefulShutdown)) throw e;
                  await copyString("Request cancelled", flow);
                }
              },
            ),
          async () => {
            traceln("Connecting to server...");
            const flow = await net.connect(server.listeningAddr, { sw });
            traceln("Connection opened - cancelling server's read");
            await Fiber.yield();
            shutdown.resolve(new GracefulShutdown());
            const msg = await readAllText(flow);
            traceln("Client received: %j", msg);
          },
        );
      }),
    );
    expect(transcript).toEqual([
      "Connecting to server...",
      "Connection opened - cancelling server's read",
      'Client received: "Request cancelled"',
    ]);
  });

  test("calling accept when the switch is already off", async () => {
    const transcript = await realTrace(() =>
      Switch.run(async (sw) => {
        const server = await net.listen("tcp:127.0.0.1:0", { sw, reuseAddr: true, backlog: 5 });
        sw.fail(new Error("Simulated error"));
        await server.acceptFork(
          {
            sw,
            onError: (e) => {
              throw e;
            },
          },
          () => {
            throw new Error("assert false");
          },
        );
      }),
    );
    expect(transcript).toEqual(["Exception: Error: Simulated error"]);
  });

  test("it's not an error to close the socket before the handler returns", async () => {
    const transcript = await realTrace(() =>
      Switch.run(async (sw) => {
        const server = await net.listen("tcp:127.0.0.1:0", { sw, reuseAddr: true, backlog: 5 });
        await Fiber.both(
          () =>
            server.acceptFork(
              {
                sw,
                onError: (e) => {
                  throw e;
                },
              },
              async (flow, _addr) => {
                traceln("Server got connection");
                await copyString("Hi", flow);
                await flow.close();
              },
            ),
          async () => {
            traceln("Connecting to server...");
            const flow = await net.connect(server.listeningAddr, { sw });
            // Buf_read on a socket: parse_exn take_all ~max_size:100
            const msg = await BufRead.parse((r) => r.takeAll(), flow, { maxSize: 100 });
            traceln("Client got %j", msg);
          },
        );
      }),
    );
    expect(transcript).toEqual([
      "Connecting to server...",
      "Server got connection",
      'Client got "Hi"',
    ]);
  });

  test("ECONNRESET: reading after the peer closed without reading", async () => {
    const transcript = await realTrace(() =>
      Switch.run(async (sw) => {
        const { a, b } = await unixPair(sw);
        await copyString("foo", a);
        await b.close(); // Close without reading
        try {
          await readExact(a, new Uint8Array(1));
          throw new Error("assert false");
        } catch (e) {
          if (
            (e instanceof IoError && e.err.kind === "ConnectionReset") ||
            e instanceof EndOfFile
          ) {
            traceln("Connection failed (good)");
          } else throw e;
        }
      }),
    );
    expect(transcript).toEqual(["Connection failed (good)"]);
  });

  test("EPIPE: writing after the peer closed", async () => {
    const transcript = await realTrace(() =>
      Switch.run(async (sw) => {
        const { a, b } = await unixPair(sw);
        await b.close();
        try {
          await copyString("foo", a);
          throw new Error("assert false");
        } catch (e) {
          if (e instanceof IoError && e.err.kind === "ConnectionReset") {
            traceln("Connection failed (good)");
          } else throw e;
        }
      }),
    );
    expect(transcript).toEqual(["Connection failed (good)"]);
  });

  test("connection refused: a missing Unix socket path is NotFound, with context", async () => {
    const path = tmpSockPath("idontexist");
    let caught: unknown;
    const transcript = await traceOf(() =>
      run(async (env: { net: Net }) =>
        Switch.run(async (sw) => {
          try {
            await env.net.connect(Sockaddr.unix(path), { sw });
          } catch (e) {
            caught = e;
            throw e;
          }
        }),
      ),
    );
    expect(caught).toBeInstanceOf(IoError);
    const e = caught as IoError;
    expect(e.err.kind).toBe("NotFound");
    expect(e.context).toEqual([`connecting to unix:${path}`]);
    expect(transcript).toEqual([
      `Exception: IoError: Fs NotFound: connect ENOENT ${path}`,
      `  connecting to unix:${path}`,
    ]);
  });

  test("shutdown receive: a pending read ends", async () => {
    const transcript = await realTrace(() =>
      Switch.run(async (sw) => {
        const { a } = await unixPair(sw);
        await Fiber.both(
          async () => {
            try {
              await readExact(a, new Uint8Array(1));
              throw new Error("Should have ended!");
            } catch (e) {
              if (!(e instanceof EndOfFile)) throw e;
            }
          },
          () => a.shutdown("receive"),
        );
      }),
    );
    expect(transcript).toEqual([]);
  });

  test("a cancelled accept leaves no waiter behind", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const server = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 5 });
        const ac = new AbortController();
        const p = server.accept({ sw, signal: ac.signal });
        ac.abort(new Error("stop"));
        await expect(p).rejects.toBeInstanceOf(Cancelled);
        // the next connection goes to the next accept, not the cancelled one
        const [c, [s]] = await Fiber.pair(
          () => net.connect(server.listeningAddr, { sw }),
          () => server.accept({ sw }),
        );
        await copyString("x", c);
        await c.shutdown("send");
        expect(await readAllText(s)).toBe("x");
      }),
    );
  });
});
