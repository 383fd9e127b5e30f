/**
 * The buffer core of `BufReader` (Eio's `Buf_read` buffer): what is buffered, how it grows up to
 * `maxSize`, how a source's chunks are adopted without copying, and the low-level API (`peek`,
 * `consume`, `ensure`) and the `Source` face (`readInto`, `readChunk`). The text and binary
 * readers build on it (`text.ts`, `binary.ts`).
 * @module
 */
import {
  type BlockingOptions,
  BufferLimitExceeded,
  EndOfFile,
  isIoError,
} from "../../core/index.ts";
import { checkCount, checkPositiveInt, copyBytes } from "../bytes.ts";
import { checkReadBuffer } from "../sources.ts";
import type { Source } from "../types.ts";

/** Options of {@link BufRead.of} and {@link BufRead.parse}. */
export interface BufReadOptions extends BlockingOptions {
  /**
   * The most bytes the reader will buffer (an integer > 0): large enough for the largest item
   * you parse plus its terminator (e.g. the longest line and its newline). Reading an item that
   * needs more rejects with `BufferLimitExceeded` before anything past the limit is buffered.
   */
  readonly maxSize: number;
  /** The buffer's first size (default `min(4096, maxSize)`); it doubles as needed up to `maxSize`. */
  readonly initialSize?: number;
  /**
   * Read a connection reset by the peer (`IoError` `ConnectionReset`) as end-of-file, as
   * Async's `Reader` does. Default `false`: the error is thrown.
   */
  readonly resetIsEndOfFile?: boolean;
}

const EMPTY = new Uint8Array(0);
const RESOLVED: Promise<void> = Promise.resolve();

/** The error of a second operation started while one waits for input. */
export function busyError(): Error {
  return new Error("BufReader: another read is already in progress on this reader");
}

/**
 * The buffer core of {@link BufReader}: the buffered bytes are `buf[pos, pos + len)`; `buf` is
 * `own` (ours, growable) or, when `adopted`, a chunk the source handed over. Subclasses read
 * the buffer directly and move through it with `advance`.
 */
export class BufferCore implements Source {
  #src: Source | null;
  // The bytes: `buf[pos, pos + len)` are buffered and not yet consumed. `buf` is `own`
  // (ours, growable) or, when `adopted`, a chunk the source handed over through `readChunk`.
  protected buf: Uint8Array;
  protected own: Uint8Array | null = null;
  protected adopted = false;
  protected pos = 0;
  protected len = 0;
  // Bytes already taken from the source but not yet in the buffer (the rest of a chunk that
  // did not fit). When `adopted`, it is the continuation of `buf` in the same memory.
  #spill: Uint8Array | null = null;
  // While bytes of a chunk are copied into `own` (to complete an item that spans two chunks),
  // `own[#mirrorAt...]` is a copy of `#mirror[0...]`; once everything before `#mirrorAt` is
  // consumed, the reader goes back to working in the chunk itself (no copy for what follows).
  #mirrorAt = Number.POSITIVE_INFINITY;
  #mirror: Uint8Array | null = null;
  protected consumed = 0;
  protected busy = false;
  readonly #maxSize: number;
  protected readonly initialSize: number;
  readonly #readOpts: BlockingOptions | undefined;
  readonly #resetIsEof: boolean;

  /**
   * Prefer `BufRead.of`. Makes a reader of `src`, or (with `src` `null`) of the bytes
   * `initial`, which are then all the input.
   * @throws RangeError if `maxSize` or `initialSize` is invalid.
   */
  constructor(src: Source | null, opts: BufReadOptions, initial?: Uint8Array) {
    const maxSize = opts?.maxSize;
    if (src !== null || maxSize !== Number.POSITIVE_INFINITY) checkPositiveInt("maxSize", maxSize);
    const initialSize = opts.initialSize ?? Math.min(4096, maxSize);
    if (!Number.isInteger(initialSize) || initialSize <= 0 || initialSize > maxSize) {
      throw new RangeError(
        `initialSize must be an integer between 1 and maxSize (${maxSize}), got ${String(initialSize)}`,
      );
    }
    this.#src = src;
    this.#maxSize = maxSize;
    this.initialSize = initialSize;
    this.#readOpts = opts.signal === undefined ? undefined : { signal: opts.signal };
    this.#resetIsEof = opts.resetIsEndOfFile === true;
    this.buf = initial ?? EMPTY;
    this.len = initial?.length ?? 0;
    this.adopted = initial !== undefined;
  }

  /** The number of bytes that can be read without reading the source (Eio's `buffered_bytes`). */
  get buffered(): number {
    return this.len;
  }

  /** The total number of bytes consumed so far: the offset in the stream of the next byte. */
  get consumedBytes(): number {
    return this.consumed;
  }

  /**
   * Whether the source has reported end-of-file: then there is no data beyond what
   * {@link peek} returns. False at the end of the stream if the reader does not know it yet:
   * use {@link atEnd} to be sure.
   */
  get eofSeen(): boolean {
    return this.#src === null && this.#spill === null;
  }

  /** The most bytes this reader buffers. */
  get maxSize(): number {
    return this.#maxSize;
  }

  /**
   * A view of the buffered bytes (`length === buffered`), without copying. Any later operation
   * may change what it shows: use it at once, then {@link consume} what you used.
   * @example
   * ```ts
   * await r.ensure(4);
   * const magic = r.peek().subarray(0, 4);
   * ```
   */
  peek(): Uint8Array {
    const buf = this.buf;
    // The whole of a source's chunk (a request loop's usual case): no new view
    if (this.pos === 0 && this.len === buf.length) return buf;
    return buf.subarray(this.pos, this.pos + this.len);
  }

  /**
   * Discards the first `n` buffered bytes (after {@link peek}); does not read the source.
   * @throws RangeError unless `0 <= n <= buffered`.
   * @example
   * ```ts
   * r.consume(r.buffered); // drop what is buffered
   * ```
   */
  consume(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.len) {
      throw new RangeError(
        `n must be an integer between 0 and ${this.len} (the bytes buffered), got ${String(n)}`,
      );
    }
    this.advance(n);
  }

  /**
   * Makes sure at least `n` bytes are buffered, reading the source as needed (Eio's `ensure`).
   * @throws EndOfFile if the source ends first (what it gave stays buffered).
   * @throws BufferLimitExceeded if `n > maxSize` (nothing is read).
   * @throws Cancelled if the calling fiber, the reader's signal or `opts.signal` is cancelled.
   * @throws RangeError if `n` is not an integer >= 0.
   * @example
   * ```ts
   * await r.ensure(2);
   * const len = r.peek()[0]! * 256 + r.peek()[1]!;
   * ```
   */
  ensure(n: number, opts?: BlockingOptions): Promise<void> {
    checkCount("n", n);
    if (this.busy) return Promise.reject(busyError());
    if (this.len >= n) return RESOLVED;
    const src = this.#src;
    if (
      this.len === 0 &&
      this.#spill === null &&
      src?.readChunk !== undefined &&
      n <= this.#maxSize
    ) {
      // Nothing buffered (a request loop that consumed all it read): the source's next chunk
      // becomes the buffer, with no async frame
      this.busy = true;
      this.#want = n;
      this.#wantSignal = opts?.signal;
      return src
        .readChunk(this.#optsWith(opts?.signal))
        .then(this.#chunkEnsured, this.#chunkFailed);
    }
    return this.guard(() => this.ensureSlow(n, opts?.signal));
  }

  #want = 0;
  #wantSignal: AbortSignal | undefined = undefined;

  readonly #chunkEnsured = (chunk: Uint8Array): void | Promise<void> => {
    this.busy = false;
    const n = this.#want;
    const signal = this.#wantSignal;
    this.#wantSignal = undefined;
    if (chunk.length > 0) this.#takeSpill(chunk, n);
    if (this.len >= n) return;
    return this.guard(() => this.ensureSlow(n, signal));
  };

  protected advance(n: number): void {
    this.pos += n;
    this.len -= n;
    this.consumed += n;
    if (this.pos >= this.#mirrorAt) this.#backToChunk();
    if (this.len === 0) this.#drained();
  }

  protected advanceAll(): void {
    this.consumed += this.len;
    this.pos += this.len;
    this.len = 0;
    if (this.pos >= this.#mirrorAt) this.#backToChunk();
    this.#drained();
  }

  /** Everything is consumed: an idle reader holds no chunk of the source's. */
  #drained(): void {
    if (this.adopted && this.#spill === null) {
      this.buf = EMPTY;
      this.pos = 0;
    }
  }

  /** What is buffered in `own` is a copy of the start of `#mirror`: use the chunk instead. */
  #backToChunk(): void {
    this.buf = this.#mirror as Uint8Array;
    this.pos -= this.#mirrorAt;
    this.adopted = true;
    this.#mirror = null;
    this.#mirrorAt = Number.POSITIVE_INFINITY;
  }

  /** Runs a slow path that may wait for input, marking the reader busy meanwhile. */
  protected async guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy) throw busyError();
    this.busy = true;
    try {
      return await fn();
    } finally {
      this.busy = false;
    }
  }

  #optsWith(signal: AbortSignal | undefined): BlockingOptions | undefined {
    if (signal === undefined) return this.#readOpts;
    const mine = this.#readOpts?.signal;
    return { signal: mine === undefined ? signal : AbortSignal.any([mine, signal]) };
  }

  /**
   * Reads until `len >= n` (Eio's `ensure_slow_path`). The caller has checked `len < n`.
   * With `readInto`, the buffer grows as Eio's does (to `max(n, min(maxSize, 2 * capacity))`)
   * and each read fills the free space; with `readChunk`, chunks are used in place.
   */
  protected async ensureSlow(n: number, signal?: AbortSignal): Promise<void> {
    if (n > this.#maxSize) throw new BufferLimitExceeded();
    while (this.len < n) {
      const spill = this.#spill;
      if (spill !== null) {
        this.#takeSpill(spill, n);
        continue;
      }
      const src = this.#src;
      if (src === null) throw new EndOfFile();
      if (this.adopted) this.#leaveChunk(n);
      try {
        if (src.readChunk !== undefined) {
          const chunk = await src.readChunk(this.#optsWith(signal));
          if (chunk.length > 0) this.#spill = chunk;
        } else {
          this.#makeRoom(n);
          const free = this.buf.subarray(this.pos + this.len);
          this.len += await src.readInto(free, this.#optsWith(signal));
        }
      } catch (e) {
        throw this.#readFailed(e);
      }
    }
  }

  /** A failed read of the source: at end-of-file (or a reset, if it counts as one) it is gone. */
  #readFailed(e: unknown): unknown {
    if (e instanceof EndOfFile) this.#src = null;
    else if (this.#resetIsEof && isIoError(e, "ConnectionReset")) {
      this.#src = null;
      return new EndOfFile();
    }
    return e;
  }

  /** Moves bytes of `spill` into the buffer. */
  #takeSpill(spill: Uint8Array, n: number): void {
    let k: number;
    if (this.len === 0) {
      // Nothing buffered: work in the chunk itself, up to maxSize of it at a time.
      k = Math.min(spill.length, this.#maxSize);
      this.#mirror = null;
      this.#mirrorAt = Number.POSITIVE_INFINITY;
      this.buf = spill;
      this.pos = 0;
      this.adopted = true;
      this.len = k;
    } else if (this.adopted) {
      // `spill` continues `buf` in the same memory: just show more of it.
      k = Math.min(spill.length, this.#maxSize - this.len);
      this.len += k;
    } else {
      // Copy what the item needs (at least doubling what is buffered, so a long item takes few
      // steps), and remember where the copy of the chunk starts, to go back to it.
      this.#makeRoom(n);
      const at = this.pos + this.len;
      const want = Math.max(n - this.len, this.len, 1024);
      k = Math.min(spill.length, this.buf.length - at, want);
      const m = this.#mirror;
      // The copy continues the mirror if `spill` is the rest of the mirrored chunk.
      if (
        m === null ||
        m.buffer !== spill.buffer ||
        m.byteOffset + (at - this.#mirrorAt) !== spill.byteOffset ||
        spill.byteOffset + spill.length > m.byteOffset + m.length
      ) {
        this.#mirror = spill;
        this.#mirrorAt = at;
      }
      this.buf.set(k === spill.length ? spill : spill.subarray(0, k), at);
      this.len += k;
    }
    this.#spill = k < spill.length ? spill.subarray(k) : null;
  }

  /** The capacity Eio's growth rule gives for `n` bytes, starting from `cap`. */
  #grow(cap: number, n: number): number {
    return n > cap ? Math.max(n, Math.min(this.#maxSize, cap * 2)) : cap;
  }

  /** Makes `own` the buffer with room for `n` bytes from `pos` (compacting or growing it). */
  #makeRoom(n: number): void {
    if (this.len === 0) this.pos = 0;
    const from = this.pos;
    let own = this.own;
    if (own === null) {
      own = new Uint8Array(this.#grow(this.initialSize, n));
      this.own = own;
      own.set(this.buf.subarray(this.pos, this.pos + this.len));
      this.pos = 0;
    } else if (n > own.length) {
      const bigger = new Uint8Array(this.#grow(own.length, n));
      bigger.set(this.buf.subarray(this.pos, this.pos + this.len));
      this.own = bigger;
      own = bigger;
      this.pos = 0;
    } else if (this.pos + n > own.length) {
      own.copyWithin(0, this.pos, this.pos + this.len);
      this.pos = 0;
    }
    this.buf = own;
    if (this.#mirror !== null) this.#mirrorAt -= from - this.pos;
  }

  /** Leaves an adopted chunk (all of it shown): its unconsumed bytes move to `own`. */
  #leaveChunk(n: number): void {
    const chunk = this.buf;
    const pos = this.pos;
    const len = this.len;
    this.adopted = false;
    let own = this.own;
    const cap = this.#grow(own?.length ?? this.initialSize, n);
    if (own === null || own.length < cap) {
      own = new Uint8Array(cap);
      this.own = own;
    }
    if (len > 0) own.set(chunk.subarray(pos, pos + len));
    this.buf = own;
    this.pos = 0;
  }

  /**
   * Reads buffered bytes into `buf`, reading the source only when nothing is buffered (Eio's
   * `as_flow`). Returns how many bytes were copied (at least one).
   * @throws EndOfFile at end-of-input; RangeError if `buf` is empty.
   * @example
   * ```ts
   * const head = await r.line();
   * await Flow.copy(r, file); // the rest, buffered bytes first
   * ```
   */
  readInto(buf: Uint8Array, opts?: BlockingOptions): Promise<number> {
    checkReadBuffer(buf);
    if (this.busy) return Promise.reject(busyError());
    // Buffered bytes are copied at once: one resolved promise, no async frame
    if (this.len > 0) return Promise.resolve(this.#copyOut(buf));
    const src = this.#src;
    if (
      src !== null &&
      this.#spill === null &&
      src.readChunk === undefined &&
      buf.length >= (this.own?.length ?? this.initialSize)
    ) {
      // A read as large as our buffer goes straight into the caller's: no copy
      return this.guard(async () => {
        try {
          const n = await src.readInto(buf, this.#optsWith(opts?.signal));
          this.consumed += n;
          return n;
        } catch (e) {
          throw this.#readFailed(e);
        }
      });
    }
    if (src?.readChunk !== undefined && this.#spill === null) {
      // Nothing buffered: the source's next chunk becomes the buffer, with no async frame
      this.busy = true;
      this.#into = buf;
      return src.readChunk(this.#optsWith(opts?.signal)).then(this.#chunkInto, this.#chunkFailed);
    }
    return this.guard(async () => {
      await this.ensureSlow(1, opts?.signal);
      return this.#copyOut(buf);
    });
  }

  #into: Uint8Array | null = null;

  readonly #chunkInto = (chunk: Uint8Array): number | Promise<number> => {
    this.busy = false;
    const buf = this.#into as Uint8Array;
    this.#into = null;
    if (chunk.length === 0) return this.readInto(buf);
    this.#takeSpill(chunk, 1);
    return this.#copyOut(buf);
  };

  #copyOut(buf: Uint8Array): number {
    const k = Math.min(this.len, buf.length);
    buf.set(this.buf.subarray(this.pos, this.pos + k));
    this.advance(k);
    return k;
  }

  /**
   * Returns all the buffered bytes as a chunk the caller owns (reading the source first if
   * nothing is buffered). A chunk the source handed over is passed on without copying.
   * @throws EndOfFile at end-of-input.
   * @example
   * ```ts
   * const rest = await r.readChunk();
   * ```
   */
  readChunk(opts?: BlockingOptions): Promise<Uint8Array> {
    if (this.busy) return Promise.reject(busyError());
    if (this.len > 0 || this.#spill !== null) return Promise.resolve(this.#takeChunk());
    const src = this.#src;
    if (src?.readChunk === undefined) {
      return this.guard(async () => {
        await this.ensureSlow(1, opts?.signal);
        return this.#takeChunk();
      });
    }
    // Nothing buffered: the source's own chunk, straight through (an echo's fast path)
    this.busy = true;
    return src.readChunk(this.#optsWith(opts?.signal)).then(this.#chunkRead, this.#chunkFailed);
  }

  readonly #chunkRead = (chunk: Uint8Array): Uint8Array => {
    this.busy = false;
    this.consumed += chunk.length;
    return chunk;
  };

  readonly #chunkFailed = (e: unknown): never => {
    this.busy = false;
    this.#into = null;
    this.#wantSignal = undefined;
    throw this.#readFailed(e);
  };

  #takeChunk(): Uint8Array {
    const pos = this.pos;
    if (this.adopted || this.len === 0) {
      // We never write into an adopted chunk, so a view of it (and of its unshown rest) is safe.
      const spill = this.#spill;
      this.#spill = null;
      if (this.len === 0 && spill !== null) {
        this.consumed += spill.length;
        return spill;
      }
      const extra = spill?.length ?? 0;
      const chunk = this.buf.subarray(pos, pos + this.len + extra);
      this.consumed += extra;
      this.advanceAll();
      return chunk;
    }
    const chunk = copyBytes(this.buf, pos, pos + this.len);
    this.advanceAll();
    return chunk;
  }
}
