/**
 * `NetBase`: the part of every `Net` backend that is the same everywhere — argument
 * checks, error context lines and the getaddrinfo filters. A backend implements the
 * `backend*` methods.
 * @module
 */

import type { Channel } from "node:diagnostics_channel";
import { checkCount, show } from "../core/checks.ts";
import { type BlockingOptions, IoError, isCancelled, type Switch } from "../core/index.ts";
import { checkOptionalTimeout, deadlineClock } from "./deadlines.ts";
import { type ConnectAttemptMessage, channels } from "./metrics.ts";
import { checkBacklog, checkKeepAlive, checkMode } from "./option-checks.ts";
import { ProxyListeningSocket } from "./proxy-protocol/proxied-socket.ts";
import {
  type DatagramAddr,
  Sockaddr,
  type SockaddrLike,
  type StreamAddr,
  type TcpAddr,
  type UdpAddr,
} from "./sockaddr.ts";
import type {
  ConnectOptions,
  DatagramOptions,
  DatagramSocket,
  GetaddrinfoOptions,
  ListeningSocket,
  ListenOptions,
  Net,
  StreamSocket,
  TlsConnectOptions,
  TlsSocket,
} from "./types.ts";

/** The kernel's accept backlog when `listen` is not given one. */
export const DEFAULT_BACKLOG = 1024;

/** How many accepted connections a backend holds for `accept()` when not told. */
export const DEFAULT_ACCEPT_QUEUE = 4096;

/** `ListenOptions` with the defaults filled in, as a backend gets them. */
export type BackendListenOptions = ListenOptions & {
  readonly backlog: number;
  readonly acceptQueue: number;
};

/** Checks the `sw` option. @throws TypeError if it is missing. */
export function checkSwitch(sw: Switch | undefined, what: string): void {
  if (sw === undefined || sw === null || typeof sw.onRelease !== "function") {
    throw new TypeError(`${what}: option sw (a Switch) is required`);
  }
}

/** Rejects the unnamed Unix address, which can be neither connected to nor listened on. */
function checkNamed(a: StreamAddr, what: string): void {
  if (a.type === "unix" && a.path === "")
    throw new TypeError(`${what}: unix path must not be empty`);
}

/** Adds `line` as context to an IoError and rethrows anything. */
export function withContext(e: unknown, line: string): unknown {
  if (e instanceof IoError) e.addContext(line);
  return e;
}

/** The datagram socket kinds `datagramSocket` accepts besides an address. */
export type UnboundDatagram = "udpv4" | "udpv6";

/**
 * The shared half of a network backend. Subclasses implement the `backend*` methods; the
 * public methods check arguments, add the context lines (`connecting to ADDR`, ...) and
 * filter getaddrinfo results, identically for every backend.
 */
export abstract class NetBase implements Net {
  /**
   * Whether `backendConnect` and `backendListen` handle the `tls` option. Backends that do not
   * make `connect`/`listen` with `tls` throw a TypeError (never a plain socket instead).
   */
  protected readonly supportsTls: boolean = false;

  /** Connects to a checked stream address. Errors get context from {@link connect}. */
  protected abstract backendConnect(addr: StreamAddr, opts: ConnectOptions): Promise<StreamSocket>;
  /** Listens on a checked stream address. */
  protected abstract backendListen(
    addr: StreamAddr,
    opts: BackendListenOptions,
  ): Promise<ListeningSocket>;
  /** Makes a datagram socket. */
  protected abstract backendDatagramSocket(
    addr: DatagramAddr | UnboundDatagram,
    opts: DatagramOptions,
  ): Promise<DatagramSocket>;
  /** Resolves a host name. */
  protected abstract backendGetaddrinfo(
    host: string,
    service: string,
    opts: BlockingOptions,
  ): Promise<Array<TcpAddr | UdpAddr>>;
  /** Reverse lookup. */
  protected abstract backendGetnameinfo(
    addr: TcpAddr | UdpAddr,
    opts: BlockingOptions,
  ): Promise<[string, string]>;

  connect(
    addr: SockaddrLike,
    opts: ConnectOptions & { readonly tls: TlsConnectOptions },
  ): Promise<TlsSocket>;
  connect(addr: SockaddrLike, opts: ConnectOptions): Promise<StreamSocket>;
  async connect(addr: SockaddrLike, opts: ConnectOptions): Promise<StreamSocket> {
    const a = Sockaddr.stream(addr);
    checkNamed(a, "connect");
    checkSwitch(opts?.sw, "connect");
    checkKeepAlive(opts.keepAlive);
    const idle = checkOptionalTimeout("idleTimeout", opts.idleTimeout);
    this.#checkTls(opts.tls, "connect");
    opts.sw.check();
    const ch = channels.connectAttempt;
    if (ch.hasSubscribers) return this.#connectPublished(a, opts, idle, ch);
    try {
      const sock = await this.backendConnect(a, opts);
      if (idle !== undefined) sock.setIdleTimeout(idle);
      return sock;
    } catch (e) {
      throw withContext(e, `connecting to ${Sockaddr.format(a)}`);
    }
  }

  /** {@link connect} with a subscriber to `weir:connect:attempt`: publishes how it ended. */
  async #connectPublished(
    a: StreamAddr,
    opts: ConnectOptions,
    idle: number | undefined,
    ch: Channel,
  ): Promise<StreamSocket> {
    const clock = deadlineClock();
    const start = clock.now();
    let sock: StreamSocket;
    try {
      sock = await this.backendConnect(a, opts);
    } catch (e) {
      const outcome = isCancelled(e) ? "cancelled" : "failed";
      const msg: ConnectAttemptMessage = {
        addr: a,
        outcome,
        durationMs: clock.now() - start,
        error: e,
      };
      withContext(e, `connecting to ${Sockaddr.format(a)}`);
      ch.publish(msg);
      throw e;
    }
    const msg: ConnectAttemptMessage = {
      addr: a,
      outcome: "connected",
      durationMs: clock.now() - start,
    };
    ch.publish(msg);
    if (idle !== undefined) sock.setIdleTimeout(idle);
    return sock;
  }

  async listen(addr: SockaddrLike, opts: ListenOptions): Promise<ListeningSocket> {
    const a = Sockaddr.stream(addr);
    checkNamed(a, "listen");
    checkSwitch(opts?.sw, "listen");
    this.#checkTls(opts.tls, "listen");
    const backlog = checkBacklog(opts.backlog ?? DEFAULT_BACKLOG);
    const acceptQueue = checkCount("acceptQueue", opts.acceptQueue ?? DEFAULT_ACCEPT_QUEUE);
    checkKeepAlive(opts.keepAlive);
    checkMode(opts.mode);
    if (opts.mode !== undefined && (a.type !== "unix" || a.path.startsWith("\0"))) {
      throw new TypeError(`mode is for a Unix socket file, not ${Sockaddr.format(a)}`);
    }
    const proxy = opts.proxyProtocol;
    if (proxy !== undefined) {
      if (proxy !== "v1" && proxy !== "v2" && proxy !== "any") {
        throw new TypeError(`proxyProtocol must be "v1", "v2" or "any", got ${show(proxy)}`);
      }
      if (opts.tls !== undefined) {
        throw new TypeError(
          "proxyProtocol and tls together are not supported yet: listen with one",
        );
      }
    }
    opts.sw.check();
    let l: ListeningSocket;
    try {
      l = await this.backendListen(a, { ...opts, backlog, acceptQueue });
    } catch (e) {
      throw withContext(e, `listening on ${Sockaddr.format(a)}`);
    }
    return proxy === undefined ? l : new ProxyListeningSocket(l, proxy);
  }

  #checkTls(tls: unknown, what: string): void {
    if (tls !== undefined && !this.supportsTls) {
      throw new TypeError(
        `${what}: this network does not run TLS itself (option tls); run Tls.client or Tls.server over the connection`,
      );
    }
  }

  async datagramSocket(
    addr: SockaddrLike | UnboundDatagram,
    opts: DatagramOptions,
  ): Promise<DatagramSocket> {
    const a = addr === "udpv4" || addr === "udpv6" ? addr : Sockaddr.datagram(addr);
    checkSwitch(opts?.sw, "datagramSocket");
    opts.sw.check();
    try {
      return await this.backendDatagramSocket(a, opts);
    } catch (e) {
      const what = typeof a === "string" ? a : Sockaddr.format(a);
      throw withContext(e, `creating datagram socket ${what}`);
    }
  }

  async getaddrinfo(
    host: string,
    opts: GetaddrinfoOptions = {},
  ): Promise<Array<TcpAddr | UdpAddr>> {
    if (typeof host !== "string") throw new TypeError(`host must be a string, got ${typeof host}`);
    const service = opts.service ?? "0";
    if (typeof service !== "string") {
      throw new TypeError(`service must be a string, got ${typeof service}`);
    }
    try {
      return await this.backendGetaddrinfo(host, service, opts);
    } catch (e) {
      throw withContext(e, `looking up ${JSON.stringify(host)}`);
    }
  }

  async getaddrinfoStream(host: string, opts?: GetaddrinfoOptions): Promise<TcpAddr[]> {
    const all = await this.getaddrinfo(host, opts);
    return all.filter((a): a is TcpAddr => a.type === "tcp");
  }

  async getaddrinfoDatagram(host: string, opts?: GetaddrinfoOptions): Promise<UdpAddr[]> {
    const all = await this.getaddrinfo(host, opts);
    return all.filter((a): a is UdpAddr => a.type === "udp");
  }

  async getnameinfo(addr: SockaddrLike, opts: BlockingOptions = {}): Promise<[string, string]> {
    const a = Sockaddr.of(addr);
    if (a.type === "unix") {
      throw new TypeError(`getnameinfo needs an IP address, got ${Sockaddr.format(a)}`);
    }
    try {
      return await this.backendGetnameinfo(a, opts);
    } catch (e) {
      throw withContext(e, `looking up the name of ${Sockaddr.format(a)}`);
    }
  }
}
