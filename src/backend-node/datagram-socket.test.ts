import { existsSync, lstatSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Cancel, Cancelled, Fiber, IoError, isIoError, Switch } from "../core/index.ts";
import { Ipaddr } from "../net/ipaddr.ts";
import { Sockaddr } from "../net/sockaddr.ts";
import { openDatagramSocket, UDP_QUEUE_LIMIT } from "./datagram-socket.ts";
import { native } from "./native.ts";
import { unixFd } from "./unix-fd.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const text = (buf: Uint8Array, n: number): string => dec.decode(buf.subarray(0, n));

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "weir-dgram-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The seed's `run_dgram`, with OS-chosen ports (printed as P1, P2 to compare the trace). */
async function runDgram(ip: Ipaddr): Promise<string[]> {
  const trace: string[] = [];
  await Switch.run(async (sw) => {
    const server = await openDatagramSocket(Sockaddr.udp(ip, 0), { sw });
    const e1sock = await openDatagramSocket(Sockaddr.udp(ip, 0), { sw });
    const names = new Map([
      [Sockaddr.format(server.localAddr), "P2"],
      [Sockaddr.format(e1sock.localAddr), "P1"],
    ]);
    const show = (a: Sockaddr): string => {
      const f = Sockaddr.format(a);
      const port = names.get(f) ?? "?";
      return f.replace(/:\d+$/, `:${port}`);
    };
    await Fiber.both(
      async () => {
        const buf = new Uint8Array(20);
        trace.push(`Waiting to receive data on ${show(server.localAddr)}`);
        const [addr, n] = await server.recv(buf);
        trace.push(`Received message from ${show(addr)}: ${text(buf, n)}`);
      },
      async () => {
        trace.push(`Sending data from ${show(e1sock.localAddr)} to ${show(server.localAddr)}`);
        await e1sock.send([bytes("UDP Message")], { dst: server.localAddr });
      },
    );
  });
  return trace;
}

describe("openDatagramSocket() on UDP", () => {
  test("handles one UDP packet using IPv4 (the seed's run_dgram)", async () => {
    expect(await runDgram(Ipaddr.V4.loopback)).toEqual([
      "Waiting to receive data on udp:127.0.0.1:P2",
      "Sending data from udp:127.0.0.1:P1 to udp:127.0.0.1:P2",
      "Received message from udp:127.0.0.1:P1: UDP Message",
    ]);
  });

  test("handles one UDP packet using IPv6 (the seed's run_dgram)", async () => {
    expect(await runDgram(Ipaddr.V6.loopback)).toEqual([
      "Waiting to receive data on udp:[::1]:P2",
      "Sending data from udp:[::1]:P1 to udp:[::1]:P2",
      "Received message from udp:[::1]:P1: UDP Message",
    ]);
  });

  for (const [kind, ip] of [
    ["udpv4", Ipaddr.V4.loopback],
    ["udpv6", Ipaddr.V6.loopback],
  ] as const) {
    test(`sends from a "${kind}" client socket with an OS-chosen port`, async () => {
      await Switch.run(async (sw) => {
        const server = await openDatagramSocket(Sockaddr.udp(ip, 0), { sw });
        const client = await openDatagramSocket(kind, { sw });
        expect(client.localAddr.type).toBe("udp");
        const local = client.localAddr as { host: Ipaddr; port: number };
        expect(local.host.family).toBe(kind === "udpv4" ? 4 : 6);
        expect(local.host.isAny()).toBe(true);
        expect(local.port).toBeGreaterThan(0);
        await client.send([bytes("UDP Message")], { dst: server.localAddr });
        const buf = new Uint8Array(20);
        const [from, n] = await server.recv(buf);
        expect(text(buf, n)).toBe("UDP Message");
        expect(from.type === "udp" && from.port).toBe(local.port);
        // and the reply reaches the client
        await server.send([bytes("ok")], { dst: from });
        const [from2, n2] = await client.recv(buf);
        expect(text(buf, n2)).toBe("ok");
        expect(Sockaddr.equals(from2, server.localAddr)).toBe(true);
      });
    });
  }

  test("send() makes one datagram of several buffers, and an empty datagram is a message", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(Sockaddr.datagram("udp:127.0.0.1:0"), { sw });
      const b = await openDatagramSocket("udpv4", { sw });
      const dst = a.localAddr;
      await b.send([bytes("ab"), bytes("ac"), new Uint8Array(0), bytes("a")], { dst });
      await b.send([], { dst });
      await b.send([new Uint8Array(0)], { dst });
      const buf = new Uint8Array(32);
      const got: string[] = [];
      for (let i = 0; i < 3; i++) {
        const [, n] = await a.recv(buf);
        got.push(`${n}:${text(buf, n)}`);
      }
      expect(got).toEqual(["5:abaca", "0:", "0:"]);
    });
  });

  test("recv() cuts a datagram longer than the buffer", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(Sockaddr.datagram("udp:127.0.0.1:0"), { sw });
      await a.send([bytes("hello world")], { dst: a.localAddr });
      const buf = new Uint8Array(5);
      const [, n] = await a.recv(buf);
      expect([n, text(buf, n)]).toEqual([5, "hello"]);
    });
  });

  test("recv() is cancelled with its fiber, and the next datagram waits for the next recv()", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(Sockaddr.datagram("udp:127.0.0.1:0"), { sw });
      const buf = new Uint8Array(16);
      const r = await Cancel.sub(async (scope) => {
        const p = a.recv(buf);
        scope.cancel(new Error("stop"));
        return p.then(
          () => "received",
          (e: unknown) => e,
        );
      }).catch((e: unknown) => e);
      expect(r).toBeInstanceOf(Cancelled);
      await a.send([bytes("later")], { dst: a.localAddr });
      const [, n] = await a.recv(buf);
      expect(text(buf, n)).toBe("later");
    });
  });

  test("recv() rejects with Cancelled when its signal aborts", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(Sockaddr.datagram("udp:127.0.0.1:0"), { sw });
      const ac = new AbortController();
      const p = a.recv(new Uint8Array(4), { signal: ac.signal });
      ac.abort(new Error("enough"));
      await expect(p).rejects.toBeInstanceOf(Cancelled);
    });
  });

  test(`holds ${UDP_QUEUE_LIMIT} datagrams, then pauses reading: none is lost`, async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(Sockaddr.datagram("udp:127.0.0.1:0"), { sw });
      const b = await openDatagramSocket("udpv4", { sw });
      const total = UDP_QUEUE_LIMIT * 2;
      for (let i = 0; i < total; i++) await b.send([bytes(`m${i}`)], { dst: a.localAddr });
      // let them all arrive (most wait in the kernel once the queue is full)
      await new Promise((r) => setTimeout(r, 50));
      const buf = new Uint8Array(16);
      const got: string[] = [];
      for (let i = 0; i < total; i++) {
        const [, n] = await a.recv(buf);
        got.push(text(buf, n));
      }
      expect(got).toEqual(Array.from({ length: total }, (_, i) => `m${i}`));
      expect(a.droppedDatagrams).toBe(0);
    });
  });

  test("close() fails a pending recv() with IoError Closed; later calls fail too", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(Sockaddr.datagram("udp:127.0.0.1:0"), { sw });
      const p = a.recv(new Uint8Array(4)).catch((e: unknown) => e);
      await Promise.all([a.close(), a.close()]);
      expect(isIoError(await p, "Closed")).toBe(true);
      await expect(a.recv(new Uint8Array(4))).rejects.toSatisfy((e) => isIoError(e, "Closed"));
      await expect(a.send([], { dst: "udp:127.0.0.1:9" })).rejects.toSatisfy((e) =>
        isIoError(e, "Closed"),
      );
      expect(a[unixFd]()).toBeUndefined();
    });
  });

  test("the switch closes the socket when it finishes", async () => {
    let fd: number | undefined;
    const sock = await Switch.run(async (sw) => {
      const s = await openDatagramSocket("udpv6", { sw });
      fd = s[unixFd]();
      return s;
    });
    expect(typeof fd).toBe("number");
    expect(sock[unixFd]()).toBeUndefined();
    await expect(sock.recv(new Uint8Array(1))).rejects.toBeInstanceOf(IoError);
  });

  test("binding a port in use fails with AddressInUse; reusePort lets two sockets share it", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(Sockaddr.datagram("udp:127.0.0.1:0"), { sw });
      const e = await openDatagramSocket(a.localAddr, { sw }).catch((x: unknown) => x);
      expect(isIoError(e, "AddressInUse")).toBe(true);
      const b = await openDatagramSocket(Sockaddr.datagram("udp:127.0.0.1:0"), {
        sw,
        reusePort: true,
      });
      const c = await openDatagramSocket(b.localAddr, { sw, reusePort: true });
      expect(Sockaddr.equals(b.localAddr, c.localAddr)).toBe(true);
      const d = await openDatagramSocket(Sockaddr.datagram("udp:127.0.0.1:0"), {
        sw,
        reuseAddr: true,
      });
      expect(d.localAddr.type).toBe("udp");
    });
  });

  test("send() checks its destination", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket("udpv4", { sw });
      await expect(a.send([bytes("x")])).rejects.toThrow(TypeError);
      await expect(a.send([bytes("x")], { dst: "tcp:127.0.0.1:80" })).rejects.toThrow(TypeError);
      await expect(a.send([bytes("x")], { dst: "udp:[::1]:80" })).rejects.toThrow(
        /IPv4 address for this IPv4 socket, got udp:\[::1\]:80/,
      );
      await expect(a.send([bytes("x")], { dst: "udp:127.0.0.1:0" })).rejects.toThrow(RangeError);
      await expect(a.send(["x" as unknown as Uint8Array], { dst: a.localAddr })).rejects.toThrow(
        TypeError,
      );
    });
  });

  test("a dual-stack IPv6 socket sends to an IPv4 address", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(Sockaddr.datagram("udp:127.0.0.1:0"), { sw });
      const b = await openDatagramSocket("udpv6", { sw });
      await b.send([bytes("v4")], { dst: a.localAddr });
      const buf = new Uint8Array(4);
      const [from, n] = await a.recv(buf);
      expect(text(buf, n)).toBe("v4");
      expect(from.type === "udp" && from.host.toString()).toBe("127.0.0.1");
    });
  });
});

describe("openDatagramSocket() on Unix paths", () => {
  test("exchanges datagrams between two bound paths, and removes the files on close", async () => {
    const pa = join(dir, "a.sock");
    const pb = join(dir, "b.sock");
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(Sockaddr.unix(pa), { sw });
      const b = await openDatagramSocket(Sockaddr.unix(pb), { sw });
      expect(Sockaddr.format(a.localAddr)).toBe(`unix:${pa}`);
      await b.send([bytes("12"), bytes("34")], { dst: a.localAddr });
      const buf = new Uint8Array(10);
      const [from, n] = await a.recv(buf);
      expect([Sockaddr.format(from), text(buf, n)]).toEqual([`unix:${pb}`, "1234"]);
      expect(typeof a[unixFd]()).toBe("number");
      expect(existsSync(pa)).toBe(true);
    });
    expect(existsSync(pa)).toBe(false);
    expect(existsSync(pb)).toBe(false);
  });

  test("reuseAddr removes a stale socket file, never a live one", async () => {
    const p = join(dir, "stale.sock");
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(Sockaddr.unix(p), { sw });
      const e = await openDatagramSocket(Sockaddr.unix(p), { sw }).catch((x: unknown) => x);
      expect(isIoError(e, "AddressInUse")).toBe(true);
      const live = await openDatagramSocket(Sockaddr.unix(p), { sw, reuseAddr: true }).catch(
        (x: unknown) => x,
      );
      expect(isIoError(live, "AddressInUse")).toBe(true);
      await a.close();
      // a crashed server leaves its socket file behind: bound, then closed without unlinking
      const fd = native.socket("unix", "dgram");
      native.bind(fd, { family: "unix", path: p });
      native.close(fd);
      expect(lstatSync(p).isSocket()).toBe(true);
      const b = await openDatagramSocket(Sockaddr.unix(p), { sw, reuseAddr: true });
      const c = await openDatagramSocket(Sockaddr.unix(join(dir, "c.sock")), { sw });
      await c.send([bytes("to b")], { dst: b.localAddr });
      const buf = new Uint8Array(8);
      const [, n] = await b.recv(buf);
      expect(text(buf, n)).toBe("to b");
    });
    expect(existsSync(p)).toBe(false);
  });

  test.runIf(process.platform === "linux")("binds an abstract name", async () => {
    const name = `\0weir-test-${process.pid}-${Date.now()}`;
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(Sockaddr.unix(name), { sw });
      const b = await openDatagramSocket(Sockaddr.unix(`${name}-b`), { sw });
      await b.send([bytes("abstract")], { dst: a.localAddr });
      const buf = new Uint8Array(16);
      const [from, n] = await a.recv(buf);
      expect(text(buf, n)).toBe("abstract");
      expect(Sockaddr.format(from)).toBe(Sockaddr.format(b.localAddr));
    });
  });

  test("a missing directory fails with NotFound; recv() is cancellable", async () => {
    await Switch.run(async (sw) => {
      const e = await openDatagramSocket(Sockaddr.unix(join(dir, "no", "x.sock")), { sw }).catch(
        (x: unknown) => x,
      );
      expect(isIoError(e, "NotFound")).toBe(true);
      const a = await openDatagramSocket(Sockaddr.unix(join(dir, "c.sock")), { sw });
      const ac = new AbortController();
      const p = a.recv(new Uint8Array(4), { signal: ac.signal });
      const q = a.recv(new Uint8Array(4));
      ac.abort();
      await expect(p).rejects.toBeInstanceOf(Cancelled);
      await a.send([bytes("q")], { dst: a.localAddr });
      const [, n] = await q;
      expect(n).toBe(1);
      const r = a.recv(new Uint8Array(4)).catch((x: unknown) => x);
      await a.close();
      expect(isIoError(await r, "Closed")).toBe(true);
    });
  });
});
