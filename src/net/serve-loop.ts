/**
 * `ServeLoop`: the one loop that serves, under `Net.runServer` and `Tcp.Server`. It accepts
 * connections on a listening socket and runs a handler for each in a fiber of its switch; the
 * two APIs differ only in the policies they pass (connection limit, accepts per batch, drop
 * switch, what an accept or handler error does), not in mechanism. It is the one owner of each
 * connection: it closes the socket once the handler has ended, frees the slot, then reports.
 *
 * It knows every connection it serves ({@link ServeLoop.connections}), which is where
 * per-server work over the connections goes (closing them all; a coarse sweep for deadlines).
 * @module
 */
import type { Clock } from "../core/clock.ts";
import {
  afterFork,
  type BlockingOptions,
  CancelContext,
  Cancelled,
  currentCancelContext,
  currentFiber,
  Fiber,
  IoError,
  isCancelled,
  runInFiber,
  type Switch,
  suspend,
} from "../core/index.ts";
import { FixedDeadline } from "./deadlines.ts";
import { type Accepted, isClosed, publishHeaderTimeout, ServeMetrics } from "./serve-metrics.ts";
import { Sockaddr, type StreamAddr } from "./sockaddr.ts";
import type { ListeningSocket, StreamSocket } from "./types.ts";

/**
 * A connection limit shared by several loops (threads): `Semaphore`, `SharedSemaphore`.
 * @example
 * ```ts
 * const limit: ConnectionLimit = SharedSemaphore.create(100);
 * ```
 */
export interface ConnectionLimit {
  acquire(opts?: BlockingOptions): Promise<void>;
  release(): void;
}

/** A handler of the loop: the socket and the peer (the loop closes the socket after it). */
export type ServeHandler = (
  sock: StreamSocket,
  addr: StreamAddr,
  conn: ServedConnection,
) => void | Promise<void>;

/** The policies of a {@link ServeLoop}. */
export interface ServeLoopOptions {
  /** The switch each handler's fiber runs in. */
  readonly sw: Switch;
  /** Runs for each connection. */
  readonly handler: ServeHandler;
  /**
   * At most this many handlers at once (no accept while full), or a limit shared with other
   * loops. Default: no limit.
   */
  readonly limit?: number | ConnectionLimit | undefined;
  /**
   * With a shared limit: take the permit before accepting (default), or after (threads that each
   * have their own socket: see `runServer` in domains).
   */
  readonly acquireFirst?: boolean | undefined;
  /** How many connections are taken before the loop lets other fibers run. Default: no yield. */
  readonly maxAcceptsPerBatch?: number | undefined;
  /**
   * Called (in the handler's fiber) with a handler's error (not `Cancelled`); an `IoError` has
   * the context `handling connection from ADDR`. What it throws fails that fiber (and `sw`).
   */
  readonly onHandlerError: (err: unknown, conn: ServedConnection) => void;
  /**
   * An accept error other than `Cancelled` and `IoError` `Closed`: waits (a back-off) and the
   * loop goes on; what it throws ends the loop. Default: the loop ends with the error.
   */
  readonly onAcceptError?: ((err: unknown, failures: number) => Promise<void>) | undefined;
  /** Called each time the loop waits because it is full. */
  readonly onAtLimit?: (() => void) | undefined;
  /** Whether to close each new connection at once instead of serving it (a pause). */
  readonly dropIncoming?: (() => boolean) | undefined;
  /** Set TCP_NODELAY on each connection. Default `false`. */
  readonly noDelay?: boolean | undefined;
  /**
   * Run each handler in a cancellation context of its own, so that one connection can be
   * cancelled alone ({@link ServedConnection.cancel}). Default `false`: handlers run in `sw`'s.
   */
  readonly cancellable?: boolean | undefined;
  /** Each connection's idle timeout in ms (see `StreamSocket.setIdleTimeout`). Default: none. */
  readonly idleTimeout?: number | undefined;
  /**
   * The ms a new connection has to send its first `headerBytes` bytes. It waits for them
   * before its handler holds a slot (so slow peers queue instead of filling the server), and
   * is closed if they are late. Default: no header phase (sockets without `awaitBuffered` have
   * none either).
   */
  readonly headerTimeout?: number | undefined;
  /** How many bytes the header phase waits for. Default 1. */
  readonly headerBytes?: number | undefined;
  /**
   * How many connections may be in their header phase, or waiting for a slot after it, at
   * once (more wait in the listener). Default 4096.
   */
  readonly maxWaiting?: number | undefined;
}

/** A connection in its header phase: closed if its first bytes are late. */
class HeaderDeadline extends FixedDeadline {
  readonly conn: Accepted;
  met = false;
  expiredAt = false;
  constructor(ms: number, clock: Clock, conn: Accepted) {
    super(ms, clock);
    this.conn = conn;
  }
  protected done(): boolean {
    return this.met;
  }
  protected expired(): void {
    this.expiredAt = true;
    publishHeaderTimeout(this.conn, this.ms);
    this.conn.sock.close().catch(() => {});
  }
}

const NO_CONTEXT: unique symbol = Symbol("no context");

/** One connection a loop serves. */
export class ServedConnection {
  readonly loop: ServeLoop;
  readonly sock: StreamSocket;
  /** The peer's address (after a handshake, the client a PROXY header names). */
  addr: StreamAddr;
  /** Its id in the `weir:connection:*` messages. */
  readonly id: number;
  /** When it was accepted, on the loop's clock (`deadlineClock()`). */
  readonly openedAt: number;
  /** The handler's own cancellation context (with `cancellable`). */
  cc: CancelContext | typeof NO_CONTEXT = NO_CONTEXT;
  /** Closed by {@link ServeLoop.closeConnections}: its errors are not the handler's. */
  forced = false;
  #ended = false;
  #waiters: Array<() => void> | null = null;

  constructor(loop: ServeLoop, a: Accepted) {
    this.loop = loop;
    this.sock = a.sock;
    this.addr = a.addr;
    this.id = a.id;
    this.openedAt = a.at;
  }

  /** Whether the handler has ended and the socket is closed. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Resolves once the handler has ended and the socket is closed. */
  whenEnded(): Promise<void> {
    if (this.#ended) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#waiters ??= [];
      this.#waiters.push(resolve);
    });
  }

  /** Cancels the handler (with `cancellable`; else nothing). */
  cancel(reason: unknown): void {
    const cc = this.cc;
    if (cc === NO_CONTEXT) return;
    try {
      cc.cancel(reason);
    } catch {
      // a failing cancel hook does not stop the cancellation
    }
  }

  /** @internal */
  markEnded(): void {
    this.#ended = true;
    const ws = this.#waiters;
    this.#waiters = null;
    if (ws !== null) for (const w of ws) w();
  }
}

/** A handler's own cancellation context, which knows its connection (see `ServeLoop.current`). */
class ConnectionContext extends CancelContext {
  readonly conn: ServedConnection;
  constructor(parent: CancelContext, conn: ServedConnection) {
    super(parent);
    this.conn = conn;
  }
}

/**
 * The serve loop: see the module documentation.
 * @example
 * ```ts
 * const loop = new ServeLoop({ sw, handler, onHandlerError: (e) => traceln("%s", e), limit: 100 });
 * await loop.run(listener); // until cancelled, or an accept error without onAcceptError
 * ```
 */
export class ServeLoop {
  readonly #o: ServeLoopOptions;
  readonly #max: number;
  readonly #shared: ConnectionLimit | null;
  readonly #batch: number;
  readonly #conns = new Set<ServedConnection>();
  #slotFreed: (() => void) | null = null;
  /** Connections in their header phase. */
  readonly #inHeader = new Set<HeaderDeadline>();
  /** Connections past their header phase that wait for a slot, oldest first. */
  readonly #ready: Accepted[] = [];
  readonly #maxWaiting: number;
  #waitingFreed: (() => void) | null = null;
  /** The counters (`Net.serverStats`) and events (`weir:*`) of what it accepts. */
  readonly #m = new ServeMetrics(this);
  #running = false;

  /** A loop with the policies `opts`. @throws RangeError for a limit <= 0. */
  constructor(opts: ServeLoopOptions) {
    this.#o = opts;
    const limit = opts.limit ?? Infinity;
    if (typeof limit === "number") {
      if (!(Number.isInteger(limit) || limit === Infinity) || limit <= 0) {
        throw new RangeError(`maxConnections must be > 0, got ${String(limit)}`);
      }
      this.#max = limit;
      this.#shared = null;
    } else {
      this.#max = Infinity;
      this.#shared = limit;
    }
    this.#batch = opts.maxAcceptsPerBatch ?? Infinity;
    this.#maxWaiting = opts.maxWaiting ?? 4096;
  }

  /** How many connections are in their header phase or wait for a slot after it. */
  get numWaiting(): number {
    return this.#inHeader.size + this.#ready.length;
  }

  /** The connections being served now. */
  get connections(): ReadonlySet<ServedConnection> {
    return this.#conns;
  }

  /** How many connections are being served now. */
  get numConnections(): number {
    return this.#conns.size;
  }

  /** The connection whose handler the calling fiber belongs to (with `cancellable`), if any. */
  current(): ServedConnection | undefined {
    for (let cc: CancelContext | null = currentCancelContext(); cc !== null; cc = cc.parent) {
      if (cc instanceof ConnectionContext && cc.conn.loop === this) return cc.conn;
    }
    return undefined;
  }

  /**
   * Cancels every handler (with `cancellable`) and closes every socket now; each ends as usual
   * (its slot is freed once its handler has returned).
   */
  closeConnections(reason: unknown): void {
    for (const c of this.#conns) {
      if (c.forced) continue;
      c.forced = true;
      c.cancel(reason);
      c.sock.close().catch(() => {});
    }
  }

  /**
   * Accepts and serves connections until the calling fiber is cancelled or `accept` fails with
   * an error that `onAcceptError` does not take (`IoError` `Closed`: the listener was closed).
   * @throws Cancelled; the accept error.
   */
  async run(
    listener: Pick<ListeningSocket, "accept"> & Partial<Pick<ListeningSocket, "listeningAddr">>,
  ): Promise<never> {
    this.#m.attach(listener);
    this.#running = true;
    try {
      return await (this.#o.headerTimeout !== undefined
        ? this.#runWithHeaders(listener)
        : this.#runPlain(listener));
    } finally {
      this.#running = false;
      this.#m.uncount();
    }
  }

  async #runPlain(listener: Pick<ListeningSocket, "accept">): Promise<never> {
    const { sw, idleTimeout } = this.#o;
    const shared = this.#shared;
    const acquireFirst = this.#o.acquireFirst ?? true;
    let batch = 0;
    let failures = 0;
    for (;;) {
      if (shared === null) {
        if (this.#conns.size >= this.#max)
          this.#m.atLimit(this.#shared === null ? this.#max : undefined);
        while (this.#conns.size >= this.#max) {
          this.#o.onAtLimit?.();
          await this.#waitSlot();
        }
      } else if (acquireFirst) await shared.acquire();
      let sock: StreamSocket;
      let addr: StreamAddr;
      try {
        [sock, addr] = await listener.accept(
          idleTimeout === undefined ? { sw } : { sw, idleTimeout },
        );
        failures = 0;
      } catch (e) {
        if (shared !== null && acquireFirst) shared.release();
        const onAcceptError = this.#o.onAcceptError;
        if (isCancelled(e) || isClosed(e)) throw e;
        this.#m.acceptFailed(e);
        if (onAcceptError === undefined) throw e;
        await onAcceptError(e, ++failures);
        continue;
      }
      const a = this.#m.accepted(sock, addr);
      if (shared !== null && !acquireFirst) {
        try {
          await shared.acquire();
        } catch (e) {
          this.#m.unserved(a, "refused");
          await sock.close();
          throw e;
        }
      }
      const cc = currentCancelContext();
      if (!cc.isOn || !sw.isOn) {
        // Cancelled (the server is closing) after the accept: the handler never starts
        shared?.release();
        this.#m.unserved(a, "refused");
        sock.close().catch(() => {});
        throw new Cancelled(cc.reason);
      }
      if (this.#o.dropIncoming?.() === true) {
        shared?.release();
        this.#m.unserved(a, "refused");
        sock.close().catch(() => {});
      } else {
        this.#start(a);
        // As Eio's fork: on the mock backend, the handler runs until it blocks first
        const p = afterFork();
        if (p !== undefined) await p;
      }
      if (++batch >= this.#batch) {
        batch = 0;
        await Fiber.yield();
      }
    }
  }

  /**
   * {@link run} with a header phase: accepts while fewer than `maxWaiting` connections wait,
   * whatever the slots; each waits for its first bytes (closed when they are late), then for a
   * slot, oldest first. Leaving (cancelled, or an accept error), it closes those that wait.
   */
  async #runWithHeaders(listener: Pick<ListeningSocket, "accept">): Promise<never> {
    const { sw, idleTimeout } = this.#o;
    let batch = 0;
    let failures = 0;
    try {
      for (;;) {
        while (this.numWaiting >= this.#maxWaiting) await this.#waitWaiting();
        let sock: StreamSocket;
        let addr: StreamAddr;
        try {
          [sock, addr] = await listener.accept(
            idleTimeout === undefined ? { sw } : { sw, idleTimeout },
          );
          failures = 0;
        } catch (e) {
          const onAcceptError = this.#o.onAcceptError;
          if (isCancelled(e) || isClosed(e)) throw e;
          this.#m.acceptFailed(e);
          if (onAcceptError === undefined) throw e;
          await onAcceptError(e, ++failures);
          continue;
        }
        const a = this.#m.accepted(sock, addr);
        const cc = currentCancelContext();
        if (!cc.isOn || !sw.isOn) {
          this.#m.unserved(a, "refused");
          sock.close().catch(() => {});
          throw new Cancelled(cc.reason);
        }
        if (this.#o.dropIncoming?.() === true) {
          this.#m.unserved(a, "refused");
          sock.close().catch(() => {});
        } else this.#header(a);
        if (++batch >= this.#batch) {
          batch = 0;
          await Fiber.yield();
        }
      }
    } finally {
      for (const a of this.#ready.splice(0)) {
        this.#m.unserved(a, "refused");
        a.sock.close().catch(() => {});
      }
      // Those in their header phase: their awaitBuffered is cancelled with this fiber
    }
  }

  /** Starts `sock`'s header phase (in the loop's fiber: cancelled with it). */
  #header(a: Accepted): void {
    const { sock } = a;
    const wait = sock.awaitBuffered;
    if (wait === undefined) {
      this.#admit(a);
      return;
    }
    const d = new HeaderDeadline(this.#o.headerTimeout as number, this.#m.clock, a);
    this.#inHeader.add(d);
    const left = (): void => {
      d.cancel();
      this.#inHeader.delete(d);
      this.#waitingFreed?.();
    };
    wait.call(sock, this.#o.headerBytes ?? 1).then(
      () => {
        left();
        if (d.expiredAt) {
          this.#m.unserved(a, "timeout");
          return;
        }
        d.met = true;
        this.#admit(a);
      },
      (e: unknown) => {
        left();
        if (d.expiredAt) this.#m.unserved(a, "timeout");
        // a failed handshake (a bad PROXY header, TLS) is reported as the serve step reports
        // it, through the handler's path (which never reaches the handler)
        else if (sock.handshake !== undefined) return this.#admit(a);
        else this.#m.unserved(a, isCancelled(e) ? "refused" : "error", e);
        sock.close().catch(() => {});
      },
    );
  }

  /** Serves `a` now if there is a slot, else queues it for the next. */
  #admit(a: Accepted): void {
    const shared = this.#shared;
    if (shared !== null) {
      shared.acquire().then(
        () => this.#startNow(a),
        () => {
          this.#m.unserved(a, "refused");
          a.sock.close().catch(() => {});
        },
      );
      return;
    }
    if (this.#conns.size < this.#max && this.#ready.length === 0) this.#startNow(a);
    else {
      this.#m.atLimit(this.#shared === null ? this.#max : undefined);
      this.#ready.push(a);
    }
  }

  #startNow(a: Accepted): void {
    if (!this.#o.sw.isOn) {
      this.#shared?.release();
      this.#m.unserved(a, "refused");
      a.sock.close().catch(() => {});
      return;
    }
    this.#start(a);
  }

  #waitWaiting(): Promise<void> {
    return suspend<void>((resolve) => {
      this.#waitingFreed = () => {
        this.#waitingFreed = null;
        resolve();
      };
      return () => {
        this.#waitingFreed = null;
      };
    });
  }

  #waitSlot(): Promise<void> {
    return suspend<void>((resolve) => {
      this.#slotFreed = resolve;
      return () => {
        if (this.#slotFreed === resolve) this.#slotFreed = null;
      };
    });
  }

  #start(a: Accepted): void {
    const conn = new ServedConnection(this, a);
    this.#conns.add(conn);
    this.#m.count();
    let started = false;
    try {
      this.#o.sw.fork(() => {
        started = true;
        return this.#serve(conn);
      });
    } finally {
      if (!started) this.#ended(conn, false, undefined);
    }
  }

  /** Runs the handler (not an async function: an idle connection holds no frame of ours). */
  #serve(conn: ServedConnection): Promise<void> {
    const o = this.#o;
    if (o.noDelay === true) {
      try {
        conn.sock.setNoDelay(true);
      } catch (e) {
        return this.#ended(conn, true, e);
      }
    }
    let r: void | Promise<void>;
    try {
      if (o.cancellable === true) {
        const parent = currentFiber();
        const cc = new ConnectionContext(parent.cc, conn);
        conn.cc = cc;
        r = runInFiber({ ...parent, cc }, () => this.#call(conn));
      } else r = this.#call(conn);
    } catch (e) {
      return this.#ended(conn, true, e);
    }
    if (!(r instanceof Promise)) return this.#ended(conn, false, undefined);
    return r.then(
      () => this.#ended(conn, false, undefined),
      (e: unknown) => this.#ended(conn, true, e),
    );
  }

  /**
   * Calls the handler; a socket's handshake (TLS, a PROXY header) runs first, in the
   * connection's fiber, and its failure (or a health check) ends the connection without the
   * handler.
   */
  #call(conn: ServedConnection): void | Promise<void> {
    const { sock, addr } = conn;
    if (sock.handshake === undefined) return this.#o.handler(sock, addr, conn);
    return sock.handshake().then((go) => {
      if (go === false) return; // a health check: no handler
      // the peer may be another now: a PROXY header names the client behind a balancer
      conn.addr = sock.peerAddr;
      return this.#o.handler(sock, conn.addr, conn);
    });
  }

  /** The one place a connection ends: close the socket, free the slot, then report. */
  #ended(conn: ServedConnection, failed: boolean, error: unknown): Promise<void> {
    const cc = conn.cc;
    if (cc !== NO_CONTEXT) cc.finish();
    return conn.sock.close().then(
      () => this.#report(conn, failed, error),
      (e: unknown) => (failed ? this.#report(conn, failed, error) : this.#report(conn, true, e)),
    );
  }

  #report(conn: ServedConnection, failed: boolean, error: unknown): void {
    this.#conns.delete(conn);
    this.#m.served(conn, failed, error);
    if (this.#shared !== null) this.#shared.release();
    const freed = this.#slotFreed;
    if (freed !== null) {
      this.#slotFreed = null;
      freed();
    }
    const next = this.#ready.shift();
    if (next !== undefined) {
      this.#waitingFreed?.();
      this.#startNow(next);
    }
    if (!this.#running) this.#m.uncount();
    conn.markEnded();
    if (!failed || isCancelled(error)) return;
    // Closed by the loop (stop's drain timeout, closeConnections): its errors are not the handler's
    if (conn.forced && isClosed(error)) return;
    if (error instanceof IoError) {
      error.addContext(`handling connection from ${Sockaddr.format(conn.addr)}`);
    }
    this.#o.onHandlerError(error, conn);
  }
}
