/**
 * Datagram sockets of the Node backend: UDP on `node:dgram`, Unix datagram sockets (and any
 * imported datagram fd) on the native addon's `DgramHandle`.
 * @module
 */
import { createSocket, type Socket as DgramSocket } from "node:dgram";
import { checkCount, show } from "../core/checks.ts";
import {
  type BlockingOptions,
  IoError,
  type ReleaseHandle,
  type Switch,
  suspend,
} from "../core/index.ts";
import { requirePrimitive } from "../core/runtime.ts";
import type { UnboundDatagram } from "../net/net-base.ts";
import { type DatagramAddr, Sockaddr, type UdpAddr } from "../net/sockaddr.ts";
import type { DatagramOptions, DatagramSocket, RecvResult, SendOptions } from "../net/types.ts";
import { type DatagramCore, UDP_QUEUE_LIMIT } from "./datagram-core.ts";
import { closedError, toIoError } from "./errors.ts";
import { FdCore } from "./fd-core.ts";
import { kernelDrops } from "./kernel-drops.ts";
import type { DgramHandle } from "./native.ts";
import { parseNumericIp } from "./native-addr.ts";
import { DEFAULT_SEND_QUEUE_LIMIT, SendQueue } from "./send-queue.ts";
import { UdpCore } from "./udp-core.ts";
import { unixFd } from "./unix-fd.ts";
import { bindUnix, loadNative, removeSocketFile } from "./unix-path.ts";

export { UDP_QUEUE_LIMIT };

/**
 * Options of {@link NodeDatagramSocket.fromHandle}.
 * @example
 * ```ts
 * const opts: FromHandleOptions = { sw, localAddr: Sockaddr.unix("/tmp/d.sock"), connected: false };
 * ```
 */
export interface FromHandleOptions {
  /** The switch that owns the socket. */
  readonly sw: Switch;
  /** The socket's address (from getsockname). */
  readonly localAddr: DatagramAddr;
  /** Whether the socket is connected (then `send` may omit `dst`). */
  readonly connected: boolean;
  /** Extra clean-up after the handle is closed (removing a socket file). */
  readonly onClose?: (() => Promise<void>) | undefined;
  /** Sends in flight before further sends wait. Default {@link DEFAULT_SEND_QUEUE_LIMIT}. */
  readonly sendQueueLimit?: number | undefined;
}

/**
 * A datagram socket of the Node backend (UDP or Unix datagram), owned by a switch: it is
 * closed when the switch finishes, unless closed before. Make one with `net.datagramSocket`,
 * {@link openDatagramSocket}, or `Unix.importSocketDatagram` / `Unix.socketpairDatagram`.
 *
 * `recv` is pull-based. On the addon's handle (Unix sockets, imported fds) nothing is read
 * before it is asked for. On UDP (`node:dgram`, which pushes datagrams) up to
 * {@link UDP_QUEUE_LIMIT} datagrams are held while nobody waits, then reading stops until
 * `recv` catches up (the kernel's buffer then fills and drops); should this Node not allow
 * pausing, further datagrams are dropped here. Both are counted in {@link droppedDatagrams}.
 * `recv` says when a datagram did not fit its buffer (`truncated`). At most `sendQueueLimit`
 * sends are in flight; later ones wait their turn.
 * @example
 * ```ts
 * await Switch.run(async (sw) => {
 *   const sock = await env.net.datagramSocket("udp:127.0.0.1:0", { sw });
 *   const buf = new Uint8Array(1500);
 *   const [from, n] = await sock.recv(buf);
 * });
 * ```
 */
export class NodeDatagramSocket implements DatagramSocket {
  readonly #core: DatagramCore;
  readonly #localAddr: DatagramAddr;
  readonly #sends: SendQueue<DatagramAddr | undefined>;
  #state: "open" | "closing" | "closed" = "open";
  #closing: Promise<void> | undefined = undefined;
  #release: ReleaseHandle | undefined = undefined;
  #truncated = 0;

  private constructor(
    core: DatagramCore,
    localAddr: DatagramAddr,
    sw: Switch,
    sendQueueLimit: number | undefined,
  ) {
    this.#core = core;
    this.#localAddr = localAddr;
    this.#sends = new SendQueue(sendQueueLimit ?? DEFAULT_SEND_QUEUE_LIMIT, (job, done) => {
      this.#core.send(job.bufs, job.dst, done);
    });
    try {
      this.#release = sw.onRelease(() => this.close());
    } catch (e) {
      // the switch has finished: onRelease has run close() already
      this.#state = "closed";
      throw e;
    }
  }

  /**
   * Wraps a bound `node:dgram` socket; the socket then belongs to the new object (and to `sw`).
   * @throws Error "Switch finished!" if `sw` has finished (the socket is closed then).
   * @example
   * ```ts
   * const s = dgram.createSocket("udp4");
   * s.bind(0, "127.0.0.1", () => NodeDatagramSocket.fromDgram(s, { sw }));
   * ```
   */
  static fromDgram(
    sock: DgramSocket,
    opts: { readonly sw: Switch; readonly sendQueueLimit?: number | undefined },
  ): NodeDatagramSocket {
    const a = sock.address();
    const host = parseNumericIp(a.address);
    const core = new UdpCore(sock, a.family === "IPv6" ? 6 : 4);
    return new NodeDatagramSocket(core, Sockaddr.udp(host, a.port), opts.sw, opts.sendQueueLimit);
  }

  /**
   * Wraps the addon's handle on a datagram fd; the handle then belongs to the new object (and
   * to `sw`).
   * @throws Error "Switch finished!" if `sw` has finished (the handle is closed then).
   * @example
   * ```ts
   * const h = new native.DgramHandle(fd);
   * NodeDatagramSocket.fromHandle(h, { sw, localAddr, connected: true });
   * ```
   */
  static fromHandle(h: DgramHandle, opts: FromHandleOptions): NodeDatagramSocket {
    return new NodeDatagramSocket(
      new FdCore(h, opts.connected, opts.onClose),
      opts.localAddr,
      opts.sw,
      opts.sendQueueLimit,
    );
  }

  /** The local address (for a UDP socket made as `"udpv4"`/`"udpv6"`, the OS-chosen port). */
  get localAddr(): DatagramAddr {
    return this.#localAddr;
  }

  /**
   * How many datagrams sent to this socket were dropped before `recv` could see them: those
   * the kernel dropped because the socket's receive buffer was full (read from Linux's
   * `/proc/net/udp` and `udp6` on each call: counted for UDP sockets on Linux only), plus those
   * weir dropped itself (only where this Node cannot pause a full UDP socket). Datagrams lost on
   * the way (the network, the sender's own buffer) are not seen by anyone here. Unix datagram
   * sockets do not drop: their senders wait instead.
   */
  get droppedDatagrams(): number {
    return this.#core.dropped + (kernelDrops(this.#core.fd()) ?? 0);
  }

  /** How many received datagrams were cut to fit the buffer (`recv` said `truncated`). */
  get truncatedDatagrams(): number {
    return this.#truncated;
  }

  /** How many sends are in flight (handed to the socket, not yet done). */
  get sendsInFlight(): number {
    return this.#sends.inFlight;
  }

  /**
   * Sends one datagram made of all of `bufs` (an empty list or empty buffers make an empty
   * datagram) to `opts.dst`, which a connected socket may omit. Resolves when the datagram
   * has been handed to the kernel. At most `sendQueueLimit` sends (default
   * {@link DEFAULT_SEND_QUEUE_LIMIT}) are in flight at once: further ones wait their turn, so
   * that sends nobody awaits cannot grow memory without bound. Cancelling a send that waits
   * for its turn withdraws it; cancelling one in flight does not: it may still go out, so do
   * not change the buffers meanwhile.
   * @throws IoError (`Closed` once closed; others from the system, with the context
   *   `sending to ADDR`; `MessageTooLarge` for a datagram over the size limit);
   *   TypeError for a missing or wrong-kind `dst` or bad `bufs`; RangeError for UDP port 0;
   *   Cancelled.
   * @example
   * ```ts
   * await sock.send([enc.encode("12"), enc.encode("34")], { dst: "udp:127.0.0.1:5353" });
   * ```
   */
  send(bufs: readonly Uint8Array[], opts: SendOptions = {}): Promise<void> {
    let dst: DatagramAddr | undefined;
    try {
      if (!Array.isArray(bufs) || !bufs.every((b) => b instanceof Uint8Array)) {
        throw new TypeError(`bufs must be an array of Uint8Array, got ${show(bufs)}`);
      }
      dst = opts.dst === undefined ? undefined : Sockaddr.datagram(opts.dst);
      if (this.#state !== "open") throw closedError("send");
    } catch (e) {
      return Promise.reject(e);
    }
    const to = dst;
    // One suspension per send, waiting or not: a send that waits for its turn costs a record
    // in the queue and nothing more.
    return suspend<void>((resolve, reject) => {
      const job = {
        bufs,
        dst: to,
        resolve,
        reject: (e: unknown) => reject(addSendContext(e, to)),
        started: false,
      };
      this.#sends.push(job);
      return () => {
        this.#sends.withdraw(job); // a send in flight cannot be taken back
      };
    }, opts.signal);
  }

  /**
   * Waits for one datagram and copies it into `buf`; returns the sender's address (`unix:`
   * with an empty path for an unnamed Unix socket) and the byte count (0 for an empty
   * datagram), with `truncated: true` when the datagram was longer than `buf` (its end is
   * discarded; the count is then `buf.length`, and {@link truncatedDatagrams} counts it).
   * Concurrent calls are served in order.
   * @throws IoError (`Closed` if the socket is or gets closed); Cancelled (no datagram is
   *   lost: one that arrives later waits for the next `recv`); TypeError if `buf` is not a
   *   Uint8Array.
   * @example
   * ```ts
   * const buf = new Uint8Array(2048);
   * const r = await sock.recv(buf);
   * const [from, n] = r;
   * if (r.truncated) traceln("a datagram from %s did not fit", Sockaddr.format(from));
   * ```
   */
  async recv(buf: Uint8Array, opts: BlockingOptions = {}): Promise<RecvResult> {
    if (!(buf instanceof Uint8Array)) {
      throw new TypeError(`buf must be a Uint8Array, got ${show(buf)}`);
    }
    if (this.#state !== "open") throw closedError("recv");
    return suspend<RecvResult>((resolve, reject) => {
      return this.#core.recv(buf, (err, n, src, truncated) => {
        if (err === null || err === undefined) {
          if (truncated) this.#truncated++;
          resolve(Object.assign([src, n] as [DatagramAddr, number], { truncated }));
        } else reject(err instanceof IoError ? err : toIoError(err));
      });
    }, opts.signal);
  }

  /**
   * Closes the socket: pending `send`s and `recv`s fail with IoError `Closed`. A Unix
   * socket file this socket was bound to is removed. A second call waits for the first.
   * @example
   * ```ts
   * await sock.close();
   * ```
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#state = "closing";
      this.#release?.remove();
      this.#sends.failWaiting(() => closedError("send"));
      this.#closing = this.#core.close().finally(() => {
        this.#state = "closed";
      });
    }
    return this.#closing;
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The fd (borrowed: valid while the socket is open), or `undefined` once closed. */
  [unixFd](): number | undefined {
    return this.#state === "open" ? this.#core.fd() : undefined;
  }
}

function addSendContext(e: unknown, dst: DatagramAddr | undefined): unknown {
  if (e instanceof TypeError || e instanceof RangeError) return e; // a bad argument
  if (e instanceof IoError) {
    if (e.err.kind !== "Closed" && dst !== undefined) {
      e.addContext(`sending to ${Sockaddr.format(dst)}`);
    }
    return e;
  }
  if (typeof e === "object" && e !== null && "code" in e) {
    const io = toIoError(e);
    if (dst !== undefined) io.addContext(`sending to ${Sockaddr.format(dst)}`);
    return io;
  }
  return e;
}

/** Binds a `node:dgram` socket, rejecting with the bind error (the socket is then closed). */
function bindDgram(sock: DgramSocket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => {
      sock.off("listening", onListening);
      try {
        sock.close();
      } catch {
        // not running
      }
      reject(toIoError(e));
    };
    const onListening = (): void => {
      sock.off("error", onError);
      resolve();
    };
    sock.once("error", onError);
    sock.once("listening", onListening);
    sock.bind({ address, port, exclusive: true });
  });
}

/** IP literals need no lookup: hand them back as they are, without a trip through dns.lookup. */
function literalLookup(
  address: string,
  family: unknown,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  cb(null, address, family === 6 || address.includes(":") ? 6 : 4);
}

async function openUdp(
  addr: UdpAddr | UnboundDatagram,
  opts: DatagramOptions,
): Promise<NodeDatagramSocket> {
  if (opts.sendQueueLimit !== undefined) checkCount("sendQueueLimit", opts.sendQueueLimit);
  const family = addr === "udpv4" ? 4 : addr === "udpv6" ? 6 : addr.host.family;
  const sock = createSocket({
    type: family === 4 ? "udp4" : "udp6",
    reuseAddr: opts.reuseAddr === true,
    reusePort: opts.reusePort === true,
    lookup: literalLookup,
  });
  // "udpv4"/"udpv6" are client sockets: bind to any address and an OS-chosen port now, as the
  // kernel would on the first send, so that localAddr is known and replies can be received
  const address =
    typeof addr === "string" ? (family === 4 ? "0.0.0.0" : "::") : addr.host.toString();
  const port = typeof addr === "string" ? 0 : addr.port;
  await bindDgram(sock, address, port);
  try {
    return NodeDatagramSocket.fromDgram(sock, opts);
  } catch (e) {
    sock.close();
    throw e;
  }
}

async function openUnixDatagram(path: string, opts: DatagramOptions): Promise<NodeDatagramSocket> {
  requirePrimitive("a Unix datagram socket (net.datagramSocket on a path)", "uv-poll");
  if (opts.sendQueueLimit !== undefined) checkCount("sendQueueLimit", opts.sendQueueLimit);
  const native = await loadNative();
  const { fd, id } = bindUnix(native, path, "dgram", { reuseAddr: opts.reuseAddr });
  let h: DgramHandle;
  try {
    if (opts.reusePort === true) native.setReusePort(fd, true);
    h = new native.DgramHandle(fd, { closeFd: true });
  } catch (e) {
    native.close(fd);
    if (id !== undefined) removeSocketFile(id);
    throw e instanceof TypeError ? e : toIoError(e);
  }
  const onClose =
    id === undefined
      ? undefined
      : async (): Promise<void> => {
          removeSocketFile(id);
        };
  try {
    return NodeDatagramSocket.fromHandle(h, {
      sw: opts.sw,
      localAddr: Sockaddr.unix(path),
      connected: false,
      onClose,
      sendQueueLimit: opts.sendQueueLimit,
    });
  } catch (e) {
    h.close();
    await onClose?.();
    throw e;
  }
}

/**
 * Makes a datagram socket attached to `opts.sw` (the Node backend's `datagramSocket`):
 * bound to a UDP address (port 0: the OS picks one), a client UDP socket for `"udpv4"` /
 * `"udpv6"` (bound at once to the any address and an OS-chosen port), or a Unix datagram
 * socket bound to a path or an abstract name (`"\0name"`) through the native addon. With
 * `reuseAddr`, a stale socket file at a Unix path (one a connect to is refused) is removed
 * first, and a live one is `AddressInUse`; the socket file is removed again when the socket
 * closes, if it is still this socket's.
 * @throws IoError (`AddressInUse`, `PermissionDenied`, `NotFound` for a missing directory,
 *   ...); TypeError for a stream address; Error if a Unix socket is asked for and the native
 *   addon is not built.
 * @example
 * ```ts
 * const server = await openDatagramSocket(Sockaddr.parse("udp:127.0.0.1:0"), { sw });
 * const client = await openDatagramSocket("udpv4", { sw });
 * await client.send([new TextEncoder().encode("hi")], { dst: server.localAddr });
 * ```
 */
export async function openDatagramSocket(
  addr: DatagramAddr | UnboundDatagram,
  opts: DatagramOptions,
): Promise<NodeDatagramSocket> {
  if (addr === "udpv4" || addr === "udpv6") return openUdp(addr, opts);
  const a = Sockaddr.datagram(addr);
  if (a.type === "udp") return openUdp(a, opts);
  return openUnixDatagram(a.path, opts);
}
