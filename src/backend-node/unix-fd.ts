/**
 * How `weir/unix` finds the file descriptor behind a resource of the Node backend: every
 * socket class of the backend implements {@link HasUnixFd}, and {@link handleFd} reads the fd
 * out of a Node handle.
 * @module
 */
import type { Socket as DgramSocket } from "node:dgram";
import type { Server, Socket } from "node:net";

/**
 * The method a resource backed by an OS file descriptor implements (Eio's `Resource.T`):
 * `resource[unixFd]()` returns the fd, or `undefined` once the resource is closed. A registered
 * symbol (`Symbol.for("weir.unixFd")`), so that copies of the package agree on it.
 * @example
 * ```ts
 * class MySocket implements HasUnixFd {
 *   [unixFd](): number | undefined {
 *     return 3;
 *   }
 * }
 * ```
 */
export const unixFd: unique symbol = Symbol.for("weir.unixFd") as typeof unixFd;

/**
 * A resource with a Unix file descriptor (see {@link unixFd}).
 * @example
 * ```ts
 * function fdOf(r: HasUnixFd): number | undefined {
 *   return r[unixFd]();
 * }
 * ```
 */
export interface HasUnixFd {
  /** The fd (borrowed: valid while the resource is open), or `undefined` once it is closed. */
  [unixFd](): number | undefined;
}

/**
 * Whether `x` implements {@link HasUnixFd}.
 * @example
 * ```ts
 * if (hasUnixFd(sock)) sock[unixFd]();
 * ```
 */
export function hasUnixFd(x: unknown): x is HasUnixFd {
  return (
    typeof x === "object" && x !== null && typeof (x as Partial<HasUnixFd>)[unixFd] === "function"
  );
}

/** The shape of the libuv handle wrappers Node keeps behind its sockets. */
interface UvHandle {
  readonly fd?: unknown;
  recvStart?: unknown;
  recvStop?: unknown;
}

function fdOfHandle(h: UvHandle | null | undefined): number | undefined {
  const fd = h?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}

/**
 * The libuv UDP handle behind a `dgram.Socket` (Node keeps it under a private symbol; the
 * public `_handle` getter is deprecated, DEP0112), or `undefined` if this Node lays it out
 * differently.
 * @example
 * ```ts
 * dgramHandle(sock)?.fd; // the socket's fd, once bound
 * ```
 */
export function dgramHandle(sock: DgramSocket): UvHandle | undefined {
  for (const sym of Object.getOwnPropertySymbols(sock)) {
    if (sym.description !== "state symbol") continue;
    const state = (sock as unknown as Record<symbol, { handle?: UvHandle | null } | undefined>)[
      sym
    ];
    const h = state?.handle;
    return h === null || h === undefined ? undefined : h;
  }
  return undefined;
}

/**
 * The fd behind a Node socket, server or datagram socket, or `undefined` if it has none (not
 * yet connected or bound, closed, or not fd-based, as on Windows). Reads Node's internal
 * handle (`socket._handle.fd`): not a public API, but stable on Unix for many years.
 * @example
 * ```ts
 * const server = net.createServer().listen(0);
 * server.once("listening", () => console.log(handleFd(server))); // e.g. 21
 * ```
 */
export function handleFd(h: Socket | Server | DgramSocket): number | undefined {
  if ("send" in h && "addMembership" in h) return fdOfHandle(dgramHandle(h));
  return fdOfHandle((h as unknown as { _handle?: UvHandle | null })._handle);
}
