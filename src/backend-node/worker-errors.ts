/**
 * Errors crossing threads: a worker sends what went wrong to the main thread, which rebuilds
 * it. An `IoError` keeps its kind, reason and context lines; its cause becomes an `Error` with
 * the cause's message and `code`.
 * @module
 */
import { describeCause } from "../core/errors.ts";
import { Cancelled, type IoErr, IoError } from "../core/index.ts";

/** An error as it travels between threads (structured-cloneable). */
export type SentError =
  | {
      readonly type: "io";
      readonly kind: IoErr["kind"];
      readonly reason?: string | undefined;
      readonly cause?: { message: string; code?: string | undefined } | undefined;
      readonly context: readonly string[];
      readonly stack?: string | undefined;
    }
  | { readonly type: "cancelled"; readonly reason: string | undefined }
  | { readonly type: "value"; readonly value: unknown }
  | { readonly type: "text"; readonly name: string; readonly message: string; stack?: string };

function codeOf(x: unknown): string | undefined {
  if (typeof x !== "object" || x === null) return undefined;
  const code = (x as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Makes `e` cloneable: an `IoError` as its parts, an `Error` or a plain value as itself when
 * `structuredClone` accepts it, anything else as its text.
 * @example
 * ```ts
 * parentPort.postMessage({ type: "fatal", error: sendError(e) });
 * ```
 */
export function sendError(e: unknown): SentError {
  if (e instanceof IoError) {
    const err = e.err;
    return {
      type: "io",
      kind: err.kind,
      reason: err.kind === "ConnectionFailure" ? err.reason : undefined,
      cause:
        err.cause === undefined
          ? undefined
          : { message: describeCause(err.cause), code: codeOf(err.cause) },
      context: [...e.context],
      stack: e.stack,
    };
  }
  if (e instanceof Cancelled) {
    return {
      type: "cancelled",
      reason: e.cause === undefined ? undefined : describeCause(e.cause),
    };
  }
  try {
    return { type: "value", value: structuredClone(e) };
  } catch {
    const name = e instanceof Error ? e.name : typeof e;
    const message = e instanceof Error ? e.message : String(e);
    return { type: "text", name, message, stack: e instanceof Error ? e.stack : undefined };
  }
}

/**
 * Rebuilds an error sent with {@link sendError}.
 * @example
 * ```ts
 * worker.on("message", (m) => { if (m.type === "fatal") reject(receiveError(m.error)); });
 * ```
 */
export function receiveError(s: SentError): unknown {
  switch (s.type) {
    case "io": {
      const cause =
        s.cause === undefined
          ? undefined
          : Object.assign(new Error(s.cause.message), s.cause.code ? { code: s.cause.code } : {});
      const err = (
        s.kind === "ConnectionFailure"
          ? { kind: s.kind, reason: s.reason, cause }
          : { kind: s.kind, cause }
      ) as IoErr;
      const io = new IoError(err, s.context);
      if (s.stack !== undefined) io.stack = s.stack;
      return io;
    }
    case "cancelled":
      return new Cancelled(s.reason);
    case "value":
      return s.value;
    case "text": {
      const e = new Error(s.message);
      e.name = s.name;
      if (s.stack !== undefined) e.stack = s.stack;
      return e;
    }
  }
}
