/**
 * TLS over a weir flow: `node:tls` over a {@link FlowDuplex}, with the check that tells a
 * close_notify from a cut connection. What `Tls.client`/`Tls.server` and the `strictClose`
 * option of `net.connect`/`net.listen` run on.
 * @module
 */
import type { Duplex } from "node:stream";
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from "node:tls";
import { NodeTlsSocket } from "../backend-node/tls-socket.ts";
import { currentFiber } from "../core/index.ts";
import type { TwoWay } from "../flow/types.ts";
import { currentEnvOpt } from "../net/env.ts";
import { Sockaddr, type StreamAddr } from "../net/sockaddr.ts";
import type { StreamSocket } from "../net/types.ts";
import { truncatedError } from "./errors.ts";
import { type EndWatched, FlowDuplex } from "./flow-duplex.ts";
import type { ClientTls } from "./options.ts";

const unnamed = Sockaddr.unix("");

/** The flow's addresses, if it is a socket (the unnamed Unix address otherwise). */
export function addrsOf(flow: TwoWay): { peer: StreamAddr; local: StreamAddr } {
  const s = flow as Partial<StreamSocket>;
  const peer = s.peerAddr;
  const local = s.localAddr;
  return { peer: peer ?? unnamed, local: local ?? unnamed };
}

/**
 * Wraps the duplex in TLS and watches its end: the peer's end of file without a close_notify
 * before it fails the reads (`ConnectionReset`, "TLS stream truncated") instead of looking
 * like a clean end.
 *
 * The engine reads a close_notify synchronously when its bytes come in, and marks the TLS
 * stream ended; so the check runs when the duplex ends, before node:tls's own `'end'`
 * listener hands that end to the engine. As a precaution for records the engine may hold
 * back while the TLS socket is paused, the end is handed over only once the socket reads
 * again (or closes), one turn of the event loop later.
 */
export function watchEnd(duplex: Duplex & EndWatched, wrap: () => NodeTlsSocket): NodeTlsSocket {
  let tls: TLSSocket | null = null;
  let secure = false;
  const ended = (): boolean =>
    (tls as unknown as { _readableState?: { ended?: boolean } } | null)?._readableState?.ended ===
    true;
  duplex.beforeEnd = () => {
    const t = tls;
    if (t === null || !secure || ended() || t.destroyed) return undefined;
    return new Promise<void>((resolve) => {
      let done = false;
      const go = (): void => {
        if (done) return;
        done = true;
        t.off("resume", go);
        t.off("close", go);
        duplex.afterTurn(resolve);
      };
      if (!t.isPaused()) go();
      else {
        t.once("resume", go);
        t.once("close", go);
      }
    });
  };
  duplex.once("end", () => {
    if (tls !== null && secure && !ended() && !tls.destroyed) tls.destroy(truncatedError());
  });
  const sock = wrap();
  NodeTlsSocket.overStream(sock);
  tls = NodeTlsSocket.tls(sock);
  sock.handshake().then(
    () => {
      secure = true;
    },
    () => {},
  );
  return sock;
}

/**
 * Starts the client side of a handshake over `flow` (in the calling fiber's context) and
 * returns the TLS socket, its handshake under way.
 */
export function clientOverFlow(flow: TwoWay, cfg: ClientTls): NodeTlsSocket {
  const { peer, local } = addrsOf(flow);
  const duplex = new FlowDuplex(flow, currentFiber());
  return watchEnd(duplex, () => {
    // allowHalfOpen is passed on to the TLSSocket, though @types/node does not list it
    const nodeOpts = { ...cfg.options, socket: duplex, allowHalfOpen: true } as ConnectionOptions;
    return new NodeTlsSocket(tlsConnect(nodeOpts), {
      kind: peer.type === "tcp" ? "tcp" : "unix",
      peerAddr: peer,
      localAddr: local,
      secureEvent: "secureConnect",
      handshakeTimeout: cfg.handshakeTimeout,
      serverName: cfg.options.servername,
      clock: currentEnvOpt()?.monoClock,
    });
  });
}

/**
 * Starts the server side of a handshake over `flow`: `wrap` makes the TLS socket over the
 * duplex (a listener's settings); returns it, its handshake under way.
 */
export function serverOverFlow(
  flow: TwoWay,
  wrap: (duplex: FlowDuplex, peer: StreamAddr, local: StreamAddr) => NodeTlsSocket,
): NodeTlsSocket {
  const { peer, local } = addrsOf(flow);
  const duplex = new FlowDuplex(flow, currentFiber());
  return watchEnd(duplex, () => wrap(duplex, peer, local));
}
