/**
 * The `Net` contract (Eio's `Net.Pi`): what a network backend provides. The Node backend
 * (`backend-node/`) and the mock (`mock/`) implement it; everything generic (`withTcpConnect`,
 * `acceptFork`, `runServer`, the getaddrinfo filters) is written once against it.
 * @module
 */
import type { X509Certificate } from "node:crypto";
import type { BlockingOptions, Switch } from "../core/index.ts";
import type { Closable, TwoWay } from "../flow/types.ts";
import type { DatagramAddr, Sockaddr, SockaddrLike, StreamAddr } from "./sockaddr.ts";

/** A connected stream socket (TCP or Unix): a two-way flow with its addresses. */
export interface StreamSocket extends TwoWay {
  /** The local address (for a Unix client socket, usually `unix:` with an empty path). */
  readonly localAddr: StreamAddr;
  /** The peer's address. */
  readonly peerAddr: StreamAddr;
  /** Turns Nagle's algorithm off (`true`, the default, as Async does) or on. No-op for Unix sockets. */
  setNoDelay(enabled: boolean): void;
  /**
   * Closes the socket once no byte has moved either way for `ms` (`null`: never, the
   * default); a blocked read or write then rejects with `IoError` `Timeout` (`during:
   * "idle"`). Checked by a coarse sweep on the env's clock, never a timer per read.
   * @throws TypeError/RangeError for `ms` other than `null` or a number of ms > 0.
   */
  setIdleTimeout(ms: number | null): void;
  /**
   * Optional: waits until `n` bytes have arrived unread (kept for the next reads), or end of
   * file. What a server's `headerTimeout` waits on without reading for the handler; a socket
   * without it is served with no header phase.
   */
  awaitBuffered?(n: number, opts?: BlockingOptions): Promise<void>;
  /**
   * Present on sockets that must set up a session before use (an accepted TLS socket): runs
   * the handshake once (later calls return the same promise). `acceptFork`, `runServer` and
   * `Tcp.Server` call it in the handler's fiber before the handler, and a failure goes to
   * `onError`, never to the handler.
   * Resolves `false` when the connection needs no handler at all (a load balancer's health
   * check, a PROXY `LOCAL` header): it is then closed without one.
   * @throws IoError `Tls` (`Handshake`, `Certificate`) with context `TLS handshake with ADDR`;
   *   IoError `ProxyProtocol` for a bad PROXY header.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a TLS handshake resolves with nothing
  handshake?(opts?: BlockingOptions): Promise<void | boolean>;
  /**
   * Present on connections accepted behind a load balancer (`listen`'s `proxyProtocol`): the
   * balancer's address, the other end of the TCP connection (`peerAddr` is the client's once
   * the PROXY header is read).
   */
  readonly proxiedBy?: StreamAddr | undefined;
  /**
   * Optional: the bytes received on the connection so far (what the server's metrics count:
   * `weir:connection:close`, `serverStats`). Kept after `close`.
   */
  readonly bytesRead?: number;
  /** Optional: the bytes sent (written) on it so far. Kept after `close`. */
  readonly bytesWritten?: number;
  /** Optional: whether its idle timeout (`setIdleTimeout`) closed it. */
  readonly idleTimedOut?: boolean;
}

/** PEM text or its bytes: a certificate, a certificate chain, or a private key. */
export type Pem = string | Uint8Array;

/** The `tls` option of {@link Net.connect} (and of `Tls.client`). */
export interface TlsConnectOptions {
  /**
   * The name sent as SNI and checked against the server's certificate. Default: the host name
   * connected to, or else the IP address (checked against the certificate's IP entries).
   */
  readonly serverName?: string | undefined;
  /** The certificate authorities to trust instead of Node's built-in list. */
  readonly ca?: Pem | readonly Pem[] | undefined;
  /** A client certificate (chain) to present, with its `key`. */
  readonly cert?: Pem | undefined;
  /** The private key of `cert`. */
  readonly key?: Pem | undefined;
  /** ALPN protocols to offer, most preferred first (`["h2", "http/1.1"]`). */
  readonly alpn?: readonly string[] | undefined;
  /** Refuse a certificate that cannot be verified (default `true`; `false` only for tests). */
  readonly rejectUnauthorized?: boolean | undefined;
  /** How long the handshake may take, in ms (default 10 000). */
  readonly handshakeTimeout?: number | undefined;
  /**
   * Make a stream that ends without close_notify (cut short by someone in between) fail the
   * reads with `IoError` `ConnectionReset` instead of ending quietly. TLS then runs over a thin
   * JavaScript stream over the socket, the only place where Node tells the two ends apart.
   * Default `true` (on Bun `false`: its TLS over a JavaScript stream has no half-close).
   * `false` runs TLS natively over the socket's handle: less CPU per byte, but a cut stream
   * reads as an end of file. `Tls.client`/`Tls.server` always check.
   */
  readonly strictClose?: boolean | undefined;
}

/** A certificate (chain) and its private key. */
export interface TlsCertificate {
  readonly cert: Pem;
  readonly key: Pem;
}

/** What a TLS server presents and asks for: see {@link TlsListenOptions}. */
export interface TlsServerContext extends TlsCertificate {
  /** With `requestCert`: the authorities a client certificate must chain to. */
  readonly ca?: Pem | readonly Pem[] | undefined;
  /** Ask each client for a certificate, and refuse clients without a valid one. */
  readonly requestCert?: boolean | undefined;
  /** ALPN protocols the server speaks, most preferred first. */
  readonly alpn?: readonly string[] | undefined;
  /** A certificate per server name (SNI), e.g. `{ "api.example.com": { cert, key } }`. */
  readonly sni?: Readonly<Record<string, TlsCertificate>> | undefined;
}

/** The `tls` option of {@link Net.listen} (and of `Tls.server`). */
export interface TlsListenOptions extends TlsServerContext {
  /** How long an accepted connection's handshake may take, in ms (default 10 000). */
  readonly handshakeTimeout?: number | undefined;
  /** As {@link TlsConnectOptions.strictClose}, for the accepted connections. */
  readonly strictClose?: boolean | undefined;
}

/** A stream socket that runs TLS: what `net.connect(addr, { sw, tls })` and `Tls.*` return. */
export interface TlsSocket extends StreamSocket {
  /** The protocol ALPN settled on, or `null` if none was negotiated. */
  readonly alpnProtocol: string | null;
  /** The TLS version in use (`"TLSv1.3"`), or `null` before the handshake. */
  readonly tlsVersion: string | null;
  /** The server name (SNI) the client sent, or `null`. */
  readonly serverName: string | null;
  /** Whether the peer's certificate was verified (a client's: only with `requestCert`). */
  readonly authorized: boolean;
  /** The peer's certificate, or `null` if it sent none. */
  peerCertificate(): X509Certificate | null;
  handshake(opts?: BlockingOptions): Promise<void>;
}

/** How a connection handler is called: the connection and the peer's address. */
export type ConnectionHandler = (flow: StreamSocket, addr: StreamAddr) => void | Promise<void>;

/** Options of {@link ListeningSocket.accept}. */
export interface AcceptOptions extends BlockingOptions {
  /** The switch the new connection is attached to (closed when it finishes). */
  readonly sw: Switch;
  /** Set the new connection's idle timeout (see `StreamSocket.setIdleTimeout`). Default: none. */
  readonly idleTimeout?: number | undefined;
}

/** Options of {@link ListeningSocket.acceptFork}. */
export interface AcceptForkOptions extends AcceptOptions {
  /**
   * Called with the handler's error (an `IoError` gets `handling connection from ADDR` context).
   * Never called for `Cancelled`. Rethrow to fail `sw`.
   */
  readonly onError: (err: unknown) => void;
}

/** A listening socket. */
export interface ListeningSocket extends Closable {
  /**
   * Waits for one connection and returns it with the peer's address; the connection is
   * attached to `sw`.
   * @throws Cancelled if the calling fiber is cancelled first; IoError on failure.
   */
  accept(opts: AcceptOptions): Promise<[StreamSocket, StreamAddr]>;
  /**
   * Accepts one connection and runs `handler(flow, addr)` in a new fiber on `sw`; the flow is
   * closed when the handler returns or fails (or at once if the fiber cannot start).
   */
  acceptFork(opts: AcceptForkOptions, handler: ConnectionHandler): Promise<void>;
  /** The address the socket listens on (with the port the OS chose, for port 0). */
  readonly listeningAddr: StreamAddr;
  /**
   * Present on TLS listening sockets: replaces the certificates (and the other settings) for
   * the handshakes that start from now on, without closing the socket (a renewal).
   * @throws TypeError/RangeError for bad options; IoError `Tls` `Certificate` for a bad PEM.
   */
  setTlsContext?(ctx: TlsServerContext): void;
}

/** A datagram socket (UDP or Unix datagram). */
export interface DatagramSocket extends Closable {
  /**
   * Sends one datagram made of all of `bufs` (an empty datagram is allowed).
   * @throws IoError on failure; TypeError if the socket is not connected and `dst` is missing.
   */
  send(bufs: readonly Uint8Array[], opts?: SendOptions): Promise<void>;
  /**
   * Receives one datagram into `buf`: returns the sender and the byte count (0 for an empty
   * datagram). Bytes beyond `buf`'s length are discarded, and the result says so with
   * `truncated: true`.
   */
  recv(buf: Uint8Array, opts?: BlockingOptions): Promise<RecvResult>;
  /** The local address. */
  readonly localAddr: DatagramAddr;
}

/**
 * What {@link DatagramSocket.recv} gives: `[sender, byteCount]`, and `truncated`: whether the
 * datagram was longer than the buffer, so that its end was cut off (`byteCount` is then the
 * buffer's length).
 */
export type RecvResult = [DatagramAddr, number] & { readonly truncated: boolean };

/** Options of {@link DatagramSocket.send}. */
export interface SendOptions extends BlockingOptions {
  /** Where to send the datagram, if the socket is not connected. */
  readonly dst?: SockaddrLike | undefined;
}

/**
 * TCP keep-alive probes (SO_KEEPALIVE): after `idle` ms without traffic the kernel sends a
 * probe every `interval` ms (default: the system's, Linux 75 s), and drops the connection
 * after `count` unanswered ones (default: the system's, Linux 9). `false` turns it off. Unix
 * sockets ignore it.
 */
export type KeepAlive =
  | { readonly idle: number; readonly interval?: number | undefined; readonly count?: number }
  | false;

/** Options of {@link Net.connect}. */
export interface ConnectOptions extends BlockingOptions {
  /** The switch the connection is attached to. */
  readonly sw: Switch;
  /** TCP keep-alive for this connection. Default: off (the system's default). */
  readonly keepAlive?: KeepAlive | undefined;
  /** Set the connection's idle timeout (see `StreamSocket.setIdleTimeout`). Default: none. */
  readonly idleTimeout?: number | undefined;
  /** Bind the local end to this address before connecting (Async's `via_local_interface`). */
  readonly bindTo?: SockaddrLike | undefined;
  /** Run TLS over the connection: `connect` then returns a {@link TlsSocket}, handshake done. */
  readonly tls?: TlsConnectOptions | undefined;
}

/** Options of {@link Net.listen}. */
export interface ListenOptions {
  /** The switch the listening socket is attached to. */
  readonly sw: Switch;
  /**
   * How many connections may wait in the kernel to be accepted (listen(2)): an integer in
   * 0..65535. Default 1024.
   */
  readonly backlog?: number | undefined;
  /**
   * How many connections the backend may hold, accepted and unread, until `accept()` takes
   * them (Node's libuv accepts at once, whatever the backlog): bounded apart from the kernel's
   * backlog, so that clients waiting for a full server wait rather than being reset. Past it a
   * new connection is closed at once. An integer >= 1; default 4096.
   */
  readonly acceptQueue?: number | undefined;
  /**
   * SO_REUSEADDR; for a Unix path, also remove a stale socket file first (one a connect to is
   * refused; a live server's socket gives `AddressInUse`).
   */
  readonly reuseAddr?: boolean | undefined;
  /** SO_REUSEPORT: several sockets (threads, processes) may listen on the same port. */
  readonly reusePort?: boolean | undefined;
  /** TCP keep-alive for every accepted connection. Default: off. */
  readonly keepAlive?: KeepAlive | undefined;
  /**
   * A Unix socket file's permission bits (such as `0o660`), set before it listens. Default:
   * what the umask leaves. Not for TCP or abstract names.
   */
  readonly mode?: number | undefined;
  /** Serve TLS: accepted sockets are {@link TlsSocket}s whose handshake runs in the handler's fiber. */
  readonly tls?: TlsListenOptions | undefined;
  /**
   * Listen behind a load balancer: every connection starts with a PROXY protocol header
   * (`"v1"` text, `"v2"` binary, `"any"` either), read in the handler's fiber before the
   * handler; `peerAddr` is then the client's and `proxiedBy` the balancer's. A missing or
   * malformed header closes the connection with `IoError { kind: "ProxyProtocol" }` to
   * `onError`, never to the handler.
   */
  readonly proxyProtocol?: "v1" | "v2" | "any" | undefined;
}

/** Options of {@link Net.datagramSocket}. */
export interface DatagramOptions {
  /** The switch the socket is attached to. */
  readonly sw: Switch;
  /** SO_REUSEADDR. */
  readonly reuseAddr?: boolean | undefined;
  /** SO_REUSEPORT. */
  readonly reusePort?: boolean | undefined;
  /**
   * How many sends may be in flight at once (handed over, not yet done); further sends wait
   * for their turn, so that unawaited sends stay bounded. Default 64.
   */
  readonly sendQueueLimit?: number | undefined;
}

/** Options of the getaddrinfo functions. */
export interface GetaddrinfoOptions extends BlockingOptions {
  /** A service name from /etc/services ("http") or a port number ("8080"). */
  readonly service?: string | undefined;
}

/** The network capability (Eio's `Net.t`). Get one from `run`'s `env.net`, or `Mock.Net.make`. */
export interface Net {
  /**
   * Connects to `addr`; the socket is attached to `sw`. With `tls`, runs the TLS handshake too
   * and returns a {@link TlsSocket} (`Tls.isTlsSocket` tells; the backends' own classes
   * declare the narrower type).
   * @throws IoError (`ConnectionFailure Refused`, `NotFound` for a missing Unix path, `Tls`, ...)
   *   with context `connecting to ADDR`; TypeError for a bad or non-stream address.
   */
  connect(addr: SockaddrLike, opts: ConnectOptions): Promise<StreamSocket>;
  /**
   * Listens on `addr` (port 0: the OS picks one); the socket is attached to `sw`.
   * A Unix socket path is removed when the socket is closed.
   * @throws IoError (`AddressInUse`, `NotFound`, `PermissionDenied`) with context
   *   `listening on ADDR`; TypeError/RangeError for bad arguments.
   */
  listen(addr: SockaddrLike, opts: ListenOptions): Promise<ListeningSocket>;
  /**
   * Makes a datagram socket bound to `addr`, or an unbound client socket for `"udpv4"` /
   * `"udpv6"`. The socket is attached to `sw`.
   * @throws IoError with context; TypeError for a bad address.
   */
  datagramSocket(
    addr: SockaddrLike | "udpv4" | "udpv6",
    opts: DatagramOptions,
  ): Promise<DatagramSocket>;
  /**
   * Resolves `host` (a name or an IP address) to socket addresses, TCP and UDP, in the
   * resolver's order.
   * @throws IoError with context `looking up "host"` if the lookup fails.
   */
  getaddrinfo(host: string, opts?: GetaddrinfoOptions): Promise<Sockaddr[]>;
  /** Like {@link getaddrinfo}, keeping only stream (TCP) addresses. */
  getaddrinfoStream(host: string, opts?: GetaddrinfoOptions): Promise<StreamAddr[]>;
  /** Like {@link getaddrinfo}, keeping only datagram (UDP) addresses. */
  getaddrinfoDatagram(host: string, opts?: GetaddrinfoOptions): Promise<DatagramAddr[]>;
  /**
   * The host name and service name of `addr` (reverse lookup).
   * @throws IoError if the lookup fails.
   */
  getnameinfo(addr: SockaddrLike, opts?: BlockingOptions): Promise<[string, string]>;
}

/**
 * Runs work in other domains (Eio's `Domain_manager`): worker threads on the real backend,
 * fake domains (fibers with a `[id] ` trace prefix) in the mock.
 */
export interface DomainManager {
  /**
   * Whether jobs may be closures sharing this thread's memory. True for the mock's fake
   * domains; false for worker threads, which can only run code from a module.
   */
  readonly sharesMemory: boolean;
  /**
   * Runs `fn` in a new domain and returns its result.
   * @throws TypeError if the manager cannot run closures (`sharesMemory` is false).
   */
  run<T>(fn: () => T | Promise<T>): Promise<T>;
  /**
   * For managers that do not share memory: runs `listener`'s server in this thread and `n`
   * more threads, each importing the handler from `opts.handlerModule` (what
   * `Net.runServer`'s `additionalDomains` calls).
   */
  runServer?<T>(
    listener: ListeningSocket,
    handler: ConnectionHandler,
    n: number,
    opts: DomainServerOptions<T>,
  ): Promise<T>;
}

/** What `Net.runServer` passes to {@link DomainManager.runServer}. */
export interface DomainServerOptions<T> {
  readonly onError: (err: unknown) => void;
  readonly maxConnections?: number | undefined;
  readonly stop?: PromiseLike<T> | undefined;
  /** The module the other threads import the handler from. */
  readonly handlerModule: URL | string;
  /** The handler's export name; default `"default"`. */
  readonly handlerExport?: string | undefined;
}
