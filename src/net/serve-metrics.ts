/**
 * The serve loop's metrics: the counters of `Net.serverStats` (those of the listener the loop
 * accepts on) and the `weir:*` events of the connections it accepts, built only when someone
 * listens (without, each is a few increments and a property read). One per `ServeLoop`; the
 * loop calls it at each step (accepted, limit, served, closed unserved, accept error).
 * @module
 */
import type { Clock } from "../core/clock.ts";
import { IoError, isCancelled } from "../core/index.ts";
import { deadlineClock } from "./deadlines.ts";
import {
  type ConnectionCloseMessage,
  type ConnectionOpenMessage,
  type ConnectionOutcome,
  type ConnectionTimeoutMessage,
  channels,
  type ServerErrorMessage,
  type ServerLimitMessage,
} from "./metrics.ts";
import { type CountedLoop, countersOf, ServerCounters } from "./server-stats.ts";
import type { StreamAddr } from "./sockaddr.ts";
import type { ListeningSocket, StreamSocket } from "./types.ts";

/** A connection accepted: what its metrics need until it is closed. */
export interface Accepted {
  readonly sock: StreamSocket;
  readonly addr: StreamAddr;
  /** Its id in the `weir:connection:*` messages. */
  readonly id: number;
  /** When it was accepted, on the loop's clock. */
  readonly at: number;
}

/** What the metrics read of a served connection when it ends. */
export interface EndedConnection {
  readonly sock: StreamSocket;
  readonly addr: StreamAddr;
  readonly id: number;
  readonly openedAt: number;
  /** Closed by the loop (stop, drain timeout, `closeConnections`). */
  readonly forced: boolean;
}

/** The id of the next connection accepted (in the metrics messages). */
let nextId = 1;

/** Publishes a header timeout on `weir:connection:timeout`, if anyone listens. */
export function publishHeaderTimeout(a: Accepted, ms: number): void {
  const ch = channels.connectionTimeout;
  if (!ch.hasSubscribers) return;
  let local: StreamAddr = a.addr;
  try {
    local = a.sock.localAddr;
  } catch {
    // closed under us: the peer's address is what there is
  }
  const msg: ConnectionTimeoutMessage = { during: "header", ms, local, peer: a.addr };
  ch.publish(msg);
}

/** A serve loop's metrics: see the module documentation. */
export class ServeMetrics {
  /** The clock of the durations (and of the loop's header deadlines). */
  readonly clock: Clock = deadlineClock();
  readonly #loop: CountedLoop;
  #stats = new ServerCounters();
  #counted = false;
  /** The listener's address, for the messages. */
  #server: StreamAddr | undefined = undefined;

  constructor(loop: CountedLoop) {
    this.#loop = loop;
  }

  /** Counts in `listener`'s counters from now on. */
  attach(listener: object & Partial<Pick<ListeningSocket, "listeningAddr">>): void {
    this.#stats = countersOf(listener);
    try {
      this.#server = listener.listeningAddr;
    } catch {
      // a listener closed already: its accept says so
    }
    this.count();
  }

  /** Lets the listener's counters see the loop's live connections (idempotent). */
  count(): void {
    if (this.#counted) return;
    this.#counted = true;
    this.#stats.loops.add(this.#loop);
  }

  /** Leaves the counters if the loop has no connection left (it has stopped accepting). */
  uncount(): void {
    const loop = this.#loop;
    if (!this.#counted || loop.numConnections > 0 || loop.numWaiting > 0) return;
    this.#counted = false;
    this.#stats.loops.delete(loop);
  }

  /** A connection was accepted: counts it and publishes `weir:connection:open`. */
  accepted(sock: StreamSocket, addr: StreamAddr): Accepted {
    const a: Accepted = { sock, addr, id: nextId++, at: this.clock.now() };
    this.#stats.accepted++;
    const ch = channels.connectionOpen;
    if (ch.hasSubscribers) {
      const msg: ConnectionOpenMessage = { id: a.id, server: this.#server, peer: addr };
      ch.publish(msg);
    }
    return a;
  }

  /** A connection is closed without a handler (the caller closes it). */
  unserved(a: Accepted, outcome: "refused" | "timeout" | "error", error?: unknown): void {
    const s = this.#stats;
    if (outcome === "refused") s.refused++;
    else if (outcome === "timeout") s.timedOut++;
    const timeout = outcome === "timeout" ? "header" : undefined;
    this.#closed(a.sock, a.id, a.at, a.addr, outcome, timeout, error);
  }

  /** A served connection ended (its socket is closed) with `error` if `failed`. */
  served(conn: EndedConnection, failed: boolean, error: unknown): void {
    const { sock } = conn;
    let outcome: ConnectionOutcome = "ok";
    if (sock.idleTimedOut === true) {
      outcome = "timeout";
      this.#stats.timedOut++;
    } else if (failed) {
      if (isCancelled(error) || (conn.forced && isClosed(error))) outcome = "closed";
      else {
        outcome = "error";
        this.#stats.errors++;
        const ch = channels.serverError;
        if (ch.hasSubscribers) {
          const msg: ServerErrorMessage = {
            server: this.#server,
            during: "handler",
            peer: conn.addr,
            error,
          };
          ch.publish(msg);
        }
      }
    } else if (conn.forced) outcome = "closed";
    const timeout = outcome === "timeout" ? "idle" : undefined;
    const e = outcome === "error" ? error : undefined;
    this.#closed(sock, conn.id, conn.openedAt, conn.addr, outcome, timeout, e);
  }

  #closed(
    sock: StreamSocket,
    id: number,
    at: number,
    peer: StreamAddr,
    outcome: ConnectionOutcome,
    timeout: "idle" | "header" | undefined,
    error: unknown,
  ): void {
    const s = this.#stats;
    s.closed++;
    s.addBytes(sock);
    const ch = channels.connectionClose;
    if (!ch.hasSubscribers) return;
    const msg: ConnectionCloseMessage = {
      id,
      server: this.#server,
      peer,
      bytesIn: sock.bytesRead ?? 0,
      bytesOut: sock.bytesWritten ?? 0,
      durationMs: this.clock.now() - at,
      outcome,
      ...(timeout === undefined ? {} : { timeout }),
      ...(outcome === "error" ? { error } : {}),
    };
    ch.publish(msg);
  }

  /** The loop was full when it came to accept (or a connection came to a full server). */
  atLimit(limit: number | undefined): void {
    this.#stats.limitReached++;
    const ch = channels.serverLimit;
    if (!ch.hasSubscribers) return;
    const msg: ServerLimitMessage = {
      server: this.#server,
      limit,
      open: this.#loop.numConnections,
    };
    ch.publish(msg);
  }

  /** An accept failed (not `Cancelled`, not a closed listener). */
  acceptFailed(error: unknown): void {
    this.#stats.errors++;
    const ch = channels.serverError;
    if (!ch.hasSubscribers) return;
    const msg: ServerErrorMessage = { server: this.#server, during: "accept", error };
    ch.publish(msg);
  }
}

/** Whether `e` is `IoError` `Closed`. */
export function isClosed(e: unknown): boolean {
  return e instanceof IoError && e.err.kind === "Closed";
}
