/**
 * The contract between `NodeDatagramSocket` and what it is built on: `UdpCore` (node:dgram)
 * or `FdCore` (the addon's handle).
 * @module
 */
import type { DatagramAddr } from "../net/sockaddr.ts";

/**
 * How many received datagrams a UDP socket holds for `recv` before it stops reading from the
 * kernel (whose own buffer, SO_RCVBUF, then fills and drops, as UDP always may).
 * @example
 * ```ts
 * UDP_QUEUE_LIMIT; // 64
 * ```
 */
export const UDP_QUEUE_LIMIT = 64;

/** Called when a send is done: `null`/`undefined`, or the error. */
export type SendCallback = (err: unknown) => void;
/** Called when a recv is done: the byte count, the sender, whether the datagram was cut. */
export type RecvCallback = (err: unknown, n: number, src: DatagramAddr, truncated: boolean) => void;

/** What a datagram socket is built on: `node:dgram` or the addon's handle. */
export interface DatagramCore {
  /** Whether the socket is connected, so `send` may omit `dst`. */
  readonly connected: boolean;
  send(bufs: readonly Uint8Array[], dst: DatagramAddr | undefined, cb: SendCallback): void;
  /** Starts a recv; returns a function that abandons it (called only before `cb`). */
  recv(buf: Uint8Array, cb: RecvCallback): () => void;
  fd(): number | undefined;
  /** Closes; pending operations fail with `closedError()`. */
  close(): Promise<void>;
  /** Datagrams weir itself dropped (the kernel's own drops are read apart). */
  readonly dropped: number;
}
