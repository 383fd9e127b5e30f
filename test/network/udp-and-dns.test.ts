/**
 * The UDP, getaddrinfo and getnameinfo sections of Eio's tests/network.md on the Node backend
 * (`nodeNet`: argument checks and context lines from NetBase). The seed binds fixed ports
 * (8081, 8082); here the OS picks them, and the traces show the seed's numbers in their place.
 */
import { describe, expect, test } from "vitest";
import { nodeNet } from "../../src/backend-node/node-net.ts";
import { Fiber, isIoError, Switch } from "../../src/core/index.ts";
import { Ipaddr } from "../../src/net/ipaddr.ts";
import { type DatagramAddr, Sockaddr } from "../../src/net/sockaddr.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Writes `a` with its port replaced by the seed's number for it. */
function seedPort(a: Sockaddr, ports: ReadonlyMap<number, number>): string {
  const f = Sockaddr.format(a);
  if (a.type === "unix") return f;
  return f.replace(/:\d+$/, `:${ports.get(a.port) ?? "?"}`);
}

/** The seed's `run_dgram`: a bound sender e1 (8081) and a bound receiver e2 (8082). */
async function runDgram(ip: Ipaddr): Promise<string[]> {
  const trace: string[] = [];
  await Switch.run(async (sw) => {
    const listening = await nodeNet.datagramSocket(Sockaddr.udp(ip, 0), { sw });
    const e = await nodeNet.datagramSocket(Sockaddr.udp(ip, 0), { sw });
    const e1 = e.localAddr;
    const e2 = listening.localAddr;
    const ports = new Map<number, number>();
    if (e1.type === "udp" && e2.type === "udp") {
      ports.set(e1.port, 8081);
      ports.set(e2.port, 8082);
    }
    await Fiber.both(
      async () => {
        const buf = new Uint8Array(20);
        trace.push(`Waiting to receive data on ${seedPort(e2, ports)}`);
        const [addr, recv] = await listening.recv(buf);
        trace.push(
          `Received message from ${seedPort(addr, ports)}: ${dec.decode(buf.subarray(0, recv))}`,
        );
      },
      async () => {
        trace.push(`Sending data from ${seedPort(e1, ports)} to ${seedPort(e2, ports)}`);
        await e.send([enc.encode("UDP Message")], { dst: e2 });
      },
    );
  });
  return trace;
}

/** The seed's `run_dgram2`: the sender is a `"udpv4"`/`"udpv6"` client socket. */
async function runDgram2(e1: "udpv4" | "udpv6", ip: Ipaddr): Promise<string[]> {
  const trace: string[] = [];
  await Switch.run(async (sw) => {
    const listening = await nodeNet.datagramSocket(Sockaddr.udp(ip, 0), { sw });
    const serverAddr: DatagramAddr = listening.localAddr;
    const ports = new Map<number, number>();
    if (serverAddr.type === "udp") ports.set(serverAddr.port, 8082);
    await Fiber.both(
      async () => {
        const buf = new Uint8Array(20);
        trace.push(`Waiting to receive data on ${seedPort(serverAddr, ports)}`);
        const [, recv] = await listening.recv(buf);
        trace.push(`Received message ${dec.decode(buf.subarray(0, recv))}`);
      },
      async () => {
        const e = await nodeNet.datagramSocket(e1, { sw });
        trace.push(`Sending data to ${seedPort(serverAddr, ports)}`);
        await e.send([enc.encode("UDP Message")], { dst: serverAddr });
      },
    );
  });
  return trace;
}

describe("Working with UDP and endpoints", () => {
  test("handles one UDP packet using IPv4", async () => {
    expect(await runDgram(Ipaddr.V4.loopback)).toEqual([
      "Waiting to receive data on udp:127.0.0.1:8082",
      "Sending data from udp:127.0.0.1:8081 to udp:127.0.0.1:8082",
      "Received message from udp:127.0.0.1:8081: UDP Message",
    ]);
  });

  test("handles one UDP packet using IPv6", async () => {
    expect(await runDgram(Ipaddr.V6.loopback)).toEqual([
      "Waiting to receive data on udp:[::1]:8082",
      "Sending data from udp:[::1]:8081 to udp:[::1]:8082",
      "Received message from udp:[::1]:8081: UDP Message",
    ]);
  });

  test("handles one UDP packet using IPv4 from a udpv4 socket", async () => {
    expect(await runDgram2("udpv4", Ipaddr.V4.loopback)).toEqual([
      "Waiting to receive data on udp:127.0.0.1:8082",
      "Sending data to udp:127.0.0.1:8082",
      "Received message UDP Message",
    ]);
  });

  test("handles one UDP packet using IPv6 from a udpv6 socket", async () => {
    expect(await runDgram2("udpv6", Ipaddr.V6.loopback)).toEqual([
      "Waiting to receive data on udp:[::1]:8082",
      "Sending data to udp:[::1]:8082",
      "Received message UDP Message",
    ]);
  });

  test("a port in use is an IoError with the datagram socket's context", async () => {
    await Switch.run(async (sw) => {
      const a = await nodeNet.datagramSocket("udp:127.0.0.1:0", { sw });
      const where = Sockaddr.format(a.localAddr);
      const e = await nodeNet.datagramSocket(where, { sw }).catch((x: unknown) => x);
      expect(isIoError(e, "AddressInUse")).toBe(true);
      expect((e as Error).message).toMatch(
        new RegExp(`^Net AddressInUse: .*EADDRINUSE.*\\n {2}creating datagram socket ${where}$`),
      );
      await expect(nodeNet.datagramSocket("tcp:127.0.0.1:0", { sw })).rejects.toThrow(TypeError);
    });
  });
});

const fmt = (xs: readonly Sockaddr[]): string[] => xs.map((a) => Sockaddr.format(a));

describe("Getaddrinfo", () => {
  test("getaddrinfoStream 127.0.0.1", async () => {
    expect(fmt(await nodeNet.getaddrinfoStream("127.0.0.1"))).toEqual(["tcp:127.0.0.1:0"]);
  });

  test('getaddrinfoStream 127.0.0.1 ~service:"80"', async () => {
    expect(fmt(await nodeNet.getaddrinfoStream("127.0.0.1", { service: "80" }))).toEqual([
      "tcp:127.0.0.1:80",
    ]);
  });

  test("getaddrinfoDatagram 127.0.0.1", async () => {
    expect(fmt(await nodeNet.getaddrinfoDatagram("127.0.0.1"))).toEqual(["udp:127.0.0.1:0"]);
  });

  test('getaddrinfoDatagram 127.0.0.1 ~service:"80"', async () => {
    expect(fmt(await nodeNet.getaddrinfoDatagram("127.0.0.1", { service: "80" }))).toEqual([
      "udp:127.0.0.1:80",
    ]);
  });

  // Eio marks these outputs non-deterministic: they follow the system's /etc/services, which
  // on older systems lists http and ftp for udp too ([tcp:...:80; udp:...:80])
  for (const [service, port] of [
    ["http", 80],
    ["ftp", 21],
  ] as const) {
    test(`getaddrinfo ~service:"${service}" 127.0.0.1`, async () => {
      const all = fmt(await nodeNet.getaddrinfo("127.0.0.1", { service }));
      expect(all[0]).toBe(`tcp:127.0.0.1:${port}`);
      expect(all.slice(1)).toEqual(all.length > 1 ? [`udp:127.0.0.1:${port}`] : []);
    });
  }

  test("a failed lookup has the context line", async () => {
    const e = await nodeNet
      .getaddrinfo("127.0.0.1", { service: "no-such-service" })
      .catch((x: unknown) => x);
    expect(isIoError(e, "NotFound")).toBe(true);
    expect((e as Error).message).toMatch(/\n {2}looking up "127\.0\.0\.1"$/);
  });
});

describe("getnameinfo", () => {
  test('tcp:127.0.0.1:80 is ("localhost", "http")', async () => {
    const [host, service] = await nodeNet.getnameinfo(Sockaddr.tcp(Ipaddr.V4.loopback, 80));
    expect([host, service === "www" ? "http" : service]).toEqual(["localhost", "http"]);
  });

  test("a Unix address is refused", async () => {
    await expect(nodeNet.getnameinfo("unix:/tmp/x.sock")).rejects.toThrow(TypeError);
  });
});
