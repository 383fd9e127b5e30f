/**
 * `TlsAcceptor`: what a TLS listening socket of the Node backend does with each connection it
 * accepts — wrap it in `node:tls` (natively, over the socket's handle) with the current
 * settings, which {@link TlsAcceptor.setContext} can replace at any time.
 * @module
 */
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type SecureContext, TLSSocket, type TLSSocketOptions } from "node:tls";
import type { TlsListenOptions, TlsServerContext } from "../net/types.ts";
import { listenTls, type ServerTls, serverTls } from "../tls/options.ts";
import { watchEnd } from "../tls/over-flow.ts";
import { SocketDuplex } from "./socket-duplex.ts";
import type { StreamSocketInit } from "./stream-socket.ts";
import { NodeTlsSocket, type TlsSocketInit } from "./tls-socket.ts";

/** The TLS side of a listening socket: its settings, and the wrapping of accepted sockets. */
export class TlsAcceptor {
  #cfg: ServerTls;
  readonly #handshakeTimeout: number;
  readonly #strictClose: boolean;
  /** Node's options for the current settings (made once per settings, not per connection). */
  #options: TLSSocketOptions;

  /**
   * Checks and loads `opts`.
   * @throws TypeError/RangeError for bad options; IoError `Tls` `Certificate` for a bad PEM.
   */
  constructor(opts: TlsListenOptions) {
    const cfg = listenTls(opts);
    this.#cfg = cfg;
    this.#handshakeTimeout = cfg.handshakeTimeout;
    this.#strictClose = cfg.strictClose;
    this.#options = this.#nodeOptions(cfg);
  }

  #nodeOptions(cfg: ServerTls): TLSSocketOptions {
    const o: TLSSocketOptions = {
      isServer: true,
      secureContext: cfg.context,
      requestCert: cfg.requestCert,
      rejectUnauthorized: cfg.requestCert,
    };
    // allowHalfOpen is passed on to the TLSSocket, though @types/node does not list it
    (o as { allowHalfOpen?: boolean }).allowHalfOpen = true;
    if (cfg.alpn !== undefined) o.ALPNProtocols = cfg.alpn;
    if (cfg.sni !== undefined) o.SNICallback = this.#sni;
    return o;
  }

  readonly #sni = (name: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    // The settings of the moment: a swap applies to handshakes that start after it
    const cfg = this.#cfg;
    cb(null, cfg.sni?.get(name.toLowerCase()) ?? cfg.context);
  };

  /**
   * Replaces the settings for the connections accepted from now on (those already accepted
   * keep theirs). The handshake time limit stays.
   * @throws as the constructor, leaving the current settings in place.
   */
  setContext(ctx: TlsServerContext): void {
    const cfg = serverTls(ctx);
    this.#options = this.#nodeOptions(cfg);
    this.#cfg = cfg;
  }

  /**
   * Wraps an accepted connection; its handshake starts now, under the time limit. With
   * `strictClose`, TLS runs over a thin JavaScript stream over the socket, which can tell a
   * close_notify from a cut connection; otherwise natively over the socket's handle.
   */
  wrap(raw: Socket, init: StreamSocketInit): NodeTlsSocket {
    if (!this.#strictClose) return this.wrapNative(raw, init);
    const duplex = new SocketDuplex(raw);
    return watchEnd(duplex, () => this.wrapNative(duplex, init));
  }

  /** Wraps `raw` (a socket with a handle, or a stream over a weir flow) in `node:tls`. */
  wrapNative(
    raw: Socket | Duplex,
    init: StreamSocketInit,
    clock?: TlsSocketInit["clock"],
  ): NodeTlsSocket {
    return new NodeTlsSocket(new TLSSocket(raw, this.#options), {
      ...init,
      secureEvent: "secure",
      handshakeTimeout: this.#handshakeTimeout,
      requireClientCert: this.#cfg.requestCert,
      clock,
    });
  }
}
