/**
 * Metrics events: the `weir:*` channels of `node:diagnostics_channel` and their messages,
 * published from the one place each thing happens (the serve loop, `NetBase.connect`, a
 * socket's idle deadline), so every API (`Net.runServer`, `Tcp.Server`, `Tcp.connect`...) and
 * every backend (Node, the mock, the simulation) has them. Each publisher checks
 * `hasSubscribers` before it builds a message: without a subscriber an event costs one
 * property read.
 *
 * Subscribe with Node's own API:
 * ```ts
 * import { subscribe, unsubscribe } from "node:diagnostics_channel";
 * const onClose = (m: unknown) => {
 *   const msg = m as ConnectionCloseMessage;
 *   traceln("%s: %d bytes in, %d out, %d ms", Sockaddr.format(msg.peer), msg.bytesIn, msg.bytesOut, msg.durationMs);
 * };
 * subscribe(MetricsChannels.connectionClose, onClose);
 * // ...
 * unsubscribe(MetricsChannels.connectionClose, onClose);
 * ```
 * @module
 */
import { type Channel, channel } from "node:diagnostics_channel";
import type { StreamAddr } from "./sockaddr.ts";

/** The names of weir's `node:diagnostics_channel` channels. */
export const MetricsChannels = {
  /** A server accepted a connection: {@link ConnectionOpenMessage}. */
  connectionOpen: "weir:connection:open",
  /** A connection a server accepted was closed: {@link ConnectionCloseMessage}. */
  connectionClose: "weir:connection:close",
  /** A deadline closed a connection (idle, or a server's header phase): {@link ConnectionTimeoutMessage}. */
  connectionTimeout: "weir:connection:timeout",
  /** A `net.connect` attempt ended: {@link ConnectAttemptMessage}. */
  connectAttempt: "weir:connect:attempt",
  /** A server's handler or accept failed: {@link ServerErrorMessage}. */
  serverError: "weir:server:error",
  /** A server was full when a connection came: {@link ServerLimitMessage}. */
  serverLimit: "weir:server:limit",
} as const;

/** The name of one of weir's channels. */
export type MetricsChannel = (typeof MetricsChannels)[keyof typeof MetricsChannels];

/** `weir:connection:open`: a server accepted a connection (before any header phase). */
export interface ConnectionOpenMessage {
  /** Unique in the process; the same in the connection's close message. */
  readonly id: number;
  /** The address the server listens on (`undefined` for a listener that has none). */
  readonly server: StreamAddr | undefined;
  /** The peer's address (the TCP peer: a PROXY header's client is in the close message). */
  readonly peer: StreamAddr;
}

/**
 * How a connection a server accepted ended:
 * - `"ok"`: its handler returned (or a health check needed none);
 * - `"error"`: its handler failed (the error is in `error`), or it failed before its handler
 *   (a reset in the header phase, a TLS handshake, a bad PROXY header);
 * - `"timeout"`: a deadline closed it (`timeout` says which: `idleTimeout`, `headerTimeout`);
 * - `"closed"`: the server closed it while its handler ran (the server stopped: cancelled,
 *   `closeExistingConnections`, a drain timeout);
 * - `"refused"`: it was closed without a handler (the server was closing, or dropping new
 *   connections: `setDropIncomingConnections`).
 */
export type ConnectionOutcome = "ok" | "error" | "timeout" | "closed" | "refused";

/** `weir:connection:close`: a connection a server accepted is closed. */
export interface ConnectionCloseMessage {
  /** As in the open message. */
  readonly id: number;
  /** The address the server listens on. */
  readonly server: StreamAddr | undefined;
  /** The peer's address (after a PROXY header, the client it names). */
  readonly peer: StreamAddr;
  /** Bytes received on the connection (as the socket counts them: on TLS, the decrypted bytes). */
  readonly bytesIn: number;
  /** Bytes sent on it. */
  readonly bytesOut: number;
  /** From the accept to the close, in ms of the env's monotonic clock (virtual on the mock). */
  readonly durationMs: number;
  /** See {@link ConnectionOutcome}. */
  readonly outcome: ConnectionOutcome;
  /** With `outcome` `"timeout"`: which deadline. */
  readonly timeout?: "idle" | "header" | undefined;
  /** With `outcome` `"error"`: the error (also published on `weir:server:error`). */
  readonly error?: unknown;
}

/** `weir:connection:timeout`: a deadline closed a connection (a client's or a server's). */
export interface ConnectionTimeoutMessage {
  /** `"idle"`: no byte moved for `ms` (`idleTimeout`); `"header"`: `headerTimeout`. */
  readonly during: "idle" | "header";
  /** The timeout, in ms. */
  readonly ms: number;
  readonly local: StreamAddr;
  readonly peer: StreamAddr;
}

/** `weir:connect:attempt`: one `net.connect` ended (each address Happy Eyeballs tries is one). */
export interface ConnectAttemptMessage {
  /** The address connected to. */
  readonly addr: StreamAddr;
  /**
   * `"connected"`; `"failed"` (the error is in `error`: `Refused`, `Timeout`...); `"cancelled"`
   * (the caller gave up: a time limit, another Happy Eyeballs attempt won).
   */
  readonly outcome: "connected" | "failed" | "cancelled";
  /** From the call to its end, in ms of the env's monotonic clock. */
  readonly durationMs: number;
  /** With `"failed"` and `"cancelled"`: why. */
  readonly error?: unknown;
}

/** `weir:server:error`: an error a server's handler or accept loop met. */
export interface ServerErrorMessage {
  /** The address the server listens on. */
  readonly server: StreamAddr | undefined;
  /** `"handler"` (the error went to `onError`/`onHandlerError`) or `"accept"` (EMFILE...). */
  readonly during: "handler" | "accept";
  /** With `"handler"`: the connection's peer. */
  readonly peer?: StreamAddr | undefined;
  readonly error: unknown;
}

/** `weir:server:limit`: a server at its `maxConnections` holds new connections back. */
export interface ServerLimitMessage {
  /** The address the server listens on. */
  readonly server: StreamAddr | undefined;
  /** The limit (`undefined` for one shared by several loops). */
  readonly limit: number | undefined;
  /** How many connections it serves now. */
  readonly open: number;
}

/** @internal The channels, made once (publishers check `hasSubscribers` first). */
export const channels: { readonly [K in keyof typeof MetricsChannels]: Channel } = {
  connectionOpen: channel(MetricsChannels.connectionOpen),
  connectionClose: channel(MetricsChannels.connectionClose),
  connectionTimeout: channel(MetricsChannels.connectionTimeout),
  connectAttempt: channel(MetricsChannels.connectAttempt),
  serverError: channel(MetricsChannels.serverError),
  serverLimit: channel(MetricsChannels.serverLimit),
};

/**
 * @internal Publishes an idle timeout on `weir:connection:timeout`, if anyone listens: what a
 * socket calls when its idle deadline closes it.
 */
export function publishIdleTimeout(
  sock: { readonly localAddr: StreamAddr; readonly peerAddr: StreamAddr },
  ms: number,
): void {
  const ch = channels.connectionTimeout;
  if (!ch.hasSubscribers) return;
  let local: StreamAddr;
  let peer: StreamAddr;
  try {
    local = sock.localAddr;
    peer = sock.peerAddr;
  } catch {
    return; // a socket whose addresses are gone: nothing to say where
  }
  const msg: ConnectionTimeoutMessage = { during: "idle", ms, local, peer };
  ch.publish(msg);
}
