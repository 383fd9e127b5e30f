/**
 * `connectTls`: the Node backend's `net.connect(addr, { sw, tls })` — a TCP (or Unix)
 * connection that `node:tls` then wraps natively (TLS runs in C++ straight over the socket's
 * handle, with no JavaScript stream in between).
 * @module
 */
import { Socket } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import type { StreamAddr } from "../net/sockaddr.ts";
import type { ConnectOptions, TlsConnectOptions } from "../net/types.ts";
import { clientTls } from "../tls/options.ts";
import { unixAddrOf } from "./native-addr.ts";
import { connecting, connectOptions } from "./node-net.ts";
import { NodeStreamSocket } from "./stream-socket.ts";
import { NodeTlsSocket } from "./tls-socket.ts";

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
  // allowHalfOpen is passed on to the TLSSocket, though @types/node does not list it
  const tlsSock = tlsConnect({
    ...cfg.options,
    socket: raw,
    allowHalfOpen: true,
  } as ConnectionOptions);
  const sock = new NodeTlsSocket(tlsSock, {
    kind: addr.type,
    peerAddr: addr,
    localAddr: addr.type === "unix" ? unixAddrOf("") : undefined,
    secureEvent: "secureConnect",
    handshakeTimeout: cfg.handshakeTimeout,
    serverName: cfg.options.servername,
  });
  NodeStreamSocket.attach(sock, opts.sw);
  try {
    await sock.handshake(opts);
  } catch (e) {
    await sock.close();
    throw e;
  }
  return sock;
}
