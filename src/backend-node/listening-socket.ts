/**
 * `NodeListeningSocket`: a listening stream socket (TCP or Unix) of the Node backend, over a
 * `net.Server`, with a bounded queue for the connections libuv accepts while nobody is in
 * `accept()`.
 * @module
 */
import {
  createServer,
  type ListenOptions as NodeListenOptions,
  type Server,
  type Socket,
} from "node:net";
import {
  Cancelled,
  currentCancelContext,
  type IoError,
  type ReleaseHandle,
  type Switch,
  suspend,
} from "../core/index.ts";
import { Operation } from "../core/operation.ts";
import { runtimeHas } from "../core/runtime.ts";
import { checkOptionalTimeout } from "../net/deadlines.ts";
import { ListeningSocketBase } from "../net/listening-socket-base.ts";
import { checkSwitch, DEFAULT_ACCEPT_QUEUE, DEFAULT_BACKLOG } from "../net/net-base.ts";
import type { StreamAddr, UnixAddr } from "../net/sockaddr.ts";
import type { AcceptOptions, ListenOptions, StreamSocket, TlsServerContext } from "../net/types.ts";
import { AcceptRearm } from "./accept-rearm.ts";
import { closedError, toIoError } from "./errors.ts";
import { keepAliveApplier } from "./keep-alive.ts";
import { NativeAddonUnavailable } from "./native.ts";
import { unixAddrOf } from "./native-addr.ts";
import { inetName, tcpAddrOf } from "./socket-names.ts";
import { NodeStreamSocket } from "./stream-socket.ts";
import { TlsAcceptor } from "./tls-accept.ts";
import { type HasUnixFd, handleFd, unixFd } from "./unix-fd.ts";
import {
  bindError,
  bindUnix,
  isAbstract,
  loadNative,
  removeSocketFile,
  type SocketFileId,
} from "./unix-path.ts";
import { chmodSocketFile, reclaimStaleSocketWithoutAddon } from "./unix-path-fallback.ts";

const kOwner = Symbol("weir.NodeListeningSocket");
type Owned = Server & { [kOwner]: NodeListeningSocket };

/** The listeners every server shares (set in {@link NodeListeningSocket}'s static block). */
let onListening: (this: Server) => void;
let onServerError: (this: Server, err: Error) => void;
let onConnection: (this: Server, raw: Socket) => void;

/**
 * A pending `accept()`: gets the next connection (attached to its switch), or fails when the
 * socket closes, or rejects with `Cancelled` (leaving the waiters). One small object per wait.
 */
class AcceptOp extends Operation<[StreamSocket, StreamAddr]> {
  readonly #waiters: AcceptOp[];
  readonly #sw: Switch;
  readonly #idle: number | undefined;

  constructor(waiters: AcceptOp[], sw: Switch, idle: number | undefined) {
    super();
    this.#waiters = waiters;
    this.#sw = sw;
    this.#idle = idle;
  }

  /** Hands over a connection (the op has already been taken off the waiters). */
  give(sock: NodeStreamSocket): void {
    if (!this.pending) {
      void sock.close();
      return;
    }
    let accepted: [StreamSocket, StreamAddr];
    try {
      accepted = adopt(sock, this.#sw, this.#idle);
    } catch (e) {
      this.fail(e);
      return;
    }
    this.settle(accepted);
  }

  protected override abort(): void {
    const i = this.#waiters.indexOf(this);
    if (i >= 0) this.#waiters.splice(i, 1);
  }
}

/**
 * A listening socket of the Node backend (TCP or Unix), made by `NodeNet.listen`.
 *
 * libuv accepts every connection as soon as it arrives and cannot be told to stop, so the
 * connections that arrive while nobody is waiting in `accept()` are held here, paused and
 * unread, in a queue bounded by `acceptQueue` (default 4096), apart from the kernel's
 * `backlog` (default 1024): a client of a server at its connection limit waits there, its
 * connection open and its bytes unread, as it would in the kernel's queue under Eio. Beyond
 * that bound a new connection is closed at once (the client sees its connection reset or
 * closed) and counted in {@link droppedConnections}.
 *
 * Accept errors do not close the socket. Out of file descriptors (EMFILE, ENFILE), libuv
 * handles it itself: it closes a spare descriptor, accepts and closes every waiting
 * connection, and takes the spare back, so it never spins and JS never hears of it; the
 * server serves again once descriptors free up. The errors libuv does pass on (ENOBUFS,
 * ENOMEM, ...: that connection is already gone) are counted in {@link acceptErrors} and the
 * socket goes on accepting. Bun and Deno leave the waiting connections in the kernel's queue
 * instead, served once descriptors free up; Deno's server would stop accepting for good after
 * such an error, so there the accept is re-armed ({@link AcceptRearm}).
 *
 * Closing it stops accepting, closes the queued connections, makes pending `accept`s fail with
 * `IoError` `Closed`, and removes the Unix socket file it made, if the path still names that
 * socket (same device and inode: a file put there since is left alone); connections already
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
  /** The socket file this socket made (removed on close if still the same), if any. */
  #file: SocketFileId | undefined = undefined;
  /** Applies the `keepAlive` option to each accepted TCP connection, if given. */
  #keepAlive: ((raw: Socket) => void) | undefined = undefined;
  /** With `tls`: wraps each accepted connection. */
  #tls: TlsAcceptor | null = null;
  /** {@link stopAccepting} was called: this process takes no more connections from the kernel. */
  #stopped = false;
  /** The waiters of {@link stopAccepting} for the queue to empty. */
  #drained: Array<() => void> = [];
  /** Where the runtime stops accepting after an accept error (Deno): re-arms it. */
  #rearm: AcceptRearm | null = null;

  private constructor(server: Server, addr: StreamAddr, acceptQueue: number) {
    super();
    this.#server = server;
    this.#kind = addr.type;
    this.#addr = addr;
    this.#limit = Math.max(1, acceptQueue);
    (server as Owned)[kOwner] = this;
    server.on("connection", onConnection);
    server.on("error", onServerError);
    server.on("listening", onListening);
  }

  /**
   * Listens on `addr` (checked by `NetBase.listen`); the socket is attached to `opts.sw`.
   * TCP: port 0 picks a free port; Node always sets SO_REUSEADDR on TCP sockets, whatever
   * `reuseAddr` says; `reusePort` sets SO_REUSEPORT. Unix: the socket is made and bound by the
   * addon (so that libuv, which knows no path then, does not unlink it on close: we do, if it
   * is still ours); a path starting with `"\0"` is an abstract name; with `reuseAddr`, a stale
   * socket file at the path is removed first, only once a connect to it is refused (a live
   * server's socket gives `AddressInUse`, any other file makes the bind fail with it);
   * `mode` sets the file's permission bits before it listens. `keepAlive` is set on every
   * accepted TCP connection.
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
    const { sw } = opts;
    const backlog = opts.backlog ?? DEFAULT_BACKLOG;
    const tls = opts.tls === undefined ? null : new TlsAcceptor(opts.tls);
    let file: SocketFileId | undefined;
    /** A Unix path that Node binds itself (no addon here): see unix-path-fallback.ts. */
    let nodeBinds = false;
    if (fd === undefined && addr.type === "unix") {
      const native = await loadNative().catch((e: unknown) => {
        if (e instanceof NativeAddonUnavailable) return undefined;
        throw e;
      });
      sw.check(); // the switch may have finished while the addon loaded
      if (native !== undefined) {
        const bound = bindUnix(native, addr.path, "stream", opts);
        fd = bound.fd;
        file = bound.id;
      } else {
        nodeBinds = true;
        if (opts.reuseAddr === true && !isAbstract(addr.path)) {
          await reclaimStaleSocketWithoutAddon(addr.path);
        }
      }
    }
    const keepAlive = addr.type === "tcp" ? await keepAliveApplier(opts.keepAlive) : undefined;
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
    const ls = new NodeListeningSocket(server, addr, opts.acceptQueue ?? DEFAULT_ACCEPT_QUEUE);
    ls.#file = file;
    ls.#keepAlive = keepAlive;
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
      throw nodeBinds ? bindError(e, (addr as UnixAddr).path) : e;
    }
    if (!runtimeHas("accept-after-error"))
      ls.#rearm = new AcceptRearm(server, Math.max(1, backlog));
    if (nodeBinds && opts.mode !== undefined) {
      try {
        chmodSocketFile((addr as UnixAddr).path, opts.mode);
      } catch (e) {
        await ls.close();
        throw e;
      }
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
    this.#rearm?.watch(raw);
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
      if (this.#keepAlive !== undefined) {
        try {
          this.#keepAlive(raw);
        } catch (e) {
          // that connection cannot be set up as asked: drop it, as for any accept error
          this.#acceptErrors++;
          this.#lastAcceptError = toIoError(e);
          raw.destroy();
          return;
        }
      }
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
    let idle: number | undefined;
    try {
      idle = checkOptionalTimeout("idleTimeout", opts.idleTimeout);
      sw.check();
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#state !== "open") return Promise.reject(closedError("accept"));
    const queued = this.#queue.shift();
    if (queued !== undefined) {
      if (this.#stopped && this.#queue.length === 0) this.#wakeDrained();
      try {
        return Promise.resolve(adopt(queued, sw, idle));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const cc = currentCancelContext();
    if (cc.cancelled) return Promise.reject(new Cancelled(cc.reason));
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(new Cancelled(signal.reason));
    const op = new AcceptOp(this.#waiters, sw, idle);
    const p = op.open();
    this.#waiters.push(op);
    op.arm(cc, signal);
    return p;
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
   * Stops taking connections from the kernel, for a handover (another process holds the same
   * socket and accepts from now on): closes this process's descriptor, so the connections
   * still in the kernel's queue stay there for the other process, and forgets the Unix socket
   * file (it is the successor's: {@link close} leaves it). The connections already taken (in
   * {@link queued}) are still given to `accept()`; once they are gone, `accept()` waits until
   * it is cancelled or the socket is closed. Resolves once the queue is empty (or the socket
   * closed).
   */
  stopAccepting(): Promise<void> {
    if (this.#state !== "open") return Promise.resolve();
    if (!this.#stopped) {
      this.#stopped = true;
      this.#file = undefined;
      this.#rearm?.stop();
      this.#server.close();
    }
    if (this.#queue.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#drained.push(resolve));
  }

  /** Whether {@link stopAccepting} was called. */
  get acceptStopped(): boolean {
    return this.#stopped;
  }

  #wakeDrained(): void {
    for (const w of this.#drained.splice(0)) w();
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
    this.#rearm?.stop();
    // Closes the fd synchronously; the server object's own 'close' event waits for every
    // accepted connection, so it is not waited for.
    try {
      this.#server.close();
    } catch {
      // never listened (the listen failed)
    }
    if (this.#file !== undefined) removeSocketFile(this.#file);
    const w = this.#listenWait;
    this.#listenWait = null;
    w?.reject(closedError("listen"));
    for (const waiter of this.#waiters.splice(0)) waiter.fail(closedError("accept"));
    const queued = this.#queue.splice(0);
    this.#wakeDrained();
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

function adopt(
  sock: NodeStreamSocket,
  sw: Switch,
  idle: number | undefined,
): [StreamSocket, StreamAddr] {
  NodeStreamSocket.attach(sock, sw);
  if (idle !== undefined) sock.setIdleTimeout(idle);
  return [sock, sock.peerAddr];
}
