/**
 * The errors of `Tcp` (Async's `Tcp`, `Reader` and `Writer` failures). Everything else a Tcp
 * operation throws is a core error: `IoError` (with context lines), `Cancelled`, `RangeError` /
 * `TypeError` for bad arguments.
 * @module
 */
import { IoError } from "../core/index.ts";

/**
 * A connection attempt did not finish within its `timeout` (Async's "connection attempt
 * timeout"). It is an `IoError` of kind `ConnectionFailure`, reason `Timeout`, so code that
 * handles network failures in general handles it too; its message reads
 * ```
 * Net ConnectionFailure Timeout: connection attempt timeout after 30000 ms
 *   connecting to tcp:10.0.0.1:80
 * ```
 * The half-open socket has been closed when this is thrown.
 * @example
 * ```ts
 * try {
 *   await Tcp.connect(Tcp.WhereToConnect.hostAndPort("10.255.255.1", 80), { timeout: 100 });
 * } catch (e) {
 *   if (e instanceof ConnectionAttemptTimeout) traceln("gave up after %d ms", e.timeoutMs);
 * }
 * ```
 */
export class ConnectionAttemptTimeout extends IoError {
  /** The limit that was reached, in ms. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, context: readonly string[] = []) {
    super(
      {
        kind: "ConnectionFailure",
        reason: "Timeout",
        cause: `connection attempt timeout after ${timeoutMs} ms`,
      },
      context,
    );
    this.name = "ConnectionAttemptTimeout";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A connection attempt was stopped by its `interrupt` (an `AbortSignal` that aborted or a
 * promise that settled) before the connection was established (Async's "connection attempt
 * aborted"). `cause` is the signal's reason (or the promise's value or error). The half-open
 * socket has been closed when this is thrown.
 * @example
 * ```ts
 * const ac = new AbortController();
 * const p = Tcp.connect(where, { interrupt: ac.signal });
 * ac.abort(new Error("user pressed ^C"));
 * await p; // rejects: ConnectionAttemptAborted: connection attempt aborted ...
 * ```
 */
export class ConnectionAttemptAborted extends Error {
  /** Where the connection was going (`tcp:127.0.0.1:80`, `"example.com":80`). */
  readonly address: string;

  constructor(address: string, cause?: unknown) {
    super(
      `connection attempt aborted\n  connecting to ${address}`,
      cause === undefined ? undefined : { cause },
    );
    this.name = "ConnectionAttemptAborted";
    this.address = address;
  }
}

/**
 * Formats a duration the way Async prints a `Time.Span` (`2m`, `30s`, `1.5s`, `250ms`).
 * @example
 * ```ts
 * formatSpan(120_000); // "2m"
 * formatSpan(1500); // "1.5s"
 * ```
 */
export function formatSpan(ms: number): string {
  if (ms === Infinity) return "forever";
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(3))}s`;
  return `${Number(ms.toFixed(3))}ms`;
}

/**
 * A `Writer` held data for longer than its `bufferAgeLimit`: the peer is not reading (or not
 * fast enough), and the writer fails rather than buffer forever (Async's "writer buffer has
 * data older than ..."). On a server this is a handler error; the writer's buffer is dropped.
 * @example
 * ```ts
 * // the message reads:
 * // writer buffer has data older than 2m (131072 bytes unflushed for 120.004s, writing to tcp:127.0.0.1:40222)
 * ```
 */
export class WriterBufferAgeExceeded extends Error {
  /** The limit, in ms. */
  readonly limitMs: number;
  /** How long the oldest unflushed byte had been waiting, in ms. */
  readonly ageMs: number;
  /** How many bytes were still unflushed. */
  readonly bytesUnflushed: number;

  constructor(limitMs: number, ageMs: number, bytesUnflushed: number, peer?: string) {
    const to = peer === undefined ? "" : `, writing to ${peer}`;
    super(
      `writer buffer has data older than ${formatSpan(limitMs)} (${bytesUnflushed} bytes unflushed for ${formatSpan(Math.round(ageMs))}${to})`,
    );
    this.name = "WriterBufferAgeExceeded";
    this.limitMs = limitMs;
    this.ageMs = ageMs;
    this.bytesUnflushed = bytesUnflushed;
  }
}

/**
 * A writer was given more than its `writerMaxBuffered` bytes to hold unflushed (its peer does
 * not read fast enough, and the program did not wait on `flushed()`): the writer fails with
 * this instead of buffering without bound, and drops its buffer.
 * @example
 * ```ts
 * // the message reads:
 * // writer buffer limit exceeded: 16777216 bytes may wait unflushed, 16842752 would (writing to tcp:127.0.0.1:40222)
 * ```
 */
export class WriterBufferLimitExceeded extends Error {
  /** The limit, in bytes. */
  readonly limit: number;
  /** How many bytes would have been unflushed. */
  readonly bytesUnflushed: number;

  constructor(limit: number, bytesUnflushed: number, peer?: string) {
    const to = peer === undefined ? "" : ` (writing to ${peer})`;
    super(
      `writer buffer limit exceeded: ${limit} bytes may wait unflushed, ${bytesUnflushed} would${to}; await writer.flushed() to keep up with the peer`,
    );
    this.name = "WriterBufferLimitExceeded";
    this.limit = limit;
    this.bytesUnflushed = bytesUnflushed;
  }
}

/**
 * A `Reader` was asked to read while another read on it had not finished (Async allows one
 * read at a time: the bytes would otherwise go to either reader at random).
 * @example
 * ```ts
 * const a = reader.readLine();
 * await reader.readLine(); // throws ReaderBusy
 * ```
 */
export class ReaderBusy extends Error {
  constructor(op: string) {
    super(`Reader.${op}: another read on this reader has not finished (one read at a time)`);
    this.name = "ReaderBusy";
  }
}
