/**
 * `Unix` (Eio's `Eio_unix`): file descriptors behind weir's resources, importing existing fds
 * as sockets, socket pairs and pipes, and address conversions. Node backend only; needs the
 * native addon (prebuilt for linux-x64; `npm rebuild weir` builds it elsewhere). Without it, these
 * functions throw `NativeAddonUnavailable`.
 * @module
 */
import { Socket, type SocketConstructorOpts } from "node:net";
import { NodeDatagramSocket } from "../backend-node/datagram-socket.ts";
import { errorCode, toIoError } from "../backend-node/errors.ts";
import { NodeListeningSocket } from "../backend-node/listening-socket.ts";
import {
  type Native,
  NativeAddonUnavailable,
  type NativeAddr,
  native,
} from "../backend-node/native.ts";
import {
  fromNativeDatagram,
  fromNativeStream,
  parseNumericIp,
  toNativeAddr,
} from "../backend-node/native-addr.ts";
import { NodeStreamSocket } from "../backend-node/stream-socket.ts";
import { hasUnixFd, unixFd } from "../backend-node/unix-fd.ts";
import { show } from "../core/checks.ts";
import type { Switch } from "../core/index.ts";
import { requirePrimitive } from "../core/runtime.ts";
import type { Closable, Sink, Source } from "../flow/types.ts";
import type { Ipaddr as IpaddrT } from "../net/ipaddr.ts";
import { Ipaddr } from "../net/ipaddr.ts";
import type { DatagramAddr, Sockaddr, StreamAddr } from "../net/sockaddr.ts";
import type { DatagramSocket, ListeningSocket, ListenOptions, StreamSocket } from "../net/types.ts";

/** A failed system call as an IoError; a missing addon as itself (it says what to do). */
function unixError(e: unknown): unknown {
  return e instanceof NativeAddonUnavailable ? e : toIoError(e);
}

/** Options of the `import*` functions. */
export interface ImportOptions {
  /** The switch that owns the new socket (it is closed when the switch finishes). */
  readonly sw: Switch;
  /**
   * Whether closing the socket closes `fd` (Eio's `close_unix`). With `false`, weir works on a
   * duplicate of `fd` (dup(2)) and `fd` stays open: closing it is then the caller's job.
   */
  readonly closeUnix: boolean;
}

/** Options of {@link Unix.importSocketListening}. */
export interface ImportListeningOptions extends ImportOptions {
  /** How many accepted connections may wait for `accept()` (see `net.listen`); default 128. */
  readonly backlog?: number | undefined;
}

/** Options of the `socketpair*` functions and {@link Unix.pipe}. */
export interface PairOptions {
  /** The switch that owns both ends. */
  readonly sw: Switch;
}

function checkFd(fd: unknown): asserts fd is number {
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0) {
    throw new TypeError(`fd must be an integer >= 0, got ${show(fd)}`);
  }
}

function checkImport(opts: ImportOptions | undefined, what: string): void {
  if (opts?.sw === undefined || typeof opts.sw.onRelease !== "function") {
    throw new TypeError(`${what}: option sw (a Switch) is required`);
  }
  if (typeof opts.closeUnix !== "boolean") {
    throw new TypeError(`${what}: option closeUnix (a boolean) is required`);
  }
}

/** `dup(2)`: closeUnix: false needs a descriptor of weir's own, which Node may close. */
function dupFd(fd: number): number {
  try {
    return native.dup(fd);
  } catch (e) {
    throw unixError(e);
  }
}

/** Runs `fn` with a descriptor weir may close: `fd` itself, or a duplicate of it. */
function owned<T>(fd: number, closeUnix: boolean, fn: (fd: number) => T): T {
  const mine = closeUnix ? fd : dupFd(fd);
  try {
    return fn(mine);
  } catch (e) {
    if (!closeUnix) native.close(mine);
    throw e;
  }
}

/** The address family of a socket fd ("unix" for a pipe or anything else). */
function streamKind(fd: number): { kind: "tcp" | "unix"; local: StreamAddr | undefined } {
  let a: NativeAddr;
  try {
    a = native.getsockname(fd);
  } catch (e) {
    if (errorCode(e) === "ENOTSOCK")
      return { kind: "unix", local: fromNativeStream({ family: "unix", path: "" }) };
    throw unixError(e);
  }
  if (a.family === "unix") return { kind: "unix", local: fromNativeStream(a) };
  return { kind: "tcp", local: undefined };
}

/** Which directions an imported stream fd is used in. */
interface Directions {
  readonly readable: boolean;
  readonly writable: boolean;
}

const BOTH: Directions = { readable: true, writable: true };

/** A `net.Socket` on `fd` that does not start reading (the stream socket reads on demand). */
function rawSocket(fd: number, dirs: Directions): Socket {
  const opts: SocketConstructorOpts & { pauseOnCreate: boolean } = {
    fd,
    readable: dirs.readable,
    writable: dirs.writable,
    allowHalfOpen: true,
    pauseOnCreate: true, // Node's own option for accepted sockets: no readStart yet
  };
  try {
    return new Socket(opts);
  } catch (e) {
    throw e instanceof TypeError || e instanceof RangeError || errorCode(e) === undefined
      ? e
      : unixError(e);
  }
}

function importStream(fd: number, sw: Switch, dirs: Directions = BOTH): NodeStreamSocket {
  const type = fdType(fd);
  if (type === "dgram") {
    throw new TypeError(`fd ${fd} must be a stream socket or a pipe, got ${kindOf(type)}`);
  }
  const { kind, local } = streamKind(fd);
  const raw = rawSocket(fd, dirs);
  const sock = new NodeStreamSocket(raw, {
    kind,
    localAddr: local,
    peerAddr: kind === "unix" ? fromNativeStream({ family: "unix", path: "" }) : undefined,
  });
  NodeStreamSocket.attach(sock, sw);
  return sock;
}

/** What `native.fdType` says, in words. */
function kindOf(type: "stream" | "dgram" | "other"): string {
  return type === "other"
    ? "an fd that is neither a stream nor a datagram socket"
    : `a ${type} socket`;
}

/** `native.fdType(fd)`, failures as IoError. */
function fdType(fd: number): "stream" | "dgram" | "other" {
  try {
    return native.fdType(fd);
  } catch (e) {
    throw unixError(e);
  }
}

function importDatagram(fd: number, sw: Switch, closeFd: boolean): NodeDatagramSocket {
  const type = fdType(fd);
  if (type !== "dgram") {
    throw new TypeError(`fd ${fd} must be a datagram socket, got ${kindOf(type)}`);
  }
  let localAddr: DatagramAddr;
  let connected: boolean;
  let h: InstanceType<Native["DgramHandle"]>;
  try {
    localAddr = fromNativeDatagram(native.getsockname(fd));
    try {
      native.getpeername(fd);
      connected = true;
    } catch {
      connected = false;
    }
    h = new native.DgramHandle(fd, { closeFd });
  } catch (e) {
    throw e instanceof TypeError ? e : unixError(e);
  }
  return NodeDatagramSocket.fromHandle(h, { sw, localAddr, connected });
}

type ListenFromFd = (
  addr: StreamAddr,
  opts: ListenOptions,
  fd: number,
) => Promise<NodeListeningSocket>;

/**
 * `NodeListeningSocket.listen(addr, opts, fd)`: listening on an existing fd (the third
 * parameter is an addition to the stream side's `listen`; see the report).
 */
function listenFromFd(): ListenFromFd {
  const listen = NodeListeningSocket.listen as unknown as ListenFromFd;
  if (NodeListeningSocket.listen.length < 3) {
    throw new TypeError(
      "importSocketListening: this build's NodeListeningSocket.listen cannot take an fd yet",
    );
  }
  return listen.bind(NodeListeningSocket);
}

/**
 * Eio_unix for weir: the file descriptor behind a resource, importing existing descriptors as
 * weir sockets, socket pairs and pipes, and conversions between weir's addresses and the
 * system's text forms.
 *
 * The fds come from Node's internal handles (`socket._handle.fd`): not a public Node API,
 * but stable on Unix for many years. They are *borrowed*: valid while the resource is open,
 * and never to be closed by the caller.
 * @example
 * ```ts
 * import { Unix } from "weir/unix";
 * await Switch.run(async (sw) => {
 *   const [a, b] = Unix.socketpairStream({ sw });
 *   await Flow.copyString("foo", a);
 *   await a.close();
 *   await Flow.readAll(b, { maxSize: 10 }); // "foo"
 * });
 * ```
 */
export const Unix = Object.freeze({
  /**
   * The fd behind `resource` (Eio's `Resource.fd`): a socket of the Node backend.
   * @throws TypeError if it has none (closed, or not backed by an fd: a mock flow, say);
   * UnsupportedOnRuntime for a node:net socket on a runtime that hides its fd (Deno: there
   * `Unix.fdOpt` throws it too, for such a socket, open or closed).
   * @example
   * ```ts
   * const fd = Unix.fd(listener); // e.g. 21
   * ```
   */
  fd(resource: object): number {
    const fd = Unix.fdOpt(resource);
    if (fd === undefined) {
      throw new TypeError(
        "resource has no Unix file descriptor (it is closed, or not a socket of the Node backend)",
      );
    }
    return fd;
  },

  /**
   * The fd behind `resource`, or `undefined` if it has none (Eio's `Resource.fd_opt`): closed
   * resources and objects not backed by an fd (the mock's, Web streams, ...).
   * @example
   * ```ts
   * Unix.fdOpt(Mock.Flow.make("flow")); // undefined
   * ```
   */
  fdOpt(resource: object): number | undefined {
    if (!hasUnixFd(resource)) return undefined;
    const fd = resource[unixFd]();
    // Deno's node:net sockets hide their fd: say so rather than answer "none"
    if (fd === undefined) requirePrimitive("Unix.fd of a node:net socket", "socket-fd");
    return fd;
  },

  /**
   * Wraps a connected stream socket fd (TCP or Unix), or a pipe end, as a weir stream socket
   * owned by `opts.sw`. Nothing is read before a read asks.
   * @throws UnsupportedOnRuntime on Bun (no stream socket from an fd), before taking the fd;
   * TypeError for a bad fd or options, or an fd Node cannot wrap (a regular file);
   *   IoError if the fd is unusable (`Closed` for EBADF).
   * @example
   * ```ts
   * const [r, w] = Unix.rawPipe();
   * const source = Unix.importSocketStream(r, { sw, closeUnix: true });
   * const sink = Unix.importSocketStream(w, { sw, closeUnix: true });
   * ```
   */
  importSocketStream(fd: number, opts: ImportOptions): StreamSocket {
    checkFd(fd);
    checkImport(opts, "importSocketStream");
    requirePrimitive("Unix.importSocketStream", "fd-stream");
    return owned(fd, opts.closeUnix, (mine) => importStream(mine, opts.sw));
  },

  /**
   * Wraps a listening stream socket fd (bound and `listen`ed, TCP or Unix) as a weir listening
   * socket owned by `opts.sw`. Closing it does not remove a Unix socket file (weir did not
   * create it).
   * @throws TypeError for a bad fd or options, or an fd that is not a stream socket; IoError.
   * @example
   * ```ts
   * const l = await Unix.importSocketListening(fd, { sw, closeUnix: true });
   * await Net.runServer(l, handler, { onError });
   * ```
   */
  async importSocketListening(fd: number, opts: ImportListeningOptions): Promise<ListeningSocket> {
    checkFd(fd);
    checkImport(opts, "importSocketListening");
    const backlog = opts.backlog ?? 128;
    if (!Number.isInteger(backlog) || backlog < 0) {
      throw new RangeError(`backlog must be an integer >= 0, got ${String(backlog)}`);
    }
    const type = fdType(fd);
    if (type !== "stream") {
      throw new TypeError(`fd ${fd} must be a listening stream socket, got ${kindOf(type)}`);
    }
    let addr: StreamAddr;
    try {
      addr = fromNativeStream(native.getsockname(fd));
    } catch (e) {
      throw unixError(e);
    }
    const listen = listenFromFd();
    const mine = opts.closeUnix ? fd : dupFd(fd);
    // on failure listen() closes the server, and with it `mine`
    return await listen(addr, { sw: opts.sw, backlog }, mine);
  },

  /**
   * Wraps a datagram socket fd (UDP or Unix; bound, connected, or neither) as a weir datagram
   * socket owned by `opts.sw`. A connected socket may `send` without `dst`.
   * @throws UnsupportedOnRuntime on Bun (no uv_poll_t for the addon), before taking the fd;
   * TypeError for a bad fd or options, or an fd that is not a datagram socket; IoError.
   * @example
   * ```ts
   * const [a, b] = native.socketpair("dgram");
   * const sa = Unix.importSocketDatagram(a, { sw, closeUnix: true });
   * ```
   */
  importSocketDatagram(fd: number, opts: ImportOptions): DatagramSocket {
    checkFd(fd);
    checkImport(opts, "importSocketDatagram");
    requirePrimitive("Unix.importSocketDatagram", "uv-poll");
    // the addon's handle can leave the fd open itself: no duplicate needed
    return importDatagram(fd, opts.sw, opts.closeUnix);
  },

  /**
   * A connected pair of Unix stream sockets (socketpair(2)), both owned by `opts.sw`: what is
   * written to one can be read from the other.
   * @throws UnsupportedOnRuntime on Bun (no stream socket from an fd); IoError if the system
   * refuses (EMFILE, ...); TypeError without `sw`.
   * @example
   * ```ts
   * const [a, b] = Unix.socketpairStream({ sw });
   * ```
   */
  socketpairStream(opts: PairOptions): [StreamSocket, StreamSocket] {
    checkImport({ sw: opts?.sw, closeUnix: true } as ImportOptions, "socketpairStream");
    requirePrimitive("Unix.socketpairStream", "fd-stream");
    const [fa, fb] = pair("stream");
    let a: StreamSocket;
    try {
      a = importStream(fa, opts.sw);
    } catch (e) {
      native.close(fa);
      native.close(fb);
      throw e;
    }
    try {
      return [a, importStream(fb, opts.sw)];
    } catch (e) {
      native.close(fb);
      void a.close();
      throw e;
    }
  },

  /**
   * A connected pair of Unix datagram sockets (socketpair(2)), both owned by `opts.sw`: each
   * `send` on one is one `recv` on the other (an empty datagram included); `dst` is not needed.
   * @throws UnsupportedOnRuntime on Bun (no uv_poll_t for the addon); IoError if the system
   * refuses; TypeError without `sw`.
   * @example
   * ```ts
   * const [a, b] = Unix.socketpairDatagram({ sw });
   * await a.send([enc.encode("12"), enc.encode("34")]);
   * const [, n] = await b.recv(buf); // 4: "1234"
   * ```
   */
  socketpairDatagram(opts: PairOptions): [DatagramSocket, DatagramSocket] {
    checkImport({ sw: opts?.sw, closeUnix: true } as ImportOptions, "socketpairDatagram");
    requirePrimitive("Unix.socketpairDatagram", "uv-poll");
    const [fa, fb] = pair("dgram");
    let a: DatagramSocket;
    try {
      a = importDatagram(fa, opts.sw, true);
    } catch (e) {
      native.close(fa);
      native.close(fb);
      throw e;
    }
    try {
      return [a, importDatagram(fb, opts.sw, true)];
    } catch (e) {
      native.close(fb);
      void a.close();
      throw e;
    }
  },

  /**
   * A pipe as a weir source (the read end) and sink (the write end), both owned by `opts.sw`
   * (Eio's `Eio_unix.pipe`). Closing the sink makes the source read end-of-file.
   * @throws UnsupportedOnRuntime on Bun (no stream socket from an fd); IoError if the system
   * refuses; TypeError without `sw`.
   * @example
   * ```ts
   * const [r, w] = Unix.pipe({ sw });
   * await w.write([enc.encode("hi")]);
   * ```
   */
  pipe(opts: PairOptions): [Source & Closable, Sink & Closable] {
    checkImport({ sw: opts?.sw, closeUnix: true } as ImportOptions, "pipe");
    requirePrimitive("Unix.pipe", "fd-stream");
    const [r, w] = Unix.rawPipe();
    let source: StreamSocket;
    try {
      source = importStream(r, opts.sw, { readable: true, writable: false });
    } catch (e) {
      native.close(r);
      native.close(w);
      throw e;
    }
    try {
      return [source, importStream(w, opts.sw, { readable: false, writable: true })];
    } catch (e) {
      native.close(w);
      void source.close();
      throw e;
    }
  },

  /**
   * A raw pipe, `[readFd, writeFd]` (non-blocking, close-on-exec), for code that wants plain
   * fds (OCaml's `Unix.pipe`). Closing them is the caller's job, unless imported with
   * `closeUnix: true`.
   * @throws IoError if the system refuses (EMFILE, ...).
   * @example
   * ```ts
   * const [r, w] = Unix.rawPipe();
   * ```
   */
  rawPipe(): [number, number] {
    try {
      return native.pipe();
    } catch (e) {
      throw unixError(e);
    }
  },

  /** Conversions between weir's IP addresses and the system's text form (Eio's `Net.Ipaddr`). */
  Ipaddr: Object.freeze({
    /**
     * The system's text form of `ip` (what inet_ntop(3) writes, as OCaml's
     * `Unix.string_of_inet_addr`): `"127.0.0.1"`, `"::1"`, `"::"`.
     * @example
     * ```ts
     * Unix.Ipaddr.toUnix(Ipaddr.V6.any); // "::"
     * ```
     */
    toUnix(ip: IpaddrT): string {
      if (!Ipaddr.isIpaddr(ip)) throw new TypeError(`ip must be an Ipaddr, got ${show(ip)}`);
      return ip.toString();
    },
    /**
     * Reads the system's text form of an IP address (a zone, `%eth0`, is dropped).
     * @throws TypeError if `text` is not an IP address.
     * @example
     * ```ts
     * Unix.Ipaddr.ofUnix("1:0:0:2:0:0:0:3").toString(); // "1:0:0:2::3"
     * ```
     */
    ofUnix(text: string): IpaddrT {
      if (typeof text !== "string") {
        throw new TypeError(`text must be a string, got ${show(text)}`);
      }
      return parseNumericIp(text);
    },
  }),

  /**
   * The addon's form of a socket address (for `native.bind`, `native.connect`).
   * @example
   * ```ts
   * Unix.sockaddrToUnix(Sockaddr.parse("tcp:127.0.0.1:80")); // { family: "inet", address: "127.0.0.1", port: 80 }
   * ```
   */
  sockaddrToUnix(addr: Sockaddr): NativeAddr {
    return toNativeAddr(addr);
  },

  /**
   * A stream address from the addon's form (an IP address becomes `tcp:`).
   * @example
   * ```ts
   * Unix.sockaddrOfUnixStream(native.getsockname(fd)); // tcp:127.0.0.1:40222
   * ```
   */
  sockaddrOfUnixStream(addr: NativeAddr): StreamAddr {
    return fromNativeStream(addr);
  },

  /**
   * A datagram address from the addon's form (an IP address becomes `udp:`).
   * @example
   * ```ts
   * Unix.sockaddrOfUnixDatagram({ family: "inet6", address: "::1", port: 53 }); // udp:[::1]:53
   * ```
   */
  sockaddrOfUnixDatagram(addr: NativeAddr): DatagramAddr {
    return fromNativeDatagram(addr);
  },
});

function pair(type: "stream" | "dgram"): [number, number] {
  try {
    return native.socketpair(type);
  } catch (e) {
    throw unixError(e);
  }
}
