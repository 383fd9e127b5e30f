/**
 * `Tcp.WhereToListen` (Async's `Tcp.Where_to_listen`): the socket a server listens on, and
 * what its `listeningOn` reports (the port, or the path).
 * @module
 */
import { checkNonEmptyString } from "../core/checks.ts";
import { Ipaddr } from "../net/ipaddr.ts";
import { Sockaddr, type StreamAddr, type TcpAddr, type UnixAddr } from "../net/sockaddr.ts";

/**
 * Where a server listens: an `address`, and how to turn the address actually listened on
 * (with the port the OS chose) into the server's `listeningOn`.
 */
export interface WhereToListen<A extends StreamAddr = StreamAddr, L = unknown> {
  /** The address to listen on (port 0: the OS picks one). */
  readonly address: A;
  /** What `server.listeningOn` is, given the address listened on. */
  listeningOn(addr: A): L;
}

/** A TCP listening place; `listeningOn` is the port (Async's `Where_to_listen.inet`). */
export type WhereToListenInet = WhereToListen<TcpAddr, number>;
/** A Unix-socket listening place; `listeningOn` is the path (Async's `Where_to_listen.unix`). */
export type WhereToListenUnix = WhereToListen<UnixAddr, string>;

/** Options of {@link WhereToListen.onPort} and {@link WhereToListen.onPortChosenByOs}. */
export interface OnPortOptions {
  /** The local address to listen on. Default: every IPv4 address (`0.0.0.0`), as Async. */
  readonly host?: Ipaddr | string | undefined;
}

function hostOf(opts: OnPortOptions | undefined): Ipaddr | string {
  return opts?.host ?? Ipaddr.V4.any;
}

const portOf = (a: TcpAddr): number => a.port;
const pathOf = (a: UnixAddr): string => a.path;

/** Makes {@link WhereToListen} values. */
export const WhereToListen = Object.freeze({
  /**
   * A listening place with your own `listeningOn` (Async's `Where_to_listen.create`).
   * @throws TypeError if `address` is not a stream address or `listeningOn` is not a function.
   * @example
   * ```ts
   * const where = Tcp.WhereToListen.create({
   *   address: Sockaddr.tcp(Ipaddr.V6.loopback, 0),
   *   listeningOn: (a) => Sockaddr.format(a),
   * });
   * ```
   */
  create<A extends StreamAddr, L>(opts: {
    readonly address: A | string;
    readonly listeningOn: (addr: A) => L;
  }): WhereToListen<A, L> {
    const address = Sockaddr.stream(opts?.address) as A;
    if (typeof opts.listeningOn !== "function") {
      throw new TypeError(`listeningOn must be a function, got ${typeof opts.listeningOn}`);
    }
    return Object.freeze({ address, listeningOn: opts.listeningOn });
  },

  /**
   * TCP port `port` on every IPv4 address (or `opts.host`); `listeningOn` is the port.
   * @throws RangeError if `port` is not an integer in 0..65535; TypeError for a bad host.
   * @example
   * ```ts
   * const server = await Tcp.Server.create(Tcp.WhereToListen.onPort(8080), handler, {
   *   onHandlerError: "raise",
   * });
   * ```
   */
  onPort(port: number, opts?: OnPortOptions): WhereToListenInet {
    return Object.freeze({ address: Sockaddr.tcp(hostOf(opts), port), listeningOn: portOf });
  },

  /**
   * A TCP port the OS chooses, on every IPv4 address (or `opts.host`); `listeningOn` is the
   * port chosen.
   * @throws TypeError for a bad host.
   * @example
   * ```ts
   * const server = await Tcp.Server.create(
   *   Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" }), handler, { onHandlerError: "raise" });
   * server.listeningOn; // e.g. 40222
   * ```
   */
  onPortChosenByOs(opts?: OnPortOptions): WhereToListenInet {
    return Object.freeze({ address: Sockaddr.tcp(hostOf(opts), 0), listeningOn: portOf });
  },

  /**
   * The Unix socket at `path`; `listeningOn` is the path. A stale socket file at the path (one
   * whose server has gone: a connect to it is refused) is removed first; a live one makes the
   * server fail with `AddressInUse`. The file is removed when the server closes, if it is still
   * the server's socket.
   * @throws TypeError/RangeError for a bad or empty path (see `Sockaddr.unix`).
   * @example
   * ```ts
   * const where = Tcp.WhereToListen.onFile("/tmp/app.sock");
   * ```
   */
  onFile(path: string): WhereToListenUnix {
    checkNonEmptyString("path", path);
    return Object.freeze({ address: Sockaddr.unix(path), listeningOn: pathOf });
  },
});
