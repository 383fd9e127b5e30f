import { expect, test } from "vitest";
import { EndOfFile, IoError, Switch, traceln } from "../core/index.ts";
import { Sockaddr, type StreamSocket } from "../net/index.ts";
import { Backend } from "./backend.ts";
import { Flow } from "./flow.ts";
import { MockListeningSocket, MockNet, Net } from "./net.ts";

async function traced(fn: () => unknown): Promise<string[]> {
  const lines: string[] = [];
  await Backend.run(async () => await fn(), { onTrace: (l) => lines.push(l) });
  return lines;
}

/** Copies `flow` back to itself (Eio's `Flow.copy flow flow`). */
async function echo(flow: StreamSocket): Promise<void> {
  const buf = new Uint8Array(4096);
  for (;;) {
    let n: number;
    try {
      n = await flow.readInto(buf);
    } catch (e) {
      if (e instanceof EndOfFile) return;
      throw e;
    }
    await flow.write([buf.subarray(0, n)]);
  }
}

test("MockNet serves a connection end to end (Eio mocks.md, Networks)", async () => {
  const lines = await traced(async () => {
    const net = Net.make("mocknet");
    const listeningSocket = Net.listeningSocket("tcp/80");
    Net.onListen(net, [{ return: listeningSocket }]);
    const connection = Flow.make("connection");
    Net.onAccept(listeningSocket, [{ return: [connection, "tcp:127.0.0.1:37568"] }]);
    Flow.onRead(connection, [{ return: "foo" }, { return: "bar" }]);
    await Switch.run(async (sw) => {
      const socket = await net.listen("tcp:127.0.0.1:80", { sw, reuseAddr: true, backlog: 5 });
      await socket.acceptFork(
        { sw, onError: (e) => traceln("Error handling connection: %s", String(e)) },
        echo,
      );
    });
  });
  expect(lines).toEqual([
    "mocknet: listen on tcp:127.0.0.1:80",
    "tcp/80: accepted connection from tcp:127.0.0.1:37568",
    'connection: read "foo"',
    'connection: wrote "foo"',
    'connection: read "bar"',
    'connection: wrote "bar"',
    "connection: closed",
    "tcp/80: closed",
  ]);
});

test("MockNet.connect() traces the address and the local binding", async () => {
  const lines = await traced(async () => {
    const net = Net.make("net");
    Net.onConnect(net, [], { default: { run: () => Flow.make("flow") } });
    await Switch.run(async (sw) => {
      await net.connect("tcp:[::1]:443", { sw, bindTo: "tcp:127.0.0.1:5000" });
    });
  });
  expect(lines).toEqual([
    "net: connect to tcp:[::1]:443 (bind to tcp:127.0.0.1:5000)",
    "flow: closed",
  ]);
});

test("MockNet fails loudly when an operation is not scripted", async () => {
  await Backend.run(async () => {
    const net = Net.make("mock-net");
    expect(net).toBeInstanceOf(MockNet);
    await Switch.run(async (sw) => {
      await expect(net.connect("tcp:127.0.0.1:80", { sw })).rejects.toThrow(
        'Mock connect handler not configured for "mock-net" (script it with Mock.Net.onConnect)',
      );
      await expect(net.listen("tcp:127.0.0.1:80", { sw, backlog: 1 })).rejects.toThrow(
        "Mock listen handler not configured",
      );
      await expect(net.datagramSocket("udpv4", { sw })).rejects.toThrow(
        "Mock datagram_socket handler not configured",
      );
      await expect(net.getaddrinfo("x")).rejects.toThrow("Mock getaddrinfo handler not configured");
      await expect(net.getnameinfo("tcp:127.0.0.1:80")).rejects.toThrow(
        "Mock getnameinfo handler not configured",
      );
      await expect(Net.listeningSocket("tcp/80").accept({ sw })).rejects.toThrow(
        'Mock accept handler not configured for "tcp/80"',
      );
    });
  });
});

test("MockNet adds the real context lines to a scripted IoError", async () => {
  await Backend.run(async () => {
    const net = Net.make("net");
    Net.onConnect(net, [{ raise: new IoError({ kind: "ConnectionFailure", reason: "Refused" }) }]);
    await Switch.run(async (sw) => {
      await expect(net.connect("tcp:1.2.3.4:80", { sw })).rejects.toThrow(
        "Net ConnectionFailure Refused\n  connecting to tcp:1.2.3.4:80",
      );
    });
  });
});

test("MockNet.getaddrinfo() traces its arguments as Eio quotes them, and drops Unix addresses", async () => {
  const lines = await traced(async () => {
    const net = Net.make("net");
    Net.onGetaddrinfo(net, [], {
      default: { return: ["tcp:127.0.0.1:80", "udp:127.0.0.1:80", Sockaddr.unix("/x")] },
    });
    const all = await net.getaddrinfo("a host", { service: "http" });
    expect(all.map((a) => Sockaddr.format(a))).toEqual(["tcp:127.0.0.1:80", "udp:127.0.0.1:80"]);
    expect((await net.getaddrinfoStream("h")).length).toBe(1);
    expect((await net.getaddrinfoDatagram("h", { service: "" })).length).toBe(1);
  });
  expect(lines).toEqual([
    'net: getaddrinfo ~service:http "a host"',
    "net: getaddrinfo ~service:0 h",
    'net: getaddrinfo ~service:"" h',
  ]);
});

test("MockNet.getnameinfo() and datagramSocket() are traced and scripted", async () => {
  const lines = await traced(async () => {
    const net = Net.make("net");
    Net.onGetnameinfo(net, [{ return: ["localhost", "http"] }]);
    expect(await net.getnameinfo("tcp:127.0.0.1:80")).toEqual(["localhost", "http"]);
    const closed: string[] = [];
    const sock = {
      send: async () => {},
      recv: async () => [Sockaddr.udp("127.0.0.1", 1), 0] as never,
      localAddr: Sockaddr.udp("127.0.0.1", 53),
      close: async () => {
        closed.push("closed");
      },
      [Symbol.asyncDispose]: async () => {},
    };
    Net.onDatagramSocket(net, [{ return: sock }, { return: sock }]);
    await Switch.run(async (sw) => {
      expect(await net.datagramSocket("udp:127.0.0.1:53", { sw })).toBe(sock);
      await net.datagramSocket("udpv6", { sw });
    });
    expect(closed).toEqual(["closed", "closed"]);
  });
  expect(lines).toEqual([
    "net: getnameinfo tcp:127.0.0.1:80",
    "net: datagram_socket udp:127.0.0.1:53",
    "net: datagram_socket UDPv6",
  ]);
});

test("MockListeningSocket attaches accepted connections to the switch", async () => {
  const lines = await traced(async () => {
    const socket = Net.listeningSocket("tcp/80", { listeningAddr: "tcp:127.0.0.1:80" });
    expect(socket).toBeInstanceOf(MockListeningSocket);
    expect(Sockaddr.format(socket.listeningAddr)).toBe("tcp:127.0.0.1:80");
    expect(Sockaddr.format(Net.listeningSocket("x").listeningAddr)).toBe("tcp:0.0.0.0:0");
    Net.onAccept(socket, [{ return: [Flow.make("c1"), "tcp:10.0.0.1:1"] }]);
    await Switch.run(async (sw) => {
      const [, addr] = await socket.accept({ sw });
      expect(Sockaddr.format(addr)).toBe("tcp:10.0.0.1:1");
      traceln("switch finishing");
    });
    await socket.close();
    await socket.close();
    await Switch.run(async (sw) => {
      await expect(socket.accept({ sw })).rejects.toThrow("accepting on tcp/80");
      await expect(socket.accept({} as never)).rejects.toThrow("option sw (a Switch) is required");
    });
  });
  expect(lines).toEqual([
    "tcp/80: accepted connection from tcp:10.0.0.1:1",
    "switch finishing",
    "c1: closed",
    "tcp/80: closed",
  ]);
});
