/**
 * `connectTls`: the Node backend's `net.connect(addr, { sw, tls })` — a TCP (or Unix)
 * connection that `node:tls` then wraps: natively (TLS runs in C++ straight over the socket's
 * handle), or with `strictClose` over a thin JavaScript stream that tells a close_notify
 * from a cut connection.
 * @module
 */
import { Socket } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import type { StreamAddr } from "../net/sockaddr.ts";
import type { ConnectOptions, TlsConnectOptions } from "../net/types.ts";
import { type ClientTls, clientTls } from "../tls/options.ts";
import { watchEnd } from "../tls/over-flow.ts";
import { unixAddrOf } from "./native-addr.ts";
import { connecting, connectOptions } from "./node-net.ts";
import { SocketDuplex } from "./socket-duplex.ts";
import { NodeStreamSocket } from "./stream-socket.ts";
import { NodeTlsSocket } from "./tls-socket.ts";

/** The TLS socket over `raw`, natively or (`strict`) over a JavaScript stream that sees the end. */
function wrapClient(raw: Socket, addr: StreamAddr, cfg: ClientTls): NodeTlsSocket {
  const make = (socket: Socket | SocketDuplex): NodeTlsSocket =>
    new NodeTlsSocket(
      // allowHalfOpen is passed on to the TLSSocket, though @types/node does not list it
      tlsConnect({ ...cfg.options, socket, allowHalfOpen: true } as ConnectionOptions),
      {
        kind: addr.type,
        peerAddr: addr,
        localAddr: addr.type === "unix" ? unixAddrOf("") : undefined,
        secureEvent: "secureConnect",
        handshakeTimeout: cfg.handshakeTimeout,
        serverName: cfg.options.servername,
      },
    );
  if (!cfg.strictClose) return make(raw);
  const duplex = new SocketDuplex(raw);
  return watchEnd(duplex, () => make(duplex));
}

async function finishClient(sock: NodeTlsSocket, opts: ConnectOptions): Promise<NodeTlsSocket> {
  NodeStreamSocket.attach(sock, opts.sw);
  try {
    await sock.handshake(opts);
  } catch (e) {
    await sock.close();
    throw e;
  }
  return sock;
}

/**
 * Connects to `addr`, then runs the TLS handshake with `opts.tls`; the socket is attached to
 * `opts.sw` as soon as it exists.
 * @throws TypeError/RangeError for bad `tls` options; IoError as `connect` does, and `Tls`
 *   (`Handshake`, `Certificate`) with context `TLS handshake with ADDR`; Cancelled.
 */
export async function connectTls(addr: StreamAddr, opts: ConnectOptions): Promise<NodeTlsSocket> {
  const tls = opts.tls as TlsConnectOptions;
  const cfg = clientTls(tls, addr.type === "tcp" ? addr.host.toString() : undefined);
  const nodeOpts = connectOptions(addr, opts.bindTo);
  const raw = new Socket({ allowHalfOpen: true });
  await connecting(raw, nodeOpts, opts.signal);
  return finishClient(wrapClient(raw, addr, cfg), opts);
}
