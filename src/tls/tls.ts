/**
 * `Tls`: TLS over any two-way flow (an open `StreamSocket` for STARTTLS, a mock flow, an
 * in-memory pair), with `node:tls` underneath.
 * @module
 */
import { NodeStreamSocket } from "../backend-node/stream-socket.ts";
import { TlsAcceptor } from "../backend-node/tls-accept.ts";
import { NodeTlsSocket } from "../backend-node/tls-socket.ts";
import type { BlockingOptions, Switch } from "../core/index.ts";
import type { TwoWay } from "../flow/types.ts";
import { currentEnvOpt } from "../net/env.ts";
import type { TlsConnectOptions, TlsListenOptions, TlsSocket } from "../net/types.ts";
import { clientTls } from "./options.ts";
import { addrsOf, clientOverFlow, serverOverFlow } from "./over-flow.ts";

/** What `Tls.client` and `Tls.server` take besides the TLS settings. */
export interface TlsUpgradeOptions extends BlockingOptions {
  /** Attach the TLS socket to this switch (closed when it finishes). */
  readonly sw?: Switch | undefined;
}

/** Options of {@link Tls.client}. */
export type TlsClientOptions = TlsConnectOptions & TlsUpgradeOptions;

/** Options of {@link Tls.server}. */
export type TlsServerOptions = TlsListenOptions & TlsUpgradeOptions;

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
  const { peer } = addrsOf(flow);
  const cfg = clientTls(opts, peer.type === "tcp" ? peer.host.toString() : undefined);
  opts.sw?.check();
  return finish(clientOverFlow(flow, cfg), opts);
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
  const sock = serverOverFlow(flow, (duplex, peer, local) =>
    acceptor.wrapNative(
      duplex,
      { kind: peer.type === "tcp" ? "tcp" : "unix", peerAddr: peer, localAddr: local },
      currentEnvOpt()?.monoClock,
    ),
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
