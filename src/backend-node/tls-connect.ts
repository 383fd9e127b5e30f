/**
 * `connectTls`: the Node backend's `net.connect(addr, { sw, tls })` — a TCP (or Unix)
 * connection that `node:tls` then wraps natively (TLS runs in C++ straight over the socket's
 * handle, with no JavaScript stream in between).
 * @module
 */
import { type NetConnectOpts, Socket } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import type { StreamAddr } from "../net/sockaddr.ts";
import type { ConnectOptions, TlsConnectOptions } from "../net/types.ts";
import { type ClientTls, clientTls } from "../tls/options.ts";
import { clientOverFlow } from "../tls/over-flow.ts";
import { unixAddrOf } from "./native-addr.ts";
import { connecting, connectOptions } from "./node-net.ts";
import { NodeStreamSocket } from "./stream-socket.ts";
import { NodeTlsSocket } from "./tls-socket.ts";

/** `strictClose`: a plain weir socket first, then TLS over it as over any flow. */
async function strictTls(
  raw: Socket,
  addr: StreamAddr,
  nodeOpts: NetConnectOpts,
  cfg: ClientTls,
  opts: ConnectOptions,
): Promise<NodeTlsSocket> {
  const plain = new NodeStreamSocket(raw, {
    kind: addr.type,
    peerAddr: addr,
    localAddr: addr.type === "unix" ? unixAddrOf("") : undefined,
  });
  NodeStreamSocket.attach(plain, opts.sw);
  try {
    await connecting(raw, nodeOpts, opts.signal);
  } catch (e) {
    await plain.close();
    throw e;
  }
  return finishClient(clientOverFlow(plain, cfg), opts);
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
  if (cfg.strictClose) return strictTls(raw, addr, nodeOpts, cfg, opts);
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
  return finishClient(sock, opts);
}
