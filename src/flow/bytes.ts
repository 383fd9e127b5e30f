/**
 * Byte helpers shared by the flow modules (not part of the public API): UTF-8 decoding straight
 * from a region of a buffer, copies, argument checks and the quoting used in parse errors.
 * @module
 */
import { Buffer } from "node:buffer";
import { EndOfFile, IoError, isCancelled } from "../core/index.ts";

type SliceFn = (this: Uint8Array, start: number, end: number) => string;

// `Buffer.prototype.utf8Slice` decodes a region of any Uint8Array without copying it first (it is
// what `buf.toString("utf8", a, b)` calls after its argument checks, and it is the fastest decoder
// Node has for short strings). It is not in the typings, hence the lookup; TextDecoder is the
// fallback should a runtime lack it.
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice?: SliceFn }).utf8Slice;
const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/**
 * Decodes `buf[start, end)` as UTF-8 (invalid sequences become U+FFFD) without copying the bytes
 * into an intermediate buffer.
 */
export const decodeUtf8: (buf: Uint8Array, start: number, end: number) => string =
  utf8Slice === undefined
    ? (buf, start, end) => textDecoder.decode(buf.subarray(start, end))
    : (buf, start, end) => utf8Slice.call(buf, start, end);

/** The UTF-8 encoding of `s` (a new array). */
export function encodeUtf8(s: string): Uint8Array {
  return textEncoder.encode(s);
}

/** The number of bytes of the UTF-8 encoding of `s`. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/**
 * Writes the UTF-8 encoding of `s` into `buf` at `offset` (the caller has checked the room) and
 * returns the number of bytes written.
 */
export function encodeUtf8Into(s: string, buf: Uint8Array, offset: number): number {
  return textEncoder.encodeInto(s, offset === 0 ? buf : buf.subarray(offset)).written;
}

/** A fresh copy of `buf[start, end)`, as a plain Uint8Array (never a view). */
export function copyBytes(buf: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(buf.subarray(start, end));
  return out;
}

/** The bytes of `chunks` in one new array. */
export function concatBytes(chunks: readonly Uint8Array[], total?: number): Uint8Array {
  let n = total ?? 0;
  if (total === undefined) for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Checks an integer argument > 0. @throws RangeError naming the argument. */
export function checkPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) {
    throw new RangeError(`${name} must be an integer > 0, got ${String(v)}`);
  }
}

/** Checks an integer argument >= 0. @throws RangeError naming the argument. */
export function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) {
    throw new RangeError(`${name} must be an integer >= 0, got ${String(v)}`);
  }
}

/** Checks that `v` is a Uint8Array. @throws TypeError naming the argument. */
export function checkBytes(name: string, v: unknown): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describeValue(v)}`);
  }
}

/** A short description of a value for error messages. */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v);
  if (typeof v === "object") return v.constructor?.name ?? "object";
  return String(v);
}

/** `s` quoted as a string literal in parse error messages (Eio prints OCaml's `%S`). */
export function quoteString(s: string): string {
  return JSON.stringify(s);
}

/** `c` quoted as a character literal in parse error messages (Eio prints OCaml's `%C`). */
export function quoteChar(c: string): string {
  const inner = JSON.stringify(c).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `'${inner}'`;
}

/**
 * Turns an error from a Node or Web stream into a weir error: `EndOfFile`, `Cancelled` and
 * `IoError` pass through; a reset or broken pipe becomes `IoError` `ConnectionReset`, a use after
 * close `Closed`, anything else `Unknown` (the original error is the `cause`).
 */
export function streamError(e: unknown): unknown {
  if (e instanceof IoError || e instanceof EndOfFile || isCancelled(e)) return e;
  const code =
    typeof e === "object" && e !== null && "code" in e ? (e as { code: unknown }).code : undefined;
  switch (code) {
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
    case "ERR_STREAM_PREMATURE_CLOSE":
      return new IoError({ kind: "ConnectionReset", cause: e });
    case "ERR_STREAM_DESTROYED":
    case "ERR_STREAM_WRITE_AFTER_END":
    case "ERR_STREAM_ALREADY_FINISHED":
      return new IoError({ kind: "Closed", cause: e });
    default:
      return new IoError({ kind: "Unknown", cause: e });
  }
}
