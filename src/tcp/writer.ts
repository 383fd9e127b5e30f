/**
 * `Tcp.Writer` (Async's `Writer`): writes that never block, flushed in the background, with a
 * limit on how old unflushed data may get.
 * @module
 */
import { checkCount, show } from "../core/checks.ts";
import {
  Cancel,
  type Clock,
  checkMs,
  Fiber,
  formatSpan,
  IoError,
  monoClock,
} from "../core/index.ts";
import {
  checkOptions,
  DEFAULT_MAX_UNFLUSHED,
  type EngineOptions,
  FlushAborted,
  WriteEngine,
} from "../flow/buf-write/index.ts";
import type { Sink } from "../flow/types.ts";

/**
 * How old the oldest unflushed byte of a writer may get (Async's `buffer_age_limit`):
 * `{ atMost: ms }`, or `"unlimited"`.
 */
export type BufferAgeLimit = { readonly atMost: number } | "unlimited";

/** The default buffer age limit: 2 minutes, as Async. */
export const DEFAULT_BUFFER_AGE_LIMIT: BufferAgeLimit = Object.freeze({ atMost: 120_000 });

/** How long `close()` waits for the flush before closing anyway, by default (Async: 5 s for sockets). */
export const DEFAULT_FORCE_CLOSE_AFTER = 5_000;

/** The default bound of a writer (`writerMaxBuffered`): 16 MiB unflushed (BufWrite's default). */
export const DEFAULT_WRITER_MAX_BUFFERED = DEFAULT_MAX_UNFLUSHED;

/** Options of `new Writer(sink, opts)`. */
export interface WriterOptions {
  /** Default `{ atMost: 120_000 }` (2 minutes). */
  readonly bufferAgeLimit?: BufferAgeLimit | undefined;
  /**
   * The most bytes that may wait unflushed (default 16 MiB): a write past it fails the writer
   * with {@link WriterBufferLimitExceeded}. `await writer.flushed()` is the backpressure point
   * that keeps a writer under it.
   */
  readonly maxBuffered?: number | undefined;
  /** The clock buffer ages and close timeouts are measured on. Default: the real monotonic clock. */
  readonly clock?: Clock | undefined;
  /**
   * What `close()` closes once flushed. Default: the sink's own `close()`, if it has one.
   * A Tcp connection's reader and writer share one close (closing either closes the socket).
   */
  readonly close?: (() => Promise<void>) | undefined;
  /**
   * Called once if the writer fails in the background (a flush fails, or data gets older than
   * `bufferAgeLimit`), with the error that later calls will throw. Not called for failures
   * during `close()` (which rejects with them).
   */
  readonly onError?: ((err: unknown) => void) | undefined;
  /**
   * Who is written to (`tcp:127.0.0.1:40222`), for error messages: the text, or a function
   * giving it (called only when an error message needs it).
   */
  readonly peer?: string | (() => string) | undefined;
}

/** Options of {@link Writer.close}. */
export interface WriterCloseOptions {
  /**
   * Close anyway, dropping what is left, if the flush has not finished after this many ms.
   * Default 5 000 (Async's default for sockets); `Infinity` waits for the flush.
   */
  readonly forceCloseAfter?: number | undefined;
}

/**
 * Checks a buffer age limit and returns it in ms (`Infinity` for `"unlimited"`).
 * @throws TypeError/RangeError naming `name`.
 * @example
 * ```ts
 * checkBufferAgeLimit({ atMost: 5000 }); // 5000
 * checkBufferAgeLimit("unlimited"); // Infinity
 * ```
 */
export function checkBufferAgeLimit(limit: unknown, name = "bufferAgeLimit"): number {
  if (limit === "unlimited") return Infinity;
  if (typeof limit !== "object" || limit === null || !("atMost" in limit)) {
    throw new TypeError(`${name} must be { atMost: ms } or "unlimited", got ${show(limit)}`);
  }
  const ms = (limit as { atMost: unknown }).atMost;
  if (typeof ms !== "number" || Number.isNaN(ms) || ms <= 0) {
    throw new RangeError(`${name}.atMost must be a number of ms > 0, got ${show(ms)}`);
  }
  return ms;
}

/**
 * A writer to a byte {@link Sink} (Async's `Writer.t`). `write` never blocks: it copies the
 * data into the writer's buffer, and the writer flushes it to the sink in the background
 * (small writes made together go out in one system call). `flushed()` waits until everything
 * written so far has reached the sink (the kernel, for a socket).
 *
 * If the sink does not take the data (a peer that does not read), the oldest unflushed byte
 * gets older; past `bufferAgeLimit` (2 minutes by default) the writer fails with
 * {@link WriterBufferAgeExceeded} ("writer buffer has data older than 2m ...") and drops its
 * buffer, instead of buffering forever. A failed flush (`IoError` `ConnectionReset` when the
 * peer has gone) fails the writer too. After a failure, `write`, `flushed` and `close` throw
 * that error, and `onError` has been told.
 *
 * A Writer is a `BufWriter` (one buffer, one flush, one bound) with Async's names: its
 * synchronous fast path, its age watchdog (one timer per clock, armed only while some writer
 * has data pending) and its bound are BufWrite's.
 * @example
 * ```ts
 * const server = await Tcp.Server.create(where, async (addr, reader, writer) => {
 *   for await (const line of reader.lines()) writer.write(`${line.toUpperCase()}\n`);
 *   await writer.flushed();
 * }, { onHandlerError: "raise" });
 * ```
 */
export class Writer extends WriteEngine implements AsyncDisposable {
  readonly #closeTarget: (() => Promise<void>) | undefined;
  readonly #clock: Clock;
  readonly #onError: ((err: unknown) => void) | undefined;
  #failed = false;
  #error: unknown = undefined;
  #closing: Promise<void> | null = null;

  /**
   * Makes a writer to `sink`.
   * @throws TypeError if `sink` is not a Sink or `bufferAgeLimit` is malformed; RangeError if
   *   its `atMost` is not > 0, or `maxBuffered` is not a count.
   */
  constructor(sink: Sink, opts: WriterOptions = {}) {
    super(sink, writerOptions(sink, opts));
    this.#clock = opts.clock ?? monoClock;
    this.#onError = opts.onError;
    this.#closeTarget =
      opts.close ??
      (typeof (sink as { close?: unknown }).close === "function"
        ? () => (sink as unknown as { close(): Promise<void> }).close()
        : undefined);
  }

  /** The engine failed by itself (its sink, its age, its bound). */
  protected override failed(e: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#error = e;
    // A failure while closing is close()'s to report
    if (this.#closing === null) this.#onError?.(e);
  }

  /** How many bytes have been written and not yet flushed (Async's `bytes_to_write`). */
  get bytesToWrite(): number {
    return this.unwritten;
  }

  /** How many bytes have been flushed to the sink since the writer was made. */
  get bytesFlushed(): number {
    return this.written;
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.#closing !== null;
  }

  /** The error the writer failed with, or `undefined` if it has not failed. */
  get error(): unknown {
    return this.#failed ? this.#error : undefined;
  }

  #unusable(op: string): unknown {
    if (this.#failed) return this.#error;
    return new IoError({ kind: "Closed", cause: `Writer.${op}: the writer is closed` });
  }

  /**
   * Writes `data` (a string is written as UTF-8). Never blocks: the bytes are copied, and
   * flushed in the background.
   * @throws TypeError if `data` is neither a string nor a Uint8Array; IoError `Closed` after
   *   `close()`; the writer's error if it has failed (`ConnectionReset` when the peer has gone,
   *   {@link WriterBufferAgeExceeded}); {@link WriterBufferLimitExceeded} if this write would
   *   leave more than `maxBuffered` bytes unflushed (the writer fails with it).
   * @example
   * ```ts
   * writer.write("hello, ");
   * writer.write(new TextEncoder().encode("world\n"));
   * ```
   */
  write(data: string | Uint8Array): void {
    if (this.#failed || this.#closing !== null) throw this.#unusable("write");
    if (typeof data === "string") this.writeString(data);
    else if (data instanceof Uint8Array) this.writeBytes(data);
    else throw new TypeError(`data must be a string or a Uint8Array, got ${show(data)}`);
  }

  /**
   * Writes `line` and a newline.
   * @throws as {@link write}.
   * @example
   * ```ts
   * writer.writeLine("200 OK");
   * ```
   */
  writeLine(line: string): void {
    if (this.#failed || this.#closing !== null) throw this.#unusable("writeLine");
    if (typeof line !== "string") {
      throw new TypeError(`line must be a string, got ${show(line)}`);
    }
    this.writeString(line);
    this.writeString("\n");
  }

  /**
   * Writes `bytes` without copying them (Async's `schedule_bytes`): the writer keeps a
   * reference, so do not change them until {@link flushed} resolves. For large buffers, and
   * for chunks the caller owns (such as those of `Reader.readChunk`).
   * @throws as {@link write}.
   * @example
   * ```ts
   * const chunk = await reader.readChunk();
   * if (chunk !== null) writer.schedule(chunk);
   * ```
   */
  schedule(bytes: Uint8Array): void {
    if (this.#failed || this.#closing !== null) throw this.#unusable("schedule");
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`bytes must be a Uint8Array, got ${show(bytes)}`);
    }
    if (bytes.length > 0) this.queue(bytes);
  }

  /**
   * Waits until everything written so far has been flushed to the sink (for a socket: handed
   * to the kernel).
   * @throws the writer's error if it fails first; Cancelled if the calling fiber is cancelled
   *   first (the data is still flushed).
   * @example
   * ```ts
   * writer.write(bigReply);
   * await writer.flushed(); // pushback: do not get ahead of a slow peer
   * ```
   */
  flushed(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#error);
    const p = this.flushUnwritten(undefined);
    // The usual case (the kernel took it all): the settled promise, no reaction of ours
    if (this.unwritten === 0 && !this.#failed) return p;
    return p.then(undefined, unwrapAborted);
  }

  /**
   * Flushes, then closes the writer and what it writes to (for a Tcp connection: the socket).
   * If the flush has not finished after `forceCloseAfter` ms (5 s by default), closes anyway
   * and drops what is left. Not interrupted by the caller's cancellation. A second call
   * returns the first call's promise.
   * @throws (as a rejection) the writer's error if it failed or the flush fails (for example
   *   `IoError` `ConnectionReset`: the data did not all reach the peer); RangeError for a bad
   *   `forceCloseAfter`.
   * @example
   * ```ts
   * writer.write("bye\n");
   * await writer.close();
   * ```
   */
  close(opts: WriterCloseOptions = {}): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const force = opts.forceCloseAfter ?? DEFAULT_FORCE_CLOSE_AFTER;
    checkMs("forceCloseAfter", force);
    this.#closing = this.#close(force);
    return this.#closing;
  }

  async #close(force: number): Promise<void> {
    this.closeWrites();
    if (!this.#failed && this.unwritten > 0) {
      await Cancel.protect(() => this.#flushWithin(force));
    }
    // Whatever is left is dropped; flushes still waiting learn why (an error costs a stack
    // trace: made only when something was left)
    if (this.#failed) this.abortWith(this.#error);
    else this.abortWith(this.unwritten > 0 ? this.#unusable("flushed") : undefined);
    const target = this.#closeTarget;
    if (target !== undefined) await target();
    if (this.#failed) throw this.#error;
  }

  /** Waits for the flush, at most `ms` (a failure is left in the writer's state). */
  async #flushWithin(ms: number): Promise<void> {
    const flushed = async (): Promise<void> => {
      try {
        await this.flushUnwritten(undefined);
      } catch {}
    };
    if (ms === Infinity) await flushed();
    else await Fiber.first(flushed, () => this.#clock.sleep(ms));
  }

  /** `writer (12 bytes to write, open, buffer age limit 2m)`. */
  override toString(): string {
    const age = this.ageLimit === Infinity ? "unlimited" : formatSpan(this.ageLimit);
    const state = this.#failed
      ? "failed"
      : this.#closing === null
        ? "open"
        : this.unwritten > 0
          ? "closing"
          : "closed";
    return `writer (${this.bytesToWrite} bytes to write, ${state}, buffer age limit ${age})`;
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A flush of an aborted engine rejects with FlushAborted: a Writer's callers get why. */
function unwrapAborted(e: unknown): never {
  throw e instanceof FlushAborted ? e.cause : e;
}

/**
 * The engine options of a Writer.
 * @throws as the Writer's constructor.
 */
function writerOptions(sink: Sink, opts: WriterOptions): EngineOptions {
  if (typeof sink?.write !== "function") {
    throw new TypeError(`sink must be a Sink (with write), got ${show(sink)}`);
  }
  const checked = checkOptions({
    maxUnflushed:
      opts.maxBuffered === undefined
        ? DEFAULT_WRITER_MAX_BUFFERED
        : checkCount("maxBuffered", opts.maxBuffered),
    bufferAgeLimit: checkBufferAgeLimit(opts.bufferAgeLimit ?? DEFAULT_BUFFER_AGE_LIMIT),
    clock: opts.clock,
    peer: opts.peer,
  });
  return { ...checked, sw: null };
}
