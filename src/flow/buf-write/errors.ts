/**
 * The ways a buffered writer (`BufWriter`, and `Tcp.Writer` on it) fails: aborted, data held
 * too long (`bufferAgeLimit`), or more data held than its bound (`maxUnflushed`).
 * @module
 */
import { formatSpan } from "../../core/index.ts";

/**
 * A flush could not complete because the writer was aborted (Eio's `Flush_aborted`): its sink
 * failed (the `cause`), its switch finished, or {@link BufWriter.abort} was called.
 * @example
 * ```ts
 * try { await w.flush(); } catch (e) { if (e instanceof FlushAborted) console.error(e.cause); }
 * ```
 */
export class FlushAborted extends Error {
  constructor(options?: ErrorOptions) {
    super("Flush aborted", options);
    this.name = "FlushAborted";
  }
}

/**
 * A writer (`Tcp.Writer`, or a `BufWriter` with a `bufferAgeLimit`) held data for longer than
 * its limit: the peer is not reading (or not fast enough), and the writer fails rather than
 * buffer forever (Async's "writer buffer has data older than ..."). On a server this is a
 * handler error; the writer's buffer is dropped.
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
 * A writer was given more than its bound to hold unflushed (`writerMaxBuffered` of a Tcp
 * connection, `maxUnflushed` of a `BufWriter`): its peer does not read fast enough, and the
 * program did not wait on `flushed()` / `flush()`. The writer fails with this instead of
 * buffering without bound, and drops its buffer.
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
      `writer buffer limit exceeded: ${limit} bytes may wait unflushed, ${bytesUnflushed} would${to}; await the writer's flush to keep up with the peer`,
    );
    this.name = "WriterBufferLimitExceeded";
    this.limit = limit;
    this.bytesUnflushed = bytesUnflushed;
  }
}
