/**
 * Mock networks and listening sockets (Eio's `Eio_mock.Net`): every operation is traced and
 * does what its script says.
 * @module
 */
import { type BlockingOptions, IoError } from "../core/index.ts";
import {
  type AcceptOptions,
  type BackendListenOptions,
  type ConnectOptions,
  checkSwitch,
  type DatagramAddr,
  type DatagramOptions,
  type DatagramSocket,
  Ipaddr,
  type ListeningSocket,
  ListeningSocketBase,
  NetBase,
  Sockaddr,
  type SockaddrLike,
  type StreamAddr,
  type StreamSocket,
  type TcpAddr,
  type UdpAddr,
  type UnboundDatagram,
} from "../net/index.ts";
import type { Action } from "./action.ts";
import { attach } from "./flow.ts";
import { Handler, type ScriptOptions } from "./handler.ts";
import { quote, trace } from "./trace.ts";

function notConfigured<T>(op: string, label: string, fn: string): Action<T> {
  return {
    run: () => {
      throw new Error(
        `Mock ${op} handler not configured for ${JSON.stringify(label)} (script it with ${fn})`,
      );
    },
  };
}

// Eio's `pp_maybe_quote`: plain when safe, else quoted as OCaml's %S.
function maybeQuote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127 || c === 0x22 || c === 0x27 || c === 0x5c) return quote(s);
  }
  return s === "" ? quote(s) : s;
}

/**
 * A mock network (implements `Net`). Each operation is traced (`label: connect to ADDR`,
 * `label: listen on ADDR`, `label: getaddrinfo ~service:SERVICE HOST`, ...) and then performs
 * the next action of its script (`Mock.Net.onConnect`, `onListen`, `onDatagramSocket`,
 * `onGetaddrinfo`, `onGetnameinfo`); an unscripted call fails with "Mock connect handler not
 * configured ...". Sockets it returns are attached to the `sw` option, like real ones.
 * Argument checks and error context lines are the real ones (`NetBase`).
 * @example
 * ```ts
 * const net = Mock.Net.make("mock-net");
 * Mock.Net.onConnect(net, [{ return: Mock.Flow.make("flow") }]);
 * await Switch.run((sw) => net.connect("tcp:127.0.0.1:80", { sw }));
 * // mock-net: connect to tcp:127.0.0.1:80
 * // flow: closed
 * ```
 */
export class MockNet extends NetBase {
  /** The name the trace lines start with. */
  readonly label: string;
  /** The scripts of each operation. */
  readonly handlers: {
    readonly connect: Handler<StreamSocket>;
    readonly listen: Handler<ListeningSocket>;
    readonly datagramSocket: Handler<DatagramSocket>;
    readonly getaddrinfo: Handler<readonly SockaddrLike[]>;
    readonly getnameinfo: Handler<readonly [string, string]>;
  };

  constructor(label: string) {
    super();
    if (typeof label !== "string")
      throw new TypeError(`label must be a string, got ${typeof label}`);
    this.label = label;
    this.handlers = {
      connect: new Handler(
        `${label}: connect`,
        notConfigured("connect", label, "Mock.Net.onConnect"),
      ),
      listen: new Handler(`${label}: listen`, notConfigured("listen", label, "Mock.Net.onListen")),
      datagramSocket: new Handler(
        `${label}: datagram_socket`,
        notConfigured("datagram_socket", label, "Mock.Net.onDatagramSocket"),
      ),
      getaddrinfo: new Handler(
        `${label}: getaddrinfo`,
        notConfigured("getaddrinfo", label, "Mock.Net.onGetaddrinfo"),
      ),
      getnameinfo: new Handler(
        `${label}: getnameinfo`,
        notConfigured("getnameinfo", label, "Mock.Net.onGetnameinfo"),
      ),
    };
  }

  protected async backendConnect(addr: StreamAddr, opts: ConnectOptions): Promise<StreamSocket> {
    const bind =
      opts.bindTo === undefined ? "" : ` (bind to ${Sockaddr.format(Sockaddr.of(opts.bindTo))})`;
    trace(`${this.label}: connect to ${Sockaddr.format(addr)}${bind}`);
    const socket = await this.handlers.connect.run(opts);
    attach(socket, opts.sw);
    return socket;
  }

  protected async backendListen(
    addr: StreamAddr,
    opts: BackendListenOptions,
  ): Promise<ListeningSocket> {
    trace(`${this.label}: listen on ${Sockaddr.format(addr)}`);
    const socket = await this.handlers.listen.run();
    attach(socket, opts.sw);
    return socket;
  }

  protected async backendDatagramSocket(
    addr: DatagramAddr | UnboundDatagram,
    opts: DatagramOptions,
  ): Promise<DatagramSocket> {
    const what = addr === "udpv4" ? "UDPv4" : addr === "udpv6" ? "UDPv6" : Sockaddr.format(addr);
    trace(`${this.label}: datagram_socket ${what}`);
    const socket = await this.handlers.datagramSocket.run();
    attach(socket, opts.sw);
    return socket;
  }

  protected async backendGetaddrinfo(
    host: string,
    service: string,
    opts: BlockingOptions,
  ): Promise<Array<TcpAddr | UdpAddr>> {
    trace(`${this.label}: getaddrinfo ~service:${maybeQuote(service)} ${maybeQuote(host)}`);
    const addrs = await this.handlers.getaddrinfo.run(opts);
    // getaddrinfo gives Internet addresses only; a scripted Unix address is dropped (so it is
    // never "usable", as in Eio's "No usable addresses" test).
    return addrs.map((a) => Sockaddr.of(a)).filter((a) => Sockaddr.isInet(a));
  }

  protected async backendGetnameinfo(
    addr: TcpAddr | UdpAddr,
    opts: BlockingOptions,
  ): Promise<[string, string]> {
    trace(`${this.label}: getnameinfo ${Sockaddr.format(addr)}`);
    const [host, service] = await this.handlers.getnameinfo.run(opts);
    return [host, service];
  }

  /** `MockNet(label)`. */
  override toString(): string {
    return `MockNet(${this.label})`;
  }
}

/** Options of {@link Net.listeningSocket}. */
export interface MockListeningSocketOptions {
  /** What `listeningAddr` reports (default `tcp:0.0.0.0:0`). */
  readonly listeningAddr?: SockaddrLike | undefined;
}

/** What an accept script gives: the connection and the peer's address. */
export type AcceptResult = readonly [StreamSocket, SockaddrLike];

/**
 * A mock listening socket. `accept` performs the next action of its script
 * (`Mock.Net.onAccept`), attaches the connection to `sw` and traces
 * `label: accepted connection from ADDR`; `close` traces `label: closed` (once). An unscripted
 * accept fails with "Mock accept handler not configured ..."; after `close`, `accept` rejects
 * with `IoError` `Closed`.
 * @example
 * ```ts
 * const socket = Mock.Net.listeningSocket("tcp/80");
 * Mock.Net.onAccept(socket, [{ return: [Mock.Flow.make("connection"), "tcp:127.0.0.1:1234"] }]);
 * ```
 */
export class MockListeningSocket extends ListeningSocketBase {
  /** The name the trace lines start with. */
  readonly label: string;
  readonly #addr: StreamAddr;
  /** The script of `accept`. */
  readonly handlers: { readonly accept: Handler<AcceptResult> };
  #state: "open" | "closed" = "open";

  constructor(label: string, opts: MockListeningSocketOptions = {}) {
    super();
    if (typeof label !== "string")
      throw new TypeError(`label must be a string, got ${typeof label}`);
    this.label = label;
    this.#addr =
      opts.listeningAddr === undefined
        ? Sockaddr.tcp(Ipaddr.V4.any, 0)
        : Sockaddr.stream(opts.listeningAddr);
    this.handlers = {
      accept: new Handler(`${label}: accept`, notConfigured("accept", label, "Mock.Net.onAccept")),
    };
  }

  get listeningAddr(): StreamAddr {
    return this.#addr;
  }

  /**
   * Accepts the next scripted connection and attaches it to `opts.sw`.
   * @throws what the script raises; IoError `Closed` after `close`; TypeError without `sw`.
   */
  async accept(opts: AcceptOptions): Promise<[StreamSocket, StreamAddr]> {
    checkSwitch(opts?.sw, "accept");
    if (this.#state === "closed") {
      throw new IoError({ kind: "Closed" }, [`accepting on ${this.label}`]);
    }
    const [flow, peer] = await this.handlers.accept.run(opts);
    const addr = Sockaddr.stream(peer);
    attach(flow, opts.sw);
    if (opts.idleTimeout !== undefined) flow.setIdleTimeout(opts.idleTimeout);
    trace(`${this.label}: accepted connection from ${Sockaddr.format(addr)}`);
    return [flow, addr];
  }

  /** Closes the socket, tracing `label: closed` at the first call. */
  close(): Promise<void> {
    if (this.#state === "closed") return Promise.resolve();
    this.#state = "closed";
    trace(`${this.label}: closed`);
    return Promise.resolve();
  }

  /** `MockListeningSocket(label)`. */
  override toString(): string {
    return `MockListeningSocket(${this.label})`;
  }
}

/** Mock networks. */
export const Net = {
  /**
   * A new mock network named `label`; script it with the `on*` functions.
   * @example
   * ```ts
   * const net = Mock.Net.make("mock-net");
   * ```
   */
  make(label: string): MockNet {
    return new MockNet(label);
  },

  /**
   * Scripts `connect`: each call performs the next action (giving the connection, which is
   * attached to the caller's `sw`), then `opts.default`, else fails as not configured.
   * @example
   * ```ts
   * Mock.Net.onConnect(net, [{ raise: refused }, { return: Mock.Flow.make("flow") }]);
   * ```
   */
  onConnect(
    net: MockNet,
    actions: readonly Action<StreamSocket>[],
    opts?: ScriptOptions<StreamSocket>,
  ): void {
    net.handlers.connect.seq(actions, opts);
  },

  /**
   * Scripts `listen` (giving the listening socket, attached to the caller's `sw`).
   * @example
   * ```ts
   * Mock.Net.onListen(net, [{ return: Mock.Net.listeningSocket("tcp/80") }]);
   * ```
   */
  onListen(
    net: MockNet,
    actions: readonly Action<ListeningSocket>[],
    opts?: ScriptOptions<ListeningSocket>,
  ): void {
    net.handlers.listen.seq(actions, opts);
  },

  /**
   * Scripts `datagramSocket` (giving the socket, attached to the caller's `sw`).
   * @example
   * ```ts
   * Mock.Net.onDatagramSocket(net, [{ return: mySocket }]);
   * ```
   */
  onDatagramSocket(
    net: MockNet,
    actions: readonly Action<DatagramSocket>[],
    opts?: ScriptOptions<DatagramSocket>,
  ): void {
    net.handlers.datagramSocket.seq(actions, opts);
  },

  /**
   * Scripts `getaddrinfo` (and the stream/datagram variants, which filter its result).
   * Scripted Unix addresses are dropped: getaddrinfo gives Internet addresses only.
   * @example
   * ```ts
   * Mock.Net.onGetaddrinfo(net, [{ return: ["tcp:127.0.0.1:80", "tcp:1.2.3.4:8080"] }]);
   * ```
   */
  onGetaddrinfo(
    net: MockNet,
    actions: readonly Action<readonly SockaddrLike[]>[],
    opts?: ScriptOptions<readonly SockaddrLike[]>,
  ): void {
    net.handlers.getaddrinfo.seq(actions, opts);
  },

  /**
   * Scripts `getnameinfo`.
   * @example
   * ```ts
   * Mock.Net.onGetnameinfo(net, [{ return: ["localhost", "http"] }]);
   * ```
   */
  onGetnameinfo(
    net: MockNet,
    actions: readonly Action<readonly [string, string]>[],
    opts?: ScriptOptions<readonly [string, string]>,
  ): void {
    net.handlers.getnameinfo.seq(actions, opts);
  },

  /**
   * A new mock listening socket named `label` (its trace lines start with it).
   * @example
   * ```ts
   * const socket = Mock.Net.listeningSocket("tcp/80", { listeningAddr: "tcp:127.0.0.1:80" });
   * ```
   */
  listeningSocket(label: string, opts?: MockListeningSocketOptions): MockListeningSocket {
    return new MockListeningSocket(label, opts);
  },

  /**
   * Scripts `accept`: each call performs the next action, giving `[connection, peerAddress]`.
   * @example
   * ```ts
   * Mock.Net.onAccept(socket, [{ return: [flow, "tcp:127.0.0.1:1234"] }, { run: Fiber.awaitCancel }]);
   * ```
   */
  onAccept(
    socket: MockListeningSocket,
    actions: readonly Action<AcceptResult>[],
    opts?: ScriptOptions<AcceptResult>,
  ): void {
    socket.handlers.accept.seq(actions, opts);
  },
};
