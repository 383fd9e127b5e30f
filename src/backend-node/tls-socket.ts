/**
 * `NodeTlsSocket`: a {@link NodeStreamSocket} over a `tls.TLSSocket` — the same pull-based
 * reads, writes and pipe fast path, plus the handshake, ALPN, the TLS version and the peer's
 * certificate.
 * @module
 */
import type { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { type BlockingOptions, type Clock, suspend } from "../core/index.ts";
import { runtimeHas, UnsupportedOnRuntime } from "../core/runtime.ts";
import type { StreamAddr } from "../net/sockaddr.ts";
import type { TlsSocket } from "../net/types.ts";
import { handshakeError, handshakeTimeoutError } from "../tls/errors.ts";
import { NodeStreamSocket, type StreamSocketInit } from "./stream-socket.ts";

/** How long `close()` waits for a close_notify that `end()` sends late (`tls-end` in runtime.ts). */
const END_WAIT_MS = 1000;

/** Resolves once `tls` has finished its writable side (or closed, failed, or a second passed). */
function endThen(tls: TLSSocket): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      tls.off("finish", done);
      tls.off("close", done);
      tls.off("error", done);
      resolve();
    };
    const timer = setTimeout(done, END_WAIT_MS);
    tls.once("finish", done);
    tls.once("close", done);
    tls.once("error", done);
  });
}

/** How a {@link NodeTlsSocket} was made. */
export interface TlsSocketInit extends StreamSocketInit {
  /** The event that says the handshake is done: `"secureConnect"` (client) or `"secure"` (server). */
  readonly secureEvent: "secure" | "secureConnect";
  /** Fail the handshake if it has not finished within this many ms. */
  readonly handshakeTimeout: number;
  /** The server name the client sent (client side), if any. */
  readonly serverName?: string | undefined;
  /** Server side: whether a verified client certificate was required. */
  readonly requireClientCert?: boolean | undefined;
  /**
   * The clock for the time limit (the mock's, over a mock flow, so the limit passes in mock
   * time); default: a real timer.
   */
  readonly clock?: Clock | undefined;
}

/** One handshake in progress: settles once, then is only a result. */
class Handshake {
  readonly #tls: TLSSocket;
  readonly #event: "secure" | "secureConnect";
  readonly #peer: StreamAddr | undefined;
  #timer: NodeJS.Timeout | AbortController | undefined;
  /** `null` while running, `true` when done, otherwise the error. */
  result: unknown = null;
  readonly #waiters = new Set<() => void>();

  constructor(tls: TLSSocket, init: TlsSocketInit) {
    this.#tls = tls;
    this.#event = init.secureEvent;
    this.#peer = init.peerAddr;
    tls.once(this.#event, this.#onSecure);
    tls.once("error", this.#onError);
    tls.once("close", this.#onClose);
    // With allowHalfOpen, a peer that leaves mid-handshake (a client refusing this
    // certificate closes without a word) ends the stream without closing the socket
    tls.once("end", this.#onClose);
    const ms = init.handshakeTimeout;
    const expire = (): void => {
      this.#timer = undefined;
      tls.destroy(handshakeTimeoutError(ms));
    };
    if (init.clock === undefined) this.#timer = setTimeout(expire, ms);
    else {
      const stop = new AbortController();
      this.#timer = stop;
      init.clock.sleep(ms, { signal: stop.signal }).then(expire, () => {});
    }
  }

  readonly #onSecure = (): void => this.#settle(true);
  readonly #onError = (e: Error): void => this.#settle(handshakeError(e, this.#peer));
  readonly #onClose = (): void =>
    this.#settle(
      handshakeError(new Error("the connection closed during the handshake"), this.#peer),
    );

  #settle(r: unknown): void {
    if (this.result !== null) return;
    this.result = r;
    const timer = this.#timer;
    this.#timer = undefined;
    if (timer instanceof AbortController) timer.abort();
    else if (timer !== undefined) clearTimeout(timer);
    this.#tls.off(this.#event, this.#onSecure);
    this.#tls.off("error", this.#onError);
    this.#tls.off("close", this.#onClose);
    this.#tls.off("end", this.#onClose);
    const ws = [...this.#waiters];
    this.#waiters.clear();
    for (const w of ws) w();
  }

  wait(signal: AbortSignal | undefined): Promise<void> {
    if (this.result === true) return Promise.resolve();
    if (this.result !== null) return Promise.reject(this.result);
    return suspend<void>((resolve, reject) => {
      const w = (): void => (this.result === true ? resolve() : reject(this.result));
      this.#waiters.add(w);
      return () => {
        this.#waiters.delete(w);
      };
    }, signal);
  }
}

/**
 * A TLS socket of the Node backend: `net.connect(addr, { sw, tls })` returns one with its
 * handshake done; a TLS listener's `accept` returns one whose handshake runs until
 * {@link handshake} (which `acceptFork` and the servers call in the handler's fiber) sees it
 * finish. `shutdown("send")` sends close_notify, then FIN; `close()` sends close_notify (when
 * the handshake is done and it was not sent yet) and closes.
 * @example
 * ```ts
 * const sock = await env.net.connect("tcp:127.0.0.1:8443", { sw, tls: { ca, serverName: "localhost" } });
 * sock.tlsVersion; // "TLSv1.3"
 * ```
 */
export class NodeTlsSocket extends NodeStreamSocket implements TlsSocket {
  readonly #tls: TLSSocket;
  readonly #handshake: Handshake;
  readonly #serverName: string | null;
  readonly #requireClientCert: boolean;
  #ended = false;
  /** TLS runs over a JavaScript stream (`strictClose`, `Tls.client`/`Tls.server`). */
  #overStream = false;

  /** Wraps `tls` (made with `allowHalfOpen: true`); the handshake clock starts now. */
  constructor(tls: TLSSocket, init: TlsSocketInit) {
    super(tls, init);
    this.#tls = tls;
    this.#handshake = new Handshake(tls, init);
    this.#serverName = init.serverName ?? null;
    this.#requireClientCert = init.requireClientCert === true;
  }

  /** The underlying `tls.TLSSocket` (for tests; do not read from it). */
  static tls(sock: NodeTlsSocket): TLSSocket {
    return sock.#tls;
  }

  /**
   * Marks `sock` as running over a JavaScript stream (see `tls/over-flow.ts`). Where such a
   * socket closes when the peer's close_notify comes (Bun), writes after the peer's end throw
   * UnsupportedOnRuntime instead of failing with whatever the runtime reports.
   */
  static overStream(sock: NodeTlsSocket): void {
    sock.#overStream = true;
    if (!runtimeHas("tls-stream-half-close")) {
      sock.#tls.once("end", () =>
        NodeStreamSocket.refuseWrites(
          sock,
          new UnsupportedOnRuntime(
            "writing on a TLS socket over a JavaScript stream after the peer's close_notify",
            "tls-stream-half-close",
          ),
        ),
      );
    }
  }

  /**
   * Waits for the handshake to finish (at once if it has).
   * @throws IoError `Tls` (`Handshake`, `Certificate`) with context `TLS handshake with ADDR`;
   *   Cancelled (the handshake goes on; close the socket to stop it).
   */
  handshake(opts?: BlockingOptions): Promise<void> {
    return this.#handshake.wait(opts?.signal);
  }

  get alpnProtocol(): string | null {
    const p = this.#tls.alpnProtocol;
    return typeof p === "string" ? p : null;
  }

  get tlsVersion(): string | null {
    return this.#tls.getProtocol() ?? null;
  }

  get serverName(): string | null {
    if (this.#serverName !== null) return this.#serverName;
    const n = (this.#tls as TLSSocket & { servername?: unknown }).servername;
    return typeof n === "string" ? n : null;
  }

  get authorized(): boolean {
    if (this.#handshake.result !== true) return false;
    // A server that requires a certificate completes a handshake only with a verified one
    if (this.#requireClientCert) return this.peerCertificate() !== null;
    return this.#tls.authorized;
  }

  peerCertificate(): X509Certificate | null {
    return this.#tls.getPeerX509Certificate() ?? null;
  }

  override async shutdown(cmd: "send" | "receive" | "all"): Promise<void> {
    if (cmd !== "receive") this.#ended = true;
    await super.shutdown(cmd);
  }

  override close(): Promise<void> {
    // close_notify, so that the peer can tell this end from a cut connection
    if (!this.#ended && this.#handshake.result === true && this.#tls.writable) {
      this.#ended = true;
      const tls = this.#tls;
      tls.end();
      // Where end() sends it a turn later, it goes out first (when nothing else waits to)
      const late = !runtimeHas(this.#overStream ? "tls-stream-end" : "tls-end");
      if (late && tls.writableLength === 0) return endThen(tls).then(() => super.close());
    }
    return super.close();
  }
}
