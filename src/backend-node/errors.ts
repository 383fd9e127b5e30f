/**
 * The one table that turns Node's errors (system errors with an errno `code`, and the stream
 * errors of `node:net`) into weir's {@link IoError}: no raw Node error leaves the backend.
 * @module
 */
import { type IoErr, IoError } from "../core/index.ts";

/**
 * The `code` of a Node error (`"ECONNRESET"`, `"ERR_STREAM_DESTROYED"`), if it has one.
 * @example
 * ```ts
 * if (errorCode(e) === "ENOENT") return; // nothing to remove
 * ```
 */
export function errorCode(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** The system call a Node system error came from (`"connect"`, `"write"`), if known. */
function errorSyscall(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const syscall = (e as { syscall?: unknown }).syscall;
  return typeof syscall === "string" ? syscall : undefined;
}

/**
 * Classifies a backend error (Eio's `Unix_error` table, `lib_eio/unix/err.ml`):
 *
 * | code | kind |
 * | --- | --- |
 * | `ECONNREFUSED` | `ConnectionFailure` `Refused` |
 * | `ETIMEDOUT` | `ConnectionFailure` `Timeout` |
 * | `ECONNRESET`, `EPIPE`, `ECONNABORTED`, `ENOTCONN` on a write | `ConnectionReset` |
 * | `ENOENT` | `NotFound` |
 * | `EACCES`, `EPERM`, `EXDEV` | `PermissionDenied` |
 * | `EADDRINUSE` | `AddressInUse` |
 * | `EEXIST` | `AlreadyExists` |
 * | `ERR_STREAM_DESTROYED`, `ERR_SOCKET_CLOSED`, `ERR_STREAM_WRITE_AFTER_END`, `EBADF` | `Closed` |
 * | anything else | `Unknown` |
 *
 * The original error is kept as `cause` in every case.
 * @example
 * ```ts
 * classify(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }));
 * // { kind: "ConnectionFailure", reason: "Refused", cause: ... }
 * ```
 */
export function classify(cause: unknown): IoErr {
  switch (errorCode(cause)) {
    case "ECONNREFUSED":
      return { kind: "ConnectionFailure", reason: "Refused", cause };
    case "ETIMEDOUT":
      return { kind: "ConnectionFailure", reason: "Timeout", cause };
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
      return { kind: "ConnectionReset", cause };
    case "ENOTCONN": {
      const syscall = errorSyscall(cause);
      if (syscall === "write" || syscall === "writev") return { kind: "ConnectionReset", cause };
      return { kind: "Unknown", cause };
    }
    case "ENOENT":
      return { kind: "NotFound", cause };
    case "EACCES":
    case "EPERM":
    case "EXDEV":
      return { kind: "PermissionDenied", cause };
    case "EADDRINUSE":
      return { kind: "AddressInUse", cause };
    case "EEXIST":
      return { kind: "AlreadyExists", cause };
    case "EBADF":
    case "ERR_STREAM_DESTROYED":
    case "ERR_SOCKET_CLOSED":
    case "ERR_SOCKET_CLOSED_BEFORE_CONNECTION":
    case "ERR_STREAM_WRITE_AFTER_END":
    case "ERR_SERVER_NOT_RUNNING":
      return { kind: "Closed", cause };
    default:
      return { kind: "Unknown", cause };
  }
}

/**
 * Turns anything the backend throws or emits into an {@link IoError} (see {@link classify} for
 * the table). An `IoError` is returned as it is.
 * @example
 * ```ts
 * socket.once("error", (e) => reject(toIoError(e)));
 * ```
 */
export function toIoError(e: unknown): IoError {
  if (e instanceof IoError) return e;
  return new IoError(classify(e));
}

/**
 * The error for using a socket after `close()`: `IoError` of kind `Closed`.
 * @example
 * ```ts
 * if (this.#state !== "open") throw closedError("write");
 * ```
 */
export function closedError(op: string): IoError {
  return new IoError({ kind: "Closed", cause: new Error(`${op}: socket is closed`) });
}
