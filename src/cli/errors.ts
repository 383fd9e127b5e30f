/**
 * How the `weir` commands describe errors to people: an IoError as its message, which ends
 * with its context lines (as Eio prints them), anything else as its name and message. Never
 * a stack trace (set `WEIR_DEBUG=1` for those).
 * @module
 */
import { IoError, isCancelled, Timeout } from "../core/index.ts";

/**
 * The text to show for `e`: for an IoError, `Net ConnectionFailure Refused: ...` and its
 * indented context lines; for other errors, their message (prefixed with the name unless it
 * is a plain `Error`).
 * @example
 * ```ts
 * describeError(new IoError({ kind: "ConnectionFailure", reason: "Timeout" }, ["connecting to tcp:127.0.0.1:80"]));
 * // "Net ConnectionFailure Timeout\n  connecting to tcp:127.0.0.1:80"
 * ```
 */
export function describeError(e: unknown): string {
  if (e instanceof IoError) return e.message;
  if (isCancelled(e)) return "cancelled";
  if (e instanceof Timeout) return e.message;
  if (e instanceof Error) return e.name === "Error" ? e.message : `${e.name}: ${e.message}`;
  return String(e);
}

/** A one-line form of {@link describeError}: the context lines joined with `; `. */
export function describeErrorOneLine(e: unknown): string {
  return describeError(e)
    .split("\n")
    .map((l) => l.trim())
    .join("; ");
}
