/**
 * `NodeNet`: the real network of `run`'s `env.net` — stream sockets on `node:net`, datagram
 * sockets on `node:dgram` (and the native addon), name resolution on `node:dns`.
 * @module
 */
import { type NetConnectOpts, Socket } from "node:net";
import { type BlockingOptions, suspend } from "../core/index.ts";
import { type BackendListenOptions, NetBase, type UnboundDatagram } from "../net/net-base.ts";
import {
  type DatagramAddr,
  Sockaddr,
  type StreamAddr,
  type TcpAddr,
  type UdpAddr,
} from "../net/sockaddr.ts";
import type {
  ConnectOptions,
  DatagramOptions,
  DatagramSocket,
  ListeningSocket,
  StreamSocket,
} from "../net/types.ts";
import { openDatagramSocket } from "./datagram-socket.ts";
import { getaddrinfo, getnameinfo } from "./dns.ts";
import { toIoError } from "./errors.ts";
import { keepAliveApplier } from "./keep-alive.ts";
import { NodeListeningSocket } from "./listening-socket.ts";
import { unixAddrOf } from "./native-addr.ts";
import { NodeStreamSocket } from "./stream-socket.ts";
import { connectTls } from "./tls-connect.ts";

/** Node's options for connecting to `addr` (bound to `bindTo` first, for TCP). */
export function connectOptions(addr: StreamAddr, bindTo: ConnectOptions["bindTo"]): NetConnectOpts {
  if (addr.type === "unix") {
    if (bindTo !== undefined) {
      throw new TypeError(
        `bindTo is not supported for a Unix socket by the Node backend, got ${JSON.stringify(
          typeof bindTo === "string" ? bindTo : Sockaddr.format(Sockaddr.of(bindTo)),
        )}`,
      );
    }
    return { path: addr.path };
  }
  const opts: NetConnectOpts = {
    host: addr.host.toString(),
    port: addr.port,
    family: addr.host.family,
    noDelay: true,
  };
  if (bindTo !== undefined) {
    const local = Sockaddr.of(bindTo);
    if (local.type !== "tcp") {
      throw new TypeError(
        `bindTo must be a tcp: address to connect to ${Sockaddr.format(addr)}, got ${JSON.stringify(Sockaddr.format(local))}`,
      );
    }
    opts.localAddress = local.host.toString();
    opts.localPort = local.port;
  }
  return opts;
}

/** Waits for `raw` to connect; cancelling destroys it. */
export function connecting(raw: Socket, opts: NetConnectOpts, signal: AbortSignal | undefined) {
  return suspend<void>((resolve, reject) => {
    const onConnect = (): void => {
      raw.off("error", onError);
      resolve();
    };
    const onError = (e: Error): void => {
      raw.off("connect", onConnect);
      reject(toIoError(e));
    };
    raw.once("connect", onConnect);
    raw.once("error", onError);
    try {
      raw.connect(opts);
    } catch (e) {
      raw.off("connect", onConnect);
      raw.off("error", onError);
      reject(e instanceof TypeError || e instanceof RangeError ? e : toIoError(e));
    }
    return () => {
      raw.off("connect", onConnect);
      raw.off("error", onError);
      raw.destroy();
    };
  }, signal);
}

/**
 * The network of the Node backend (Eio's `Eio_posix` net): `env.net` in `run`. Stream sockets
 * are {@link NodeStreamSocket}s (TCP_NODELAY on, as Async sets it), listening sockets
 * {@link NodeListeningSocket}s. Argument checks and error context lines come from `NetBase`.
 * @example
 * ```ts
 * await run(async (env) => {
 *   await Switch.run(async (sw) => {
 *     const listener = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 5 });
 *     const conn = await env.net.connect(listener.listeningAddr, { sw });
 *   });
 * });
 * ```
 */
export class NodeNet extends NetBase {
  protected override readonly supportsTls: boolean = true;

  protected async backendConnect(addr: StreamAddr, opts: ConnectOptions): Promise<StreamSocket> {
    if (opts.tls !== undefined) return connectTls(addr, opts);
    const nodeOpts = connectOptions(addr, opts.bindTo);
    const keepAlive = addr.type === "tcp" ? await keepAliveApplier(opts.keepAlive) : undefined;
    const raw = new Socket({ allowHalfOpen: true });
    const sock = new NodeStreamSocket(raw, {
      kind: addr.type,
      peerAddr: addr,
      localAddr: addr.type === "unix" ? unixAddrOf("") : undefined,
    });
    NodeStreamSocket.attach(sock, opts.sw);
    try {
      await connecting(raw, nodeOpts, opts.signal);
      keepAlive?.(raw);
    } catch (e) {
      await sock.close();
      throw e;
    }
    return sock;
  }

  protected backendListen(addr: StreamAddr, opts: BackendListenOptions): Promise<ListeningSocket> {
    return NodeListeningSocket.listen(addr, opts);
  }

  protected backendDatagramSocket(
    addr: DatagramAddr | UnboundDatagram,
    opts: DatagramOptions,
  ): Promise<DatagramSocket> {
    return openDatagramSocket(addr, opts);
  }

  protected backendGetaddrinfo(
    host: string,
    service: string,
    opts: BlockingOptions,
  ): Promise<Array<TcpAddr | UdpAddr>> {
    return getaddrinfo(host, service, opts);
  }

  protected backendGetnameinfo(
    addr: TcpAddr | UdpAddr,
    opts: BlockingOptions,
  ): Promise<[string, string]> {
    return getnameinfo(addr, opts);
  }
}

/**
 * The one `NodeNet` every `run` shares (it holds no state).
 * @example
 * ```ts
 * const sock = await nodeNet.connect("unix:/tmp/app.sock", { sw });
 * ```
 */
export const nodeNet: NodeNet = new NodeNet();
