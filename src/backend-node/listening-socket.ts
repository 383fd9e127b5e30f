/**
 * `NodeListeningSocket`: a listening stream socket (TCP or Unix) of the Node backend, over a
 * `net.Server`, with a bounded queue for the connections libuv accepts while nobody is in
 * `accept()`.
 * @module
 */
import { lstat, unlink } from "node:fs/promises";
import {
  createServer,
  type ListenOptions as NodeListenOptions,
  type Server,
  type Socket,
} from "node:net";
import { dirname } from "node:path";
import {
  type CancelContext,
  type CancelHook,
  Cancelled,
  currentCancelContext,
  IoError,
  type ReleaseHandle,
  type Switch,
  suspend,
} from "../core/index.ts";
import { ListeningSocketBase } from "../net/listening-socket-base.ts";
import { checkSwitch } from "../net/net-base.ts";
import type { StreamAddr } from "../net/sockaddr.ts";
import type { AcceptOptions, ListenOptions, StreamSocket, TlsServerContext } from "../net/types.ts";
import { closedError, errorCode, toIoError } from "./errors.ts";
import { unixAddrOf } from "./native-addr.ts";
import { inetName, NodeStreamSocket, tcpAddrOf } from "./stream-socket.ts";
import { TlsAcceptor } from "./tls-accept.ts";
import { type HasUnixFd, handleFd, unixFd } from "./unix-fd.ts";

const kOwner = Symbol("weir.NodeListeningSocket");
type Owned = Server & { [kOwner]: NodeListeningSocket };

/** The listeners every server shares (set in {@link NodeListeningSocket}'s static block). */
let onListening: (this: Server) => void;
let onServerError: (this: Server, err: Error) => void;
let onConnection: (this: Server, raw: Socket) => void;

/**
 * A pending `accept()`: gets the next connection (attached to its switch), or fails when the
 * socket closes, or rejects with `Cancelled`. One small object per wait, no closures.
 */
class AcceptOp implements CancelHook {
  readonly #waiters: AcceptOp[];
  readonly #sw: Switch;
  readonly #cc: CancelContext;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #done = false;
  #resolve: (v: [StreamSocket, StreamAddr]) => void = noop;
  #reject: (e: unknown) => void = noop;
  readonly promise: Promise<[StreamSocket, StreamAddr]>;

  constructor(waiters: AcceptOp[], sw: Switch, cc: CancelContext, signal: AbortSignal | undefined) {
    this.#waiters = waiters;
    this.#sw = sw;
    this.#cc = cc;
    this.promise = new Promise<[StreamSocket, StreamAddr]>((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
    waiters.push(this);
    cc.addHook(this);
    if (signal !== undefined) {
      this.#signal = signal;
      this.#onAbort = () => this.cancelled(signal.reason);
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  #disarm(): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.#cc.removeHook(this);
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener("abort", this.#onAbort);
    return true;
  }

  /** Hands over a connection (the op has already been taken off the waiters). */
  give(sock: NodeStreamSocket): void {
    if (!this.#disarm()) {
      void sock.close();
      return;
    }
    try {
      this.#resolve(adopt(sock, this.#sw));
    } catch (e) {
      this.#reject(e);
    }
  }

  fail(err: unknown): void {
    if (this.#disarm()) this.#reject(err);
  }

  cancelled(reason: unknown): void {
    if (!this.#disarm()) return;
    const i = this.#waiters.indexOf(this);
    if (i >= 0) this.#waiters.splice(i, 1);
    this.#reject(new Cancelled(reason));
  }
}

function noop(): void {}

/**
 * Removes a stale Unix socket file at `path` (for `reuseAddr`): only if it is a socket; anything
 * else is left for `bind` to fail on (`AddressInUse`).
 */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (e) {
    if (errorCode(e) === "ENOENT") return;
    throw toIoError(e);
  }
  if (!isSocket) return;
  try {
    await unlink(path);
  } catch (e) {
    if (errorCode(e) !== "ENOENT") throw toIoError(e);
  }
}

/**
 * libuv reports a missing directory in a Unix socket path as EACCES (as Windows does): tell
 * it apart again, so that it is `NotFound`, as in Eio.
 */
async function unixListenError(e: unknown, path: string): Promise<unknown> {
  if (!(e instanceof IoError) || e.err.kind !== "PermissionDenied" || path.startsWith("\0")) {
    return e;
  }
  try {
    await lstat(dirname(path));
    return e;
  } catch (statErr) {
    if (errorCode(statErr) !== "ENOENT") return e;
    return new IoError({ kind: "NotFound", cause: e.err.cause });
  }
}

/**
 * A listening socket of the Node backend (TCP or Unix), made by `NodeNet.listen`.
 *
 * libuv accepts every connection as soon as it arrives and cannot be told to stop, so the
 * connections that arrive while nobody is waiting in `accept()` are held here, paused and
 * unread, in a queue bounded by the `backlog` (at least 1) — the role the kernel's backlog
 * plays in Eio. Beyond that bound a new connection is closed at once (the client sees its
 * connection reset or closed) and counted in {@link droppedConnections}.
 *
 * Accept errors do not close the socket. Out of file descriptors (EMFILE, ENFILE), libuv
 * handles it itself: it closes a spare descriptor, accepts and closes every waiting
 * connection, and takes the spare back, so it never spins and JS never hears of it; the
 * server serves again once descriptors free up. The errors libuv does pass on (ENOBUFS,
 * ENOMEM, ...: that connection is already gone) are counted in {@link acceptErrors} and the
 * socket goes on accepting.
 *
 * Closing it stops accepting, closes the queued connections, makes pending `accept`s fail with
 * `IoError` `Closed`, and (libuv does it) removes a Unix socket file; connections already
 * accepted stay open (their switches own them).
 * @example
 * ```ts
 * const listener = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 128 });
 * const [flow, addr] = await listener.accept({ sw });
 * ```
 */
export class NodeListeningSocket extends ListeningSocketBase implements HasUnixFd {
  readonly #server: Server;
  readonly #kind: "tcp" | "unix";
  #addr: StreamAddr;
  readonly #limit: number;
  #state: "starting" | "open" | "closing" | "closed" = "starting";
  #release: ReleaseHandle | null = null;
  #closing: Promise<void> | null = null;
  readonly #queue: NodeStreamSocket[] = [];
  readonly #waiters: AcceptOp[] = [];
  #listenWait: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  #dropped = 0;
  #acceptErrors = 0;
  #lastAcceptError: IoError | null = null;
  /** With `tls`: wraps each accepted connection. */
  #tls: TlsAcceptor | null = null;

  private constructor(server: Server, addr: StreamAddr, backlog: number) {
    super();
    this.#server = server;
    this.#kind = addr.type;
    this.#addr = addr;
    this.#limit = Math.max(1, backlog);
    (server as Owned)[kOwner] = this;
    server.on("connection", onConnection);
    server.on("error", onServerError);
    server.on("listening", onListening);
  }

  /**
   * Listens on `addr` (checked by `NetBase.listen`); the socket is attached to `opts.sw`.
   * TCP: port 0 picks a free port; Node always sets SO_REUSEADDR on TCP sockets, whatever
   * `reuseAddr` says; `reusePort` sets SO_REUSEPORT. Unix: a path starting with `"\0"` is an
   * abstract name; with `reuseAddr`, a stale socket file at the path is removed first (only
   * a socket: any other file makes the bind fail with `AddressInUse`).
   *
   * With `fd` (for `weir/unix`'s `importSocketListening`): listens on that existing socket
   * instead, whose address `addr` must be (`reuseAddr` and `reusePort` do not apply). Node
   * takes the fd over (closing it with the socket, or at once if `listen(2)` fails), unless it
   * cannot wrap it at all (not a stream socket): then it stays the caller's.
   * @throws IoError (`AddressInUse`, `PermissionDenied`, `NotFound` for a missing directory);
   *   Cancelled.
   * @example
   * ```ts
   * const l = await NodeListeningSocket.listen(Sockaddr.parse("tcp:127.0.0.1:0"), { sw, backlog: 5 });
   * ```
   */
  static async listen(
    addr: StreamAddr,
    opts: ListenOptions,
    fd?: number,
  ): Promise<NodeListeningSocket> {
    const { sw, backlog } = opts;
    const tls = opts.tls === undefined ? null : new TlsAcceptor(opts.tls);
    if (
      fd === undefined &&
      addr.type === "unix" &&
      opts.reuseAddr === true &&
      !addr.path.startsWith("\0")
    ) {
      await removeStaleSocket(addr.path);
    }
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
    const ls = new NodeListeningSocket(server, addr, backlog);
    ls.#tls = tls;
    ls.#release = sw.onRelease(() => ls.close());
    // listen(2)'s backlog hardly matters here (libuv accepts at once); Node reads 0 as "default"
    const listenOpts: NodeListenOptions =
      addr.type === "unix"
        ? { path: addr.path, backlog: Math.max(1, backlog) }
        : {
            host: addr.host.toString(),
            port: addr.port,
            backlog: Math.max(1, backlog),
            ...(opts.reusePort === true ? { reusePort: true } : {}),
          };
    try {
      await suspend<void>((resolve, reject) => {
        ls.#listenWait = { resolve, reject };
        try {
          // Node takes the backlog for an fd from the arguments, not the options
          if (fd !== undefined) server.listen({ fd }, Math.max(1, backlog));
          else server.listen(listenOpts);
        } catch (e) {
          ls.#listenWait = null;
          reject(e instanceof TypeError || e instanceof RangeError ? e : toIoError(e));
        }
        return () => {
          ls.#listenWait = null;
        };
      }, undefined);
    } catch (e) {
      await ls.close();
      throw addr.type === "unix" && fd === undefined ? await unixListenError(e, addr.path) : e;
    }
    return ls;
  }

  /** The underlying `net.Server` (for `weir/unix` and tests). */
  static server(ls: NodeListeningSocket): Server {
    return ls.#server;
  }

  static {
    // Listeners are shared functions, not closures per socket: `this` is the net.Server.
    onListening = function (this: Server): void {
      const self = (this as Owned)[kOwner];
      const w = self.#listenWait;
      self.#listenWait = null;
      if (self.#state === "starting") {
        self.#state = "open";
        if (self.#kind === "tcp") {
          const a = this.address();
          if (a !== null && typeof a === "object") self.#addr = tcpAddrOf(a.address, a.port);
        }
      }
      w?.resolve();
    };
    onServerError = function (this: Server, err: Error): void {
      const self = (this as Owned)[kOwner];
      const w = self.#listenWait;
      if (w !== null) {
        self.#listenWait = null;
        w.reject(toIoError(err));
        return;
      }
      // An accept error: libuv has already dropped that connection; the listener goes on.
      self.#acceptErrors++;
      self.#lastAcceptError = toIoError(err);
    };
    onConnection = function (this: Server, raw: Socket): void {
      (this as Owned)[kOwner].#connection(raw);
    };
  }

  #connection(raw: Socket): void {
    if (this.#state !== "open") {
      raw.destroy();
      return;
    }
    let peer: StreamAddr;
    if (this.#kind === "tcp") {
      const a = inetName(raw, "peer");
      if (a === undefined) {
        // Reset before we could even ask who it was
        this.#dropped++;
        raw.destroy();
        return;
      }
      peer = a;
    } else peer = unixAddrOf("");
    const init = {
      kind: this.#kind,
      peerAddr: peer,
      localAddr: this.#kind === "unix" ? this.#addr : undefined,
    };
    const sock = this.#tls === null ? new NodeStreamSocket(raw, init) : this.#tls.wrap(raw, init);
    const w = this.#waiters.shift();
    if (w !== undefined) w.give(sock);
    else if (this.#queue.length < this.#limit) this.#queue.push(sock);
    else {
      this.#dropped++;
      void sock.close();
    }
  }

  /**
   * Waits for a connection (or takes one from the queue) and attaches it to `opts.sw`.
   * @throws TypeError if `opts.sw` is missing; Cancelled if the calling fiber (or the switch,
   *   or `opts.signal`) is cancelled; IoError `Closed` if the socket is closed.
   */
  accept(opts: AcceptOptions): Promise<[StreamSocket, StreamAddr]> {
    checkSwitch(opts?.sw, "accept");
    const sw = opts.sw;
    try {
      sw.check();
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#state !== "open") return Promise.reject(closedError("accept"));
    const queued = this.#queue.shift();
    if (queued !== undefined) {
      try {
        return Promise.resolve(adopt(queued, sw));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const cc = currentCancelContext();
    if (cc.cancelled) return Promise.reject(new Cancelled(cc.reason));
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(new Cancelled(signal.reason));
    return new AcceptOp(this.#waiters, sw, cc, signal).promise;
  }

  /** The address listened on (with the port the OS chose, for port 0). */
  get listeningAddr(): StreamAddr {
    return this.#addr;
  }

  /**
   * Replaces the TLS certificates and settings for the handshakes that start from now on,
   * without closing the socket (certificate renewal).
   * @throws TypeError if the socket does not serve TLS, or for bad options; IoError `Tls`
   *   `Certificate` for a bad PEM (the old settings then stay).
   */
  setTlsContext(ctx: TlsServerContext): void {
    if (this.#tls === null) {
      throw new TypeError("setTlsContext: this listening socket does not serve TLS");
    }
    this.#tls.setContext(ctx);
  }

  /** How many connections were closed at once because the accept queue was full. */
  get droppedConnections(): number {
    return this.#dropped;
  }

  /** How many accept errors (ENOBUFS, ENOMEM, ...; not EMFILE: see above) it has survived. */
  get acceptErrors(): number {
    return this.#acceptErrors;
  }

  /** The last of those accept errors, or `null`. */
  get lastAcceptError(): IoError | null {
    return this.#lastAcceptError;
  }

  /** How many accepted connections wait in the queue for `accept()`. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Stops listening (the port or path is free when this returns), closes the queued
   * connections and fails pending `accept`s with `IoError` `Closed`. A second call waits for
   * the first.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#state = "closing";
    const release = this.#release;
    this.#release = null;
    release?.remove();
    // Closes the fd (and unlinks a Unix path) synchronously; the server object's own 'close'
    // event waits for every accepted connection, so it is not waited for.
    this.#server.close();
    const w = this.#listenWait;
    this.#listenWait = null;
    w?.reject(closedError("listen"));
    for (const waiter of this.#waiters.splice(0)) waiter.fail(closedError("accept"));
    const queued = this.#queue.splice(0);
    this.#closing = Promise.all(queued.map((s) => s.close())).then(() => {
      this.#state = "closed";
    });
    return this.#closing;
  }

  /** The listening fd (for `weir/unix`), or `undefined` once closed. */
  [unixFd](): number | undefined {
    if (this.#state !== "open") return undefined;
    return handleFd(this.#server);
  }
}

function adopt(sock: NodeStreamSocket, sw: Switch): [StreamSocket, StreamAddr] {
  NodeStreamSocket.attach(sock, sw);
  return [sock, sock.peerAddr];
}
