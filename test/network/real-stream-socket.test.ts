/**
 * `NodeStreamSocket` and `NodeListeningSocket` on real sockets: reads (partial, chunks,
 * cancellation without data loss), writes (vectored), half-close, close, addresses, the
 * `copyFrom` fast path, and the listening socket's addresses and options.
 */

import { existsSync, lstatSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { NodeListeningSocket } from "../../src/backend-node/listening-socket.ts";
import type { NodeStreamSocket } from "../../src/backend-node/stream-socket.ts";
import { unixFd } from "../../src/backend-node/unix-fd.ts";
import { Cancel, Cancelled, EndOfFile, Fiber, IoError, Switch } from "../../src/core/index.ts";
import { runtimeHas, UnsupportedOnRuntime } from "../../src/core/runtime.ts";
import { readExact } from "../../src/flow/flow-ops.ts";
import { bytesSource, stringSource } from "../../src/flow/sources.ts";
import { Sockaddr } from "../../src/net/sockaddr.ts";
import { run } from "../../src/run.ts";
import { Unix } from "../../src/unix/index.ts";
import {
  abstractName,
  bytes,
  copy,
  copyString,
  fmt,
  net,
  rawOf,
  readAllText,
  request,
  socketPair,
  text,
  tmpSockPath,
  unixPair,
} from "./real-support.ts";

function listenerCounts(s: import("node:net").Socket): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of s.eventNames()) out[String(e)] = s.listenerCount(e);
  return out;
}

describe("NodeStreamSocket reads", () => {
  test("readInto() copies what fits and keeps the rest for the next read", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        await copyString("Hello, world", client);
        const buf = new Uint8Array(5);
        await readExact(server, buf);
        expect(text(buf)).toBe("Hello");
        const rest = new Uint8Array(7);
        await readExact(server, rest);
        expect(text(rest)).toBe(", world");
      }),
    );
  });

  test("readChunk() returns whole chunks, then EndOfFile", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        await copyString("abc", client);
        await client.shutdown("send");
        const chunk = await (server as NodeStreamSocket).readChunk();
        expect(text(chunk)).toBe("abc");
        await expect((server as NodeStreamSocket).readChunk()).rejects.toBeInstanceOf(EndOfFile);
        await expect(server.readInto(new Uint8Array(1))).rejects.toBeInstanceOf(EndOfFile);
      }),
    );
  });

  test("readInto() rejects an empty buffer with RangeError, a non-buffer with TypeError", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { server } = await socketPair(sw);
        expect(() => server.readInto(new Uint8Array(0))).toThrow(
          new RangeError("buf must not be empty, got a 0-byte buffer"),
        );
        expect(() => server.readInto("x" as unknown as Uint8Array)).toThrow(
          new TypeError('buf must be a Uint8Array, got "x"'),
        );
      }),
    );
  });

  test("a cancelled read loses no data: the next read gets it", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        const ac = new AbortController();
        const pending = server.readInto(new Uint8Array(10), { signal: ac.signal });
        ac.abort(new Error("enough"));
        await expect(pending).rejects.toBeInstanceOf(Cancelled);
        await copyString("later", client);
        const buf = new Uint8Array(5);
        await readExact(server, buf);
        expect(text(buf)).toBe("later");
      }),
    );
  });

  test("a read in a cancelled fiber rejects with Cancelled, cause the reason", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { server } = await socketPair(sw);
        const reason = new Error("stop");
        const r = await Cancel.sub(async (scope) => {
          const p = server.readInto(new Uint8Array(1));
          scope.cancel(reason);
          return p.catch((e: unknown) => e);
        });
        expect(r).toBeInstanceOf(Cancelled);
        expect((r as Cancelled).cause).toBe(reason);
      }),
    );
  });

  test("a second concurrent read is refused", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        const first = server.readInto(new Uint8Array(4));
        await expect(server.readInto(new Uint8Array(4))).rejects.toThrow(
          "read: another read (or a copy) is already using this socket",
        );
        await copyString("ok", client);
        expect(await first).toBe(2);
      }),
    );
  });

  test("reads after the peer half-closes see the data, then EndOfFile", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        await copyString("last words", client);
        await client.shutdown("send");
        expect(await readAllText(server)).toBe("last words");
        await expect(server.readInto(new Uint8Array(1))).rejects.toBeInstanceOf(EndOfFile);
        // the other direction still works
        await copyString("reply", server);
        await server.shutdown("send");
        expect(await readAllText(client)).toBe("reply");
      }),
    );
  });

  test('shutdown("receive") drops buffered data and ends reads; "all" also half-closes', async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        await copyString("unread", client);
        await server.shutdown("receive");
        await expect(server.readInto(new Uint8Array(1))).rejects.toBeInstanceOf(EndOfFile);
        await server.shutdown("all");
        await expect(client.readInto(new Uint8Array(1))).rejects.toBeInstanceOf(EndOfFile);
        await server.shutdown("all"); // twice is fine
      }),
    );
  });
});

describe("NodeStreamSocket writes", () => {
  test("write() sends several buffers in order (vectored), skipping empty ones", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        await client.write([bytes("one "), new Uint8Array(0), bytes("two "), bytes("three")]);
        await client.write([]);
        await client.shutdown("send");
        expect(await readAllText(server)).toBe("one two three");
      }),
    );
  });

  test("write() resolves at once when the kernel takes everything", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client } = await socketPair(sw);
        await client.write([bytes("small")]);
        expect(rawOf(client).writableLength).toBe(0);
      }),
    );
  });
});

describe("NodeStreamSocket lifecycle", () => {
  test("close() is idempotent and later operations fail with IoError Closed", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client } = await socketPair(sw);
        const first = client.close();
        const second = client.close();
        expect(second).toBe(first);
        await first;
        expect((client as NodeStreamSocket)[unixFd]()).toBeUndefined();
        for (const op of [
          () => client.readInto(new Uint8Array(1)),
          () => client.write([bytes("x")]),
          () => client.shutdown("send"),
        ]) {
          const e = await op().catch((x: unknown) => x);
          expect(e).toBeInstanceOf(IoError);
          expect((e as IoError).err.kind).toBe("Closed");
        }
      }),
    );
  });

  test("close() fails a pending read with IoError Closed", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { server } = await socketPair(sw);
        const pending = server.readInto(new Uint8Array(1)).catch((x: unknown) => x);
        await server.close();
        const e = await pending;
        expect(e).toBeInstanceOf(IoError);
        expect((e as IoError).err.kind).toBe("Closed");
      }),
    );
  });

  test("the switch closes its sockets; a socket closed early leaves no release hook", async () => {
    let kept: NodeStreamSocket | undefined;
    await run(async () => {
      await Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        kept = server as NodeStreamSocket;
        await kept.write([bytes("open")]);
        await client.close();
        if (runtimeHas("socket-fd")) expect(kept[unixFd]()).toBeTypeOf("number");
      });
      expect(kept?.[unixFd]()).toBeUndefined();
      await expect(kept?.write([bytes("closed")])).rejects.toMatchObject({
        err: { kind: "Closed" },
      });
    });
  });

  test("await using closes the socket", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        {
          await using c = client;
          await copyString("bye", c);
        }
        expect(await readAllText(server)).toBe("bye");
      }),
    );
  });

  test("write after shutdown('send') fails with IoError Closed", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client } = await socketPair(sw);
        await client.shutdown("send");
        const e = await client.write([bytes("x")]).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(IoError);
        expect((e as IoError).err.kind).toBe("Closed");
      }),
    );
  });
});

describe("addresses", () => {
  test("TCP v4 and v6 sockets know both ends", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        for (const host of ["127.0.0.1", "::1"]) {
          const { client, server, listener } = await socketPair(sw, Sockaddr.tcp(host, 0));
          const la = listener.listeningAddr;
          expect(la.type === "tcp" && la.port > 0).toBe(true);
          expect(fmt(client.peerAddr)).toBe(fmt(la));
          expect(fmt(server.localAddr)).toBe(fmt(la));
          expect(fmt(server.peerAddr)).toBe(fmt(client.localAddr));
          expect(
            fmt(client.localAddr).startsWith(host === "::1" ? "tcp:[::1]:" : "tcp:127.0.0.1:"),
          ).toBe(true);
        }
      }),
    );
  });

  test("Unix sockets: the path on the listening side, unnamed on the client side", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const path = tmpSockPath("addr");
        const { client, server, listener } = await socketPair(sw, Sockaddr.unix(path));
        expect(fmt(listener.listeningAddr)).toBe(`unix:${path}`);
        expect(fmt(client.peerAddr)).toBe(`unix:${path}`);
        expect(fmt(client.localAddr)).toBe("unix:");
        expect(fmt(server.localAddr)).toBe(`unix:${path}`);
        expect(fmt(server.peerAddr)).toBe("unix:");
      }),
    );
  });

  test("setNoDelay() takes a boolean", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client } = await socketPair(sw);
        client.setNoDelay(false);
        client.setNoDelay(true);
        expect(() => client.setNoDelay(1 as unknown as boolean)).toThrow(
          new TypeError("enabled must be a boolean, got 1"),
        );
      }),
    );
  });
});

describe("copyFrom", () => {
  test("between two sockets: a proxy copies everything, then returns", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const a = await socketPair(sw);
        const b = await socketPair(sw);
        const payload = "x".repeat(1 << 20);
        await Fiber.both(
          async () => {
            await copy(a.server, b.client); // a's client -> b's server, through the proxy
            await b.client.shutdown("send");
          },
          async () => {
            await Fiber.both(
              async () => {
                await copyString(payload, a.client);
                await a.client.shutdown("send");
              },
              async () => {
                expect((await readAllText(b.server)).length).toBe(payload.length);
              },
            );
          },
        );
      }),
    );
  });

  test("an echo (copy a socket to itself) keeps the stash read before it", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        await copyString("hello", client);
        const one = new Uint8Array(1);
        await readExact(server, one); // "h"; "ello" stays in the stash
        await Fiber.both(
          async () => {
            await copy(server, server);
            await server.shutdown("send");
          },
          async () => {
            expect(await request(client, " world")).toBe("ello world");
          },
        );
      }),
    );
  });

  test("from other sources: readChunk and readInto loops", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        await copy(stringSource("from a string, "), client);
        await copy(bytesSource([bytes("from "), bytes("bytes")]), client);
        const plain = stringSource("!");
        await (client as NodeStreamSocket).copyFrom({ readInto: (b) => plain.readInto(b) });
        await client.shutdown("send");
        expect(await readAllText(server)).toBe("from a string, from bytes!");
      }),
    );
  });

  test("cancelling a copy leaves no listener behind, and the source keeps its data", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const a = await socketPair(sw);
        const b = await socketPair(sw);
        const before = [listenerCounts(rawOf(a.server)), listenerCounts(rawOf(b.client))];
        const ac = new AbortController();
        const copying = copy(a.server, b.client, { signal: ac.signal });
        await copyString("first", a.client);
        const got = new Uint8Array(5);
        await readExact(b.server, got);
        expect(text(got)).toBe("first");
        ac.abort(new Error("stop copying"));
        await expect(copying).rejects.toBeInstanceOf(Cancelled);
        expect([listenerCounts(rawOf(a.server)), listenerCounts(rawOf(b.client))]).toEqual(before);
        await copyString("second", a.client);
        const rest = new Uint8Array(6);
        await readExact(a.server, rest);
        expect(text(rest)).toBe("second");
      }),
    );
  });

  test("a copy fails with the sink's error when the sink's peer has gone", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const a = await socketPair(sw);
        const { a: sink, b: sinkPeer } = await unixPair(sw);
        await sinkPeer.close();
        const copying = copy(a.server, sink);
        await copyString("data", a.client).catch(() => {});
        const e = await copying.catch((x: unknown) => x);
        expect(e).toBeInstanceOf(IoError);
        expect((e as IoError).err.kind).toBe("ConnectionReset");
      }),
    );
  });
});

describe("NodeListeningSocket", () => {
  test("a Unix socket path is removed on close; reuseAddr removes a stale one", async () => {
    const path = tmpSockPath("stale");
    await run(async () => {
      await Switch.run(async (sw) => {
        const l = await net.listen(Sockaddr.unix(path), { sw, backlog: 1 });
        expect(lstatSync(path).isSocket()).toBe(true);
        await l.close();
        expect(existsSync(path)).toBe(false);
      });
      // A stale socket file (as left by a crash): bind a socket and leave its file behind
      const { createServer } = await import("node:net");
      const { linkSync, unlinkSync } = await import("node:fs");
      const srv = createServer();
      await new Promise<void>((r) => srv.listen(path, r));
      const stale = `${path}.stale`;
      linkSync(path, stale);
      await new Promise<void>((r) => srv.close(() => r()));
      linkSync(stale, path);
      unlinkSync(stale);
      expect(lstatSync(path).isSocket()).toBe(true);
      await Switch.run(async (sw) => {
        const e = await net.listen(Sockaddr.unix(path), { sw, backlog: 1 }).catch((x) => x);
        expect(e).toBeInstanceOf(IoError);
        expect((e as IoError).err.kind).toBe("AddressInUse");
        const l = await net.listen(Sockaddr.unix(path), { sw, backlog: 1, reuseAddr: true });
        const { client, server } = await Fiber.pair(
          async () => ({ client: await net.connect(l.listeningAddr, { sw }), server: null }),
          async () => (await l.accept({ sw }))[0],
        ).then(([c, s]) => ({ client: c.client, server: s }));
        await copyString("ok", client);
        await client.shutdown("send");
        expect(await readAllText(server)).toBe("ok");
      });
      expect(existsSync(path)).toBe(false);
    });
  });

  test.runIf(process.platform === "linux")("an abstract name listens and is reported", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const name = abstractName("abs");
        const { client, server, listener } = await socketPair(sw, Sockaddr.unix(name));
        expect(listener.listeningAddr).toEqual(Sockaddr.unix(name));
        await copyString("abstract", client);
        await client.shutdown("send");
        expect(await readAllText(server)).toBe("abstract");
      }),
    );
  });

  test("reusePort lets two sockets listen on the same port", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const one = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 5, reusePort: true });
        const port = one.listeningAddr.type === "tcp" ? one.listeningAddr.port : -1;
        const two = await net.listen(`tcp:127.0.0.1:${port}`, { sw, backlog: 5, reusePort: true });
        expect(two.listeningAddr).toEqual(one.listeningAddr);
      }),
    );
  });

  test("IPv6 any address listens dual-stack-free of errors and reports the port", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:[::]:0", { sw, backlog: 5 });
        const a = l.listeningAddr;
        expect(a.type === "tcp" && a.host.toString() === "::" && a.port > 0).toBe(true);
        if (a.type !== "tcp") return;
        const [c, [s]] = await Fiber.pair(
          () => net.connect(Sockaddr.tcp("::1", a.port), { sw }),
          () => l.accept({ sw }),
        );
        await copyString("v6", c);
        await c.shutdown("send");
        expect(await readAllText(s)).toBe("v6");
      }),
    );
  });

  test("close() fails pending accepts with IoError Closed and is idempotent", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 5 });
        const pending = l.accept({ sw }).catch((x: unknown) => x);
        const c1 = l.close();
        expect(l.close()).toBe(c1);
        await c1;
        const e = await pending;
        expect(e).toBeInstanceOf(IoError);
        expect((e as IoError).err.kind).toBe("Closed");
        expect((l as NodeListeningSocket)[unixFd]()).toBeUndefined();
        const again = await l.accept({ sw }).catch((x: unknown) => x);
        expect((again as IoError).err.kind).toBe("Closed");
      }),
    );
  });

  test("the fds are reachable while open (weir/unix)", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server, listener } = await socketPair(sw);
        for (const r of [client, server, listener] as unknown as Array<{
          [unixFd](): number | undefined;
        }>) {
          // Deno hides them: Unix.fd says so (test/runtimes/unsupported.test.ts)
          if (runtimeHas("socket-fd")) expect(r[unixFd]()).toBeGreaterThan(2);
          else expect(() => Unix.fd(r)).toThrow(UnsupportedOnRuntime);
        }
      }),
    );
  });
});
