/**
 * `FdCore`: a datagram fd (Unix or imported) on the addon's `DgramHandle`, for
 * `NodeDatagramSocket`.
 * @module
 */
import type { DatagramAddr } from "../net/sockaddr.ts";
import type { DatagramCore, RecvCallback, SendCallback } from "./datagram-core.ts";
import { closedError } from "./errors.ts";
import type { DgramHandle } from "./native.ts";
import { fromNativeDatagram, toNativeAddr } from "./native-addr.ts";

interface FdWaiter {
  readonly buf: Uint8Array;
  readonly cb: RecvCallback;
  submitted: boolean;
}

/**
 * A datagram fd on the addon's `DgramHandle`: pull-based (the kernel holds what is not read);
 * concurrent `recv`s wait their turn, as the handle takes one at a time.
 */
export class FdCore implements DatagramCore {
  readonly connected: boolean;
  readonly dropped = 0;
  readonly #h: DgramHandle;
  readonly #waiters: FdWaiter[] = [];
  readonly #onClose: (() => Promise<void>) | undefined;
  #closed = false;

  constructor(h: DgramHandle, connected: boolean, onClose?: () => Promise<void>) {
    this.#h = h;
    this.connected = connected;
    this.#onClose = onClose;
  }

  #submitHead(): void {
    const w = this.#waiters[0];
    if (w === undefined || w.submitted || this.#closed) return;
    w.submitted = true;
    try {
      this.#h.recv(w.buf, (err, n, src, truncated) => {
        if (this.#waiters[0] === w) this.#waiters.shift();
        if (err !== null && err.code === "ECANCELED") {
          if (this.#closed) w.cb(closedError("recv"), 0, fromNativeDatagram(null), false);
          // else: abandoned by its caller, who has already been answered
        } else w.cb(err, n, fromNativeDatagram(src), truncated === true);
        this.#submitHead();
      });
    } catch (e) {
      if (this.#waiters[0] === w) this.#waiters.shift();
      w.cb(e, 0, fromNativeDatagram(null), false);
      this.#submitHead();
    }
  }

  recv(buf: Uint8Array, cb: RecvCallback): () => void {
    const w: FdWaiter = { buf, cb, submitted: false };
    this.#waiters.push(w);
    this.#submitHead();
    return () => {
      const i = this.#waiters.indexOf(w);
      if (i < 0) return;
      if (i === 0 && w.submitted)
        this.#h.cancelRecv(); // its callback moves the queue on
      else this.#waiters.splice(i, 1);
    };
  }

  send(bufs: readonly Uint8Array[], dst: DatagramAddr | undefined, cb: SendCallback): void {
    if (dst === undefined && !this.connected) {
      throw new TypeError("send: option dst is required, as the socket is not connected");
    }
    this.#h.send(bufs, dst === undefined ? null : toNativeAddr(dst), (err) => {
      if (err !== null && err.code === "ECANCELED" && this.#closed) cb(closedError("send"));
      else cb(err);
    });
  }

  fd(): number | undefined {
    if (this.#closed) return undefined;
    const fd = this.#h.fd;
    return fd >= 0 ? fd : undefined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#h.close();
    this.#waiters.length = 0;
    await this.#onClose?.();
  }
}
