/**
 * `BufWriter` (Eio's `Buf_write.t`, itself from Faraday): the typed writes of a buffered writer,
 * on the engine of `engine.ts`, and the ways to make one (`BufWrite.with`, `BufWrite.create`,
 * and, for `Tcp.Writer`, a writer with no switch).
 * @module
 */
import { checkCount, checkDuration } from "../../core/checks.ts";
import { type BlockingOptions, type Clock, monoClock, Switch } from "../../core/index.ts";
import { checkBytes, describeValue } from "../bytes.ts";
import type { Closable, Sink } from "../types.ts";
import { type EngineOptions, WriteEngine } from "./engine.ts";

/** The default bound of a writer's unflushed bytes (`maxUnflushed`): 16 MiB. */
export const DEFAULT_MAX_UNFLUSHED = 16 * 1024 * 1024;

/** Options of {@link BufWrite.with} and {@link BufWrite.create}. */
export interface BufWriteOptions {
  /**
   * The size of the buffer that collects writes. A write that does not fit in what is left of
   * it gets a new buffer of `max(initialSize, its length)`. Default: adaptive (512 bytes after
   * the writer was idle, then 4000; writes over 2 KiB get a buffer of their own).
   */
  readonly initialSize?: number | undefined;
  /**
   * The most bytes that may wait to be written before {@link BufWriter.ready} makes the caller
   * wait (default `Infinity`). Writes themselves never wait: a loop that writes a lot should
   * `await w.ready()` (or `w.flush()`) now and then, so a slow sink slows it down instead of
   * growing the buffer.
   */
  readonly maxBuffered?: number | undefined;
  /**
   * The bound (default 16 MiB): a write that would leave more bytes than this unwritten fails
   * the writer with `WriterBufferLimitExceeded` (pending flushes reject with `FlushAborted`).
   */
  readonly maxUnflushed?: number | undefined;
  /**
   * How long (ms) the oldest unwritten byte may wait (default `Infinity`): past it the writer
   * fails with `WriterBufferAgeExceeded`. One timer per clock watches every writer.
   */
  readonly bufferAgeLimit?: number | undefined;
  /** The clock of `bufferAgeLimit` (default: the real monotonic clock). */
  readonly clock?: Clock | undefined;
}

/** @internal What `Tcp.Writer` adds: who is written to, for error messages. */
export interface DetachedOptions extends BufWriteOptions {
  readonly peer?: string | (() => string) | undefined;
}

function checkBig(name: string, v: bigint | number, signed: boolean): bigint {
  const big = typeof v === "bigint" ? v : Number.isSafeInteger(v) ? BigInt(v) : undefined;
  const min = signed ? -(1n << 63n) : 0n;
  const max = signed ? (1n << 63n) - 1n : (1n << 64n) - 1n;
  if (big === undefined || big < min || big > max) {
    throw new RangeError(
      `${name} must be a ${signed ? "signed" : "unsigned"} 64-bit integer, got ${describeValue(v)}`,
    );
  }
  return big;
}

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer between ${min} and ${max}, got ${String(v)}`);
  }
}

/** The engine's options but its switch, checked. */
export type CheckedOptions = Omit<EngineOptions, "sw">;

/**
 * Checks a writer's options and fills in the defaults.
 * @throws RangeError/TypeError naming the option that is invalid, and its value.
 */
export function checkOptions(opts: DetachedOptions | undefined): CheckedOptions {
  const size = opts?.initialSize;
  if (size !== undefined && (!Number.isInteger(size) || size <= 0)) {
    throw new RangeError(`initialSize must be an integer > 0, got ${String(size)}`);
  }
  const maxBuffered = opts?.maxBuffered ?? Number.POSITIVE_INFINITY;
  if (typeof maxBuffered !== "number" || Number.isNaN(maxBuffered) || maxBuffered < 0) {
    throw new RangeError(`maxBuffered must be a number >= 0, got ${String(maxBuffered)}`);
  }
  return {
    initialSize: size,
    maxBuffered,
    maxUnflushed: checkCount("maxUnflushed", opts?.maxUnflushed ?? DEFAULT_MAX_UNFLUSHED, true),
    bufferAgeLimit: checkDuration("bufferAgeLimit", opts?.bufferAgeLimit ?? Infinity, true),
    clock: opts?.clock ?? monoClock,
    peer: opts?.peer,
  };
}

/** @throws TypeError unless `sink` is a Sink. */
export function checkSink(sink: Sink): void {
  if (typeof sink?.write !== "function") throw new TypeError("sink must be a Sink");
}

/**
 * A buffered writer (Eio's `Buf_write.t`), made by {@link BufWrite.with} or
 * {@link BufWrite.create}. Writes copy into its buffer (except {@link scheduleBytes}) and never
 * wait; {@link flush} waits until the sink has taken everything written so far.
 */
export class BufWriter extends WriteEngine implements Closable {
  /**
   * Prefer {@link BufWrite.with} or {@link BufWrite.create}: `opts` are checked by
   * {@link checkOptions}.
   */
  constructor(sink: Sink, opts: CheckedOptions, sw: Switch | null) {
    super(sink, { ...opts, sw });
  }

  /**
   * Runs `fn(writer)` with a writer whose data goes to `sink`; when `fn` returns, the writer is
   * closed and `with` waits until everything is written. If `fn` throws, what it wrote is still
   * flushed (unless cancelled), then the error is rethrown.
   * @internal Use {@link BufWrite.with}.
   */
  static with<T>(
    sink: Sink,
    fn: (w: BufWriter) => T | Promise<T>,
    opts?: BufWriteOptions,
  ): Promise<T> {
    checkSink(sink);
    if (typeof fn !== "function") throw new TypeError(`fn must be a function, got ${typeof fn}`);
    const checked = checkOptions(opts);
    return Switch.run(async (sw) => {
      const w = new BufWriter(sink, checked, sw);
      sw.onRelease(() => w.abort());
      let x: T;
      try {
        x = await fn(w);
      } catch (e) {
        w.closeWrites();
        // Failing the switch would stop the writing: flush first. If we are being cancelled,
        // the flush fails at once and nothing more is written.
        try {
          await w.flush();
        } catch {}
        throw e;
      }
      w.closeWrites();
      // A failed write fails the switch with the sink's error: that is what `with` rejects with
      try {
        await w.flush();
      } catch {}
      return x;
    });
  }

  /**
   * A writer whose data goes to `sink`, written out by daemon fibers of `opts.sw`. Close it
   * (`await w.close()`) before the switch finishes: when it does, the writer is aborted and data
   * not yet written is dropped.
   * @internal Use {@link BufWrite.create}.
   */
  static create(sink: Sink, opts: BufWriteOptions & { readonly sw: Switch }): BufWriter {
    checkSink(sink);
    const sw = opts?.sw;
    if (!(sw instanceof Switch)) throw new TypeError("opts.sw must be a Switch");
    const w = new BufWriter(sink, checkOptions(opts), sw);
    sw.onRelease(() => w.abort());
    return w;
  }

  /**
   * Writes the UTF-8 encoding of `s`.
   * @throws Error "cannot write to closed writer" after close or abort.
   * @throws TypeError if `s` is not a string.
   * @example
   * ```ts
   * w.string("HTTP/1.1 200 OK\r\n");
   * ```
   */
  string(s: string): void {
    if (typeof s !== "string") throw new TypeError(`s must be a string, got ${describeValue(s)}`);
    this.writable();
    this.writeString(s);
  }

  /**
   * Writes (a copy of) `bytes[off, off + len)`; the caller may reuse `bytes` at once.
   * @throws Error "cannot write to closed writer" after close or abort.
   * @throws RangeError if `off` or `len` is out of range.
   * @example
   * ```ts
   * w.bytes(payload);
   * ```
   */
  bytes(bytes: Uint8Array, off = 0, len: number = bytes.length - off): void {
    checkBytes("bytes", bytes);
    checkInt("off", off, 0, bytes.length);
    checkInt("len", len, 0, bytes.length - off);
    this.writable();
    if (len === 0) return;
    this.writeBytes(len === bytes.length ? bytes : bytes.subarray(off, off + len));
  }

  /**
   * Queues `bytes` to be written as they are, without copying (Eio's `schedule_cstruct`): do not
   * modify them until a later {@link flush} has resolved.
   * @throws Error "cannot write to closed writer" after close or abort.
   * @example
   * ```ts
   * w.scheduleBytes(largeBody);
   * await w.flush();
   * ```
   */
  scheduleBytes(bytes: Uint8Array): void {
    checkBytes("bytes", bytes);
    this.writable();
    if (bytes.length === 0) return;
    this.queue(bytes);
  }

  /**
   * Writes the UTF-8 encoding of the single character `c`.
   * @throws TypeError if `c` is not a single character.
   * @example
   * ```ts
   * w.char("\n");
   * ```
   */
  char(c: string): void {
    const cp = typeof c === "string" ? c.codePointAt(0) : undefined;
    if (cp === undefined || c.length !== (cp > 0xffff ? 2 : 1)) {
      throw new TypeError(`c must be a single character, got ${describeValue(c)}`);
    }
    if (cp < 0x80) {
      const at = this.reserve(1);
      this.buf[at] = cp;
    } else this.string(c);
  }

  /**
   * Writes `n` as one byte.
   * @throws RangeError unless `n` is an integer in 0..255.
   * @example
   * ```ts
   * w.uint8(0xff);
   * ```
   */
  uint8(n: number): void {
    checkInt("n", n, 0, 0xff);
    const at = this.reserve(1);
    this.buf[at] = n;
  }

  /**
   * Writes `n` as one signed byte.
   * @throws RangeError unless `n` is an integer in -128..127.
   * @example
   * ```ts
   * w.int8(-1);
   * ```
   */
  int8(n: number): void {
    checkInt("n", n, -0x80, 0x7f);
    const at = this.reserve(1);
    this.buf[at] = n & 0xff;
  }

  /**
   * Writes `n` as 2 bytes, big-endian.
   * @throws RangeError unless `n` is an integer in 0..65535.
   * @example
   * ```ts
   * w.uint16Be(8080);
   * ```
   */
  uint16Be(n: number): void {
    checkInt("n", n, 0, 0xffff);
    const at = this.reserve(2);
    this.view().setUint16(at, n, false);
  }

  /**
   * Writes `n` as 2 bytes, little-endian.
   * @throws RangeError unless `n` is an integer in 0..65535.
   * @example
   * ```ts
   * w.uint16Le(5);
   * ```
   */
  uint16Le(n: number): void {
    checkInt("n", n, 0, 0xffff);
    const at = this.reserve(2);
    this.view().setUint16(at, n, true);
  }

  /**
   * Writes `n` as 2 bytes, signed big-endian.
   * @throws RangeError unless `n` is an integer in -32768..32767.
   * @example
   * ```ts
   * w.int16Be(-2);
   * ```
   */
  int16Be(n: number): void {
    checkInt("n", n, -0x8000, 0x7fff);
    const at = this.reserve(2);
    this.view().setInt16(at, n, false);
  }

  /**
   * Writes `n` as 2 bytes, signed little-endian.
   * @throws RangeError unless `n` is an integer in -32768..32767.
   * @example
   * ```ts
   * w.int16Le(-2);
   * ```
   */
  int16Le(n: number): void {
    checkInt("n", n, -0x8000, 0x7fff);
    const at = this.reserve(2);
    this.view().setInt16(at, n, true);
  }

  /**
   * Writes `n` as 4 bytes, big-endian.
   * @throws RangeError unless `n` is an integer in 0..2^32-1.
   * @example
   * ```ts
   * w.uint32Be(body.length);
   * ```
   */
  uint32Be(n: number): void {
    checkInt("n", n, 0, 0xffff_ffff);
    const at = this.reserve(4);
    this.view().setUint32(at, n, false);
  }

  /**
   * Writes `n` as 4 bytes, little-endian.
   * @throws RangeError unless `n` is an integer in 0..2^32-1.
   * @example
   * ```ts
   * w.uint32Le(body.length);
   * ```
   */
  uint32Le(n: number): void {
    checkInt("n", n, 0, 0xffff_ffff);
    const at = this.reserve(4);
    this.view().setUint32(at, n, true);
  }

  /**
   * Writes `n` as 4 bytes, signed big-endian.
   * @throws RangeError unless `n` is an integer in -2^31..2^31-1.
   * @example
   * ```ts
   * w.int32Be(-1);
   * ```
   */
  int32Be(n: number): void {
    checkInt("n", n, -0x8000_0000, 0x7fff_ffff);
    const at = this.reserve(4);
    this.view().setInt32(at, n, false);
  }

  /**
   * Writes `n` as 4 bytes, signed little-endian.
   * @throws RangeError unless `n` is an integer in -2^31..2^31-1.
   * @example
   * ```ts
   * w.int32Le(-1);
   * ```
   */
  int32Le(n: number): void {
    checkInt("n", n, -0x8000_0000, 0x7fff_ffff);
    const at = this.reserve(4);
    this.view().setInt32(at, n, true);
  }

  /**
   * Writes `n` as 6 bytes, big-endian (Eio's `BE.uint48`).
   * @throws RangeError unless `n` is an integer in 0..2^48-1.
   * @example
   * ```ts
   * w.uint48Be(0xa1234567890a);
   * ```
   */
  uint48Be(n: number): void {
    checkInt("n", n, 0, 0xffff_ffff_ffff);
    const at = this.reserve(6);
    this.view().setUint16(at, Math.floor(n / 0x1_0000_0000), false);
    this.view().setUint32(at + 2, n >>> 0, false);
  }

  /**
   * Writes `n` as 6 bytes, little-endian (Eio's `LE.uint48`).
   * @throws RangeError unless `n` is an integer in 0..2^48-1.
   * @example
   * ```ts
   * w.uint48Le(0xa1234567890a);
   * ```
   */
  uint48Le(n: number): void {
    checkInt("n", n, 0, 0xffff_ffff_ffff);
    const at = this.reserve(6);
    this.view().setUint32(at, n >>> 0, true);
    this.view().setUint16(at + 4, Math.floor(n / 0x1_0000_0000), true);
  }

  /**
   * Writes `n` as 8 bytes, big-endian.
   * @throws RangeError unless `n` is in 0..2^64-1 (a bigint, or a safe integer).
   * @example
   * ```ts
   * w.uint64Be(0xa1234567890abcden);
   * ```
   */
  uint64Be(n: bigint | number): void {
    const v = checkBig("n", n, false);
    const at = this.reserve(8);
    this.view().setBigUint64(at, v, false);
  }

  /**
   * Writes `n` as 8 bytes, little-endian.
   * @throws RangeError unless `n` is in 0..2^64-1 (a bigint, or a safe integer).
   * @example
   * ```ts
   * w.uint64Le(1n);
   * ```
   */
  uint64Le(n: bigint | number): void {
    const v = checkBig("n", n, false);
    const at = this.reserve(8);
    this.view().setBigUint64(at, v, true);
  }

  /**
   * Writes `n` as 8 bytes, signed big-endian.
   * @throws RangeError unless `n` is in -2^63..2^63-1 (a bigint, or a safe integer).
   * @example
   * ```ts
   * w.int64Be(-1n);
   * ```
   */
  int64Be(n: bigint | number): void {
    const v = checkBig("n", n, true);
    const at = this.reserve(8);
    this.view().setBigInt64(at, v, false);
  }

  /**
   * Writes `n` as 8 bytes, signed little-endian.
   * @throws RangeError unless `n` is in -2^63..2^63-1 (a bigint, or a safe integer).
   * @example
   * ```ts
   * w.int64Le(-1n);
   * ```
   */
  int64Le(n: bigint | number): void {
    const v = checkBig("n", n, true);
    const at = this.reserve(8);
    this.view().setBigInt64(at, v, true);
  }

  /**
   * Writes `x` as a 4-byte IEEE 754 float, big-endian.
   * @throws TypeError if `x` is not a number.
   * @example
   * ```ts
   * w.floatBe(32.25);
   * ```
   */
  floatBe(x: number): void {
    if (typeof x !== "number") throw new TypeError(`x must be a number, got ${typeof x}`);
    const at = this.reserve(4);
    this.view().setFloat32(at, x, false);
  }

  /**
   * Writes `x` as a 4-byte IEEE 754 float, little-endian.
   * @throws TypeError if `x` is not a number.
   * @example
   * ```ts
   * w.floatLe(32.25);
   * ```
   */
  floatLe(x: number): void {
    if (typeof x !== "number") throw new TypeError(`x must be a number, got ${typeof x}`);
    const at = this.reserve(4);
    this.view().setFloat32(at, x, true);
  }

  /**
   * Writes `x` as an 8-byte IEEE 754 double, big-endian.
   * @throws TypeError if `x` is not a number.
   * @example
   * ```ts
   * w.doubleBe(Math.PI);
   * ```
   */
  doubleBe(x: number): void {
    if (typeof x !== "number") throw new TypeError(`x must be a number, got ${typeof x}`);
    const at = this.reserve(8);
    this.view().setFloat64(at, x, false);
  }

  /**
   * Writes `x` as an 8-byte IEEE 754 double, little-endian.
   * @throws TypeError if `x` is not a number.
   * @example
   * ```ts
   * w.doubleLe(Math.PI);
   * ```
   */
  doubleLe(x: number): void {
    if (typeof x !== "number") throw new TypeError(`x must be a number, got ${typeof x}`);
    const at = this.reserve(8);
    this.view().setFloat64(at, x, true);
  }

  /** Whether the writer was closed (or aborted); it may still have data to write. */
  get isClosed(): boolean {
    return this.writesClosed;
  }

  /** The bytes written to the writer that the sink has not taken yet. */
  get pendingBytes(): number {
    return this.unwritten;
  }

  /**
   * Waits until everything written so far has been taken by the sink (`sink.write` resolved).
   * Resolves at once if nothing is pending (even after an abort).
   * @throws FlushAborted if the writer is aborted with data pending (its sink failed, its switch
   *   finished, or `abort` was called).
   * @throws Cancelled if the calling fiber (or `opts.signal`) is cancelled first.
   * @example
   * ```ts
   * w.string("PING\r\n");
   * await w.flush();
   * ```
   */
  flush(opts?: BlockingOptions): Promise<void> {
    return this.flushUnwritten(opts?.signal);
  }

  /**
   * Waits until at most `maxBuffered` bytes are pending (at once if so already): the
   * backpressure of a writer with a `maxBuffered` limit.
   * @throws FlushAborted if the writer is aborted first.
   * @throws Cancelled if the calling fiber (or `opts.signal`) is cancelled first.
   * @example
   * ```ts
   * for (const row of rows) {
   *   w.string(`${row}\n`);
   *   await w.ready();
   * }
   * ```
   */
  ready(opts?: BlockingOptions): Promise<void> {
    return this.readyFor(opts?.signal);
  }

  /**
   * Closes the writer and drops what is not written yet: pending and later flushes reject with
   * `FlushAborted` (with `cause`). The write in progress, if any, is the last.
   * @example
   * ```ts
   * w.abort(new Error("peer went away"));
   * ```
   */
  abort(cause?: unknown): void {
    this.abortWith(cause);
  }

  /**
   * Closes the writer for writing (later writes throw) and waits until the data already written
   * has been taken by the sink. Closing twice is fine.
   * @throws FlushAborted if the writer is aborted before then.
   * @throws Cancelled if the calling fiber is cancelled first (the writer stays closed).
   * @example
   * ```ts
   * await using w = BufWrite.create(socket, { sw });
   * w.string("bye\n");
   * ```
   */
  close(): Promise<void> {
    this.closeWrites();
    return this.flush();
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Buffered writing (Eio's `Buf_write`). */
export const BufWrite = {
  /**
   * Runs `fn(w)` with a writer `w` whose data goes to `sink` (Eio's `with_flow`). A fiber copies
   * from `w` to `sink` meanwhile: it wakes when there is data, and writes everything written since
   * its last write in one vectored `sink.write` call. When `fn` returns, `w` is closed and `with`
   * waits until everything is written. If `fn` throws, what it wrote is still flushed (unless the
   * fiber is being cancelled), then the error is rethrown.
   * @throws whatever `fn` throws; the sink's error if a write fails (pending flushes then reject
   *   with `FlushAborted`); Cancelled if the calling fiber is cancelled.
   * @throws RangeError if `initialSize` or `maxBuffered` is invalid.
   * @example
   * ```ts
   * await BufWrite.with(socket, async (w) => {
   *   w.string("Hello");
   *   w.char(" ");
   *   w.string("world"); // one write: "Hello world"
   * });
   * ```
   */
  with<T>(sink: Sink, fn: (w: BufWriter) => T | Promise<T>, opts?: BufWriteOptions): Promise<T> {
    return BufWriter.with(sink, fn, opts);
  },

  /**
   * A long-lived writer whose data goes to `sink`, written out by a daemon fiber on `opts.sw`
   * (Eio's `create ~sw` plus the copying fiber). `await w.close()` before the switch finishes:
   * then the writer is aborted, so pending flushes reject with `FlushAborted` and unwritten data
   * is dropped. A failing sink fails the switch.
   * @throws TypeError if `opts.sw` is not a Switch; RangeError for invalid sizes.
   * @example
   * ```ts
   * await Switch.run(async (sw) => {
   *   const w = BufWrite.create(socket, { sw });
   *   w.string("hello\n");
   *   await w.close();
   * });
   * ```
   */
  create(sink: Sink, opts: BufWriteOptions & { readonly sw: Switch }): BufWriter {
    return BufWriter.create(sink, opts);
  },
};
