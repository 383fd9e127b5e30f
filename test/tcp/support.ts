/**
 * Helpers for the Tcp tests on real sockets: temporary Unix paths, a TCP address whose
 * connections hang (the SYN is never answered), and wrappers around a `Net`, a listening socket
 * and a stream socket that record or alter what passes through.
 */
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { native } from "../../src/backend-node/native.ts";
import {
  type BlockingOptions,
  Cancel,
  type Clock,
  IoError,
  suspend,
} from "../../src/core/index.ts";
import type { ShutdownCommand, Source } from "../../src/flow/types.ts";
import { Sockaddr, type SockaddrLike, type StreamAddr } from "../../src/net/sockaddr.ts";
import type {
  AcceptOptions,
  ConnectOptions,
  DatagramOptions,
  DatagramSocket,
  GetaddrinfoOptions,
  ListeningSocket,
  ListenOptions,
  Net,
  StreamSocket,
} from "../../src/net/types.ts";

const tag = `${process.pid}-${randomBytes(3).toString("hex")}`;
let counter = 0;

/** A fresh Unix socket path under the OS temp directory (nothing is created). */
export function tmpSockPath(name: string): string {
  return join(tmpdir(), `weir-tcp-${tag}-${name}-${counter++}.sock`);
}

/** Lets pending callbacks run. */
export function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A promise with its resolve function. */
export function deferred<T = void>(): PromiseWithResolvers<T> {
  return Promise.withResolvers<T>();
}

/** Waits (really) `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every few ms until it holds (or fails the test after `ms`). */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("until: condition not reached in time");
    await sleep(2);
  }
}

/**
 * A TCP listener (raw, through the native addon) with a backlog of 0 that never accepts: once
 * its accept queue is full, connection attempts to it hang (the kernel drops their SYNs).
 * `fill()` makes connections until one hangs.
 */
export class HangingListener {
  readonly #fd: number;
  readonly addr: string;

  constructor() {
    this.#fd = native.socket("inet", "stream");
    native.bind(this.#fd, { family: "inet", address: "127.0.0.1", port: 0 });
    native.listen(this.#fd, 0);
    const a = native.getsockname(this.#fd);
    if (a.family === "unix") throw new Error("unexpected address family");
    this.addr = `tcp:127.0.0.1:${a.port}`;
  }

  /** Closes the listener. */
  close(): void {
    native.close(this.#fd);
  }
}

/** Calls made through a {@link SpyNet}. */
export interface SpyRecord {
  readonly listens: ListenOptions[];
  readonly connects: Array<{ addr: string; bindTo: string | undefined }>;
  /** Every `setNoDelay` call on every socket made or accepted through the net. */
  readonly noDelay: boolean[];
}

/** A stream socket that records `setNoDelay` calls and passes everything else through. */
export class SpySocket implements StreamSocket {
  readonly #inner: StreamSocket;
  readonly #record: SpyRecord;
  readonly readChunk: ((opts?: BlockingOptions) => Promise<Uint8Array>) | undefined;

  constructor(inner: StreamSocket, record: SpyRecord) {
    this.#inner = inner;
    this.#record = record;
    const rc = inner.readChunk;
    this.readChunk = rc === undefined ? undefined : (opts) => rc.call(inner, opts);
  }
  get localAddr(): StreamAddr {
    return this.#inner.localAddr;
  }
  get peerAddr(): StreamAddr {
    return this.#inner.peerAddr;
  }
  setNoDelay(enabled: boolean): void {
    this.#record.noDelay.push(enabled);
    this.#inner.setNoDelay(enabled);
  }
  setIdleTimeout(ms: number | null): void {
    this.#inner.setIdleTimeout(ms);
  }
  readInto(buf: Uint8Array, opts?: BlockingOptions): Promise<number> {
    return this.#inner.readInto(buf, opts);
  }
  write(bufs: readonly Uint8Array[], opts?: BlockingOptions): Promise<void> {
    return this.#inner.write(bufs, opts);
  }
  copyFrom(src: Source, opts?: BlockingOptions): Promise<void> {
    return (this.#inner.copyFrom as NonNullable<StreamSocket["copyFrom"]>).call(
      this.#inner,
      src,
      opts,
    );
  }
  shutdown(cmd: ShutdownCommand): Promise<void> {
    return this.#inner.shutdown(cmd);
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A listening socket in front of another: `failures` accepts fail first (with `failWith`),
 * `gate` (if set) holds each accepted connection until it resolves — even after the caller
 * was cancelled, as a misbehaving backend might — and accepted sockets can be wrapped.
 */
export class WrappedListener implements ListeningSocket {
  readonly #inner: ListeningSocket;
  failures = 0;
  failWith: () => unknown = () =>
    new IoError({
      kind: "Unknown",
      cause: Object.assign(new Error("accept EMFILE: too many open files"), { code: "EMFILE" }),
    });
  gate: Promise<void> | null = null;
  wrap: ((s: StreamSocket) => StreamSocket) | null = null;
  accepts = 0;

  constructor(inner: ListeningSocket) {
    this.#inner = inner;
  }
  get listeningAddr(): StreamAddr {
    return this.#inner.listeningAddr;
  }
  async accept(opts: AcceptOptions): Promise<[StreamSocket, StreamAddr]> {
    this.accepts++;
    if (this.failures > 0) {
      this.failures--;
      throw this.failWith();
    }
    const [s, a] = await this.#inner.accept(opts);
    const gate = this.gate;
    if (gate !== null) await Cancel.protect(() => gate);
    return [this.wrap === null ? s : this.wrap(s), a];
  }
  acceptFork(): Promise<void> {
    throw new Error("not used");
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A `Net` that records what goes through it (and wraps sockets in {@link SpySocket}s). */
export class SpyNet implements Net {
  readonly #inner: Net;
  readonly record: SpyRecord = { listens: [], connects: [], noDelay: [] };
  /** Make `connect` wait (cancellably) forever instead of connecting. */
  hangConnect = false;

  constructor(inner: Net) {
    this.#inner = inner;
  }
  async connect(addr: SockaddrLike, opts: ConnectOptions): Promise<StreamSocket> {
    this.record.connects.push({
      addr: typeof addr === "string" ? addr : Sockaddr.format(addr),
      bindTo:
        opts.bindTo === undefined
          ? undefined
          : typeof opts.bindTo === "string"
            ? opts.bindTo
            : Sockaddr.format(opts.bindTo),
    });
    if (this.hangConnect) await suspend<never>(() => undefined);
    return new SpySocket(await this.#inner.connect(addr, opts), this.record);
  }
  async listen(addr: SockaddrLike, opts: ListenOptions): Promise<ListeningSocket> {
    this.record.listens.push(opts);
    const l = new WrappedListener(await this.#inner.listen(addr, opts));
    l.wrap = (s) => new SpySocket(s, this.record);
    return l;
  }
  datagramSocket(
    addr: SockaddrLike | "udpv4" | "udpv6",
    opts: DatagramOptions,
  ): Promise<DatagramSocket> {
    return this.#inner.datagramSocket(addr, opts);
  }
  getaddrinfo(host: string, opts?: GetaddrinfoOptions) {
    return this.#inner.getaddrinfo(host, opts);
  }
  getaddrinfoStream(host: string, opts?: GetaddrinfoOptions) {
    return this.#inner.getaddrinfoStream(host, opts);
  }
  getaddrinfoDatagram(host: string, opts?: GetaddrinfoOptions) {
    return this.#inner.getaddrinfoDatagram(host, opts);
  }
  getnameinfo(addr: SockaddrLike, opts?: BlockingOptions): Promise<[string, string]> {
    return this.#inner.getnameinfo(addr, opts);
  }
}

/** A clock whose `now` is real but that records the sleeps asked of it. */
export function recordingClock(inner: Clock, sleeps: number[]): Clock {
  return {
    now: () => inner.now(),
    sleep: (ms, opts) => {
      sleeps.push(ms);
      return inner.sleep(ms, opts);
    },
    sleepUntil: (t, opts) => inner.sleepUntil(t, opts),
  };
}
