/**
 * `Tcp.Server` (Async's `Tcp.Server`): a listening socket with an accept loop, a connection
 * limit and a policy for handler errors, not tied to the caller's scope.
 * @module
 */
import { readFileSync } from "node:fs";
import { checkCount, show } from "../core/checks.ts";
import {
  Cancel,
  type CancelScope,
  type Clock,
  combineErrors,
  currentFiber,
  isCancelled,
  isIoError,
  type Switch,
} from "../core/index.ts";
import { type Monitor, raiseToMonitor } from "../core/monitor.ts";
import { callAfter, checkOptionalTimeout } from "../net/deadlines.ts";
import { checkBacklog, checkKeepAlive } from "../net/option-checks.ts";
import { type ServedConnection, ServeLoop } from "../net/serve-loop.ts";
import { type ServerStats, serverStats } from "../net/server-stats.ts";
import { Sockaddr, type StreamAddr } from "../net/sockaddr.ts";
import type {
  KeepAlive,
  ListeningSocket,
  Net,
  StreamSocket,
  TlsListenOptions,
} from "../net/types.ts";
import {
  checkReaderWriterConfig,
  type ReaderWriterConfig,
  withReaderWriter,
} from "./connection.ts";
import { deferred } from "./deferred.ts";
import { resolveClock, resolveNet, type TcpEnvOptions } from "./env.ts";
import { daemonOwner, detachedOwner, type Owner } from "./owner.ts";
import type { Reader } from "./reader.ts";
import type { WhereToListen } from "./where-to-listen.ts";
import type { Writer } from "./writer.ts";

/**
 * What a server does when a connection handler fails (Async's `on_handler_error`):
 * - `"raise"`: stop accepting and close the listening socket (connections already accepted go
 *   on), and raise the error: it fails the server's `sw` if it has one; else, inside `run()`,
 *   `run()` rejects with it (its body is cancelled), and outside any run it is an uncaught
 *   exception of the process, as Async raises to the main monitor. `closeFinished` (and
 *   `close()`) reject with it too; never an unhandled promise rejection;
 * - `"ignore"`: nothing;
 * - `{ call(addr, err) }`: call it; if it throws, that error is raised as with `"raise"`.
 *
 * `Cancelled`, and a peer that went away (`IoError` `ConnectionReset`: EPIPE, ECONNRESET),
 * are normal ends, never handler errors.
 */
export type OnHandlerError<A extends StreamAddr = StreamAddr> =
  | "raise"
  | "ignore"
  | { call(addr: A, err: unknown): void };

/** Options of {@link Server.createSock}. */
export interface ServerOptions<A extends StreamAddr = StreamAddr> extends TcpEnvOptions {
  /** What to do when a handler fails. Required, as in Async. */
  readonly onHandlerError: OnHandlerError<A>;
  /**
   * At most this many connections are handled at once; while full, the server does not
   * accept (clients wait, unread, in the backlog) and warns at most once a minute.
   * Default: max(10 000, 90% of the process's file descriptor limit), as Async.
   */
  readonly maxConnections?: number | undefined;
  /**
   * How many pending connections are taken into handlers before the accept loop lets other
   * fibers run (Async's `max_accepts_per_batch`). Default 1.
   */
  readonly maxAcceptsPerBatch?: number | undefined;
  /** How many connections may wait in the kernel to be accepted (listen(2)). Default 1024. */
  readonly backlog?: number | undefined;
  /**
   * Serve on this listening socket instead of listening on the `where` address (its
   * `listeningAddr` gives `listeningOn`). The server closes it when it closes.
   */
  readonly socket?: ListeningSocket | undefined;
  /**
   * Run the server as a daemon of this switch: the switch closes it (and its connections)
   * once everything else in it has finished, and `"raise"` fails the switch. Default: the
   * server belongs to nobody and runs until `close()`, as in Async.
   */
  readonly sw?: Switch | undefined;
  /**
   * Where warnings go (at limit, accept failures, connections that failed their set-up under
   * `"raise"`). Default: `process.emitWarning`.
   */
  readonly onWarning?: ((message: string) => void) | undefined;
  /**
   * Serve TLS (see `net.listen`'s `tls`): each connection's handshake runs in its fiber before
   * the handler, and a failed one goes to `onHandlerError` (`"raise"`: a warning, since it is
   * the peer's fault), never to the handler.
   */
  readonly tls?: TlsListenOptions | undefined;
  /**
   * Listen behind a load balancer (see `net.listen`'s `proxyProtocol`): each connection's
   * PROXY header is read in its fiber before the handler, which gets the client's address; a
   * missing or malformed header goes to `onHandlerError` (`"raise"`: a warning), never to the
   * handler.
   */
  readonly proxyProtocol?: "v1" | "v2" | "any" | undefined;
  /**
   * Close a connection when no byte has moved either way for this many ms: its blocked read
   * or write rejects with `IoError` `Timeout` `idle`, which ends the handler as a normal end
   * (not a handler error). Default: none.
   */
  readonly idleTimeout?: number | undefined;
  /**
   * The ms a new connection has to send its first `headerBytes` bytes; it waits for them
   * without holding a `maxConnections` slot (slow peers queue, the server keeps answering),
   * and is closed if they are late. Default: none.
   */
  readonly headerTimeout?: number | undefined;
  /** How many bytes `headerTimeout` waits for (an integer from 1 to 65 536). Default 1. */
  readonly headerBytes?: number | undefined;
  /** TCP keep-alive probes on every connection (see `net.listen`'s `keepAlive`). Default: off. */
  readonly keepAlive?: KeepAlive | undefined;
}

/** Options of {@link Server.create}. */
export interface CreateServerOptions<A extends StreamAddr = StreamAddr>
  extends ServerOptions<A>,
    ReaderWriterConfig {}

/** Options of {@link Server.close}. */
export interface ServerCloseOptions {
  /**
   * Also close every connection: their sockets are closed and their handlers cancelled, and
   * `close()` resolves once all have finished. Default `false`: they go on.
   */
  readonly closeExistingConnections?: boolean | undefined;
  /**
   * Let running connections go on for at most this many ms, then close them as
   * `closeExistingConnections` does; `close()` then resolves once all have finished.
   * Default: no limit.
   */
  readonly drainTimeout?: number | undefined;
}

/** A `createSock` handler: the peer's address and the connected socket (closed when it returns). */
export type SockHandler<A extends StreamAddr = StreamAddr> = (
  addr: A,
  socket: StreamSocket,
) => void | Promise<void>;

/** A `create` handler: the peer's address, a reader and a writer (closed when it returns). */
export type ReaderWriterHandler<A extends StreamAddr = StreamAddr> = (
  addr: A,
  reader: Reader,
  writer: Writer,
) => void | Promise<void>;

/** How often, at most, the server repeats a warning. */
const WARNING_INTERVAL = 60_000;
const DEFAULT_BACKLOG = 1024;
const RESOLVED: Promise<void> = Promise.resolve();

let defaultMax: number | undefined;

/**
 * Async's default `maxConnections`: max(10 000, 90% of the soft limit on open files), read from
 * `/proc/self/limits` (10 000 where it cannot be read).
 * @example
 * ```ts
 * defaultMaxConnections(); // 943718 with a limit of 1048576
 * ```
 */
export function defaultMaxConnections(): number {
  if (defaultMax === undefined) {
    let limit = 0;
    try {
      const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
      if (m !== null) limit = Number(m[1]);
    } catch {
      // not Linux: keep Async's floor
    }
    defaultMax = Math.max(10_000, Math.floor(0.9 * limit));
  }
  return defaultMax;
}

function checkedKeepAlive(v: unknown): KeepAlive | undefined {
  checkKeepAlive(v);
  return v;
}

/** Checks `headerBytes` (an integer from 1 to 65 536, held unread by the header phase). */
function checkHeaderBytes(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = checkCount("headerBytes", v);
  if (n > 65_536) throw new RangeError(`headerBytes must be <= 65536, got ${n}`);
  return n;
}

function message(e: unknown): string {
  return e instanceof Error ? (e.message.split("\n")[0] ?? "") : String(e);
}

function defaultWarning(m: string): void {
  process.emitWarning(m, { type: "TcpServerWarning" });
}

/** The reason handlers are cancelled with by `close({ closeExistingConnections: true })`. */
class ServerClosed extends Error {
  constructor() {
    super("Tcp.Server closed with closeExistingConnections");
    this.name = "ServerClosed";
  }
}

interface Config<A extends StreamAddr> {
  readonly net: Net | undefined;
  readonly clock: Clock;
  readonly onHandlerError: OnHandlerError<A>;
  readonly maxConnections: number;
  readonly maxAcceptsPerBatch: number;
  readonly backlog: number;
  readonly socket: ListeningSocket | undefined;
  readonly sw: Switch | undefined;
  readonly warn: (message: string) => void;
  readonly tls: TlsListenOptions | undefined;
  readonly proxyProtocol: "v1" | "v2" | "any" | undefined;
  readonly idleTimeout: number | undefined;
  readonly headerTimeout: number | undefined;
  readonly headerBytes: number | undefined;
  readonly keepAlive: KeepAlive | undefined;
}

function checkOptions<A extends StreamAddr>(
  where: WhereToListen<A, unknown>,
  opts: ServerOptions<A>,
  what: string,
): Config<A> {
  if (typeof opts !== "object" || opts === null) {
    throw new TypeError(`${what}: options with onHandlerError are required, got ${show(opts)}`);
  }
  const h = opts.onHandlerError;
  if (h === undefined) {
    throw new TypeError(
      `${what}: option onHandlerError is required ("raise", "ignore" or { call(addr, err) })`,
    );
  }
  if (
    h !== "raise" &&
    h !== "ignore" &&
    (typeof h !== "object" || h === null || typeof h.call !== "function")
  ) {
    throw new TypeError(
      `onHandlerError must be "raise", "ignore" or { call(addr, err) }, got ${show(h)}`,
    );
  }
  const socket = opts.socket;
  if (socket !== undefined && typeof socket?.accept !== "function") {
    throw new TypeError(`socket must be a ListeningSocket, got ${show(socket)}`);
  }
  if (
    socket === undefined &&
    (typeof where !== "object" || where === null || typeof where.listeningOn !== "function")
  ) {
    throw new TypeError(
      `where must be a Tcp.WhereToListen (made by Tcp.WhereToListen.onPort, ...), got ${show(where)}`,
    );
  }
  const backlog = opts.backlog === undefined ? DEFAULT_BACKLOG : checkBacklog(opts.backlog);
  const sw = opts.sw;
  if (sw !== undefined && typeof sw?.onRelease !== "function") {
    throw new TypeError(`${what}: option sw must be a Switch`);
  }
  const warn = opts.onWarning ?? defaultWarning;
  if (typeof warn !== "function") {
    throw new TypeError(`onWarning must be a function, got ${show(warn)}`);
  }
  return {
    net: socket === undefined ? resolveNet(opts, what) : undefined,
    clock: resolveClock(opts, what),
    onHandlerError: h,
    maxConnections:
      opts.maxConnections === undefined
        ? defaultMaxConnections()
        : checkCount("maxConnections", opts.maxConnections),
    maxAcceptsPerBatch: checkCount("maxAcceptsPerBatch", opts.maxAcceptsPerBatch ?? 1),
    backlog,
    socket,
    sw,
    warn,
    tls: opts.tls,
    proxyProtocol: opts.proxyProtocol,
    idleTimeout: checkOptionalTimeout("idleTimeout", opts.idleTimeout),
    headerTimeout: checkOptionalTimeout("headerTimeout", opts.headerTimeout),
    headerBytes: checkHeaderBytes(opts.headerBytes),
    keepAlive: checkedKeepAlive(opts.keepAlive),
  };
}

/**
 * A TCP (or Unix-socket) server (Async's `Tcp.Server.t`): made by {@link Server.create} (the
 * handler gets a reader and a writer) or {@link Server.createSock} (the handler gets the
 * socket). Each connection is handled in its own fiber; the socket (and reader and writer) is
 * closed when the handler returns or throws. TCP_NODELAY is on for every connection.
 *
 * The server belongs to nobody (as in Async) unless given `sw`: it runs until `close()`, and
 * its fibers run in a switch of its own, so `close({ closeExistingConnections: true })`
 * resolves only when no fiber of the server is left. Accept errors (EMFILE and kin) make the
 * accept loop back off and retry, with a warning at most once a minute: a server never stops
 * on its own, except by `onHandlerError: "raise"`.
 * @example
 * ```ts
 * await run(async (env) => {
 *   const server = await Tcp.Server.create(
 *     Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" }),
 *     async (addr, reader, writer) => {
 *       for await (const line of reader.lines()) writer.write(`${line}\n`);
 *     },
 *     { net: env.net, onHandlerError: "raise" },
 *   );
 *   traceln("listening on port %d", server.listeningOn);
 *   await server.close({ closeExistingConnections: true });
 * });
 * ```
 */
export class Server<A extends StreamAddr = StreamAddr, L = unknown> implements AsyncDisposable {
  readonly #listener: ListeningSocket;
  readonly #owner: Owner;
  readonly #parent: Switch | undefined;
  readonly #address: A;
  readonly #listeningOn: L;
  readonly #clock: Clock;
  readonly #max: number;
  readonly #maxAccepts: number;
  readonly #onHandlerError: OnHandlerError<A>;
  readonly #warn: (message: string) => void;
  readonly #loop: ServeLoop;
  #state: "listening" | "closing" | "closed" = "listening";
  #drop = false;
  #acceptScope: CancelScope | null = null;
  #acceptRunning = false;
  #acceptDone: Promise<void> = RESOLVED;
  readonly #closeFinished = deferred<void>();
  /** Where `"raise"` goes without `sw`: the monitor of the `run()` the server was made in. */
  readonly #monitor: Monitor | undefined = currentFiber().monitor;
  #closeAll: Promise<void> | null = null;
  #hasError = false;
  #error: unknown = undefined;
  #lastLimitWarning = -Infinity;
  #lastSetupWarning = Number.NEGATIVE_INFINITY;
  #lastAcceptWarning = -Infinity;

  private constructor(
    listener: ListeningSocket,
    owner: Owner,
    cfg: Config<A>,
    listeningOn: L,
    serveConn: (conn: ServedConnection) => void | Promise<void>,
  ) {
    this.#listener = listener;
    this.#owner = owner;
    this.#parent = cfg.sw;
    this.#address = listener.listeningAddr as A;
    this.#listeningOn = listeningOn;
    this.#clock = cfg.clock;
    this.#max = cfg.maxConnections;
    this.#maxAccepts = cfg.maxAcceptsPerBatch;
    this.#onHandlerError = cfg.onHandlerError;
    this.#warn = cfg.warn;
    this.#loop = new ServeLoop({
      sw: owner.sw,
      handler: (_sock, _addr, conn) => serveConn(conn),
      limit: cfg.maxConnections,
      maxAcceptsPerBatch: cfg.maxAcceptsPerBatch,
      onHandlerError: (e, conn) => this.#handlerFailed(conn, e),
      onAcceptError: (e, failures) => this.#backOff(e, failures),
      onAtLimit: () => this.#atLimit(),
      dropIncoming: () => this.#drop,
      noDelay: true,
      cancellable: true,
      idleTimeout: cfg.idleTimeout,
      headerTimeout: cfg.headerTimeout,
      headerBytes: cfg.headerBytes,
    });
    // The error is raised to the monitor too: an unobserved closeFinished is no failure
    this.#closeFinished.promise.catch(() => {});
  }

  /**
   * Starts a server on `where` whose handler gets the peer's address and the socket (Async's
   * `Tcp.Server.create_sock`). Resolves once the server accepts connections. The socket is
   * closed when the handler returns or throws.
   * @throws IoError (`AddressInUse`, `PermissionDenied`, `NotFound`...) with the context
   *   `listening on ADDR`; TypeError/RangeError for bad arguments (`onHandlerError` is
   *   required; `maxConnections` must be > 0), or if there is no `net`.
   * @example
   * ```ts
   * const server = await Tcp.Server.createSock(
   *   Tcp.WhereToListen.onFile("/tmp/echo.sock"),
   *   async (_addr, socket) => Flow.copy(socket, socket),
   *   { net: env.net, onHandlerError: "ignore" },
   * );
   * ```
   */
  static async createSock<A extends StreamAddr, L>(
    where: WhereToListen<A, L>,
    handler: SockHandler<A>,
    opts: ServerOptions<A>,
  ): Promise<Server<A, L>> {
    if (typeof handler !== "function") {
      throw new TypeError(`handler must be a function, got ${show(handler)}`);
    }
    const cfg = checkOptions(where, opts, "Tcp.Server.createSock");
    // Not an async function: an idle connection holds no frame of ours
    return await Server.#open(where, cfg, (conn) => handler(conn.addr as A, conn.sock));
  }

  /**
   * Starts a server on `where` whose handler gets the peer's address, a reader and a writer
   * (Async's `Tcp.Server.create`). When the handler returns or throws, the writer is closed
   * (flushing it, for at most 30 s), then the reader and the socket. A writer whose data gets
   * older than `bufferAgeLimit` (its peer does not read) fails the handler: it is cancelled
   * and the {@link WriterBufferAgeExceeded} error goes to `onHandlerError`.
   * @throws as {@link createSock}; RangeError/TypeError for a bad `readerBufferSize` or
   *   `bufferAgeLimit`.
   * @example
   * ```ts
   * const server = await Tcp.Server.create(
   *   Tcp.WhereToListen.onPort(8080),
   *   async (addr, reader, writer) => {
   *     const name = await reader.readLine();
   *     writer.write(`hello, ${name}\n`);
   *   },
   *   { onHandlerError: { call: (addr, e) => traceln("%s: %s", Sockaddr.format(addr), e) } },
   * );
   * ```
   */
  static async create<A extends StreamAddr, L>(
    where: WhereToListen<A, L>,
    handler: ReaderWriterHandler<A>,
    opts: CreateServerOptions<A>,
  ): Promise<Server<A, L>> {
    if (typeof handler !== "function") {
      throw new TypeError(`handler must be a function, got ${show(handler)}`);
    }
    const cfg = checkOptions(where, opts, "Tcp.Server.create");
    checkReaderWriterConfig(opts);
    const rw = {
      clock: cfg.clock,
      readerBufferSize: opts.readerBufferSize,
      readerMaxLine: opts.readerMaxLine,
      writerMaxBuffered: opts.writerMaxBuffered,
      bufferAgeLimit: opts.bufferAgeLimit,
    };
    return await Server.#open(where, cfg, (conn) =>
      withReaderWriter(
        conn.sock,
        () => conn.sock.close(),
        { ...rw, peer: () => Sockaddr.format(conn.addr), cancel: (e) => conn.cancel(e) },
        (reader, writer) => handler(conn.addr as A, reader, writer),
      ),
    );
  }

  static async #open<A extends StreamAddr, L>(
    where: WhereToListen<A, L>,
    cfg: Config<A>,
    serveConn: (conn: ServedConnection) => void | Promise<void>,
  ): Promise<Server<A, L>> {
    const owner = cfg.sw !== undefined ? daemonOwner(cfg.sw) : detachedOwner();
    let listener: ListeningSocket | undefined;
    let server: Server<A, L>;
    try {
      listener =
        cfg.socket ??
        (await (cfg.net as Net).listen(where.address, {
          sw: owner.sw,
          backlog: cfg.backlog,
          reuseAddr: true, // TCP: as Node does anyway; Unix: reclaims a stale socket file
          ...(cfg.keepAlive === undefined ? {} : { keepAlive: cfg.keepAlive }),
          ...(cfg.tls === undefined ? {} : { tls: cfg.tls }),
          ...(cfg.proxyProtocol === undefined ? {} : { proxyProtocol: cfg.proxyProtocol }),
        }));
      const listeningOn = where.listeningOn(listener.listeningAddr as A);
      // (a TLS socket's handshake runs in the serve loop, before serveConn)
      server = new Server<A, L>(listener, owner, cfg, listeningOn, serveConn);
    } catch (e) {
      if (listener !== undefined) await listener.close().catch(() => {});
      owner.stop();
      await owner.finished.catch(() => {});
      throw e;
    }
    server.#start();
    return server;
  }

  #start(): void {
    this.#owner.finished.then(
      () => this.#ownerFinished(undefined),
      (e: unknown) => this.#ownerFinished(e),
    );
    this.#acceptRunning = true;
    this.#acceptDone = this.#owner.sw
      .forkPromise(() => this.#acceptLoop())
      .catch((e: unknown) => {
        if (!isCancelled(e)) this.#raise(e);
      })
      .finally(() => {
        this.#acceptRunning = false;
      });
  }

  /** The server's switch has finished: every handler has ended and the listener is closed. */
  #ownerFinished(e: unknown): void {
    if (e !== undefined && !isCancelled(e)) this.#recordError(e);
    if (this.#state === "listening") this.#state = "closing";
    this.#markClosed();
  }

  #recordError(e: unknown): void {
    if (this.#hasError) this.#error = combineErrors(this.#error, e);
    else {
      this.#hasError = true;
      this.#error = e;
    }
  }

  #markClosed(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    if (this.#hasError && this.#parent === undefined) this.#closeFinished.reject(this.#error);
    else this.#closeFinished.resolve();
  }

  async #acceptLoop(): Promise<void> {
    try {
      await Cancel.sub(async (scope) => {
        this.#acceptScope = scope;
        await this.#loop.run(this.#listener);
      });
    } catch (e) {
      if (isCancelled(e) || this.#state !== "listening") return;
      if (isIoError(e, "Closed")) {
        this.#warn(
          `Tcp.Server on ${Sockaddr.format(this.#address)}: its listening socket was closed; the server is closing`,
        );
        this.#beginClose();
        return;
      }
      throw e;
    }
  }

  #atLimit(): void {
    const now = this.#clock.now();
    if (now - this.#lastLimitWarning < WARNING_INTERVAL) return;
    this.#lastLimitWarning = now;
    this.#warn(
      `Tcp.Server on ${Sockaddr.format(this.#address)} is at its limit of ${this.#max} connections (maxConnections): new clients wait until one closes`,
    );
  }

  /** After an accept error (EMFILE and kin): waits, longer after each failure in a row. */
  async #backOff(e: unknown, failures: number): Promise<void> {
    if (this.#state !== "listening") throw e;
    const delay = Math.min(1000, 10 * 2 ** Math.min(failures - 1, 7));
    const now = this.#clock.now();
    if (now - this.#lastAcceptWarning >= WARNING_INTERVAL) {
      this.#lastAcceptWarning = now;
      this.#warn(
        `Tcp.Server on ${Sockaddr.format(this.#address)}: accept failed, retrying in ${delay} ms: ${message(e)}`,
      );
    }
    await this.#clock.sleep(delay);
  }

  #handlerFailed(conn: ServedConnection, e: unknown): void {
    if (isIoError(e, "ConnectionReset") || isIoError(e, "Timeout")) return;
    if (conn.forced && isIoError(e, "Closed")) return;
    const h = this.#onHandlerError;
    if (h === "ignore") return;
    if (h === "raise") {
      // A peer that failed its TLS handshake or sent no valid PROXY header is no handler's
      // error: a plain-text client must not stop a "raise" server. Warned (once a minute).
      if (isIoError(e, "Tls") || isIoError(e, "ProxyProtocol")) {
        this.#setupFailed(e);
        return;
      }
      this.#raise(e);
      return;
    }
    try {
      h.call(conn.addr as A, e);
    } catch (e2) {
      this.#raise(e2);
    }
  }

  #setupFailed(e: unknown): void {
    const now = this.#clock.now();
    if (now - this.#lastSetupWarning < WARNING_INTERVAL) return;
    this.#lastSetupWarning = now;
    this.#warn(
      `Tcp.Server on ${Sockaddr.format(this.#address)}: a connection failed its set-up (not raised: the peer's fault, not the handler's): ${message(e)}`,
    );
  }

  /**
   * Raises `err` (Async: to the monitor the server was created in) and closes the listener:
   * with `sw`, it fails `sw`; else it goes to the monitor of the `run()` the server was made in
   * (which rejects with it), or, outside any run, it is an uncaught exception. `closeFinished`
   * also rejects with it (marked handled: never an unhandled rejection).
   */
  #raise(err: unknown): void {
    const parent = this.#parent;
    if (parent !== undefined) {
      try {
        parent.fail(err);
      } catch {
        // The parent has finished: it cannot, while the server runs in it
      }
      this.#beginClose();
      return;
    }
    raiseToMonitor(this.#monitor, err);
    if (this.#state === "closed") return;
    this.#recordError(err);
    this.#beginClose();
  }

  #beginClose(): void {
    if (this.#state !== "listening") return;
    this.#state = "closing";
    this.#acceptScope?.cancel(new ServerClosed());
    void this.#finishClose();
  }

  async #finishClose(): Promise<void> {
    try {
      await Cancel.protect(() => this.#listener.close());
    } catch (e) {
      this.#recordError(e);
    }
    await this.#acceptDone;
    this.#markClosed();
    // The server's switch finishes once the remaining handlers have
    this.#owner.stop();
  }

  /**
   * Stops accepting and closes the listening socket; resolves once it is closed (and, with
   * `closeExistingConnections`, once every connection is closed and its handler has finished).
   * The handler is never called after `close()`. Idempotent: later calls return the same
   * promise (a call from inside one of the server's handlers gets its own promise, which does
   * not wait for that handler).
   * @throws (as a rejection) the error raised by a handler with `onHandlerError: "raise"` (or
   *   a `call` that threw), if the server has no `sw`.
   * @example
   * ```ts
   * await server.close({ closeExistingConnections: true });
   * server.numConnections; // 0
   * ```
   */
  close(opts: ServerCloseOptions = {}): Promise<void> {
    const drain = checkOptionalTimeout("drainTimeout", opts?.drainTimeout);
    this.#beginClose();
    const listenerClosed = this.#closeFinished.promise;
    if (drain !== undefined && opts?.closeExistingConnections !== true) {
      return this.#drain(drain, listenerClosed);
    }
    if (opts?.closeExistingConnections !== true) return listenerClosed;
    const self = this.#loop.current();
    const inside = self !== undefined;
    if (!inside && this.#closeAll !== null) return this.#closeAll;
    this.#loop.closeConnections(new ServerClosed());
    const handlers = [...this.#loop.connections]
      .filter((c) => c !== self)
      .map((c) => c.whenEnded());
    const all = Promise.allSettled([listenerClosed, Promise.all(handlers)]).then(([r]) => {
      if (r.status === "rejected") throw r.reason;
    });
    if (!inside) this.#closeAll = all;
    return all;
  }

  /** `close({ drainTimeout })`: waits for the connections, closing those left after `ms`. */
  #drain(ms: number, listenerClosed: Promise<void>): Promise<void> {
    const self = this.#loop.current();
    const ended = (): Promise<unknown> =>
      Promise.all([...this.#loop.connections].filter((c) => c !== self).map((c) => c.whenEnded()));
    const cancelTimer = callAfter(this.#clock, ms, () => {
      this.#loop.closeConnections(new ServerClosed());
    });
    return Promise.allSettled([listenerClosed, ended()]).then(([r]) => {
      cancelTimer();
      if (r.status === "rejected") throw r.reason;
    });
  }

  /**
   * Settles once the listening socket is closed, without closing it (Async's
   * `close_finished`). Rejects as {@link close} does.
   */
  get closeFinished(): Promise<void> {
    return this.#closeFinished.promise;
  }

  /** Whether the server is closing or closed (`close()` was called, or a handler raised). */
  get isClosed(): boolean {
    return this.#state !== "listening";
  }

  /** What the server listens on: the port (`onPort`), or the path (`onFile`). */
  get listeningOn(): L {
    return this.#listeningOn;
  }

  /** The address the server listens on (with the port the OS chose). */
  get listeningOnAddress(): A {
    return this.#address;
  }

  /**
   * The listening socket. Accepting on it directly bypasses `maxConnections` and
   * `onHandlerError`: use with care.
   */
  get listeningSocket(): ListeningSocket {
    return this.#listener;
  }

  /** How many connections are being handled now. */
  get numConnections(): number {
    return this.#loop.numConnections;
  }

  /**
   * The server's figures since it started: connections open, waiting, accepted, closed,
   * refused, timed out; how often it was full; errors; bytes in and out. The same object
   * `Net.serverStats(server.listeningSocket)` returns (see docs/metrics.md).
   * @example
   * ```ts
   * const { open, accepted, bytesIn, bytesOut } = server.stats();
   * ```
   */
  stats(): ServerStats {
    return serverStats(this.#listener);
  }

  /** The connection limit. */
  get maxConnections(): number {
    return this.#max;
  }

  /**
   * Whether each new connection is accepted and closed at once (a "pause": clients see their
   * connection closed rather than hanging in the backlog). The accept loop goes on at full
   * speed meanwhile. Off by default.
   * @throws TypeError if `drop` is not a boolean.
   * @example
   * ```ts
   * server.setDropIncomingConnections(true); // maintenance
   * ```
   */
  setDropIncomingConnections(drop: boolean): void {
    if (typeof drop !== "boolean") {
      throw new TypeError(`drop must be a boolean, got ${show(drop)}`);
    }
    this.#drop = drop;
  }

  /**
   * Checks the server's internal consistency (Async's `invariant`).
   * @throws Error naming what is wrong.
   */
  invariant(): void {
    const fail = (what: string): never => {
      throw new Error(`Tcp.Server invariant failed: ${what}`);
    };
    const n = this.#loop.numConnections;
    if (n > this.#max) fail(`numConnections ${n} > maxConnections ${this.#max}`);
    for (const c of this.#loop.connections) if (c.ended) fail("a connection that has ended");
    if (this.#state === "closed" && this.#acceptRunning) fail("closed, yet still accepting");
  }

  /** A plain description: where it listens, its state and its connections. */
  toJSON(): {
    listeningOn: L;
    listeningOnAddress: string;
    state: "listening" | "closing" | "closed";
    numConnections: number;
    maxConnections: number;
    maxAcceptsPerBatch: number;
    dropIncomingConnections: boolean;
  } {
    return {
      listeningOn: this.#listeningOn,
      listeningOnAddress: Sockaddr.format(this.#address),
      state: this.#state,
      numConnections: this.#loop.numConnections,
      maxConnections: this.#max,
      maxAcceptsPerBatch: this.#maxAccepts,
      dropIncomingConnections: this.#drop,
    };
  }

  /** `Tcp.Server(tcp:127.0.0.1:40222, listening, 3 connections)`. */
  toString(): string {
    return `Tcp.Server(${Sockaddr.format(this.#address)}, ${this.#state}, ${this.#loop.numConnections} connections)`;
  }

  /** Closes the server and every connection: `close({ closeExistingConnections: true })`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close({ closeExistingConnections: true });
  }
}
