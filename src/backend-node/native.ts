/**
 * The typed loader of weir's native addon (`build/Release/weir_native.node`, built from
 * `native/weir.c` by node-gyp): the few POSIX primitives Node.js lacks — `socketpair`, `pipe`,
 * raw `socket`/`bind`/`connect`/`listen`, Unix datagram sockets, and datagram I/O on an existing
 * fd ({@link DgramHandle}).
 *
 * Every fd the addon creates is non-blocking and close-on-exec. Stream fds are meant to be
 * wrapped with `new net.Socket({ fd, readable: true, writable: true })` (sockets and pipes), and
 * listening fds with `net.createServer().listen({ fd })`; datagram fds with {@link DgramHandle}.
 *
 * Failing system calls throw (or pass to callbacks) a {@link NativeSystemError}, shaped like
 * Node's own: message `"<syscall> <CODE>"`, `code` (`"ECONNRESET"`), `errno` (negative, as Node
 * uses), `syscall`. Bad arguments throw a `TypeError` (`code` `ERR_INVALID_ARG_TYPE` or
 * `ERR_INVALID_ARG_VALUE`).
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The socket types the addon knows. */
export type NativeSocketType = "stream" | "dgram";

/** The socket domains (address families) the addon knows. */
export type NativeDomain = "unix" | "inet" | "inet6";

/** Which directions {@link Native.shutdown} closes. */
export type NativeShutdown = "send" | "receive" | "all";

/**
 * A socket address as the addon reads and writes it. A Unix `path` starting with `"\0"` is a
 * Linux abstract name (its exact length counts; it is not NUL-terminated); an unnamed or unbound
 * Unix socket has path `""`. `address` is numeric (`"127.0.0.1"`, `"::1"`, `"fe80::1%eth0"`).
 */
export type NativeAddr =
  | { readonly family: "unix"; readonly path: string }
  | { readonly family: "inet" | "inet6"; readonly address: string; readonly port: number };

/** The error the addon throws for a failed system call (shaped like Node's system errors). */
export interface NativeSystemError extends Error {
  /** The errno name, such as `"ECONNRESET"` (`"UNKNOWN"` if libuv has no name for it). */
  code: string;
  /** The negative errno number, as Node reports it (`-104` for ECONNRESET on Linux). */
  errno: number;
  /** The system call that failed, such as `"bind"` or `"sendmsg"`. */
  syscall: string;
}

/** Called when a send finishes: `null`, or the error (`code` `"ECANCELED"` if closed first). */
export type DgramSendCallback = (err: NativeSystemError | null) => void;

/**
 * Called when a recv finishes: `(null, n, src, truncated)` with `n` bytes written to the buffer
 * (0 for an empty datagram) from `src` (`null` if the address family is unknown), `truncated`
 * telling whether the datagram was longer than the buffer (MSG_TRUNC), or
 * `(err, 0, null, false)`.
 */
export type DgramRecvCallback = (
  err: NativeSystemError | null,
  n: number,
  src: NativeAddr | null,
  truncated: boolean,
) => void;

/** Options of `new DgramHandle(fd, options)`. */
export interface DgramHandleOptions {
  /** Whether `close()` (or garbage collection of an unclosed handle) closes the fd. Default `true`. */
  readonly closeFd?: boolean;
}

/**
 * Datagram I/O on an existing datagram socket fd (Unix or UDP), driven by a libuv poll handle
 * on the current thread's event loop. The fd must not be used by any other handle meanwhile.
 *
 * A pending operation keeps the event loop (and the handle) alive; an idle handle does not.
 * Callbacks may run synchronously, before `send`/`recv` returns, when the operation completes at
 * once, and run synchronously from `cancelRecv()`/`close()`. An exception thrown by a callback
 * run from the event loop is an uncaught exception; one thrown by a callback run synchronously
 * is rethrown by the method that ran it (after every other callback has run).
 * A handle collected unclosed releases everything (and closes the fd if it owns it).
 */
export interface DgramHandle {
  /** The fd, or -1 once closed. */
  readonly fd: number;
  /**
   * Sends one datagram made of all of `bufs` (one `sendmsg` with an iovec; an empty datagram is
   * allowed) to `dst` (`null` for a connected socket). Waits for the socket to be writable when
   * it is full; several sends are queued and go out in order. The buffers must not change
   * until `cb` is called.
   * @throws TypeError on bad arguments; a NativeSystemError `EBADF` if the handle is closed.
   */
  send(bufs: readonly Uint8Array[], dst: NativeAddr | null, cb: DgramSendCallback): void;
  /**
   * Receives one datagram into `buf` (a datagram larger than `buf` is cut: the rest is
   * discarded and `n` is what fit). Waits for one to arrive. One recv at a time.
   * @throws TypeError on bad arguments or if a recv is already pending (`ERR_INVALID_STATE`);
   *   a NativeSystemError `EBADF` if the handle is closed.
   */
  recv(buf: Uint8Array, cb: DgramRecvCallback): void;
  /** Fails the pending recv, if any, with `ECANCELED` (its callback runs before this returns). */
  cancelRecv(): void;
  /**
   * Stops polling, fails every pending operation with `ECANCELED` (callbacks run before this
   * returns), releases the poll handle, and closes the fd if the handle owns it. Idempotent.
   */
  close(): void;
}

/** The `DgramHandle` class. */
export interface DgramHandleConstructor {
  /**
   * Wraps datagram socket `fd` (made non-blocking).
   * @throws TypeError if `fd` is not a datagram socket or the options are bad; a
   *   NativeSystemError if the fd cannot be polled (`EEXIST`: already watched by this loop).
   */
  new (fd: number, options?: DgramHandleOptions): DgramHandle;
  readonly prototype: DgramHandle;
}

/** Counters of the addon's live native objects (for leak checks in tests). */
export interface NativeStats {
  /** libuv poll handles not yet fully closed (all threads). */
  readonly pollHandles: number;
  /** DgramHandle objects not yet garbage collected (all threads). */
  readonly dgramHandles: number;
}

/** The native addon's exports. */
export interface Native {
  /**
   * A connected pair of AF_UNIX sockets.
   * @throws NativeSystemError (`socketpair`), e.g. `EMFILE`; TypeError for a bad `type`.
   */
  socketpair(type: NativeSocketType): [number, number];
  /**
   * A pipe: `[readFd, writeFd]`.
   * @throws NativeSystemError (`pipe`), e.g. `EMFILE`.
   */
  pipe(): [number, number];
  /**
   * A new, unbound socket.
   * @throws NativeSystemError (`socket`), e.g. `EAFNOSUPPORT`; TypeError on bad arguments.
   */
  socket(domain: NativeDomain, type: NativeSocketType): number;
  /**
   * Binds `fd` to `addr` (port 0 picks a free port; Unix path `""` autobinds an abstract name).
   * @throws NativeSystemError (`bind`): `EADDRINUSE`, `ENOENT` (missing directory), `EACCES`,
   *   `ENAMETOOLONG` (Unix path longer than 107 bytes, 108 for an abstract name)…; TypeError on
   *   a malformed address.
   */
  bind(fd: number, addr: NativeAddr): void;
  /**
   * Connects `fd` to `addr` at once (meant for datagram sockets and Unix sockets; a
   * non-blocking TCP connect throws `EINPROGRESS`).
   * @throws NativeSystemError (`connect`): `ENOENT`, `ECONNREFUSED`, `EAGAIN`…; TypeError on a
   *   malformed address.
   */
  connect(fd: number, addr: NativeAddr): void;
  /**
   * Marks a bound stream socket as listening.
   * @throws NativeSystemError (`listen`); TypeError for a bad backlog.
   */
  listen(fd: number, backlog: number): void;
  /**
   * The socket's own address.
   * @throws NativeSystemError (`getsockname`): `EBADF`, `ENOTSOCK`, or `EAFNOSUPPORT` for an
   *   address family the addon does not know.
   */
  getsockname(fd: number): NativeAddr;
  /**
   * The connected peer's address.
   * @throws NativeSystemError (`getpeername`): `ENOTCONN`, `EBADF`, `ENOTSOCK`…
   */
  getpeername(fd: number): NativeAddr;
  /**
   * Sets SO_REUSEADDR.
   * @throws NativeSystemError (`setsockopt`).
   */
  setReuseAddr(fd: number, on: boolean): void;
  /**
   * Sets SO_REUSEPORT.
   * @throws NativeSystemError (`setsockopt`), `ENOPROTOOPT` where unsupported.
   */
  setReusePort(fd: number, on: boolean): void;
  /**
   * Sets SO_KEEPALIVE on a TCP socket and, when > 0, the idle time before the first probe
   * (TCP_KEEPIDLE), the time between probes (TCP_KEEPINTVL), in seconds, and the number of
   * probes (TCP_KEEPCNT); 0 leaves the system's value.
   * @throws NativeSystemError (`setsockopt`); TypeError on bad arguments.
   */
  setKeepAlive?(fd: number, on: boolean, idleS: number, intervalS: number, count: number): void;
  /**
   * The keep-alive settings of a TCP socket as the kernel has them (-1 where unknown).
   * @throws NativeSystemError (`getsockopt`).
   */
  getKeepAlive?(fd: number): {
    readonly on: boolean;
    readonly idleS: number;
    readonly intervalS: number;
    readonly count: number;
  };
  /**
   * Closes `fd` (an interrupted close counts as done). Never close an fd a Node handle owns.
   * @throws NativeSystemError (`close`), e.g. `EBADF`.
   */
  close(fd: number): void;
  /**
   * A new close-on-exec descriptor for the same open file (`fcntl(F_DUPFD_CLOEXEC)`), so that
   * a Node handle can own a copy while the caller keeps the original.
   * @throws NativeSystemError (`dup`), e.g. `EBADF` or `EMFILE`.
   */
  dup(fd: number): number;
  /**
   * The socket type of `fd` (SO_TYPE): `"other"` for non-sockets and other socket types.
   * @throws NativeSystemError (`getsockopt`), e.g. `EBADF`.
   */
  fdType(fd: number): "stream" | "dgram" | "other";
  /**
   * Shuts down one or both directions of a socket.
   * @throws NativeSystemError (`shutdown`), e.g. `ENOTCONN`.
   */
  shutdown(fd: number, how: NativeShutdown): void;
  /**
   * Whether a socket is listening (SO_ACCEPTCONN).
   * @throws NativeSystemError (`getsockopt`): `EBADF`, `ENOTSOCK`.
   */
  acceptsConnections?(fd: number): boolean;
  /**
   * One `sendmsg` on a Unix socket of `data` (1 to 65536 bytes) carrying copies of `fds`
   * (SCM_RIGHTS, at most 16); returns the bytes sent (fewer than asked if the socket's buffer
   * was nearly full).
   * @throws NativeSystemError (`sendmsg`): `EAGAIN` (full), `EPIPE`, `EBADF`; TypeError on bad
   *   arguments.
   */
  sendFds?(fd: number, data: Uint8Array, fds: readonly number[]): number;
  /**
   * Waits, on a thread of libuv's pool (not the event loop), for one message on a Unix socket
   * and calls `cb(err, data, fds)`: `data` at most `maxBytes` (empty at end-of-file), `fds` the
   * descriptors it carried (close-on-exec, the caller's to close). `err` is `ETIMEDOUT` after
   * `timeoutMs` (-1: no limit), `EMSGSIZE` if more than 16 fds came (all closed). To give up
   * early, `shutdown(fd, "all")` (the wait ends with end-of-file); close `fd` only after `cb`.
   * @throws TypeError on bad arguments.
   */
  recvFds?(
    fd: number,
    maxBytes: number,
    timeoutMs: number,
    cb: (err: NativeSystemError | null, data: Buffer | null, fds: number[]) => void,
  ): void;
  /**
   * One non-blocking `sendmsg` of `bufs` (at most 64) on a connected stream socket: returns the
   * bytes the kernel took (0 when its buffer is full), or minus the errno on failure (it does
   * not throw for the socket's own errors).
   * @throws TypeError on bad arguments.
   */
  trySend?(fd: number, bufs: readonly Uint8Array[]): number;
  /** Counts of live native objects, for leak checks. */
  stats(): NativeStats;
  /** The datagram handle class. */
  readonly DgramHandle: DgramHandleConstructor;
}

/** The package root: this file is `src/backend-node/native.ts` or `dist/backend-node/native.js`. */
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const require = createRequire(import.meta.url);
/** `node-gyp-build`: finds a prebuilt binary for this platform, else the local build. */
const gypBuild = require("node-gyp-build") as { path(dir: string): string };

const expectedFunctions = [
  "socketpair",
  "pipe",
  "socket",
  "bind",
  "connect",
  "listen",
  "getsockname",
  "getpeername",
  "setReuseAddr",
  "setReusePort",
  "close",
  "dup",
  "fdType",
  "shutdown",
  "stats",
  "DgramHandle",
] as const;

/**
 * Thrown by the features that need weir's native addon (`weir/unix`, Unix datagram sockets)
 * when it is neither prebuilt for this platform nor built: says what is missing and how to get
 * it. TCP, UDP and DNS never need the addon.
 */
export class NativeAddonUnavailable extends Error {
  override readonly name = "NativeAddonUnavailable";
  /** A stable code for programs: `"WEIR_NATIVE_ADDON_UNAVAILABLE"`. */
  readonly code = "WEIR_NATIVE_ADDON_UNAVAILABLE";
}

/**
 * Where the addon is loaded from: `build/Release/` (a local build) if it exists, else the
 * prebuilt binary for this platform under `prebuilds/`.
 * @throws NativeAddonUnavailable if there is neither.
 */
export function addonPath(): string {
  try {
    return gypBuild.path(packageRoot);
  } catch (cause) {
    throw new NativeAddonUnavailable(
      `weir's native addon is not available for ${process.platform}-${process.arch}: no prebuilt ` +
        `binary in ${join(packageRoot, "prebuilds")} and no local build in ` +
        `${join(packageRoot, "build", "Release")}. weir/unix and Unix datagram sockets need it ` +
        "(TCP, UDP and DNS do not). Build it with `npm rebuild weir`, which needs python3, make " +
        "and a C compiler",
      { cause },
    );
  }
}

function load(): Native {
  const path = addonPath();
  let mod: unknown;
  try {
    mod = require(path);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new NativeAddonUnavailable(
      `weir's native addon at ${path} cannot be loaded: ${why}. Rebuild it with ` +
        "`npm rebuild weir` (needs python3, make and a C compiler)",
      { cause },
    );
  }
  const table = mod as Record<string, unknown>;
  const missing = expectedFunctions.filter((name) => typeof table[name] !== "function");
  if (missing.length > 0) {
    throw new NativeAddonUnavailable(
      `weir's native addon at ${path} is out of date (missing ${missing.join(", ")}). ` +
        "Rebuild it with `npm rebuild weir`",
    );
  }
  return mod as Native;
}

let loaded: Native | undefined;

/**
 * The addon, loaded on first use (so that importing weir never needs it).
 * @throws NativeAddonUnavailable if it is missing, cannot be loaded or is stale.
 */
export function loadNative(): Native {
  loaded ??= load();
  return loaded;
}

/**
 * The addon, loaded on the first use of any of its members: `native.socketpair(...)` works as
 * if it were the module itself.
 * @throws NativeAddonUnavailable (from the member access) if the addon is not available.
 */
export const native: Native = new Proxy({} as Native, {
  get: (_target, key) => Reflect.get(loadNative(), key),
  has: (_target, key) => Reflect.has(loadNative(), key),
});
