/**
 * `Tcp.Writer` (Async's `Writer`): writes that never block, flushed in the background, with a
 * limit on how old unflushed data may get.
 * @module
 */
import { Buffer } from "node:buffer";
import { checkCount, show } from "../core/checks.ts";
import {
  awaitCancellable,
  Cancel,
  CancelContext,
  type Clock,
  checkMs,
  currentFiber,
  Fiber,
  IoError,
  monoClock,
  runInFiber,
  suspend,
} from "../core/index.ts";
import type { Sink } from "../flow/types.ts";
import { AgeWatchdog, type Watched } from "./age-watchdog.ts";
import { formatSpan, WriterBufferAgeExceeded, WriterBufferLimitExceeded } from "./errors.ts";

/**
 * How old the oldest unflushed byte of a writer may get (Async's `buffer_age_limit`):
 * `{ atMost: ms }`, or `"unlimited"`.
 */
export type BufferAgeLimit = { readonly atMost: number } | "unlimited";

/** The default buffer age limit: 2 minutes, as Async. */
export const DEFAULT_BUFFER_AGE_LIMIT: BufferAgeLimit = Object.freeze({ atMost: 120_000 });

/** How long `close()` waits for the flush before closing anyway, by default (Async: 5 s for sockets). */
export const DEFAULT_FORCE_CLOSE_AFTER = 5_000;

/** The default bound of a writer (`writerMaxBuffered`): 16 MiB unflushed. */
export const DEFAULT_WRITER_MAX_BUFFERED = 16 * 1024 * 1024;

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

/** Writes up to this size are copied into the writer's coalescing buffer. */
const SMALL_WRITE = 2048;
/** The coalescing buffer's size when writes keep coming (below Node's pool limit of 4 KiB). */
const TAIL_SIZE = 4000;
/** The coalescing buffer's smallest size after the writer was idle (most messages are small). */
const FIRST_TAIL_SIZE = 512;

const RESOLVED: Promise<void> = Promise.resolve();
const NOTHING: readonly Uint8Array[] = Object.freeze([]);

/** The sink's synchronous write (`Sink.tryWrite`), called with the sink as `this`. */
type TryWrite = (this: Sink, bufs: readonly Uint8Array[]) => boolean;

/** Waits until `sink` no longer needs what it was handed (`Sink.flushed`; else an empty write). */
function sinkFlushed(sink: Sink): Promise<void> {
  return sink.flushed !== undefined ? sink.flushed() : sink.write(NOTHING);
}

/** The cancellation context of every writer's flush loop: a root that is never cancelled. */
const FLUSH_CONTEXT = new CancelContext(null);

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

interface FlushWaiter {
  readonly target: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
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
 * The age check costs no timer per writer: writers with data pending share one timer per
 * clock, armed only while some writer has data pending.
 * @example
 * ```ts
 * const server = await Tcp.Server.create(where, async (addr, reader, writer) => {
 *   for await (const line of reader.lines()) writer.write(`${line.toUpperCase()}\n`);
 *   await writer.flushed();
 * }, { onHandlerError: "raise" });
 * ```
 */
export class Writer implements AsyncDisposable, Watched {
  readonly #sink: Sink;
  readonly #closeTarget: (() => Promise<void>) | undefined;
  readonly #clock: Clock;
  readonly #ageLimit: number;
  readonly #maxBuffered: number;
  readonly #peer: string | (() => string) | undefined;
  readonly #onError: ((err: unknown) => void) | undefined;
  #state: "open" | "closing" | "closed" | "failed" = "open";
  #error: unknown = undefined;
  /** Sealed chunks not yet handed to the sink; the tail's unsealed bytes follow them. */
  #chunks: Uint8Array[] = [];
  #tail: Buffer | null = null;
  #tailStart = 0;
  #tailEnd = 0;
  /** Bytes accepted by `write`, handed to the sink, and flushed by it (all since creation). */
  #queued = 0;
  #taken = 0;
  #flushedBytes = 0;
  /** When the oldest byte not yet handed to the sink / handed and not flushed was written. */
  #pendingSince = Number.NaN;
  #inflightSince = Number.NaN;
  /** The spare chunk list (the one the sink had last), reused by the next flush. */
  #spare: Uint8Array[] = [];
  /**
   * Whether the flush loop runs (it does from the first write until the writer ends; for a
   * sink with `tryWrite`, only while a flush waits for the sink).
   */
  #looping = false;
  /** The sink's synchronous write, if it has one (a Node socket). */
  readonly #tryWrite: TryWrite | null;
  /** Whether {@link #flushNow} is queued. */
  #scheduled = false;
  /** Wakes the idle flush loop. */
  #kick: (() => void) | null = null;
  readonly #setKick = (resolve: () => void): void => {
    this.#kick = resolve;
  };
  #waiters: FlushWaiter[] = [];
  #closing: Promise<void> | null = null;
  readonly #watchdog: AgeWatchdog | null;

  /**
   * Makes a writer to `sink`.
   * @throws TypeError if `sink` is not a Sink or `bufferAgeLimit` is malformed; RangeError if
   *   its `atMost` is not > 0.
   */
  constructor(sink: Sink, opts: WriterOptions = {}) {
    if (typeof sink?.write !== "function") {
      throw new TypeError(`sink must be a Sink (with write), got ${show(sink)}`);
    }
    this.#sink = sink;
    const tryWrite = sink.tryWrite;
    this.#tryWrite = typeof tryWrite === "function" ? tryWrite : null;
    this.#clock = opts.clock ?? monoClock;
    this.#ageLimit = checkBufferAgeLimit(opts.bufferAgeLimit ?? DEFAULT_BUFFER_AGE_LIMIT);
    this.#maxBuffered =
      opts.maxBuffered === undefined
        ? DEFAULT_WRITER_MAX_BUFFERED
        : checkCount("maxBuffered", opts.maxBuffered);
    this.#peer = opts.peer;
    this.#onError = opts.onError;
    this.#closeTarget =
      opts.close ??
      (typeof (sink as { close?: unknown }).close === "function"
        ? () => (sink as unknown as { close(): Promise<void> }).close()
        : undefined);
    this.#watchdog = this.#ageLimit === Infinity ? null : AgeWatchdog.of(this.#clock);
  }

  // The writer as its age watchdog sees it (the writer is its own Watched: no object per writer)

  /** @internal The buffer age limit in ms. */
  get ageLimit(): number {
    return this.#ageLimit;
  }

  /** @internal Whether the watchdog watches this writer (kept by the watchdog). */
  watched = false;

  /** @internal When the oldest unflushed byte was written (clock ms), or NaN. */
  oldestUnflushed(): number {
    return this.#oldestUnflushed();
  }

  /** @internal The age limit is passed: the writer fails. */
  expire(now: number, oldest: number): void {
    const unflushed = this.#queued - this.#flushedBytes;
    const peer = typeof this.#peer === "function" ? this.#peer() : this.#peer;
    this.#fail(new WriterBufferAgeExceeded(this.#ageLimit, now - oldest, unflushed, peer));
  }

  /** How many bytes have been written and not yet flushed (Async's `bytes_to_write`). */
  get bytesToWrite(): number {
    return this.#queued - this.#flushedBytes;
  }

  /** How many bytes have been flushed to the sink since the writer was made. */
  get bytesFlushed(): number {
    return this.#flushedBytes;
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.#closing !== null;
  }

  /** The error the writer failed with, or `undefined` if it has not failed. */
  get error(): unknown {
    return this.#state === "failed" ? this.#error : undefined;
  }

  #oldestUnflushed(): number {
    if (this.#flushedBytes < this.#taken) return this.#inflightSince;
    if (this.#taken < this.#queued) return this.#pendingSince;
    return Number.NaN;
  }

  #unusable(op: string): unknown {
    if (this.#state === "failed") return this.#error;
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
    if (this.#state !== "open") throw this.#unusable("write");
    if (typeof data === "string") this.#writeString(data);
    else if (data instanceof Uint8Array) this.#writeBytes(data);
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
    if (this.#state !== "open") throw this.#unusable("writeLine");
    if (typeof line !== "string") {
      throw new TypeError(`line must be a string, got ${show(line)}`);
    }
    this.#writeString(line);
    this.#writeString("\n");
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
    if (this.#state !== "open") throw this.#unusable("schedule");
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`bytes must be a Uint8Array, got ${show(bytes)}`);
    }
    const n = bytes.length;
    if (n === 0) return;
    this.#seal();
    this.#chunks.push(bytes);
    this.#added(n);
  }

  #writeString(s: string): void {
    const max = s.length * 3;
    if (max === 0) return;
    if (max <= SMALL_WRITE) {
      const tail = this.#room(max);
      const n = tail.write(s, this.#tailEnd, "utf8");
      this.#tailEnd += n;
      this.#added(n);
      return;
    }
    const b = Buffer.from(s, "utf8");
    this.#seal();
    this.#chunks.push(b);
    this.#added(b.length);
  }

  #writeBytes(data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    if (n <= SMALL_WRITE) {
      const tail = this.#room(n);
      tail.set(data, this.#tailEnd);
      this.#tailEnd += n;
    } else {
      const copy = Buffer.allocUnsafe(n);
      copy.set(data);
      this.#seal();
      this.#chunks.push(copy);
    }
    this.#added(n);
  }

  /** The coalescing buffer, with at least `n` bytes free after `#tailEnd`. */
  #room(n: number): Buffer {
    const tail = this.#tail;
    if (tail !== null && tail.length - this.#tailEnd >= n) return tail;
    this.#seal();
    const size = tail === null ? Math.max(n, FIRST_TAIL_SIZE) : Math.max(n, TAIL_SIZE);
    const fresh = Buffer.allocUnsafe(size);
    this.#tail = fresh;
    this.#tailStart = 0;
    this.#tailEnd = 0;
    return fresh;
  }

  /** Moves the tail's unsealed bytes to the chunk list (the tail keeps its free space). */
  #seal(): void {
    if (this.#tailEnd > this.#tailStart) {
      this.#chunks.push((this.#tail as Buffer).subarray(this.#tailStart, this.#tailEnd));
      this.#tailStart = this.#tailEnd;
    }
  }

  #added(n: number): void {
    const unflushed = this.#queued + n - this.#flushedBytes;
    if (unflushed > this.#maxBuffered) {
      const peer = typeof this.#peer === "function" ? this.#peer() : this.#peer;
      const e = new WriterBufferLimitExceeded(this.#maxBuffered, unflushed, peer);
      this.#fail(e);
      throw e;
    }
    const dog = this.#watchdog;
    if (dog !== null && this.#taken === this.#queued) {
      const since = this.#clock.now();
      this.#pendingSince = since;
      dog.add(this, since);
    }
    this.#queued += n;
    const kick = this.#kick;
    if (kick !== null) {
      this.#kick = null;
      kick();
    } else if (!this.#looping) {
      if (this.#tryWrite === null) this.#startLoop();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        // A reaction on a settled promise: cheaper than Node's queueMicrotask
        void RESOLVED.then(this.#flushNow);
      }
    }
  }

  /**
   * The flush of a sink that can write synchronously (a Node socket's `tryWrite`), in a
   * microtask after the first write of a turn (so the writes made together still go out
   * together): no promise and no async frame when the kernel takes everything at once. If it
   * does not, {@link #drain} waits for the sink and goes on flushing until the writer is idle.
   */
  readonly #flushNow = (): void => {
    this.#scheduled = false;
    if (this.#looping || this.#ended() || this.#taken === this.#queued) return;
    this.#seal();
    const bufs = this.#chunks;
    this.#chunks = this.#spare;
    const end = this.#queued;
    this.#taken = end;
    this.#inflightSince = this.#pendingSince;
    let done: boolean;
    try {
      done = (this.#tryWrite as TryWrite).call(this.#sink, bufs);
    } catch (e) {
      this.#fail(e);
      return;
    }
    if (!done) {
      this.#looping = true;
      const ctx = { ...currentFiber(), cc: FLUSH_CONTEXT };
      runInFiber(ctx, () => void this.#drain(bufs, end));
      return;
    }
    bufs.length = 0;
    this.#spare = bufs;
    this.#flushedBytes = end;
    if (this.#waiters.length > 0) this.#wake();
    if (this.#taken === this.#queued) this.#idle();
  };

  /** Everything is flushed: gives the memory back. */
  #idle(): void {
    this.#tail = null;
    this.#tailStart = 0;
    this.#tailEnd = 0;
    this.#watchdog?.idle(this);
  }

  /**
   * After a `tryWrite` the kernel did not take at once: waits until the sink has `bufs` (up to
   * byte `end`), then flushes what was written meanwhile (with `tryWrite`, waiting again when
   * the sink keeps some), until idle.
   */
  async #drain(bufs: Uint8Array[], end: number): Promise<void> {
    try {
      await sinkFlushed(this.#sink);
      for (;;) {
        if (this.#ended()) return;
        bufs.length = 0;
        this.#spare = bufs;
        this.#flushedBytes = end;
        if (this.#waiters.length > 0) this.#wake();
        if (this.#taken === this.#queued) break;
        this.#seal();
        bufs = this.#chunks;
        this.#chunks = this.#spare;
        end = this.#queued;
        this.#taken = end;
        this.#inflightSince = this.#pendingSince;
        if (!(this.#tryWrite as TryWrite).call(this.#sink, bufs)) await sinkFlushed(this.#sink);
      }
      this.#idle();
    } catch (e) {
      this.#fail(e);
    } finally {
      this.#looping = false;
    }
  }

  #startLoop(): void {
    this.#looping = true;
    // The flush belongs to the writer, not to the fiber that wrote: it runs in a context that
    // is never cancelled. The loop lives as long as the writer, idle between flushes.
    const ctx = { ...currentFiber(), cc: FLUSH_CONTEXT };
    runInFiber(ctx, this.#runLoop);
  }

  readonly #runLoop = (): void => {
    void this.#loop();
  };

  async #loop(): Promise<void> {
    // Let the writes made in this turn gather, to go out together
    await RESOLVED;
    try {
      for (;;) {
        if (this.#taken < this.#queued) {
          this.#seal();
          const bufs = this.#chunks;
          this.#chunks = this.#spare;
          const end = this.#queued;
          this.#taken = end;
          this.#inflightSince = this.#pendingSince;
          await this.#sink.write(bufs);
          if (this.#ended()) return;
          bufs.length = 0;
          this.#spare = bufs;
          this.#flushedBytes = end;
          if (this.#waiters.length > 0) this.#wake();
          continue;
        }
        // Everything is flushed: give the memory back, and wait for more
        this.#idle();
        if (this.#state !== "open") return;
        await new Promise<void>(this.#setKick);
        if (this.#ended()) return;
      }
    } catch (e) {
      this.#fail(e);
    } finally {
      this.#looping = false;
      this.#kick = null;
    }
  }

  #wake(): void {
    const done = this.#flushedBytes;
    let i = 0;
    const ws = this.#waiters;
    while (i < ws.length && (ws[i] as FlushWaiter).target <= done) {
      (ws[i] as FlushWaiter).resolve();
      i++;
    }
    if (i > 0) ws.splice(0, i);
  }

  #fail(e: unknown): void {
    if (this.#state === "failed" || this.#state === "closed") return;
    const wasClosing = this.#state === "closing";
    this.#state = "failed";
    this.#error = e;
    this.#chunks = [];
    this.#tail = null;
    this.#taken = this.#queued;
    this.#watchdog?.leave(this);
    for (const w of this.#waiters.splice(0)) w.reject(e);
    this.#stopLoop();
    if (!wasClosing) this.#onError?.(e);
  }

  #ended(): boolean {
    return this.#state === "failed" || this.#state === "closed";
  }

  /** Lets an idle flush loop see that the writer has ended. */
  #stopLoop(): void {
    const kick = this.#kick;
    this.#kick = null;
    kick?.();
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
    if (this.#state === "failed") return Promise.reject(this.#error);
    if (this.#flushedBytes === this.#queued) return RESOLVED;
    if (this.#scheduled) {
      // The flush that was due at the end of this turn happens now: when the kernel takes it
      // all (the usual case), `write(); await flushed()` costs no promise of ours.
      this.#flushNow();
      if (this.error !== undefined) return Promise.reject(this.#error);
      if (this.#flushedBytes === this.#queued) return RESOLVED;
    }
    const target = this.#queued;
    return suspend<void>((resolve, reject) => {
      const w: FlushWaiter = { target, resolve, reject };
      this.#waiters.push(w);
      return () => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
      };
    });
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
    if (this.#state === "open") this.#state = "closing";
    if (this.#state === "closing" && this.#flushedBytes < this.#queued) {
      await Cancel.protect(() => this.#flushWithin(force));
    }
    const failed = this.#state === "failed";
    const error = this.#error;
    this.#state = failed ? "failed" : "closed";
    this.#chunks = [];
    this.#tail = null;
    this.#watchdog?.leave(this);
    this.#stopLoop();
    for (const w of this.#waiters.splice(0)) {
      w.reject(failed ? error : this.#unusable("flushed"));
    }
    const target = this.#closeTarget;
    if (target !== undefined) await target();
    if (failed) throw error;
  }

  /** Waits for the flush, at most `ms` (failures are left in `#state`). */
  async #flushWithin(ms: number): Promise<void> {
    const flushed = new Promise<void>((resolve) => {
      this.#waiters.push({ target: this.#queued, resolve, reject: () => resolve() });
    });
    if (ms === Infinity) {
      await flushed;
      return;
    }
    await Fiber.first(
      () => awaitCancellable(flushed),
      () => this.#clock.sleep(ms),
    );
  }

  /** `writer (12 bytes to write, open)`. */
  toString(): string {
    const age = this.#ageLimit === Infinity ? "unlimited" : formatSpan(this.#ageLimit);
    return `writer (${this.bytesToWrite} bytes to write, ${this.#state}, buffer age limit ${age})`;
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
