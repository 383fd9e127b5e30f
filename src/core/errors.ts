/**
 * The errors of weir: `IoError` for failed I/O (a tagged `err` and context lines),
 * `Cancelled`, `EndOfFile` and `BufferLimitExceeded` (`Timeout` is in `time.ts`), and the rule for
 * combining several errors into one without losing any.
 * @module
 */

/** Why a connection could not be established (Eio's `Net.connection_failure`). */
export type ConnectionFailureReason = "Refused" | "NoMatchingAddresses" | "Timeout";

/**
 * Why a TLS session could not be set up: the handshake itself failed (a plain-text peer, no
 * common protocol, a handshake that never finished), or a certificate was refused (expired,
 * untrusted, issued for another name, missing when required).
 */
export type TlsFailureReason = "Handshake" | "Certificate";

/**
 * What went wrong in an I/O operation: a tagged union, so code can `switch (e.err.kind)`.
 * `cause` is the backend's own error (a Node system error, or `Mock.SimulatedFailure`).
 */
export type IoErr =
  | { readonly kind: "ConnectionReset"; readonly cause: unknown }
  | {
      readonly kind: "ConnectionFailure";
      readonly reason: ConnectionFailureReason;
      readonly cause?: unknown;
    }
  | { readonly kind: "NotFound"; readonly cause?: unknown }
  | { readonly kind: "PermissionDenied"; readonly cause?: unknown }
  | { readonly kind: "AddressInUse"; readonly cause?: unknown }
  | { readonly kind: "AlreadyExists"; readonly cause?: unknown }
  | { readonly kind: "Closed"; readonly cause?: unknown }
  | {
      readonly kind: "ProxyProtocol";
      /** `Missing`: no header; `Malformed`: not a valid one; `TooLong`: over its limit. */
      readonly reason: "Missing" | "Malformed" | "TooLong";
      /** What was wrong, in words (quoting the bytes as given). */
      readonly detail: string;
      readonly cause?: unknown;
    }
  /** A datagram over the size the socket or path takes (EMSGSIZE). */
  | { readonly kind: "MessageTooLarge"; readonly cause?: unknown }
  /**
   * A socket's deadline passed: `idle` (no byte moved either way for its `idleTimeout`) or
   * `header` (a new connection did not send its first `headerBytes` within `headerTimeout`).
   */
  | { readonly kind: "Timeout"; readonly during: "idle" | "header"; readonly cause?: unknown }
  | { readonly kind: "Tls"; readonly reason: TlsFailureReason; readonly cause: unknown }
  | { readonly kind: "Unknown"; readonly cause: unknown };

/** The kinds of {@link IoErr}. */
export type IoErrKind = IoErr["kind"];

function categoryOf(err: IoErr): string {
  switch (err.kind) {
    case "NotFound":
    case "PermissionDenied":
    case "AlreadyExists":
      return "Fs";
    case "Unknown":
      return "Io";
    default:
      return "Net";
  }
}

/** Describes a backend error (the `cause`) in one line, as Eio's `Exn.Backend.pp` does. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  if (typeof cause === "string") return cause;
  if (cause === undefined) return "";
  try {
    return JSON.stringify(cause) ?? String(cause);
  } catch {
    return String(cause);
  }
}

/** The head line of an {@link IoError}'s message, without the context lines. */
export function formatIoErr(err: IoErr): string {
  let s = `${categoryOf(err)} ${err.kind}`;
  if (err.kind === "ConnectionFailure" || err.kind === "Tls") s += ` ${err.reason}`;
  if (err.kind === "ProxyProtocol") s += ` ${err.reason}: ${err.detail}`;
  if (err.kind === "Timeout") s += ` ${err.during}`;
  const cause = describeCause(err.cause);
  if (cause !== "") s += `: ${cause}`;
  return s;
}

/**
 * A failed I/O operation (Eio's `Eio.Io`): `err` says what went wrong, `context` says what
 * was being done, innermost line first. The message prints both, as Eio does:
 * ```
 * Net ConnectionFailure Refused: connect ECONNREFUSED 1.2.3.4:8080
 *   connecting to tcp:1.2.3.4:8080
 *   connecting to "www.example.com":http
 * ```
 * @example
 * ```ts
 * const e = new IoError({ kind: "ConnectionFailure", reason: "Timeout" });
 * e.addContext('connecting to "example.com":http');
 * ```
 */
export class IoError extends Error {
  /** What went wrong. */
  readonly err: IoErr;
  /** What was being done, innermost first. */
  readonly context: string[];

  constructor(err: IoErr, context: readonly string[] = []) {
    super(formatIoErr(err), err.cause === undefined ? undefined : { cause: err.cause });
    this.name = "IoError";
    this.err = err;
    this.context = [...context];
    this.#refresh();
  }

  /** Adds one context line (outermost so far) and returns `this`, so it can be rethrown. */
  addContext(line: string): this {
    const oldHead = `${this.name}: ${this.message}`;
    this.context.push(line);
    this.#refresh();
    // V8 renders `stack` (which starts with the message) when it is first read: if it was read
    // before this line was added, it would print the error without it.
    const stack = this.stack;
    const newHead = `${this.name}: ${this.message}`;
    if (typeof stack === "string" && !stack.startsWith(newHead) && stack.startsWith(oldHead)) {
      this.stack = `${newHead}${stack.slice(oldHead.length)}`;
    }
    return this;
  }

  #refresh(): void {
    this.message = [formatIoErr(this.err), ...this.context.map((c) => `  ${c}`)].join("\n");
  }
}

/** Tells whether `e` is an {@link IoError}, optionally of the given kind. */
export function isIoError(e: unknown, kind?: IoErrKind): e is IoError {
  return e instanceof IoError && (kind === undefined || e.err.kind === kind);
}

/**
 * The operation was cancelled (Eio's `Cancel.Cancelled`). `cause` is the reason the
 * cancellation context was cancelled. Cancellation is not an error to report:
 * {@link combineErrors} drops it in favour of any real error.
 */
export class Cancelled extends Error {
  constructor(reason?: unknown) {
    super(
      reason === undefined ? "Cancelled" : `Cancelled: ${describeCause(reason)}`,
      reason === undefined ? undefined : { cause: reason },
    );
    this.name = "Cancelled";
  }
}

/** Tells whether `e` is a {@link Cancelled}. */
export function isCancelled(e: unknown): e is Cancelled {
  return e instanceof Cancelled;
}

/**
 * A source has no more data (OCaml's `End_of_file`). It is how every read ends, not a bug, so it
 * carries no stack trace: capturing one cost more than the rest of a short connection's reads.
 */
export class EndOfFile extends Error {
  constructor(message = "End of file") {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = "EndOfFile";
  }
}

/** A buffered reader would have to hold more than its `maxSize` bytes. */
export class BufferLimitExceeded extends Error {
  constructor(message = "Buffer size limit exceeded") {
    super(message);
    this.name = "BufferLimitExceeded";
  }
}

const suppressedKey = "suppressed";

/**
 * The errors that were raised after `e` and kept on it by {@link combineErrors}
 * (for example by a switch whose fibers failed one after another).
 */
export function suppressedErrors(e: unknown): readonly unknown[] {
  if (typeof e === "object" && e !== null && suppressedKey in e) {
    const s = (e as { [suppressedKey]: unknown })[suppressedKey];
    if (Array.isArray(s)) return s;
  }
  return [];
}

/**
 * Combines a first error with a later one, as Eio's `Exn.combine`: a `Cancelled` loses to
 * any real error; otherwise the first error wins and the later one is kept on it
 * (see {@link suppressedErrors}), so nothing is lost.
 */
export function combineErrors(first: unknown, later: unknown): unknown {
  if (first === later) return first;
  if (isCancelled(first) && !isCancelled(later)) return later;
  if (isCancelled(later)) return first;
  if (typeof first === "object" && first !== null && Object.isExtensible(first)) {
    const list = suppressedErrors(first);
    if (list.length > 0) (list as unknown[]).push(later);
    else
      Object.defineProperty(first, suppressedKey, {
        value: [later],
        enumerable: true,
        configurable: true,
        writable: true,
      });
    return first;
  }
  return new AggregateError([first, later], "Multiple errors");
}
