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

/** One row of {@link ERRNO_TABLE}: the codes that make one kind. */
export interface ErrnoRow {
  /** The kind as docs/errors.md names it (`"ConnectionFailure Refused"`). */
  readonly label: string;
  /** The Node error codes of this row. */
  readonly codes: readonly string[];
  /** The `err` for a cause with one of these codes. */
  readonly err: (cause: unknown) => IoErr;
}

/**
 * The one table from Node's error codes (errno names, `getaddrinfo`'s `ENOTFOUND`, and the
 * stream errors of `node:net`/`node:dgram`) to weir's kinds (Eio's `Unix_error` table,
 * `lib_eio/unix/err.ml`, where it has one). docs/errors.md lists the same rows (a test checks
 * it). Codes not here are `Unknown`; `ENOTCONN` is `ConnectionReset` on a write only (see
 * {@link classify}).
 * @example
 * ```ts
 * ERRNO_TABLE.find((r) => r.codes.includes("EPIPE"))?.label; // "ConnectionReset"
 * ```
 */
export const ERRNO_TABLE: readonly ErrnoRow[] = [
  {
    label: "ConnectionFailure Refused",
    codes: ["ECONNREFUSED"],
    err: (cause) => ({ kind: "ConnectionFailure", reason: "Refused", cause }),
  },
  {
    label: "ConnectionFailure Timeout",
    codes: ["ETIMEDOUT"],
    err: (cause) => ({ kind: "ConnectionFailure", reason: "Timeout", cause }),
  },
  {
    label: "ConnectionReset",
    codes: ["ECONNRESET", "EPIPE", "ECONNABORTED"],
    err: (cause) => ({ kind: "ConnectionReset", cause }),
  },
  {
    label: "NotFound",
    codes: ["ENOENT", "ENOTFOUND"],
    err: (cause) => ({ kind: "NotFound", cause }),
  },
  {
    label: "PermissionDenied",
    codes: ["EACCES", "EPERM", "EXDEV"],
    err: (cause) => ({ kind: "PermissionDenied", cause }),
  },
  {
    label: "AddressInUse",
    codes: ["EADDRINUSE"],
    err: (cause) => ({ kind: "AddressInUse", cause }),
  },
  {
    label: "AlreadyExists",
    codes: ["EEXIST"],
    err: (cause) => ({ kind: "AlreadyExists", cause }),
  },
  {
    label: "MessageTooLarge",
    codes: ["EMSGSIZE", "ERR_SOCKET_DGRAM_MSG_SIZE"],
    err: (cause) => ({ kind: "MessageTooLarge", cause }),
  },
  {
    label: "Closed",
    codes: [
      "EBADF",
      "ERR_STREAM_DESTROYED",
      "ERR_SOCKET_CLOSED",
      "ERR_SOCKET_CLOSED_BEFORE_CONNECTION",
      "ERR_STREAM_WRITE_AFTER_END",
      "ERR_SERVER_NOT_RUNNING",
      "ERR_SOCKET_DGRAM_NOT_RUNNING",
    ],
    err: (cause) => ({ kind: "Closed", cause }),
  },
];

const BY_CODE: ReadonlyMap<string, ErrnoRow> = new Map(
  ERRNO_TABLE.flatMap((row) => row.codes.map((code) => [code, row] as const)),
);

/**
 * Classifies a backend error by {@link ERRNO_TABLE}; `ENOTCONN` is `ConnectionReset` on a
 * write (the peer went away) and `Unknown` elsewhere; any other code is `Unknown`. The
 * original error is kept as `cause` in every case.
 * @example
 * ```ts
 * classify(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }));
 * // { kind: "ConnectionFailure", reason: "Refused", cause: ... }
 * ```
 */
export function classify(cause: unknown): IoErr {
  const code = errorCode(cause);
  if (code === undefined) return { kind: "Unknown", cause };
  if (code === "ENOTCONN") {
    const syscall = errorSyscall(cause);
    if (syscall === "write" || syscall === "writev") return { kind: "ConnectionReset", cause };
    return { kind: "Unknown", cause };
  }
  const row = BY_CODE.get(code);
  return row === undefined ? { kind: "Unknown", cause } : row.err(cause);
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
