/**
 * Listening behind a load balancer: a listening socket whose connections start with a PROXY
 * header, read in the handler's fiber (as a TLS handshake is), before the handler runs.
 * @module
 */
import type { BlockingOptions } from "../../core/index.ts";
import type { Source } from "../../flow/types.ts";
import { ListeningSocketBase } from "../listening-socket-base.ts";
import type { StreamAddr } from "../sockaddr.ts";
import type { AcceptOptions, ListeningSocket, StreamSocket } from "../types.ts";
import { readProxyHeader } from "./parse.ts";
import type { ProxyHeader, ProxyProtocolMode } from "./types.ts";

/**
 * An accepted connection from a load balancer. Until {@link handshake} has read the PROXY
 * header, `peerAddr` is the balancer's; after it, `peerAddr` is the client's (or, for a `LOCAL`
 * header — a health check — or one without addresses, still the balancer's) and `proxiedBy`
 * the balancer's. Everything else is the connection's own.
 */
export class ProxiedSocket implements StreamSocket {
  readonly #inner: StreamSocket;
  readonly #mode: ProxyProtocolMode;
  #handshake: Promise<boolean> | undefined;
  #header: ProxyHeader | null = null;
  #peer: StreamAddr;
  /** Also present when the connection has it: hands a whole chunk over (no copy). */
  readonly readChunk?: (opts?: BlockingOptions) => Promise<Uint8Array>;
  /** Also present when the connection has it: the fast copy from another flow. */
  readonly copyFrom?: (src: Source, opts?: BlockingOptions) => Promise<void>;
  /**
   * Also present when the connection has it: a server's header phase (`headerTimeout`). It
   * reads the whole PROXY header first, then waits for `n` bytes of what follows, so the header
   * is read under the server's `headerTimeout`, before the connection takes a slot.
   */
  readonly awaitBuffered?: (n: number, opts?: BlockingOptions) => Promise<void>;

  /** Wraps `inner`, whose first bytes are a PROXY header of `mode`. */
  constructor(inner: StreamSocket, mode: ProxyProtocolMode) {
    this.#inner = inner;
    this.#mode = mode;
    this.#peer = inner.peerAddr;
    if (inner.readChunk !== undefined) this.readChunk = (o) => this.#inner.readChunk!(o);
    if (inner.copyFrom !== undefined) this.copyFrom = (s, o) => this.#inner.copyFrom!(s, o);
    if (inner.awaitBuffered !== undefined) {
      this.awaitBuffered = (n, o) =>
        this.handshake(o).then((go) => (go ? this.#inner.awaitBuffered!(n, o) : undefined));
    }
  }

  /**
   * Reads the PROXY header (once; later calls return the same promise). `acceptFork`,
   * `runServer` and `Tcp.Server` call it in the handler's fiber, before the handler, and close
   * the connection without one when it resolves `false`: a `LOCAL` header, the balancer's
   * health check (HAProxy's `check send-proxy-v2`).
   * @throws IoError `ProxyProtocol` (`Missing`, `Malformed`, `TooLong`) if the connection does
   *   not start with a valid header; what reading throws (Cancelled, a reset).
   */
  handshake(opts?: BlockingOptions): Promise<boolean> {
    this.#handshake ??= readProxyHeader(this.#inner, { mode: this.#mode, ...opts }).then((h) => {
      this.#header = h;
      if (h.command === "LOCAL") return false; // the balancer's health check: nothing to serve
      if (h.source !== null && h.source.type !== "udp") this.#peer = h.source;
      return true;
    });
    return this.#handshake;
  }

  /** The client's address once the header is read (see the class). */
  get peerAddr(): StreamAddr {
    return this.#peer;
  }

  /** The balancer's address: the other end of this TCP connection. */
  get proxiedBy(): StreamAddr {
    return this.#inner.peerAddr;
  }

  /** The header as read (with its TLVs: ALPN, authority, unique id), or `null` before. */
  get proxyHeader(): ProxyHeader | null {
    return this.#header;
  }

  get localAddr(): StreamAddr {
    return this.#inner.localAddr;
  }

  readInto(buf: Uint8Array, opts?: BlockingOptions): Promise<number> {
    return this.#inner.readInto(buf, opts);
  }

  write(bufs: readonly Uint8Array[], opts?: BlockingOptions): Promise<void> {
    return this.#inner.write(bufs, opts);
  }

  shutdown(cmd: "send" | "receive" | "all"): Promise<void> {
    return this.#inner.shutdown(cmd);
  }

  setNoDelay(enabled: boolean): void {
    this.#inner.setNoDelay(enabled);
  }

  /** See `StreamSocket.bytesRead`. */
  get bytesRead(): number | undefined {
    return this.#inner.bytesRead;
  }

  /** See `StreamSocket.bytesWritten`. */
  get bytesWritten(): number | undefined {
    return this.#inner.bytesWritten;
  }

  /** See `StreamSocket.idleTimedOut`. */
  get idleTimedOut(): boolean | undefined {
    return this.#inner.idleTimedOut;
  }

  setIdleTimeout(ms: number | null): void {
    this.#inner.setIdleTimeout(ms);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.#inner.close();
  }
}

/**
 * A listening socket behind a load balancer: each accepted connection is a
 * {@link ProxiedSocket}, whose header is read by its `handshake()` (in the handler's fiber
 * with `acceptFork`, `Net.runServer` and `Tcp.Server`; a caller of `accept()` calls it).
 */
export class ProxyListeningSocket extends ListeningSocketBase {
  readonly #inner: ListeningSocket;
  readonly #mode: ProxyProtocolMode;

  /** Wraps `inner`, every connection of which starts with a PROXY header of `mode`. */
  constructor(inner: ListeningSocket, mode: ProxyProtocolMode) {
    super();
    this.#inner = inner;
    this.#mode = mode;
  }

  async accept(opts: AcceptOptions): Promise<[StreamSocket, StreamAddr]> {
    const [sock, addr] = await this.#inner.accept(opts);
    return [new ProxiedSocket(sock, this.#mode), addr];
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  get listeningAddr(): StreamAddr {
    return this.#inner.listeningAddr;
  }
}
