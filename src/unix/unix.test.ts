/**
 * The "Unix interop", "Socketpair", "Errors", "Shutdown" and "read/write on SOCK_DGRAM"
 * sections of Eio's tests/network.md, on weir/unix.
 */
import { describe, expect, test } from "vitest";
import { nodeNet } from "../backend-node/node-net.ts";
import { EndOfFile, Fiber, isIoError, Switch } from "../core/index.ts";
import { BufRead } from "../flow/buf-read.ts";
import { copyString, readAll, readExact } from "../flow/flow-ops.ts";
import { Mock } from "../mock/index.ts";
import { Ipaddr } from "../net/ipaddr.ts";
import { Sockaddr } from "../net/sockaddr.ts";
import { native, Unix } from "./index.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

describe("Unix interop", () => {
  test("extracts file descriptors from listening, client and server sockets", async () => {
    const trace: string[] = [];
    await Switch.run(async (sw) => {
      const server = await nodeNet.listen("tcp:127.0.0.1:0", { sw, reuseAddr: true, backlog: 5 });
      trace.push(`Listening socket has Unix FD: ${Unix.fdOpt(server) !== undefined}`);
      const [haveClient, haveServer] = await Fiber.pair(
        async () => Unix.fdOpt(await nodeNet.connect(server.listeningAddr, { sw })) !== undefined,
        async () => {
          const [flow] = await server.accept({ sw });
          return Unix.fdOpt(flow) !== undefined;
        },
      );
      trace.push(`Client-side socket has Unix FD: ${haveClient}`);
      trace.push(`Server-side socket has Unix FD: ${haveServer}`);
      expect(Unix.fd(server)).toBeGreaterThan(2);
      await server.close();
      expect(Unix.fdOpt(server)).toBeUndefined();
      expect(() => Unix.fd(server)).toThrow(/has no Unix file descriptor/);
    });
    expect(trace).toEqual([
      "Listening socket has Unix FD: true",
      "Client-side socket has Unix FD: true",
      "Server-side socket has Unix FD: true",
    ]);
  });

  test("fdOpt() is undefined for objects without a descriptor (the mock's)", async () => {
    await Mock.Backend.run(async () => {
      const flow = Mock.Flow.make("flow");
      const l = Mock.Net.listeningSocket("tcp/80");
      expect([Unix.fdOpt(flow), Unix.fdOpt(l)]).toEqual([undefined, undefined]);
      expect(() => Unix.fd(flow)).toThrow(TypeError);
    });
    expect(Unix.fdOpt({})).toBeUndefined();
    expect(Unix.fdOpt({ readInto: async () => 0 })).toBeUndefined();
  });

  test("converts weir IP addresses to Unix text", () => {
    expect(
      [Ipaddr.V4.loopback, Ipaddr.V4.any, Ipaddr.V6.loopback, Ipaddr.V6.any].map(
        Unix.Ipaddr.toUnix,
      ),
    ).toEqual(["127.0.0.1", "0.0.0.0", "::1", "::"]);
  });

  test("converts Unix IP addresses to weir", () => {
    const show = (x: string): string => Unix.Ipaddr.ofUnix(x).toString();
    expect(
      [
        "127.0.0.1",
        "0.0.0.0",
        "1234:5678:9abc:def0:fedc:ba98:7654:3210",
        "::1",
        "::",
        "ab::",
        "::ffff:192.168.1.3",
        "1:0:0:2:0:0:0:3",
        "4:1:0:0:2:0:0:3",
      ].map(show),
    ).toEqual([
      "127.0.0.1",
      "0.0.0.0",
      "1234:5678:9abc:def0:fedc:ba98:7654:3210",
      "::1",
      "::",
      "ab::",
      "::ffff:192.168.1.3",
      "1:0:0:2::3",
      "4:1::2:0:0:3",
    ]);
  });

  test("prints addresses with ports", () => {
    const show = (host: string, port: number): string =>
      Sockaddr.format(Sockaddr.tcp(Unix.Ipaddr.ofUnix(host), port));
    expect([show("127.0.0.1", 8080), show("::1", 8080)]).toEqual([
      "tcp:127.0.0.1:8080",
      "tcp:[::1]:8080",
    ]);
    expect(Unix.sockaddrToUnix(Sockaddr.parse("udp:[::1]:53"))).toEqual({
      family: "inet6",
      address: "::1",
      port: 53,
    });
    expect(
      Sockaddr.format(Unix.sockaddrOfUnixStream({ family: "inet", address: "1.2.3.4", port: 80 })),
    ).toBe("tcp:1.2.3.4:80");
    expect(
      Sockaddr.format(
        Unix.sockaddrOfUnixDatagram({ family: "inet", address: "1.2.3.4", port: 80 }),
      ),
    ).toBe("udp:1.2.3.4:80");
  });

  test("wraps a Unix FD (a pipe) as a stream socket", async () => {
    let got = "";
    await Switch.run(async (sw) => {
      const [r, w] = Unix.rawPipe();
      const source = Unix.importSocketStream(r, { sw, closeUnix: true });
      const sink = Unix.importSocketStream(w, { sw, closeUnix: true });
      await Fiber.both(
        () => copyString("Hello\n!", sink),
        async () => {
          const b = BufRead.of(source, { maxSize: 1000 });
          got = `Got: ${JSON.stringify(await b.line())}`;
        },
      );
    });
    expect(got).toBe('Got: "Hello"');
  });

  test("Unix.pipe() gives a source and a sink; closing the sink ends the source", async () => {
    await Switch.run(async (sw) => {
      const [r, w] = Unix.pipe({ sw });
      await w.write([enc.encode("through the pipe")]);
      await w.close();
      expect(await readAll(r, { maxSize: 100 })).toBe("through the pipe");
    });
  });

  // needs NodeListeningSocket.listen(addr, opts, fd): see the report
  test("wraps a Unix FD as a listening socket", async () => {
    const trace: string[] = [];
    const e = await Switch.run(async (sw) => {
      const fd = native.socket("inet", "stream");
      native.bind(fd, { family: "inet", address: "127.0.0.1", port: 0 });
      native.listen(fd, 40);
      const l = await Unix.importSocketListening(fd, { sw, closeUnix: true });
      expect(Sockaddr.format(l.listeningAddr)).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
      await Fiber.both(
        async () => {
          for (;;) {
            await l.acceptFork(
              {
                sw,
                onError: (ex) => {
                  if (!(ex instanceof GracefulShutdown)) trace.push(`Error handling: ${ex}`);
                },
              },
              async (flow) => {
                trace.push("Server accepted connection from client");
                try {
                  trace.push(
                    `Server received: ${JSON.stringify(await readAll(flow, { maxSize: 100 }))}`,
                  );
                } finally {
                  await copyString("Bye", flow);
                }
              },
            );
          }
        },
        async () => {
          trace.push("Connecting to server...");
          const flow = await nodeNet.connect(l.listeningAddr, { sw });
          await copyString("Hello from client", flow);
          await flow.shutdown("send");
          trace.push(`Client received: ${JSON.stringify(await readAll(flow, { maxSize: 100 }))}`);
          trace.push("Client finished - cancelling server");
          throw new GracefulShutdown();
        },
      );
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GracefulShutdown);
    expect(trace).toEqual([
      "Connecting to server...",
      "Server accepted connection from client",
      'Server received: "Hello from client"',
      'Client received: "Bye"',
      "Client finished - cancelling server",
    ]);
  });

  test("wraps Unix FDs (a datagram socketpair) as datagram sockets", async () => {
    let got = "";
    await Switch.run(async (sw) => {
      const [fa, fb] = native.socketpair("dgram");
      const a = Unix.importSocketDatagram(fa, { sw, closeUnix: true });
      const b = Unix.importSocketDatagram(fb, { sw, closeUnix: true });
      await Fiber.both(
        () => a.send([enc.encode("12"), enc.encode("34")]),
        async () => {
          const buf = new Uint8Array(10);
          const [addr, len] = await b.recv(buf);
          expect(Sockaddr.format(addr)).toBe("unix:");
          got = `Got: ${JSON.stringify(dec.decode(buf.subarray(0, len)))}`;
        },
      );
    });
    expect(got).toBe('Got: "1234"');
  });

  test("closeUnix: false leaves a datagram fd open when the switch finishes", async () => {
    const [fa, fb] = native.socketpair("dgram");
    await Switch.run(async (sw) => {
      const a = Unix.importSocketDatagram(fa, { sw, closeUnix: false });
      expect(Unix.fd(a)).toBe(fa);
    });
    expect(native.fdType(fa)).toBe("dgram"); // still open
    native.close(fa);
    native.close(fb);
  });

  test("closeUnix: false leaves a stream fd open when the switch finishes", async () => {
    const [fa, fb] = native.socketpair("stream");
    await Switch.run(async (sw) => {
      const a = Unix.importSocketStream(fa, { sw, closeUnix: false });
      expect(Unix.fd(a)).not.toBe(fa); // weir works on a duplicate
    });
    expect(native.fdType(fa)).toBe("stream");
    native.close(fa);
    native.close(fb);
  });

  test("imports check their arguments", async () => {
    await Switch.run(async (sw) => {
      expect(() => Unix.importSocketStream(-1, { sw, closeUnix: true })).toThrow(
        "fd must be an integer >= 0, got -1",
      );
      expect(() =>
        Unix.importSocketStream(0, { sw } as unknown as { sw: Switch; closeUnix: boolean }),
      ).toThrow("importSocketStream: option closeUnix (a boolean) is required");
      const [r, w] = Unix.rawPipe();
      expect(() => Unix.importSocketDatagram(r, { sw, closeUnix: true })).toThrow(
        `fd ${r} must be a datagram socket, got an fd that is neither a stream nor a datagram socket`,
      );
      await expect(Unix.importSocketListening(r, { sw, closeUnix: true })).rejects.toThrow(
        `fd ${r} must be a listening stream socket, got an fd that is neither`,
      );
      const [da, db] = native.socketpair("dgram");
      expect(() => Unix.importSocketStream(da, { sw, closeUnix: true })).toThrow(
        `fd ${da} must be a stream socket or a pipe, got a dgram socket`,
      );
      native.close(da);
      native.close(db);
      native.close(r);
      native.close(w);
    });
  });
});

class GracefulShutdown extends Error {
  constructor() {
    super("Graceful_shutdown");
    this.name = "GracefulShutdown";
  }
}

describe("Socketpair", () => {
  test("socketpairStream() gives a connected pair", async () => {
    let got = "";
    await Switch.run(async (sw) => {
      const [a, b] = Unix.socketpairStream({ sw });
      Unix.fd(a);
      Unix.fd(b);
      await copyString("foo", a);
      await a.close();
      got = `Got: ${JSON.stringify(await readAll(b, { maxSize: 10 }))}`;
    });
    expect(got).toBe('Got: "foo"');
  });
});

describe("Errors", () => {
  test("ECONNRESET", async () => {
    let line = "";
    await Switch.run(async (sw) => {
      const [a, b] = Unix.socketpairStream({ sw });
      await copyString("foo", a);
      await b.close(); // close without reading
      try {
        await readExact(a, new Uint8Array(1));
        line = "read succeeded";
      } catch (e) {
        if (isIoError(e, "ConnectionReset") || e instanceof EndOfFile) {
          line = "Connection failed (good)";
        } else throw e;
      }
    });
    expect(line).toBe("Connection failed (good)");
  });

  test("EPIPE", async () => {
    let line = "";
    await Switch.run(async (sw) => {
      const [a, b] = Unix.socketpairStream({ sw });
      await b.close();
      try {
        await copyString("foo", a);
        line = "write succeeded";
      } catch (e) {
        if (isIoError(e, "ConnectionReset")) line = "Connection failed (good)";
        else throw e;
      }
    });
    expect(line).toBe("Connection failed (good)");
  });
});

describe("Shutdown", () => {
  test('shutdown("receive") ends a pending read', async () => {
    await Switch.run(async (sw) => {
      const [a] = Unix.socketpairStream({ sw });
      await Fiber.both(
        async () => {
          const e = await readExact(a, new Uint8Array(1)).then(
            () => new Error("Should have ended!"),
            (x: unknown) => x,
          );
          expect(e).toBeInstanceOf(EndOfFile);
        },
        () => a.shutdown("receive"),
      );
    });
  });
});

describe("read/write on SOCK_DGRAM", () => {
  test("each send is one recv, an empty datagram included", async () => {
    const trace: string[] = [];
    await Switch.run(async (sw) => {
      const [a, b] = Unix.socketpairDatagram({ sw });
      Unix.fd(a);
      Unix.fd(b);
      const l = ["foo", "bar", "foobar", "cellar door", ""];
      const buf = new Uint8Array(32);
      const write = (bufs: string[]): Promise<void> => a.send(bufs.map((s) => enc.encode(s)));
      const read = async (): Promise<void> => {
        const [, n] = await b.recv(buf);
        trace.push(`Got: ${n} bytes: ${JSON.stringify(dec.decode(buf.subarray(0, n)))}`);
      };
      for (const s of l) await write([s]);
      for (const _ of l) await read();
      await write(["abaca", "bb"]);
      await read();
      await a.close();
      await b.close();
    });
    expect(trace).toEqual([
      'Got: 3 bytes: "foo"',
      'Got: 3 bytes: "bar"',
      'Got: 6 bytes: "foobar"',
      'Got: 11 bytes: "cellar door"',
      'Got: 0 bytes: ""',
      'Got: 7 bytes: "abacabb"',
    ]);
  });
});
