/**
 * `UdpCore`: UDP on `node:dgram`, made pull-based for `NodeDatagramSocket`.
 * @module
 */
import type { Socket as DgramSocket } from "node:dgram";
import { type DatagramAddr, Sockaddr, type UdpAddr } from "../net/sockaddr.ts";
import {
  type DatagramCore,
  type RecvCallback,
  type SendCallback,
  UDP_QUEUE_LIMIT,
} from "./datagram-core.ts";
import { closedError } from "./errors.ts";
import { parseNumericIp } from "./native-addr.ts";
import { dgramHandle, handleFd } from "./unix-fd.ts";

/** Copies `msg` into `buf` (cutting what does not fit) and returns the count. */
function copyInto(buf: Uint8Array, msg: Uint8Array): number {
  const n = Math.min(buf.length, msg.length);
  buf.set(n === msg.length ? msg : msg.subarray(0, n));
  return n;
}

/** The address passed with an error (never seen by callers). */
const ANY_UDP: UdpAddr = Sockaddr.udp("0.0.0.0", 0);

interface UdpWaiter {
  readonly buf: Uint8Array;
  readonly cb: RecvCallback;
}

/**
 * UDP on `node:dgram`, made pull-based: datagrams that arrive while no `recv` waits are held
 * in a queue of at most {@link UDP_QUEUE_LIMIT}; when it is full the socket stops reading
 * (through the libuv handle's `recvStop`, if this Node exposes it; otherwise further datagrams
 * are dropped and counted in `dropped`).
 */
export class UdpCore implements DatagramCore {
  readonly connected = false;
  readonly #sock: DgramSocket;
  readonly #family: 4 | 6;
  readonly #queue: Array<{ data: Uint8Array; from: UdpAddr }> = [];
  readonly #waiters: UdpWaiter[] = [];
  readonly #sends = new Set<SendCallback>();
  #error: unknown = undefined;
  #paused = false;
  #closed = false;
  #dropped = 0;

  constructor(sock: DgramSocket, family: 4 | 6) {
    this.#sock = sock;
    this.#family = family;
    sock.on("message", (msg, rinfo) => this.#onMessage(msg, rinfo.address, rinfo.port));
    sock.on("error", (e) => this.#onError(e));
  }

  get dropped(): number {
    return this.#dropped;
  }

  #onMessage(msg: Uint8Array, address: string, port: number): void {
    const from = Sockaddr.udp(parseNumericIp(address), port);
    const w = this.#waiters.shift();
    if (w !== undefined) {
      w.cb(null, copyInto(w.buf, msg), from, msg.length > w.buf.length);
      return;
    }
    if (this.#queue.length >= UDP_QUEUE_LIMIT) {
      // only reached when the socket cannot be paused
      this.#dropped++;
      return;
    }
    this.#queue.push({ data: msg, from });
    if (this.#queue.length >= UDP_QUEUE_LIMIT) this.#setPaused(true);
  }

  #onError(e: unknown): void {
    const w = this.#waiters.shift();
    if (w !== undefined) w.cb(e, 0, ANY_UDP, false);
    else this.#error ??= e;
  }

  #setPaused(paused: boolean): void {
    if (this.#paused === paused || this.#closed) return;
    const h = dgramHandle(this.#sock);
    const fn = paused ? h?.recvStop : h?.recvStart;
    if (typeof fn !== "function") return;
    (fn as () => number).call(h);
    this.#paused = paused;
  }

  recv(buf: Uint8Array, cb: RecvCallback): () => void {
    const head = this.#queue.shift();
    if (head !== undefined) {
      if (this.#queue.length < UDP_QUEUE_LIMIT) this.#setPaused(false);
      cb(null, copyInto(buf, head.data), head.from, head.data.length > buf.length);
      return () => {};
    }
    if (this.#error !== undefined) {
      const e = this.#error;
      this.#error = undefined;
      cb(e, 0, ANY_UDP, false);
      return () => {};
    }
    const w: UdpWaiter = { buf, cb };
    this.#waiters.push(w);
    return () => {
      const i = this.#waiters.indexOf(w);
      if (i >= 0) this.#waiters.splice(i, 1);
    };
  }

  send(bufs: readonly Uint8Array[], dst: DatagramAddr | undefined, cb: SendCallback): void {
    if (dst === undefined || dst.type !== "udp") {
      throw new TypeError(
        `dst must be a UDP address for a UDP socket, got ${dst === undefined ? "none" : Sockaddr.format(dst)}`,
      );
    }
    let address = dst.host.toString();
    if (dst.host.family !== this.#family) {
      if (this.#family === 4) {
        throw new TypeError(
          `dst must be an IPv4 address for this IPv4 socket, got ${Sockaddr.format(dst)}`,
        );
      }
      address = `::ffff:${address}`; // a dual-stack IPv6 socket reaches IPv4 through the mapped form
    }
    if (dst.port === 0) {
      throw new RangeError(`dst.port must be in 1..65535, got 0 (${Sockaddr.format(dst)})`);
    }
    this.#sends.add(cb);
    const done = (err: unknown): void => {
      if (!this.#sends.delete(cb)) return;
      cb(err);
    };
    try {
      this.#sock.send(bufs.length === 0 ? [] : (bufs as Uint8Array[]), dst.port, address, done);
    } catch (e) {
      done(e);
    }
  }

  fd(): number | undefined {
    return this.#closed ? undefined : handleFd(this.#sock);
  }

  close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.cb(closedError("recv"), 0, ANY_UDP, false);
    for (const cb of [...this.#sends]) {
      this.#sends.delete(cb);
      cb(closedError("send"));
    }
    this.#queue.length = 0;
    return new Promise((resolve) => {
      try {
        this.#sock.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}
