/**
 * A server's counters: `Net.serverStats(listener)` and `Tcp.Server.stats()`. The serve loop
 * counts in the counters of the listening socket it accepts on, so several loops on one
 * listener (the mock's domains) count together, and both APIs read the same numbers.
 * @module
 */
import { show } from "../core/checks.ts";
import type { ListeningSocket, StreamSocket } from "./types.ts";

/** A server's figures since it started (see {@link serverStats}). */
export interface ServerStats {
  /** Connections being served now (their handler runs). */
  readonly open: number;
  /** Connections accepted that wait: in their header phase (`headerTimeout`) or for a slot. */
  readonly waiting: number;
  /** Connections accepted. */
  readonly accepted: number;
  /** Connections accepted and closed since (served, refused or timed out). */
  readonly closed: number;
  /**
   * Connections accepted and closed without a handler: the server was closing, or dropping
   * new connections (`setDropIncomingConnections`). At `maxConnections` a server does not
   * refuse: new clients wait in the backlog (counted in {@link limitReached}).
   */
  readonly refused: number;
  /**
   * How often the server was full (`maxConnections`): each time the accept loop stopped
   * because it was, or, with `headerTimeout`, each connection that waited for a slot.
   */
  readonly limitReached: number;
  /** Connections closed by a deadline: `idleTimeout` or `headerTimeout`. */
  readonly timedOut: number;
  /** Errors of handlers (those given to `onError`/`onHandlerError`) and of accepts. */
  readonly errors: number;
  /** Bytes received on the connections served (closed ones and those being served). */
  readonly bytesIn: number;
  /** Bytes sent on them. */
  readonly bytesOut: number;
}

/** What the counters need of a loop to count its live connections. */
export interface CountedLoop {
  readonly numConnections: number;
  readonly numWaiting: number;
  readonly connections: ReadonlySet<{ readonly sock: StreamSocket }>;
}

/** @internal The mutable counters of one listener. */
export class ServerCounters {
  accepted = 0;
  closed = 0;
  refused = 0;
  limitReached = 0;
  timedOut = 0;
  errors = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** The loops accepting on the listener now, or with connections left. */
  readonly loops = new Set<CountedLoop>();

  /** Adds a closed connection's bytes. */
  addBytes(sock: StreamSocket): void {
    this.bytesIn += sock.bytesRead ?? 0;
    this.bytesOut += sock.bytesWritten ?? 0;
  }

  /** The figures now. */
  snapshot(): ServerStats {
    let open = 0;
    let waiting = 0;
    let bytesIn = this.bytesIn;
    let bytesOut = this.bytesOut;
    for (const loop of this.loops) {
      open += loop.numConnections;
      waiting += loop.numWaiting;
      for (const c of loop.connections) {
        bytesIn += c.sock.bytesRead ?? 0;
        bytesOut += c.sock.bytesWritten ?? 0;
      }
    }
    return {
      open,
      waiting,
      accepted: this.accepted,
      closed: this.closed,
      refused: this.refused,
      limitReached: this.limitReached,
      timedOut: this.timedOut,
      errors: this.errors,
      bytesIn,
      bytesOut,
    };
  }
}

const byListener = new WeakMap<object, ServerCounters>();

/** @internal The counters of `listener` (made on first use). */
export function countersOf(listener: object): ServerCounters {
  let c = byListener.get(listener);
  if (c === undefined) {
    c = new ServerCounters();
    byListener.set(listener, c);
  }
  return c;
}

/**
 * The figures of the server (`Net.runServer`, `Tcp.Server`, the serve loop under both) that
 * accepts on `listener`, since it started: connections open, waiting, accepted, closed,
 * refused, timed out; how often it was full; errors; bytes in and out. All zero for a listener
 * no server has used. Several loops on one listener (`additionalDomains` on the mock) count
 * together; worker threads (the Node backend's domains) count in their own thread.
 * @throws TypeError if `listener` is not an object.
 * @example
 * ```ts
 * const { open, accepted, bytesIn } = Net.serverStats(listener);
 * ```
 */
export function serverStats(listener: ListeningSocket): ServerStats {
  if (typeof listener !== "object" || listener === null) {
    throw new TypeError(`listener must be a listening socket, got ${show(listener)}`);
  }
  return countersOf(listener).snapshot();
}
