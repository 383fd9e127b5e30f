/**
 * Unix socket files, owned safely: a stale socket is removed only after a connect to it is
 * refused (a live one is `AddressInUse`), the socket is bound by the addon so that libuv does
 * not unlink the path behind our back, its mode can be set before anyone can connect, and the
 * path is removed on close only while it is still the same socket (device and inode).
 * @module
 */
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { IoError } from "../core/index.ts";
import { errorCode, toIoError } from "./errors.ts";
import type { Native, NativeSocketType } from "./native.ts";

let nativeModule: Promise<Native> | undefined;

/**
 * The addon, loaded on first use (TCP and UDP do not need it).
 * @throws Error (as a rejection) if the addon is not built.
 * @example
 * ```ts
 * const native = await loadNative();
 * ```
 */
export function loadNative(): Promise<Native> {
  nativeModule ??= import("./native.ts").then((m) => m.loadNative());
  return nativeModule;
}

/** The identity of a socket file: its device and inode, as `lstat` gives them. */
export interface SocketFileId {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

/** Whether `path` names the abstract namespace (no file). */
export function isAbstract(path: string): boolean {
  return path.startsWith("\0");
}

/** `lstat` of `path`, or `undefined` if nothing is there. @throws IoError for other failures. */
export function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if (errorCode(e) === "ENOENT") return undefined;
    throw toIoError(e);
  }
}

/**
 * `AddressInUse` for a Unix path a live server holds.
 * @example
 * ```ts
 * throw inUse("/tmp/app.sock", "a server is listening");
 * ```
 */
export function inUse(path: string, why: string): IoError {
  const cause = Object.assign(new Error(`bind EADDRINUSE ${path} (${why})`), {
    code: "EADDRINUSE",
    syscall: "bind",
  });
  return new IoError({ kind: "AddressInUse", cause });
}

/**
 * Removes a stale socket file at `path` (for `reuseAddr`): only a socket, and only after a
 * connect to it (of the same `type`) is refused, which tells that nobody listens there any
 * more. A live socket (the connect succeeds, or the server's backlog is full) throws
 * `AddressInUse` at once; a file that is not a socket is left for `bind` to fail on. The file
 * is removed only if it is still the one probed (same device and inode).
 * @throws IoError `AddressInUse` for a live socket; others from `lstat`/`unlink`.
 * @example
 * ```ts
 * reclaimStaleSocket(native, "/tmp/app.sock", "stream");
 * ```
 */
export function reclaimStaleSocket(native: Native, path: string, type: NativeSocketType): void {
  const st = lstatOrUndefined(path);
  if (st === undefined || !st.isSocket()) return;
  let fd: number;
  try {
    fd = native.socket("unix", type);
  } catch (e) {
    throw toIoError(e);
  }
  let code: string | undefined;
  try {
    native.connect(fd, { family: "unix", path });
  } catch (e) {
    code = errorCode(e);
  } finally {
    native.close(fd);
  }
  if (code === "ENOENT") return; // removed meanwhile
  if (code !== "ECONNREFUSED") {
    throw inUse(path, code === undefined ? "a server is listening" : `probe: ${code}`);
  }
  const again = lstatOrUndefined(path);
  if (again === undefined || again.dev !== st.dev || again.ino !== st.ino) return;
  try {
    unlinkSync(path);
  } catch (e) {
    if (errorCode(e) !== "ENOENT") throw toIoError(e);
  }
}

/**
 * The error of a failed Unix bind or listen: the system's ENOENT for a missing directory is
 * `NotFound`, and so is libuv's EACCES for it (libuv's own pipe bind, used without the addon,
 * turns ENOENT into EACCES, as Windows reports it): the directory is checked.
 * @example
 * ```ts
 * throw bindError(e, "/no/such/dir/x.sock"); // IoError NotFound
 * ```
 */
export function bindError(e: unknown, path: string): IoError {
  const io = toIoError(e);
  if (io.err.kind !== "PermissionDenied" || isAbstract(path)) return io;
  if (lstatOrUndefined(dirname(path)) !== undefined) return io;
  return new IoError({ kind: "NotFound", cause: io.err.cause });
}

/**
 * Binds a new Unix socket of `type` to `path` (after reclaiming a stale socket there, with
 * `reuseAddr`), sets its file's `mode` (before `listen`, so nobody connects under the umask's
 * mode), and returns the fd with the file's identity (`undefined` for an abstract name). The
 * fd is the caller's; on failure it is closed.
 * @throws IoError (`AddressInUse`, `NotFound` for a missing directory, `PermissionDenied`).
 * @example
 * ```ts
 * const { fd, id } = bindUnix(native, "/tmp/app.sock", "stream", { mode: 0o660 });
 * ```
 */
export function bindUnix(
  native: Native,
  path: string,
  type: NativeSocketType,
  opts: { readonly reuseAddr?: boolean | undefined; readonly mode?: number | undefined },
): { fd: number; id: SocketFileId | undefined } {
  const abstract = isAbstract(path);
  if (opts.reuseAddr === true && !abstract) reclaimStaleSocket(native, path, type);
  let fd: number;
  try {
    fd = native.socket("unix", type);
  } catch (e) {
    throw toIoError(e);
  }
  try {
    native.bind(fd, { family: "unix", path });
  } catch (e) {
    native.close(fd);
    throw e instanceof TypeError ? e : bindError(e, path);
  }
  if (abstract) return { fd, id: undefined };
  let id: SocketFileId;
  try {
    const st = lstatSync(path);
    id = { path, dev: st.dev, ino: st.ino };
    if (opts.mode !== undefined) chmodSync(path, opts.mode);
  } catch (e) {
    native.close(fd);
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
    throw toIoError(e);
  }
  return { fd, id };
}

/**
 * Removes the socket file `id` names, if the path is still that socket (same device and
 * inode): a file put there since (a new server's socket, a regular file) is left alone.
 * Never throws.
 * @example
 * ```ts
 * removeSocketFile(id);
 * ```
 */
export function removeSocketFile(id: SocketFileId): void {
  try {
    const st = lstatSync(id.path);
    if (st.isSocket() && st.dev === id.dev && st.ino === id.ino) unlinkSync(id.path);
  } catch {
    // gone already, or not ours to remove
  }
}
