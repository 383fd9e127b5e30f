/**
 * `Tls`: TLS over any two-way flow (an open `StreamSocket` for STARTTLS, a mock flow, an
 * in-memory pair), with `node:tls` underneath.
 * @module
 */
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from "node:tls";
import { NodeStreamSocket } from "../backend-node/stream-socket.ts";
import { TlsAcceptor } from "../backend-node/tls-accept.ts";
import { NodeTlsSocket } from "../backend-node/tls-socket.ts";
import { type BlockingOptions, currentFiber, type Switch } from "../core/index.ts";
import type { TwoWay } from "../flow/types.ts";
import { Sockaddr, type StreamAddr } from "../net/sockaddr.ts";
import type { StreamSocket, TlsConnectOptions, TlsListenOptions, TlsSocket } from "../net/types.ts";
import { truncatedError } from "./errors.ts";
import { FlowDuplex } from "./flow-duplex.ts";
import { clientTls } from "./options.ts";

/** What `Tls.client` and `Tls.server` take besides the TLS settings. */
export interface TlsUpgradeOptions extends BlockingOptions {
  /** Attach the TLS socket to this switch (closed when it finishes). */
  readonly sw?: Switch | undefined;
}

/** Options of {@link Tls.client}. */
export type TlsClientOptions = TlsConnectOptions & TlsUpgradeOptions;

/** Options of {@link Tls.server}. */
export type TlsServerOptions = TlsListenOptions & TlsUpgradeOptions;

const unnamed = Sockaddr.unix("");

function addrsOf(flow: TwoWay): { peer: StreamAddr; local: StreamAddr } {
  const s = flow as Partial<StreamSocket>;
  const peer = s.peerAddr;
  const local = s.localAddr;
  return { peer: peer ?? unnamed, local: local ?? unnamed };
}

function checkFlow(flow: unknown): asserts flow is TwoWay {
  const f = flow as Partial<TwoWay> | null;
  if (
    typeof f !== "object" ||
    f === null ||
    typeof f.readInto !== "function" ||
    typeof f.write !== "function" ||
    typeof f.shutdown !== "function" ||
    typeof f.close !== "function"
  ) {
    throw new TypeError(
      `flow must be a two-way flow (readInto, write, shutdown, close), got ${flow === null ? "null" : typeof flow}`,
    );
  }
}

/**
 * Wraps the duplex in TLS and watches its end: the peer's end of file without a close_notify
 * before it fails the reads (`ConnectionReset`, "TLS stream truncated") instead of looking
 * like a clean end.
 */
function watchEnd(duplex: FlowDuplex, wrap: () => NodeTlsSocket): NodeTlsSocket {
  let tls: TLSSocket | null = null;
  let secure = false;
  // Registered before node:tls's own 'end' listener: runs once every byte before the end of
  // file went through the TLS engine, which has then seen any close_notify (synchronously).
  duplex.once("end", () => {
    const state = (tls as unknown as { _readableState?: { ended?: boolean } } | null)
      ?._readableState;
    if (tls !== null && secure && state?.ended !== true) tls.destroy(truncatedError());
  });
  const sock = wrap();
  tls = NodeTlsSocket.tls(sock);
  sock.handshake().then(
    () => {
      secure = true;
    },
    () => {},
  );
  return sock;
}

async function finish(sock: NodeTlsSocket, opts: TlsUpgradeOptions): Promise<TlsSocket> {
  if (opts.sw !== undefined) NodeStreamSocket.attach(sock, opts.sw);
  try {
    await sock.handshake(opts);
  } catch (e) {
    await sock.close();
    throw e;
  }
  return sock;
}

/**
 * Runs the client side of a TLS handshake over `flow` and returns the TLS socket over it
 * (which owns `flow` from then on: closing it closes `flow`). The server name to check
 * defaults to the flow's peer IP address, if it has one.
 * @throws TypeError/RangeError for bad arguments; IoError `Tls` (`Handshake`,
 *   `Certificate`) with context `TLS handshake with ADDR`; Cancelled.
 * @example
 * ```ts
 * await conn.write([enc.encode("STARTTLS\r\n")]);
 * const tls = await Tls.client(conn, { serverName: "mail.example.com", sw });
 * ```
 */
async function client(flow: TwoWay, opts: TlsClientOptions): Promise<TlsSocket> {
  checkFlow(flow);
  const { peer, local } = addrsOf(flow);
  const cfg = clientTls(opts, peer.type === "tcp" ? peer.host.toString() : undefined);
  opts.sw?.check();
  const duplex = new FlowDuplex(flow, currentFiber());
  const sock = watchEnd(duplex, () => {
    // allowHalfOpen is passed on to the TLSSocket, though @types/node does not list it
    const nodeOpts = { ...cfg.options, socket: duplex, allowHalfOpen: true } as ConnectionOptions;
    return new NodeTlsSocket(tlsConnect(nodeOpts), {
      kind: peer.type === "tcp" ? "tcp" : "unix",
      peerAddr: peer,
      localAddr: local,
      secureEvent: "secureConnect",
      handshakeTimeout: cfg.handshakeTimeout,
      serverName: cfg.options.servername,
    });
  });
  return finish(sock, opts);
}

/**
 * Runs the server side of a TLS handshake over `flow` (in the calling fiber) and returns the
 * TLS socket over it, which owns `flow` from then on.
 * @throws TypeError/RangeError for bad arguments; IoError `Tls` (`Handshake`,
 *   `Certificate`) with context `TLS handshake with ADDR`; Cancelled.
 * @example
 * ```ts
 * const tls = await Tls.server(conn, { cert, key, sw });
 * ```
 */
async function server(flow: TwoWay, opts: TlsServerOptions): Promise<TlsSocket> {
  checkFlow(flow);
  const { sw, signal, ...settings } = opts;
  const acceptor = new TlsAcceptor(settings);
  sw?.check();
  const { peer, local } = addrsOf(flow);
  const duplex = new FlowDuplex(flow, currentFiber());
  const sock = watchEnd(duplex, () =>
    acceptor.wrap(duplex, {
      kind: peer.type === "tcp" ? "tcp" : "unix",
      peerAddr: peer,
      localAddr: local,
    }),
  );
  return finish(sock, opts);
}

/** Whether `s` is a {@link TlsSocket} (what `net.connect` returns when given `tls`). */
function isTlsSocket(s: unknown): s is TlsSocket {
  return s instanceof NodeTlsSocket;
}

/**
 * TLS over any flow (STARTTLS, the mock's flows): `Tls.client(flow, opts)`,
 * `Tls.server(flow, opts)`; `Tls.isTlsSocket(s)`.
 */
export const Tls = { client, server, isTlsSocket };
