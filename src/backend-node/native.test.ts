import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { describe, expect, test } from "vitest";
import {
  addonPath,
  type DgramHandle,
  type NativeAddr,
  type NativeSystemError,
  native,
} from "./native.ts";

const { DgramHandle: Handle } = native;

// ---------------------------------------------------------------------------------------------
// Helpers

/** Sends one datagram; resolves when the callback reports success. */
function send(h: DgramHandle, bufs: Uint8Array[], dst: NativeAddr | null = null): Promise<void> {
  return new Promise((resolve, reject) => {
    h.send(bufs, dst, (err) => (err ? reject(err) : resolve()));
  });
}

interface Got {
  n: number;
  text: string;
  src: NativeAddr | null;
}

/** Receives one datagram into a buffer of `size` bytes. */
function recv(h: DgramHandle, size = 64): Promise<Got> {
  const buf = new Uint8Array(size);
  return new Promise((resolve, reject) => {
    h.recv(buf, (err, n, src) =>
      err ? reject(err) : resolve({ n, text: Buffer.from(buf.subarray(0, n)).toString(), src }),
    );
  });
}

/** The error a failed receive reports. */
function recvError(h: DgramHandle): Promise<NativeSystemError> {
  return new Promise((resolve, reject) => {
    h.recv(new Uint8Array(8), (err) =>
      err ? resolve(err) : reject(new Error("recv succeeded unexpectedly")),
    );
  });
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Runs `fn`, expecting it to throw; returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected an exception");
}

/** Checks the shape of a Node-style system error. */
function expectSysErr(e: unknown, code: string, syscall: string): void {
  expect(e).toBeInstanceOf(Error);
  const err = e as NativeSystemError;
  expect(err.code).toBe(code);
  expect(err.syscall).toBe(syscall);
  expect(err.message).toBe(`${syscall} ${code}`);
  expect(typeof err.errno).toBe("number");
  expect(err.errno).toBeLessThan(0);
}

function readAll(sock: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    sock.on("data", (c: Buffer) => chunks.push(c));
    sock.on("end", () => resolve(Buffer.concat(chunks).toString()));
    sock.on("error", reject);
  });
}

async function destroyAll(...socks: net.Socket[]): Promise<void> {
  await Promise.all(
    socks.map(async (s) => {
      if (s.closed) return;
      const closed = once(s, "close");
      s.destroy();
      await closed;
    }),
  );
}

function fdOpen(fd: number): boolean {
  return existsSync(`/proc/self/fd/${fd}`);
}

function fdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Waits a few event-loop turns (uv_close callbacks run on the next iteration). */
async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** A UDP socket bound to an ephemeral port on `address`, with its handle and address. */
function udp(family: "inet" | "inet6", address: string): { h: DgramHandle; addr: NativeAddr } {
  const fd = native.socket(family, "dgram");
  native.bind(fd, { family, address, port: 0 });
  const addr = native.getsockname(fd);
  return { h: new Handle(fd), addr };
}

function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "weir-native-"));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Runs a CommonJS snippet in a child Node process with the addon path in WEIR_ADDON. */
function runChild(code: string, args: string[] = [], node = process.execPath) {
  return spawnSync(node, [...args, "-e", code], {
    // NODE_OPTIONS may hold flags of the Node running the tests that another Node lacks
    env: { ...process.env, NODE_OPTIONS: "", WEIR_ADDON: addonPath() },
    encoding: "utf8",
    timeout: 15_000,
  });
}

// ---------------------------------------------------------------------------------------------

describe("stream fds through net.Socket", () => {
  test("a stream socketpair carries data both ways", async () => {
    const [fa, fb] = native.socketpair("stream");
    expect(native.fdType(fa)).toBe("stream");
    expect(native.getsockname(fa)).toEqual({ family: "unix", path: "" });
    expect(native.getpeername(fa)).toEqual({ family: "unix", path: "" });
    const a = new net.Socket({ fd: fa, readable: true, writable: true, allowHalfOpen: true });
    const b = new net.Socket({ fd: fb, readable: true, writable: true, allowHalfOpen: true });
    const gotB = readAll(b);
    const gotA = readAll(a);
    a.end("foo");
    expect(await gotB).toBe("foo");
    b.end("bar");
    expect(await gotA).toBe("bar");
    await destroyAll(a, b);
  });

  test("a pipe carries data", async () => {
    const [r, w] = native.pipe();
    expect(native.fdType(r)).toBe("other");
    expect(native.fdType(w)).toBe("other");
    const source = new net.Socket({ fd: r, readable: true, writable: false });
    const sink = new net.Socket({ fd: w, readable: false, writable: true });
    const got = readAll(source);
    sink.end("Hello\n!");
    expect(await got).toBe("Hello\n!");
    await destroyAll(source, sink);
  });

  test("shutdown receive: reading then ends", async () => {
    const [fa, fb] = native.socketpair("stream");
    native.shutdown(fa, "receive");
    const a = new net.Socket({ fd: fa, readable: true, writable: true });
    expect(await readAll(a)).toBe("");
    const b = new net.Socket({ fd: fb, readable: true, writable: true });
    await destroyAll(a, b);
  });

  test("shutdown send: the peer reads end-of-file", async () => {
    const [fa, fb] = native.socketpair("stream");
    const b = new net.Socket({ fd: fb, readable: true, writable: true });
    const got = readAll(b);
    native.shutdown(fa, "send");
    expect(await got).toBe("");
    native.close(fa);
    await destroyAll(b);
  });

  test("a listening TCP socket from socket/bind/listen is adopted by net.Server", async () => {
    const fd = native.socket("inet", "stream");
    native.setReuseAddr(fd, true);
    native.bind(fd, { family: "inet", address: "127.0.0.1", port: 0 });
    native.listen(fd, 16);
    const addr = native.getsockname(fd);
    if (addr.family !== "inet") throw new Error("expected an inet address");
    expect(addr.address).toBe("127.0.0.1");
    expect(addr.port).toBeGreaterThan(0);
    const server = net.createServer((conn) => {
      conn.on("data", (d: Buffer) => conn.end(`echo:${d.toString()}`));
    });
    server.listen({ fd });
    await once(server, "listening");
    const client = net.connect({ host: "127.0.0.1", port: addr.port });
    const got = readAll(client);
    client.write("hi");
    expect(await got).toBe("echo:hi");
    await destroyAll(client);
    await new Promise<void>((r) => server.close(() => r()));
  });

  test("a listening Unix socket is adopted by net.Server", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "l.sock");
      const fd = native.socket("unix", "stream");
      native.bind(fd, { family: "unix", path });
      native.listen(fd, 4);
      expect(native.getsockname(fd)).toEqual({ family: "unix", path });
      const server = net.createServer((conn) => conn.end("bye"));
      server.listen({ fd });
      await once(server, "listening");
      const client = net.connect({ path });
      expect(await readAll(client)).toBe("bye");
      await destroyAll(client);
      await new Promise<void>((r) => server.close(() => r()));
    });
  });
});

describe("DgramHandle on a datagram socketpair", () => {
  test("preserves message boundaries, empty datagrams and multi-buffer sends", async () => {
    const [fa, fb] = native.socketpair("dgram");
    expect(native.fdType(fa)).toBe("dgram");
    const a = new Handle(fa);
    const b = new Handle(fb);
    expect(a.fd).toBe(fa);
    const msgs = ["foo", "bar", "foobar", "cellar door", ""];
    for (const m of msgs) await send(a, [enc(m)]);
    const got: string[] = [];
    for (const _ of msgs) {
      const r = await recv(b, 32);
      got.push(`Got: ${r.n} bytes: ${JSON.stringify(r.text)}`);
      expect(r.src).toEqual({ family: "unix", path: "" });
    }
    await send(a, [enc("abaca"), enc("bb")]);
    const r = await recv(b, 32);
    got.push(`Got: ${r.n} bytes: ${JSON.stringify(r.text)}`);
    expect(got).toEqual([
      'Got: 3 bytes: "foo"',
      'Got: 3 bytes: "bar"',
      'Got: 6 bytes: "foobar"',
      'Got: 11 bytes: "cellar door"',
      'Got: 0 bytes: ""',
      'Got: 7 bytes: "abacabb"',
    ]);
    a.close();
    b.close();
  });

  test("a send with no buffers at all is one empty datagram", async () => {
    const [fa, fb] = native.socketpair("dgram");
    const a = new Handle(fa);
    const b = new Handle(fb);
    const pending = recv(b);
    await send(a, []);
    expect((await pending).n).toBe(0);
    a.close();
    b.close();
  });

  test("an oversized datagram is cut to the buffer and the rest discarded", async () => {
    const [fa, fb] = native.socketpair("dgram");
    const a = new Handle(fa);
    const b = new Handle(fb);
    await send(a, [enc("0123456789abcdefghij")]);
    await send(a, [enc("next")]);
    const r = await recv(b, 10);
    expect(r.n).toBe(10);
    expect(r.text).toBe("0123456789");
    expect((await recv(b, 10)).text).toBe("next");
    const z = await recv0(a, b);
    expect(z).toBe(0);
    a.close();
    b.close();
  });

  test("a recv started first completes when the datagram arrives", async () => {
    const [fa, fb] = native.socketpair("dgram");
    const a = new Handle(fa);
    const b = new Handle(fb);
    const pending = recv(b);
    await new Promise((r) => setTimeout(r, 20));
    await send(a, [enc("late")]);
    expect((await pending).text).toBe("late");
    a.close();
    b.close();
  });

  test("a sender that fills the socket buffer delivers every datagram in order", async () => {
    const [fa, fb] = native.socketpair("dgram");
    const a = new Handle(fa);
    const b = new Handle(fb);
    const count = 300;
    const payload = new Uint8Array(4096);
    let inSend = false;
    let later = 0;
    const sent: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const header = enc(`${i}:`);
      sent.push(
        new Promise<void>((resolve, reject) => {
          inSend = true;
          a.send([header, payload], null, (err) => {
            if (!inSend) later++;
            if (err) reject(err);
            else resolve();
          });
          inSend = false;
        }),
      );
    }
    // The receiver has not read yet, so most sends must be waiting for the socket to drain.
    expect(later).toBe(0);
    const order: number[] = [];
    for (let i = 0; i < count; i++) {
      const r = await recv(b, 8192);
      expect(r.n).toBe(`${i}:`.length + payload.length);
      order.push(Number.parseInt(r.text.slice(0, r.text.indexOf(":")), 10));
    }
    await Promise.all(sent);
    expect(later).toBeGreaterThan(0);
    expect(order).toEqual(Array.from({ length: count }, (_, i) => i));
    a.close();
    b.close();
  });

  test("cancelRecv fails the pending recv with ECANCELED and the handle stays usable", async () => {
    const [fa, fb] = native.socketpair("dgram");
    const a = new Handle(fa);
    const b = new Handle(fb);
    const err = recvError(b);
    b.cancelRecv();
    expectSysErr(await err, "ECANCELED", "recvmsg");
    b.cancelRecv(); // nothing pending: no-op
    await send(a, [enc("again")]);
    expect((await recv(b)).text).toBe("again");
    a.close();
    b.close();
  });

  test("close with a pending recv: ECANCELED, no handle or fd left behind", async () => {
    await turns(); // let earlier tests' poll handles finish closing
    const baseResources = process.getActiveResourcesInfo().length;
    const baseFds = fdCount();
    const basePolls = native.stats().pollHandles;
    const [fa, fb] = native.socketpair("dgram");
    const a = new Handle(fa);
    const b = new Handle(fb);
    expect(native.stats().pollHandles).toBe(basePolls + 2);
    const err = recvError(b);
    b.close();
    expectSysErr(await err, "ECANCELED", "recvmsg");
    expect(b.fd).toBe(-1);
    expect(fdOpen(fb)).toBe(false);
    b.close(); // idempotent
    expectSysErr(
      thrown(() => b.recv(new Uint8Array(1), () => {})),
      "EBADF",
      "recvmsg",
    );
    expectSysErr(
      thrown(() => b.send([], null, () => {})),
      "EBADF",
      "sendmsg",
    );
    a.close();
    expect(fdOpen(fa)).toBe(false);
    await turns();
    expect(native.stats().pollHandles).toBe(basePolls);
    expect(process.getActiveResourcesInfo().length).toBe(baseResources);
    expect(fdCount()).toBe(baseFds);
  });

  test("close fails queued sends with ECANCELED, in order", async () => {
    const [fa, fb] = native.socketpair("dgram");
    const a = new Handle(fa);
    const results: string[] = [];
    const big = new Uint8Array(16384);
    let i = 0;
    // Fill the peer's queue until sends wait, then queue two more.
    while (results.length === i && i < 10_000) {
      const n = i++;
      a.send([big], null, (err) => results.push(`${n}:${err ? err.code : "ok"}`));
    }
    const queuedFrom = i - 1;
    a.send([big], null, (err) => results.push(`${i}:${err ? err.code : "ok"}`));
    a.close();
    expect(results.slice(queuedFrom)).toEqual([
      `${queuedFrom}:ECANCELED`,
      `${queuedFrom + 1}:ECANCELED`,
    ]);
    native.close(fb);
  });

  test("closeFd: false detaches without closing the fd", async () => {
    const [fa, fb] = native.socketpair("dgram");
    const a = new Handle(fa, { closeFd: false });
    a.close();
    expect(fdOpen(fa)).toBe(true);
    expect(native.fdType(fa)).toBe("dgram");
    // The fd can be wrapped again.
    const again = new Handle(fa);
    const b = new Handle(fb);
    await send(again, [enc("x")]);
    expect((await recv(b)).text).toBe("x");
    again.close();
    b.close();
    expect(fdOpen(fa)).toBe(false);
  });

  test("a connected Unix datagram pair reports send errors through the callback", async () => {
    const [fa, fb] = native.socketpair("dgram");
    const a = new Handle(fa);
    native.close(fb);
    const err = await new Promise<NativeSystemError | null>((r) => a.send([enc("x")], null, r));
    expect(err).not.toBeNull();
    expect(err?.syscall).toBe("sendmsg");
    expect(["ECONNREFUSED", "ENOTCONN", "EPIPE", "ECONNRESET"]).toContain(err?.code);
    a.close();
  });
});

/** Sends an empty datagram a -> b and returns the length b received. */
async function recv0(a: DgramHandle, b: DgramHandle): Promise<number> {
  await send(a, [new Uint8Array(0)]);
  return (await recv(b, 10)).n;
}

describe("UDP on loopback", () => {
  for (const [family, address] of [
    ["inet", "127.0.0.1"],
    ["inet6", "::1"],
  ] as const) {
    test(`${family} ${address}: send to an address, recv reports the sender`, async () => {
      const a = udp(family, address);
      const b = udp(family, address);
      if (b.addr.family === "unix") throw new Error("expected an IP address");
      expect(b.addr.family).toBe(family);
      expect(b.addr.address).toBe(address);
      expect(b.addr.port).toBeGreaterThan(0);
      await send(a.h, [enc("hello "), enc("udp")], b.addr);
      const got = await recv(b.h);
      expect(got.text).toBe("hello udp");
      expect(got.src).toEqual(a.addr);
      // And back, to the reported source.
      if (!got.src) throw new Error("no source address");
      await send(b.h, [enc("pong")], got.src);
      const back = await recv(a.h);
      expect(back.text).toBe("pong");
      expect(back.src).toEqual(b.addr);
      a.h.close();
      b.h.close();
    });
  }

  test("a connected UDP socket sends without a destination", async () => {
    const a = udp("inet", "127.0.0.1");
    const b = udp("inet", "127.0.0.1");
    native.connect(a.h.fd, b.addr);
    expect(native.getpeername(a.h.fd)).toEqual(b.addr);
    await send(a.h, [enc("connected")], null);
    const got = await recv(b.h);
    expect(got.text).toBe("connected");
    expect(got.src).toEqual(a.addr);
    a.h.close();
    b.h.close();
  });

  /** A UDP socket on 127.0.0.1:`port` with `option` set (or neither) before bind. */
  const boundUdp = (option: "reuseAddr" | "reusePort" | null, port: number): number => {
    const fd = native.socket("inet", "dgram");
    try {
      if (option === "reuseAddr") native.setReuseAddr(fd, true);
      if (option === "reusePort") native.setReusePort(fd, true);
      native.bind(fd, { family: "inet", address: "127.0.0.1", port });
    } catch (e) {
      native.close(fd);
      throw e;
    }
    return fd;
  };
  const portOf = (fd: number): number => {
    const a = native.getsockname(fd);
    return a.family === "unix" ? 0 : a.port;
  };

  test("SO_REUSEPORT lets a second socket bind the same UDP port; without it bind fails", () => {
    const a = boundUdp("reusePort", 0);
    const port = portOf(a);
    const b = boundUdp("reusePort", port);
    expect(portOf(b)).toBe(port);
    expect(() => boundUdp(null, port)).toThrow(expect.objectContaining({ code: "EADDRINUSE" }));
    native.close(a);
    native.close(b);
  });

  test("SO_REUSEADDR lets two UDP sockets that both set it bind the same address", () => {
    const a = boundUdp("reuseAddr", 0);
    const port = portOf(a);
    expect(() => boundUdp(null, port)).toThrow(expect.objectContaining({ code: "EADDRINUSE" }));
    const b = boundUdp("reuseAddr", port);
    expect(portOf(b)).toBe(port);
    native.close(a);
    native.close(b);
  });
});

describe("Unix datagram sockets", () => {
  test("bound to a path: getsockname and the sender's address", async () => {
    await withTempDir(async (dir) => {
      const serverPath = join(dir, "server.sock");
      const clientPath = join(dir, "client.sock");
      const sfd = native.socket("unix", "dgram");
      native.bind(sfd, { family: "unix", path: serverPath });
      expect(native.getsockname(sfd)).toEqual({ family: "unix", path: serverPath });
      const server = new Handle(sfd);
      const bound = native.socket("unix", "dgram");
      native.bind(bound, { family: "unix", path: clientPath });
      const client = new Handle(bound);
      const anon = new Handle(native.socket("unix", "dgram"));
      await send(client, [enc("from bound")], { family: "unix", path: serverPath });
      const r1 = await recv(server);
      expect(r1.text).toBe("from bound");
      expect(r1.src).toEqual({ family: "unix", path: clientPath });
      await send(anon, [enc("from unbound")], { family: "unix", path: serverPath });
      const r2 = await recv(server);
      expect(r2.text).toBe("from unbound");
      expect(r2.src).toEqual({ family: "unix", path: "" });
      await send(server, [enc("reply")], r1.src);
      expect((await recv(client)).text).toBe("reply");
      server.close();
      client.close();
      anon.close();
    });
  });

  test("bound to an abstract name: exact-length names round-trip", async () => {
    const name = `\0weir-test-${process.pid}-${Math.random().toString(36).slice(2)}\0x`;
    const sfd = native.socket("unix", "dgram");
    native.bind(sfd, { family: "unix", path: name });
    expect(native.getsockname(sfd)).toEqual({ family: "unix", path: name });
    const server = new Handle(sfd);
    // Path "" autobinds an abstract name ("\0" and five hex digits on Linux).
    const cfd = native.socket("unix", "dgram");
    native.bind(cfd, { family: "unix", path: "" });
    const auto = native.getsockname(cfd);
    if (auto.family !== "unix") throw new Error("expected a unix address");
    expect(auto.path.startsWith("\0")).toBe(true);
    const client = new Handle(cfd);
    await send(client, [enc("abstract")], { family: "unix", path: name });
    const got = await recv(server);
    expect(got.text).toBe("abstract");
    expect(got.src).toEqual(auto);
    // A prefix of the name is a different name.
    const prefix = name.slice(0, -2);
    const err = await new Promise<NativeSystemError | null>((r) =>
      client.send([enc("x")], { family: "unix", path: prefix }, r),
    );
    expect(err?.code).toBe("ECONNREFUSED");
    server.close();
    client.close();
  });

  test("a Unix datagram socket connected to a path", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "s.sock");
      const sfd = native.socket("unix", "dgram");
      native.bind(sfd, { family: "unix", path });
      const cfd = native.socket("unix", "dgram");
      native.connect(cfd, { family: "unix", path });
      expect(native.getpeername(cfd)).toEqual({ family: "unix", path });
      const server = new Handle(sfd);
      const client = new Handle(cfd);
      await send(client, [enc("1"), enc("2"), enc("34")]);
      expect((await recv(server)).text).toBe("1234");
      server.close();
      client.close();
    });
  });
});

describe("errors", () => {
  test("bind to a path in a missing directory: ENOENT", () => {
    const fd = native.socket("unix", "dgram");
    const e = thrown(() =>
      native.bind(fd, { family: "unix", path: "/nonexistent-weir-dir/x/eio-test.sock" }),
    );
    expectSysErr(e, "ENOENT", "bind");
    expect((e as NativeSystemError).errno).toBe(-2);
    native.close(fd);
  });

  test("bind to an address in use: EADDRINUSE (UDP port and Unix path)", async () => {
    const a = udp("inet", "127.0.0.1");
    const fd = native.socket("inet", "dgram");
    expectSysErr(
      thrown(() => native.bind(fd, a.addr)),
      "EADDRINUSE",
      "bind",
    );
    native.close(fd);
    a.h.close();
    await withTempDir(async (dir) => {
      const path = join(dir, "in-use.sock");
      const s1 = native.socket("unix", "stream");
      native.bind(s1, { family: "unix", path });
      const s2 = native.socket("unix", "stream");
      expectSysErr(
        thrown(() => native.bind(s2, { family: "unix", path })),
        "EADDRINUSE",
        "bind",
      );
      native.close(s1);
      native.close(s2);
    });
  });

  test("connect to a missing Unix path: ENOENT", () => {
    for (const type of ["stream", "dgram"] as const) {
      const fd = native.socket("unix", type);
      expectSysErr(
        thrown(() => native.connect(fd, { family: "unix", path: "idontexist.sock" })),
        "ENOENT",
        "connect",
      );
      native.close(fd);
    }
  });

  test("a Unix path too long for sockaddr_un: ENAMETOOLONG", () => {
    const fd = native.socket("unix", "dgram");
    expectSysErr(
      thrown(() => native.bind(fd, { family: "unix", path: `/tmp/${"x".repeat(200)}` })),
      "ENAMETOOLONG",
      "bind",
    );
    native.close(fd);
  });

  test("system errors on bad fds and unconnected sockets", () => {
    const notOpen = 1_000_000; // far above any fd in use
    expectSysErr(
      thrown(() => native.close(notOpen)),
      "EBADF",
      "close",
    );
    expectSysErr(
      thrown(() => native.fdType(notOpen)),
      "EBADF",
      "getsockopt",
    );
    expectSysErr(
      thrown(() => new Handle(notOpen)),
      "EBADF",
      "getsockopt",
    );
    const [r, w] = native.pipe();
    native.close(w);
    expectSysErr(
      thrown(() => native.getsockname(r)),
      "ENOTSOCK",
      "getsockname",
    );
    native.close(r);
    const fd = native.socket("inet", "stream");
    expectSysErr(
      thrown(() => native.getpeername(fd)),
      "ENOTCONN",
      "getpeername",
    );
    expectSysErr(
      thrown(() => native.shutdown(fd, "all")),
      "ENOTCONN",
      "shutdown",
    );
    native.close(fd);
  });

  test("bad arguments throw TypeError", () => {
    const fd = native.socket("inet", "dgram");
    const bad: Array<() => unknown> = [
      // @ts-expect-error a bad type
      () => native.socketpair("seqpacket"),
      // @ts-expect-error a bad domain
      () => native.socket("ipx", "dgram"),
      () => native.bind(-1, { family: "inet", address: "127.0.0.1", port: 0 }),
      () => native.bind(1.5, { family: "inet", address: "127.0.0.1", port: 0 }),
      // @ts-expect-error not a number
      () => native.close("3"),
      () => native.bind(fd, { family: "inet", address: "nope", port: 0 }),
      () => native.bind(fd, { family: "inet", address: "127.0.0.1", port: 70000 }),
      () => native.bind(fd, { family: "inet", address: "127.0.0.1", port: -1 }),
      () => native.bind(fd, { family: "inet6", address: "127.0.0.1", port: 0 }),
      // @ts-expect-error a bad family
      () => native.bind(fd, { family: "ipx", path: "x" }),
      // @ts-expect-error no address
      () => native.bind(fd, null),
      () => native.bind(fd, { family: "unix", path: "a\0b" }),
      // @ts-expect-error not a boolean
      () => native.setReuseAddr(fd, 1),
      // @ts-expect-error a bad direction
      () => native.shutdown(fd, "both"),
      () => native.listen(fd, -1),
    ];
    for (const f of bad) expect(thrown(f)).toBeInstanceOf(TypeError);
    native.close(fd);
  });

  test("DgramHandle rejects non-datagram fds and bad calls with TypeError", async () => {
    const [sa, sb] = native.socketpair("stream");
    const [r, w] = native.pipe();
    expect(thrown(() => new Handle(sa))).toBeInstanceOf(TypeError);
    expect(thrown(() => new Handle(r))).toBeInstanceOf(TypeError);
    // @ts-expect-error a bad option
    expect(thrown(() => new Handle(sa, { closeFd: "yes" }))).toBeInstanceOf(TypeError);
    for (const fd of [sa, sb, r, w]) native.close(fd);

    const [fa, fb] = native.socketpair("dgram");
    const h = new Handle(fa);
    const noop = (): void => {};
    // @ts-expect-error not an array
    expect(thrown(() => h.send(enc("x"), null, noop))).toBeInstanceOf(TypeError);
    // @ts-expect-error not Uint8Arrays
    expect(thrown(() => h.send(["x"], null, noop))).toBeInstanceOf(TypeError);
    expect(
      thrown(() => h.send([new Uint16Array(2) as unknown as Uint8Array], null, noop)),
    ).toBeInstanceOf(TypeError);
    // @ts-expect-error no callback
    expect(thrown(() => h.send([], null))).toBeInstanceOf(TypeError);
    // @ts-expect-error not a buffer
    expect(thrown(() => h.recv(8, noop))).toBeInstanceOf(TypeError);
    const first = recvError(h);
    const second = thrown(() => h.recv(new Uint8Array(1), noop));
    expect(second).toBeInstanceOf(TypeError);
    expect((second as { code?: string }).code).toBe("ERR_INVALID_STATE");
    const call = h.close as unknown as (this: unknown) => void;
    expect(thrown(() => call.call({}))).toBeInstanceOf(TypeError);
    h.close();
    expect((await first).code).toBe("ECANCELED");
    native.close(fb);
  });

  test("an exception thrown by a callback run synchronously is rethrown, after the others ran", () => {
    const [fa, fb] = native.socketpair("dgram");
    const h = new Handle(fa);
    const seen: string[] = [];
    h.recv(new Uint8Array(1), () => {
      seen.push("recv");
      throw new Error("boom");
    });
    const e = thrown(() => h.close());
    expect((e as Error).message).toBe("boom");
    expect(seen).toEqual(["recv"]);
    native.close(fb);
  });
});

describe("lifetimes", () => {
  test("an idle open handle does not keep the process alive; a pending recv does", () => {
    const idle = runChild(`
      const n = require(process.env.WEIR_ADDON);
      const [a, b] = n.socketpair("dgram");
      globalThis.keep = [new n.DgramHandle(a), new n.DgramHandle(b)];
      console.log("idle");
    `);
    expect(idle.stderr).toBe("");
    expect(idle.stdout.trim()).toBe("idle");
    expect(idle.status).toBe(0);

    const pending = runChild(`
      const n = require(process.env.WEIR_ADDON);
      const [a, b] = n.socketpair("dgram");
      const ha = new n.DgramHandle(a), hb = new n.DgramHandle(b);
      const buf = new Uint8Array(16);
      hb.recv(buf, (err, len) => {
        console.log("got", Buffer.from(buf.subarray(0, len)).toString());
      });
      // An unref'd timer cannot keep the process alive: only the pending recv can.
      setTimeout(() => ha.send([Buffer.from("late")], null, () => {}), 100).unref();
    `);
    expect(pending.stderr).toBe("");
    expect(pending.stdout.trim()).toBe("got late");
    expect(pending.status).toBe(0);
  });

  test("an exception thrown by a callback from the event loop is an uncaught exception", () => {
    const r = runChild(`
      const n = require(process.env.WEIR_ADDON);
      const [a, b] = n.socketpair("dgram");
      const ha = new n.DgramHandle(a), hb = new n.DgramHandle(b);
      process.on("uncaughtException", (e) => { console.log("uncaught", e.message); ha.close(); hb.close(); });
      hb.recv(new Uint8Array(4), () => { throw new Error("from callback"); });
      setTimeout(() => ha.send([Buffer.from("x")], null, () => {}), 10);
    `);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("uncaught from callback");
    expect(r.status).toBe(0);
  });

  test("microtasks queued by a callback from the event loop run before other I/O", () => {
    const r = runChild(`
      const n = require(process.env.WEIR_ADDON);
      const [a, b] = n.socketpair("dgram");
      const ha = new n.DgramHandle(a), hb = new n.DgramHandle(b);
      const log = [];
      hb.recv(new Uint8Array(4), () => {
        log.push("cb");
        Promise.resolve().then(() => log.push("microtask"));
        process.nextTick(() => log.push("tick"));
        setImmediate(() => { log.push("immediate"); console.log(log.join(",")); ha.close(); hb.close(); });
      });
      setTimeout(() => ha.send([Buffer.from("x")], null, () => {}), 10);
    `);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("cb,tick,microtask,immediate");
  });

  test("a handle collected unclosed frees its poll handle and closes the fd it owns", () => {
    const r = runChild(
      `
      const fs = require("node:fs");
      const n = require(process.env.WEIR_ADDON);
      const [a, b] = n.socketpair("dgram");
      const [c, d] = n.socketpair("dgram");
      (() => { new n.DgramHandle(a); new n.DgramHandle(c, { closeFd: false }); })();
      const before = n.stats();
      (async () => {
        for (let i = 0; i < 20 && (n.stats().dgramHandles > 0 || n.stats().pollHandles > 0); i++) {
          globalThis.gc();
          await new Promise((r) => setImmediate(r));
        }
        const after = n.stats();
        console.log(JSON.stringify({ before, after, a: fs.existsSync("/proc/self/fd/" + a), c: fs.existsSync("/proc/self/fd/" + c) }));
      })();
    `,
      ["--expose-gc"],
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      before: { pollHandles: 2, dgramHandles: 2 },
      after: { pollHandles: 0, dgramHandles: 0 },
      a: false,
      c: true,
    });
  });

  test("works in worker threads, and a terminated worker with pending I/O cleans up", async () => {
    const code = `
      const { parentPort } = require("node:worker_threads");
      const n = require(process.env.WEIR_ADDON);
      const [a, b] = n.socketpair("dgram");
      const ha = new n.DgramHandle(a), hb = new n.DgramHandle(b);
      const buf = new Uint8Array(16);
      hb.recv(buf, (err, len) => {
        parentPort.postMessage(Buffer.from(buf.subarray(0, len)).toString());
        // Leave a recv pending and queued sends: terminate() must clean them up.
        hb.recv(new Uint8Array(4), () => {});
        const [c, d] = n.socketpair("dgram");
        const hc = new n.DgramHandle(c);
        globalThis.keep = new n.DgramHandle(d);
        const big = new Uint8Array(65536);
        for (let i = 0; i < 50; i++) hc.send([big], null, () => {});
      });
      ha.send([Buffer.from("from worker")], null, () => {});
    `;
    await turns();
    const basePolls = native.stats().pollHandles;
    const baseFds = fdCount();
    const worker = new Worker(code, {
      eval: true,
      env: { ...process.env, WEIR_ADDON: addonPath() },
    });
    const [msg] = await once(worker, "message");
    expect(msg).toBe("from worker");
    const exited = once(worker, "exit");
    await worker.terminate();
    await exited;
    expect(native.stats().pollHandles).toBe(basePolls);
    // The worker's fds were all owned by handles, so teardown closed them.
    expect(fdCount()).toBe(baseFds);
  });

  test("a worker that ends with open handles exits cleanly", async () => {
    const code = `
      const n = require(process.env.WEIR_ADDON);
      const [a, b] = n.socketpair("dgram");
      globalThis.keep = [new n.DgramHandle(a), new n.DgramHandle(b)];
      const u = n.socket("inet", "dgram");
      n.bind(u, { family: "inet", address: "127.0.0.1", port: 0 });
      globalThis.keep.push(new n.DgramHandle(u));
    `;
    await turns();
    const basePolls = native.stats().pollHandles;
    const baseFds = fdCount();
    const worker = new Worker(code, {
      eval: true,
      env: { ...process.env, WEIR_ADDON: addonPath() },
    });
    const [exitCode] = await once(worker, "exit");
    expect(exitCode).toBe(0);
    expect(native.stats().pollHandles).toBe(basePolls);
    expect(fdCount()).toBe(baseFds);
  });

  test("process.exit() with pending operations and closing handles exits cleanly", () => {
    const r = runChild(`
      const n = require(process.env.WEIR_ADDON);
      const [a, b] = n.socketpair("dgram");
      const ha = new n.DgramHandle(a), hb = new n.DgramHandle(b);
      hb.recv(new Uint8Array(4), () => {});
      const big = new Uint8Array(65536);
      for (let i = 0; i < 50; i++) ha.send([big], null, () => {});
      const [c, d] = n.socketpair("dgram");
      new n.DgramHandle(c).close();
      setTimeout(() => { console.log("exiting"); process.exit(3); }, 20);
    `);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("exiting");
    expect(r.status).toBe(3);
  });

  test("the same build loads in another Node.js: the one that runs npm (Node-API only)", () => {
    // Under `npm test` the tests run on the pinned Node 24 while npm itself runs on the
    // machine's own Node (another major on most machines); outside npm, the pinned one.
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const other =
      process.env.npm_node_execpath ?? join(root, "node_modules", "node", "bin", "node");
    const r = runChild(
      `const n = require(process.env.WEIR_ADDON);
       const [a, b] = n.socketpair("dgram");
       const h = new n.DgramHandle(a);
       h.close(); n.close(b);
       console.log("ok", process.version);`,
      [],
      other,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toMatch(/^ok v\d+\.\d+\.\d+$/);
  });
});
