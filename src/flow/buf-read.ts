/**
 * `BufRead` (Eio's `Buf_read`): a buffered reader over a {@link Source}, with non-backtracking
 * parsers for text (UTF-8 strings) and binary data, and a bounded buffer.
 *
 * A parser is an async function `(r: BufReader) => Promise<T>`: Eio's combinators `map`, `pair`,
 * `bind`, `<*`, `*>` and its `let*` syntax are what `await` already does
 * (`async (r) => { await r.string("FROM:"); return r.takeAll(); }`), so only `map` and `pair` are
 * kept, for short point-free parsers.
 * @module
 */
import { type BlockingOptions, BufferLimitExceeded, EndOfFile, isIoError } from "../core/index.ts";
import {
  checkBytes,
  checkCount,
  checkPositiveInt,
  copyBytes,
  decodeUtf8,
  describeValue,
  encodeUtf8,
  quoteChar,
  quoteString,
} from "./bytes.ts";
import { checkReadBuffer } from "./sources.ts";
import type { Source } from "./types.ts";

/**
 * A parser failed: the input is not what it expected (Eio's `Failure`). Readers such as
 * {@link BufReader.char} throw it with a short message (`Expected 'A' but got 'a'`);
 * {@link BufRead.parse} throws it with the full message, position included
 * (`Expected 'A' but got 'a' (at offset 0)`). Throw it from your own parsers too.
 * @example
 * ```ts
 * if (version !== 1) throw new ParseError(`unsupported version ${version}`);
 * ```
 */
export class ParseError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ParseError";
  }
}

/** A parser: reads a value of type `T` from a buffered reader (Eio's `'a parser`). */
export type Parser<T> = (r: BufReader) => Promise<T>;

/** A parse's outcome as a value (Eio's `('a, [`Msg of string]) result`). */
export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string; readonly cause: unknown };

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
const NL = 10;
const CR = 13;
const REPLACEMENT = 0xfffd;
const MIN_TEXT_BLOCK = 512;
const MAX_TEXT_BLOCK = 65536;

function busyError(): Error {
  return new Error("BufReader: another read is already in progress on this reader");
}

/**
 * A buffered reader (Eio's `Buf_read.t`), made by {@link BufRead.of}, {@link BufRead.ofString}
 * or {@link BufRead.ofBytes}.
 *
 * Text readers return strings decoded from UTF-8 (invalid sequences become U+FFFD); sizes and
 * offsets are in bytes. Character readers (`anyChar`, `peekChar`, `char`) work on one UTF-8
 * encoded character; the predicates of `takeWhile` and friends get each byte as a number
 * (ASCII bytes never occur inside a multi-byte character, so ASCII classes are safe on UTF-8).
 *
 * The buffer holds at most `maxSize` bytes: a read that would need more rejects with
 * `BufferLimitExceeded` (before buffering past the limit), so a peer cannot make it grow without
 * bound. The buffer starts at `initialSize`, doubles as needed and is compacted rather than
 * reallocated. A source with `readChunk` is read without copying: the reader works in the
 * source's chunk directly while it can, and only copies an item that spans two chunks. Values
 * that lie within the buffer are decoded straight from it, with no intermediate copy.
 *
 * A reader serves one operation at a time: starting another while one waits for input rejects
 * with an Error. A cancelled read leaves the reader usable: nothing is consumed.
 * The reader is itself a {@link Source} (Eio's `as_flow`): buffered data first, then the source.
 */
export class BufReader implements Source {
  #src: Source | null;
  // The bytes: `#buf[#pos, #pos + #len)` are buffered and not yet consumed. `#buf` is `#own`
  // (ours, growable) or, when `#adopted`, a chunk the source handed over through `readChunk`.
  #buf: Uint8Array;
  #own: Uint8Array | null = null;
  #adopted = false;
  #pos = 0;
  #len = 0;
  // Bytes already taken from the source but not yet in the buffer (the rest of a chunk that
  // did not fit). When `#adopted`, it is the continuation of `#buf` in the same memory.
  #spill: Uint8Array | null = null;
  // While bytes of a chunk are copied into `#own` (to complete an item that spans two chunks),
  // `#own[#mirrorAt...]` is a copy of `#mirror[0...]`; once everything before `#mirrorAt` is
  // consumed, the reader goes back to working in the chunk itself (no copy for what follows).
  #mirrorAt = Number.POSITIVE_INFINITY;
  #mirror: Uint8Array | null = null;
  // Decoded lines (see #lineFast): `#text.slice(#textPos)` starts at stream offset `#textAt`
  // (valid while `#textAt === #consumed`).
  #text = "";
  #textPos = 0;
  #textAt = -1;
  #textAscii = false;
  #textBlock = MIN_TEXT_BLOCK;
  #consumed = 0;
  #busy = false;
  #cp = 0;
  #scratch: DataView | null = null;
  #fixedBuf: Uint8Array = EMPTY;
  readonly #maxSize: number;
  readonly #initialSize: number;
  readonly #readOpts: BlockingOptions | undefined;
  readonly #resetIsEof: boolean;

  /**
   * Prefer {@link BufRead.of}. Makes a reader of `src`, or (with `src` `null`) of the bytes
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
    this.#initialSize = initialSize;
    this.#readOpts = opts.signal === undefined ? undefined : { signal: opts.signal };
    this.#resetIsEof = opts.resetIsEndOfFile === true;
    this.#buf = initial ?? EMPTY;
    this.#len = initial?.length ?? 0;
    this.#adopted = initial !== undefined;
  }

  // ---- Low-level API ------------------------------------------------------------------------

  /** The number of bytes that can be read without reading the source (Eio's `buffered_bytes`). */
  get buffered(): number {
    return this.#len;
  }

  /** The total number of bytes consumed so far: the offset in the stream of the next byte. */
  get consumedBytes(): number {
    return this.#consumed;
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
    return this.#buf.subarray(this.#pos, this.#pos + this.#len);
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
    if (!Number.isInteger(n) || n < 0 || n > this.#len) {
      throw new RangeError(
        `n must be an integer between 0 and ${this.#len} (the bytes buffered), got ${String(n)}`,
      );
    }
    this.#consume(n);
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
    return this.#guard(async () => {
      if (this.#len < n) await this.#ensureSlow(n, opts?.signal);
    });
  }

  #consume(n: number): void {
    this.#pos += n;
    this.#len -= n;
    this.#consumed += n;
    if (this.#pos >= this.#mirrorAt) this.#backToChunk();
  }

  #consumeAll(): void {
    this.#consumed += this.#len;
    this.#pos += this.#len;
    this.#len = 0;
    if (this.#pos >= this.#mirrorAt) this.#backToChunk();
  }

  /** What is buffered in `#own` is a copy of the start of `#mirror`: use the chunk instead. */
  #backToChunk(): void {
    this.#buf = this.#mirror as Uint8Array;
    this.#pos -= this.#mirrorAt;
    this.#adopted = true;
    this.#mirror = null;
    this.#mirrorAt = Number.POSITIVE_INFINITY;
  }

  /** Runs a slow path that may wait for input, marking the reader busy meanwhile. */
  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#busy) throw busyError();
    this.#busy = true;
    try {
      return await fn();
    } finally {
      this.#busy = false;
    }
  }

  #optsWith(signal: AbortSignal | undefined): BlockingOptions | undefined {
    if (signal === undefined) return this.#readOpts;
    const mine = this.#readOpts?.signal;
    return { signal: mine === undefined ? signal : AbortSignal.any([mine, signal]) };
  }

  /**
   * Reads until `#len >= n` (Eio's `ensure_slow_path`). The caller has checked `#len < n`.
   * With `readInto`, the buffer grows as Eio's does (to `max(n, min(maxSize, 2 * capacity))`)
   * and each read fills the free space; with `readChunk`, chunks are used in place.
   */
  async #ensureSlow(n: number, signal?: AbortSignal): Promise<void> {
    if (n > this.#maxSize) throw new BufferLimitExceeded();
    while (this.#len < n) {
      const spill = this.#spill;
      if (spill !== null) {
        this.#takeSpill(spill, n);
        continue;
      }
      const src = this.#src;
      if (src === null) throw new EndOfFile();
      if (this.#adopted) this.#leaveChunk(n);
      try {
        if (src.readChunk !== undefined) {
          const chunk = await src.readChunk(this.#optsWith(signal));
          if (chunk.length > 0) this.#spill = chunk;
        } else {
          this.#makeRoom(n);
          const free = this.#buf.subarray(this.#pos + this.#len);
          this.#len += await src.readInto(free, this.#optsWith(signal));
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
    if (this.#len === 0) {
      // Nothing buffered: work in the chunk itself, up to maxSize of it at a time.
      k = Math.min(spill.length, this.#maxSize);
      this.#mirror = null;
      this.#mirrorAt = Number.POSITIVE_INFINITY;
      this.#buf = spill;
      this.#pos = 0;
      this.#adopted = true;
      this.#len = k;
    } else if (this.#adopted) {
      // `spill` continues `#buf` in the same memory: just show more of it.
      k = Math.min(spill.length, this.#maxSize - this.#len);
      this.#len += k;
    } else {
      // Copy what the item needs (at least doubling what is buffered, so a long item takes few
      // steps), and remember where the copy of the chunk starts, to go back to it.
      this.#makeRoom(n);
      const at = this.#pos + this.#len;
      const want = Math.max(n - this.#len, this.#len, 1024);
      k = Math.min(spill.length, this.#buf.length - at, want);
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
      this.#buf.set(k === spill.length ? spill : spill.subarray(0, k), at);
      this.#len += k;
    }
    this.#spill = k < spill.length ? spill.subarray(k) : null;
  }

  /** The capacity Eio's growth rule gives for `n` bytes, starting from `cap`. */
  #grow(cap: number, n: number): number {
    return n > cap ? Math.max(n, Math.min(this.#maxSize, cap * 2)) : cap;
  }

  /** Makes `#own` the buffer with room for `n` bytes from `#pos` (compacting or growing it). */
  #makeRoom(n: number): void {
    if (this.#len === 0) this.#pos = 0;
    const from = this.#pos;
    let own = this.#own;
    if (own === null) {
      own = new Uint8Array(this.#grow(this.#initialSize, n));
      this.#own = own;
      own.set(this.#buf.subarray(this.#pos, this.#pos + this.#len));
      this.#pos = 0;
    } else if (n > own.length) {
      const bigger = new Uint8Array(this.#grow(own.length, n));
      bigger.set(this.#buf.subarray(this.#pos, this.#pos + this.#len));
      this.#own = bigger;
      own = bigger;
      this.#pos = 0;
    } else if (this.#pos + n > own.length) {
      own.copyWithin(0, this.#pos, this.#pos + this.#len);
      this.#pos = 0;
    }
    this.#buf = own;
    if (this.#mirror !== null) this.#mirrorAt -= from - this.#pos;
  }

  /** Leaves an adopted chunk (all of it shown): its unconsumed bytes move to `#own`. */
  #leaveChunk(n: number): void {
    const chunk = this.#buf;
    const pos = this.#pos;
    const len = this.#len;
    this.#adopted = false;
    let own = this.#own;
    const cap = this.#grow(own?.length ?? this.#initialSize, n);
    if (own === null || own.length < cap) {
      own = new Uint8Array(cap);
      this.#own = own;
    }
    if (len > 0) own.set(chunk.subarray(pos, pos + len));
    this.#buf = own;
    this.#pos = 0;
  }

  // ---- Reading text -------------------------------------------------------------------------

  /**
   * Reads one line: the bytes up to the next LF, without it (nor a CR just before it), decoded
   * as UTF-8. At end-of-file, data without a final newline is returned as the last line
   * (Eio's `line`). Lines within the buffer are decoded in place, without a copy, several at a
   * time (each line is then a slice of one decoded string).
   * @throws EndOfFile if there is no more data at all.
   * @throws BufferLimitExceeded if no newline is found within `maxSize` bytes.
   * @throws Cancelled if the calling fiber or the reader's signal is cancelled while waiting.
   * @example
   * ```ts
   * const status = await r.line(); // "HTTP/1.1 200 OK"
   * ```
   */
  line(): Promise<string> {
    // Not async: a line already buffered costs one resolved promise, not an async frame
    if (this.#busy) return Promise.reject(busyError());
    const s = this.#lineFast();
    if (s !== undefined) return Promise.resolve(s);
    return this.#guard(() => this.#lineSlow(0));
  }

  /**
   * The next line if it is already complete in the buffer (the value {@link line} would give),
   * else `null`: it never reads the source nor waits. A loop can take the buffered lines
   * synchronously and wait only when the buffer runs dry, which saves the cost of one promise
   * per line (a final line without a newline comes from `line()`).
   * @throws Error if another read is in progress.
   * @example
   * ```ts
   * for (;;) {
   *   const line = r.bufferedLine() ?? (await r.atEnd() ? null : await r.line());
   *   if (line === null) break;
   *   handle(line);
   * }
   * ```
   */
  bufferedLine(): string | null {
    if (this.#busy) throw busyError();
    return this.#lineFast() ?? null;
  }

  /**
   * The next line if it is complete in the buffer, else undefined (then nothing changed).
   *
   * Lines are decoded a block at a time: the complete lines at the start of the buffer are
   * decoded with one call into `#text`, and each line is a slice of it. The block grows (512 B
   * to 64 KiB) while lines are read one after another, and starts small again when another
   * operation moved the position, so mixing lines and other reads decodes little ahead.
   * Decoding a block is the same as decoding each line: a newline byte never belongs to a
   * multi-byte or invalid sequence, so no sequence crosses a line end.
   */
  #lineFast(): string | undefined {
    let text = this.#text;
    let sp = this.#textPos;
    if (this.#textAt !== this.#consumed || sp >= text.length) {
      const len = this.#len;
      if (len === 0) return undefined;
      if (sp >= text.length) this.#textBlock = Math.min(this.#textBlock * 2, MAX_TEXT_BLOCK);
      else this.#textBlock = MIN_TEXT_BLOCK;
      const buf = this.#buf;
      const pos = this.#pos;
      const limit = pos + Math.min(len, this.#textBlock);
      let last = buf.lastIndexOf(NL, limit - 1);
      if (last < pos) {
        last = buf.indexOf(NL, limit);
        if (last === -1 || last >= pos + len) {
          this.#textAt = -1;
          return undefined;
        }
      }
      text = decodeUtf8(buf, pos, last + 1);
      sp = 0;
      this.#text = text;
      this.#textAscii = text.length === last + 1 - pos;
      this.#textAt = this.#consumed;
    }
    const snl = text.indexOf("\n", sp);
    const end = snl > sp && text.charCodeAt(snl - 1) === CR ? snl - 1 : snl;
    const line = text.slice(sp, end);
    // In an ASCII block (one byte per UTF-16 unit) the byte count is the character count.
    const n = this.#textAscii ? snl + 1 - sp : this.#buf.indexOf(NL, this.#pos) + 1 - this.#pos;
    this.#textPos = snl + 1;
    this.#consume(n);
    this.#textAt = this.#consumed;
    return line;
  }

  #takeLine(nl: number): string {
    const buf = this.#buf;
    const pos = this.#pos;
    const end = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
    const line = decodeUtf8(buf, pos, end);
    this.#consume(nl + 1 - pos);
    return line;
  }

  async #lineSlow(scanned: number): Promise<string> {
    for (;;) {
      const pos = this.#pos;
      const len = this.#len;
      if (scanned < len) {
        const nl = this.#buf.indexOf(NL, pos + scanned);
        if (nl !== -1 && nl < pos + len) return this.#takeLine(nl);
        scanned = len;
      }
      try {
        await this.#ensureSlow(len + 1);
      } catch (e) {
        if (e instanceof EndOfFile && this.#len > 0) return this.#takeRest();
        throw e;
      }
    }
  }

  #takeRest(): string {
    const s = decodeUtf8(this.#buf, this.#pos, this.#pos + this.#len);
    this.#consumeAll();
    return s;
  }

  /**
   * The lines up to end-of-input, lazily (Eio's `lines`: `seq(line)`). Between items you may use
   * the reader for other reads: the next item starts where they stopped (unlike Eio's sequences,
   * an iterator cannot be replayed, so there is no staleness check).
   * @throws (while iterating) as {@link line}.
   * @example
   * ```ts
   * for await (const line of r.lines()) console.log(line);
   * ```
   */
  lines(): AsyncIterableIterator<string> {
    const next = (): Promise<IteratorResult<string, undefined>> => {
      if (!this.#busy) {
        const value = this.#lineFast();
        if (value !== undefined) return Promise.resolve({ done: false, value });
      }
      return this.#guard(async () =>
        (await this.#atEndSlow())
          ? { done: true, value: undefined }
          : { done: false, value: await this.#lineSlow(0) },
      );
    };
    return {
      next,
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /**
   * The values `parser` reads, one after another, until `stop` says to (default: until
   * end-of-input), lazily (Eio's `seq`).
   * @throws (while iterating) whatever `parser` or `stop` throws.
   * @example
   * ```ts
   * const pairs = [];
   * for await (const p of r.seq((r) => r.take(2))) pairs.push(p);
   * ```
   */
  seq<T>(parser: Parser<T>, opts?: { stop?: Parser<boolean> }): AsyncIterableIterator<T> {
    const stop = opts?.stop ?? ((r: BufReader) => r.atEnd());
    return {
      next: async (): Promise<IteratorResult<T, undefined>> =>
        (await stop(this))
          ? { done: true, value: undefined }
          : { done: false, value: await parser(this) },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /**
   * Reads everything up to end-of-file, decoded as UTF-8; `""` if already there (Eio's `take_all`).
   * @throws BufferLimitExceeded if the rest of the input is `maxSize` bytes or more (one more
   *   byte than the data is needed to see end-of-file).
   * @example
   * ```ts
   * const body = await r.takeAll();
   * ```
   */
  takeAll(): Promise<string> {
    return this.#guard(async () => {
      for (;;) {
        try {
          await this.#ensureSlow(this.#len + 1);
        } catch (e) {
          if (e instanceof EndOfFile) return this.#takeRest();
          throw e;
        }
      }
    });
  }

  /**
   * Reads exactly `n` bytes, decoded as UTF-8 (a character cut at either end becomes U+FFFD).
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @throws BufferLimitExceeded if `n > maxSize`.
   * @throws RangeError if `n` is not an integer >= 0.
   * @example
   * ```ts
   * const method = await r.take(4);
   * ```
   */
  take(n: number): Promise<string> {
    checkCount("n", n);
    return this.#guard(async () => {
      if (this.#len < n) await this.#ensureSlow(n);
      const s = decodeUtf8(this.#buf, this.#pos, this.#pos + n);
      this.#consume(n);
      return s;
    });
  }

  /**
   * Reads exactly `n` bytes, as a new array the caller owns.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @throws BufferLimitExceeded if `n > maxSize`.
   * @throws RangeError if `n` is not an integer >= 0.
   * @example
   * ```ts
   * const body = await r.takeBytes(contentLength);
   * ```
   */
  takeBytes(n: number): Promise<Uint8Array> {
    checkCount("n", n);
    return this.#guard(async () => {
      if (this.#len < n) await this.#ensureSlow(n);
      const b = copyBytes(this.#buf, this.#pos, this.#pos + n);
      this.#consume(n);
      return b;
    });
  }

  /**
   * Discards the next `n` bytes (Eio's `skip`), reading as needed without growing the buffer, so
   * `n` may exceed `maxSize`.
   * @throws EndOfFile if the input ends first; then all of it has been consumed.
   * @throws RangeError if `n` is not an integer >= 0.
   * @example
   * ```ts
   * await r.skip(contentLength);
   * ```
   */
  skip(n: number): Promise<void> {
    checkCount("n", n);
    return this.#guard(async () => {
      try {
        while (n > this.#len) {
          n -= this.#len;
          this.#consumeAll();
          const cap = this.#adopted ? this.#maxSize : (this.#own?.length ?? this.#initialSize);
          await this.#ensureSlow(Math.min(n, cap));
        }
        this.#consume(n);
      } catch (e) {
        if (e instanceof EndOfFile) this.#consumeAll();
        throw e;
      }
    });
  }

  /**
   * Reads the next character and returns it without consuming it (Eio's `peek_char`); `null`
   * at end-of-input. A byte that does not start a valid UTF-8 sequence reads as U+FFFD.
   * @example
   * ```ts
   * if ((await r.peekChar()) === "{") return parseObject(r);
   * ```
   */
  peekChar(): Promise<string | null> {
    return this.#guard(async () => {
      const n = await this.#nextChar();
      return n === 0 ? null : String.fromCodePoint(this.#cp);
    });
  }

  /**
   * Reads and consumes the next character (Eio's `any_char`): one UTF-8 encoded character (an
   * invalid sequence gives U+FFFD and consumes its longest valid prefix, as `TextDecoder` does).
   * @throws EndOfFile at end-of-input.
   * @example
   * ```ts
   * const c = await r.anyChar();
   * ```
   */
  anyChar(): Promise<string> {
    return this.#guard(async () => {
      const n = await this.#nextChar();
      if (n === 0) throw new EndOfFile();
      this.#consume(n);
      return String.fromCodePoint(this.#cp);
    });
  }

  /**
   * Checks that the next character is `c` and consumes it (Eio's `char`); nothing is consumed
   * on a mismatch.
   * @throws ParseError `Expected 'A' but got 'a'` if the next character differs.
   * @throws EndOfFile at end-of-input.
   * @throws TypeError if `c` is not a single character.
   * @example
   * ```ts
   * await r.char(":");
   * ```
   */
  char(c: string): Promise<void> {
    const cp = typeof c === "string" ? c.codePointAt(0) : undefined;
    if (cp === undefined || c.length !== (cp > 0xffff ? 2 : 1)) {
      throw new TypeError(`c must be a single character, got ${describeValue(c)}`);
    }
    return this.#guard(async () => {
      const n = await this.#nextChar();
      if (n === 0) throw new EndOfFile();
      if (this.#cp !== cp) {
        throw new ParseError(
          `Expected ${quoteChar(c)} but got ${quoteChar(String.fromCodePoint(this.#cp))}`,
        );
      }
      this.#consume(n);
    });
  }

  /**
   * Decodes the next character into `#cp` and returns its length in bytes (0 at end-of-input),
   * without consuming it. Invalid sequences decode to U+FFFD with the length of their longest
   * valid prefix (at least 1), as the WHATWG decoder does.
   */
  async #nextChar(): Promise<number> {
    if (this.#len === 0) {
      try {
        await this.#ensureSlow(1);
      } catch (e) {
        if (e instanceof EndOfFile) return 0;
        throw e;
      }
    }
    const b0 = this.#buf[this.#pos]!;
    if (b0 < 0x80) {
      this.#cp = b0;
      return 1;
    }
    const need = b0 < 0xc2 ? 1 : b0 < 0xe0 ? 2 : b0 < 0xf0 ? 3 : b0 < 0xf5 ? 4 : 1;
    if (need === 1) {
      this.#cp = REPLACEMENT;
      return 1;
    }
    const want = Math.min(need, this.#maxSize);
    if (this.#len < want) {
      try {
        await this.#ensureSlow(want);
      } catch (e) {
        if (!(e instanceof EndOfFile)) throw e;
      }
    }
    const buf = this.#buf;
    const pos = this.#pos;
    const avail = Math.min(need, this.#len);
    let lo = b0 === 0xe0 ? 0xa0 : b0 === 0xf0 ? 0x90 : 0x80;
    let hi = b0 === 0xed ? 0x9f : b0 === 0xf4 ? 0x8f : 0xbf;
    let cp = b0 & (need === 2 ? 0x1f : need === 3 ? 0x0f : 0x07);
    for (let i = 1; i < need; i++) {
      const b = i < avail ? buf[pos + i]! : -1;
      if (b < lo || b > hi) {
        this.#cp = REPLACEMENT;
        return i;
      }
      lo = 0x80;
      hi = 0xbf;
      cp = (cp << 6) | (b & 0x3f);
    }
    this.#cp = cp;
    return need;
  }

  /**
   * Checks that the next bytes are the UTF-8 encoding of `s` and consumes them (Eio's `string`).
   * @throws ParseError `Expected "FROM:" but got "TO:B"` on a mismatch (nothing is consumed).
   * @throws EndOfFile if the input ends first.
   * @throws BufferLimitExceeded if `s` is longer than `maxSize` bytes (and matches so far).
   * @throws TypeError if `s` is not a string.
   * @example
   * ```ts
   * await r.string("HTTP/1.1 ");
   * ```
   */
  string(s: string): Promise<void> {
    if (typeof s !== "string") throw new TypeError(`s must be a string, got ${describeValue(s)}`);
    const bytes = encodeUtf8(s);
    return this.#guard(async () => {
      let i = 0;
      for (;;) {
        if (i === bytes.length) {
          this.#consume(i);
          return;
        }
        if (i < this.#len) {
          if (this.#buf[this.#pos + i] === bytes[i]) {
            i++;
            continue;
          }
          const got = decodeUtf8(
            this.#buf,
            this.#pos,
            this.#pos + Math.min(bytes.length, this.#len),
          );
          throw new ParseError(`Expected ${quoteString(s)} but got ${quoteString(got)}`);
        }
        await this.#ensureSlow(this.#len + 1);
      }
    });
  }

  /** Counts the leading bytes for which `pred` holds, reading as needed (Eio's `count_while`). */
  async #countWhile(pred: (byte: number) => boolean): Promise<number> {
    let i = 0;
    for (;;) {
      const buf = this.#buf;
      const pos = this.#pos;
      const len = this.#len;
      while (i < len && pred(buf[pos + i]!)) i++;
      if (i < len) return i;
      try {
        await this.#ensureSlow(len + 1);
      } catch (e) {
        if (e instanceof EndOfFile) return this.#len;
        throw e;
      }
    }
  }

  #takeString(n: number): string {
    const s = decodeUtf8(this.#buf, this.#pos, this.#pos + n);
    this.#consume(n);
    return s;
  }

  /**
   * Reads the bytes up to the first one for which `pred` is false (or to end-of-file), decoded
   * as UTF-8; `""` if there are none (Eio's `take_while`). Never throws EndOfFile.
   * @throws BufferLimitExceeded if `pred` holds for `maxSize` bytes.
   * @example
   * ```ts
   * const digits = await r.takeWhile((b) => b >= 0x30 && b <= 0x39);
   * ```
   */
  takeWhile(pred: (byte: number) => boolean): Promise<string> {
    return this.#guard(async () => this.#takeString(await this.#countWhile(pred)));
  }

  /**
   * Like {@link takeWhile}, but at least one byte must match.
   * @throws ParseError `takeWhile1` if none does.
   * @throws BufferLimitExceeded if `pred` holds for `maxSize` bytes.
   * @example
   * ```ts
   * const token = await r.takeWhile1((b) => b > 0x20 && b < 0x7f);
   * ```
   */
  takeWhile1(pred: (byte: number) => boolean): Promise<string> {
    return this.#guard(async () => {
      const n = await this.#countWhile(pred);
      if (n < 1) throw new ParseError("takeWhile1");
      return this.#takeString(n);
    });
  }

  /**
   * Skips the bytes for which `pred` holds (Eio's `skip_while`); not limited by `maxSize`.
   * Never throws EndOfFile.
   * @example
   * ```ts
   * await r.skipWhile((b) => b === 0x20 || b === 0x09);
   * ```
   */
  skipWhile(pred: (byte: number) => boolean): Promise<void> {
    return this.#guard(async () => {
      try {
        for (;;) {
          const buf = this.#buf;
          const pos = this.#pos;
          const len = this.#len;
          let i = 0;
          while (i < len && pred(buf[pos + i]!)) i++;
          if (i < len) {
            this.#consume(i);
            return;
          }
          this.#consumeAll();
          await this.#ensureSlow(1);
        }
      } catch (e) {
        if (!(e instanceof EndOfFile)) throw e;
      }
    });
  }

  /**
   * Like {@link skipWhile}, but at least one byte must match; limited by `maxSize` as
   * {@link takeWhile} is (Eio's `skip_while1`).
   * @throws ParseError `skipWhile1` if none does.
   * @throws BufferLimitExceeded if `pred` holds for `maxSize` bytes.
   * @example
   * ```ts
   * await r.skipWhile1((b) => b === 0x20);
   * ```
   */
  skipWhile1(pred: (byte: number) => boolean): Promise<void> {
    return this.#guard(async () => {
      const n = await this.#countWhile(pred);
      if (n < 1) throw new ParseError("skipWhile1");
      this.#consume(n);
    });
  }

  /**
   * Whether the input is at its end: no byte is left (Eio's `at_end_of_input`). Reads the source
   * if nothing is buffered.
   * @example
   * ```ts
   * while (!(await r.atEnd())) items.push(await parseItem(r));
   * ```
   */
  atEnd(): Promise<boolean> {
    if (this.#len > 0 && !this.#busy) return Promise.resolve(false);
    return this.#guard(() => this.#atEndSlow());
  }

  async #atEndSlow(): Promise<boolean> {
    if (this.#len > 0) return false;
    try {
      await this.#ensureSlow(1);
      return false;
    } catch (e) {
      if (e instanceof EndOfFile) return true;
      throw e;
    }
  }

  /**
   * Checks that the input is at its end (Eio's `end_of_input`).
   * @throws ParseError `Unexpected data after parsing` if there is more.
   * @example
   * ```ts
   * const v = await r.uint32Be();
   * await r.endOfInput();
   * ```
   */
  async endOfInput(): Promise<void> {
    if (!(await this.atEnd())) throw new ParseError("Unexpected data after parsing");
  }

  // ---- Reading binary data ------------------------------------------------------------------

  /**
   * Makes `n` bytes available and returns the position of the first in `#fixedBuf` (they are
   * consumed, which may change `#buf`).
   */
  async #fixed(n: number): Promise<number> {
    if (this.#busy) throw busyError();
    if (this.#len < n) {
      this.#busy = true;
      try {
        await this.#ensureSlow(n);
      } finally {
        this.#busy = false;
      }
    }
    const pos = this.#pos;
    this.#fixedBuf = this.#buf;
    this.#consume(n);
    return pos;
  }

  /** A DataView over a copy of the `n` bytes at `pos` (for floats and 64-bit values). */
  #view(pos: number, n: number): DataView {
    const view = this.#scratch ?? new DataView(new ArrayBuffer(8));
    this.#scratch = view;
    const buf = this.#fixedBuf;
    for (let i = 0; i < n; i++) view.setUint8(i, buf[pos + i]!);
    return view;
  }

  /**
   * Reads one byte as an unsigned integer (0..255).
   * @throws EndOfFile at end-of-input.
   * @example
   * ```ts
   * const version = await r.uint8();
   * ```
   */
  async uint8(): Promise<number> {
    const p = await this.#fixed(1);
    return this.#fixedBuf[p]!;
  }

  /**
   * Reads one byte as a signed integer (-128..127).
   * @throws EndOfFile at end-of-input.
   * @example
   * ```ts
   * const delta = await r.int8();
   * ```
   */
  async int8(): Promise<number> {
    const p = await this.#fixed(1);
    return (this.#fixedBuf[p]! << 24) >> 24;
  }

  /**
   * Reads 2 bytes as an unsigned big-endian integer.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const port = await r.uint16Be();
   * ```
   */
  async uint16Be(): Promise<number> {
    const p = await this.#fixed(2);
    const b = this.#fixedBuf;
    return (b[p]! << 8) | b[p + 1]!;
  }

  /**
   * Reads 2 bytes as an unsigned little-endian integer.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const n = await r.uint16Le();
   * ```
   */
  async uint16Le(): Promise<number> {
    const p = await this.#fixed(2);
    const b = this.#fixedBuf;
    return b[p]! | (b[p + 1]! << 8);
  }

  /**
   * Reads 2 bytes as a signed big-endian integer.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const n = await r.int16Be();
   * ```
   */
  async int16Be(): Promise<number> {
    const p = await this.#fixed(2);
    const b = this.#fixedBuf;
    return (((b[p]! << 8) | b[p + 1]!) << 16) >> 16;
  }

  /**
   * Reads 2 bytes as a signed little-endian integer.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const n = await r.int16Le();
   * ```
   */
  async int16Le(): Promise<number> {
    const p = await this.#fixed(2);
    const b = this.#fixedBuf;
    return ((b[p]! | (b[p + 1]! << 8)) << 16) >> 16;
  }

  /**
   * Reads 4 bytes as an unsigned big-endian integer.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const length = await r.uint32Be();
   * ```
   */
  async uint32Be(): Promise<number> {
    const p = await this.#fixed(4);
    const b = this.#fixedBuf;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /**
   * Reads 4 bytes as an unsigned little-endian integer.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const length = await r.uint32Le();
   * ```
   */
  async uint32Le(): Promise<number> {
    const p = await this.#fixed(4);
    const b = this.#fixedBuf;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  /**
   * Reads 4 bytes as a signed big-endian integer.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const n = await r.int32Be();
   * ```
   */
  async int32Be(): Promise<number> {
    const p = await this.#fixed(4);
    const b = this.#fixedBuf;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }

  /**
   * Reads 4 bytes as a signed little-endian integer.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const n = await r.int32Le();
   * ```
   */
  async int32Le(): Promise<number> {
    const p = await this.#fixed(4);
    const b = this.#fixedBuf;
    return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
  }

  /**
   * Reads 6 bytes as an unsigned big-endian 48-bit integer (Eio's `BE.uint48`).
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const mac = await r.uint48Be();
   * ```
   */
  async uint48Be(): Promise<number> {
    const p = await this.#fixed(6);
    const b = this.#fixedBuf;
    const hi = (b[p]! << 8) | b[p + 1]!;
    const lo = ((b[p + 2]! << 24) | (b[p + 3]! << 16) | (b[p + 4]! << 8) | b[p + 5]!) >>> 0;
    return hi * 0x1_0000_0000 + lo;
  }

  /**
   * Reads 6 bytes as an unsigned little-endian 48-bit integer (Eio's `LE.uint48`).
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const n = await r.uint48Le();
   * ```
   */
  async uint48Le(): Promise<number> {
    const p = await this.#fixed(6);
    const b = this.#fixedBuf;
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = b[p + 4]! | (b[p + 5]! << 8);
    return hi * 0x1_0000_0000 + lo;
  }

  /**
   * Reads 8 bytes as an unsigned big-endian 64-bit integer.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const id = await r.uint64Be(); // a bigint
   * ```
   */
  async uint64Be(): Promise<bigint> {
    const p = await this.#fixed(8);
    return this.#view(p, 8).getBigUint64(0, false);
  }

  /**
   * Reads 8 bytes as an unsigned little-endian 64-bit integer.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const id = await r.uint64Le(); // a bigint
   * ```
   */
  async uint64Le(): Promise<bigint> {
    const p = await this.#fixed(8);
    return this.#view(p, 8).getBigUint64(0, true);
  }

  /**
   * Reads 8 bytes as a signed big-endian 64-bit integer.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const t = await r.int64Be(); // a bigint
   * ```
   */
  async int64Be(): Promise<bigint> {
    const p = await this.#fixed(8);
    return this.#view(p, 8).getBigInt64(0, false);
  }

  /**
   * Reads 8 bytes as a signed little-endian 64-bit integer.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const t = await r.int64Le(); // a bigint
   * ```
   */
  async int64Le(): Promise<bigint> {
    const p = await this.#fixed(8);
    return this.#view(p, 8).getBigInt64(0, true);
  }

  /**
   * Reads 4 bytes as a big-endian IEEE 754 single-precision float.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const x = await r.floatBe();
   * ```
   */
  async floatBe(): Promise<number> {
    const p = await this.#fixed(4);
    return this.#view(p, 4).getFloat32(0, false);
  }

  /**
   * Reads 4 bytes as a little-endian IEEE 754 single-precision float.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const x = await r.floatLe();
   * ```
   */
  async floatLe(): Promise<number> {
    const p = await this.#fixed(4);
    return this.#view(p, 4).getFloat32(0, true);
  }

  /**
   * Reads 8 bytes as a big-endian IEEE 754 double-precision float.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const x = await r.doubleBe();
   * ```
   */
  async doubleBe(): Promise<number> {
    const p = await this.#fixed(8);
    return this.#view(p, 8).getFloat64(0, false);
  }

  /**
   * Reads 8 bytes as a little-endian IEEE 754 double-precision float.
   * @throws EndOfFile if the input ends first (nothing is consumed).
   * @example
   * ```ts
   * const x = await r.doubleLe();
   * ```
   */
  async doubleLe(): Promise<number> {
    const p = await this.#fixed(8);
    return this.#view(p, 8).getFloat64(0, true);
  }

  // ---- As a source --------------------------------------------------------------------------

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
    if (this.#busy) return Promise.reject(busyError());
    // Buffered bytes are copied at once: one resolved promise, no async frame
    if (this.#len > 0) return Promise.resolve(this.#copyOut(buf));
    const src = this.#src;
    if (
      src !== null &&
      this.#spill === null &&
      src.readChunk === undefined &&
      buf.length >= (this.#own?.length ?? this.#initialSize)
    ) {
      // A read as large as our buffer goes straight into the caller's: no copy
      return this.#guard(async () => {
        try {
          const n = await src.readInto(buf, this.#optsWith(opts?.signal));
          this.#consumed += n;
          return n;
        } catch (e) {
          throw this.#readFailed(e);
        }
      });
    }
    if (src?.readChunk !== undefined && this.#spill === null) {
      // Nothing buffered: the source's next chunk becomes the buffer, with no async frame
      this.#busy = true;
      this.#into = buf;
      return src.readChunk(this.#optsWith(opts?.signal)).then(this.#chunkInto, this.#chunkFailed);
    }
    return this.#guard(async () => {
      await this.#ensureSlow(1, opts?.signal);
      return this.#copyOut(buf);
    });
  }

  #into: Uint8Array | null = null;

  readonly #chunkInto = (chunk: Uint8Array): number | Promise<number> => {
    this.#busy = false;
    const buf = this.#into as Uint8Array;
    this.#into = null;
    if (chunk.length === 0) return this.readInto(buf);
    this.#takeSpill(chunk, 1);
    return this.#copyOut(buf);
  };

  #copyOut(buf: Uint8Array): number {
    const k = Math.min(this.#len, buf.length);
    buf.set(this.#buf.subarray(this.#pos, this.#pos + k));
    this.#consume(k);
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
    if (this.#busy) return Promise.reject(busyError());
    if (this.#len > 0 || this.#spill !== null) return Promise.resolve(this.#takeChunk());
    const src = this.#src;
    if (src?.readChunk === undefined) {
      return this.#guard(async () => {
        await this.#ensureSlow(1, opts?.signal);
        return this.#takeChunk();
      });
    }
    // Nothing buffered: the source's own chunk, straight through (an echo's fast path)
    this.#busy = true;
    return src.readChunk(this.#optsWith(opts?.signal)).then(this.#chunkRead, this.#chunkFailed);
  }

  readonly #chunkRead = (chunk: Uint8Array): Uint8Array => {
    this.#busy = false;
    this.#consumed += chunk.length;
    return chunk;
  };

  readonly #chunkFailed = (e: unknown): never => {
    this.#busy = false;
    this.#into = null;
    throw this.#readFailed(e);
  };

  #takeChunk(): Uint8Array {
    const pos = this.#pos;
    if (this.#adopted || this.#len === 0) {
      // We never write into an adopted chunk, so a view of it (and of its unshown rest) is safe.
      const spill = this.#spill;
      this.#spill = null;
      if (this.#len === 0 && spill !== null) {
        this.#consumed += spill.length;
        return spill;
      }
      const extra = spill?.length ?? 0;
      const chunk = this.#buf.subarray(pos, pos + this.#len + extra);
      this.#consumed += extra;
      this.#consumeAll();
      return chunk;
    }
    const chunk = copyBytes(this.#buf, pos, pos + this.#len);
    this.#consumeAll();
    return chunk;
  }
}

/** The message `formatErrors` gives for `e`, or undefined if `e` is not a parse error. */
function describeParseError(e: unknown, r: BufReader): string | undefined {
  if (e instanceof ParseError) return `${e.message} (at offset ${r.consumedBytes})`;
  if (e instanceof EndOfFile)
    return `Unexpected end-of-file at offset ${r.consumedBytes + r.buffered}`;
  if (e instanceof BufferLimitExceeded) {
    return `Buffer size limit exceeded when reading at offset ${r.consumedBytes}`;
  }
  return undefined;
}

function checkParser(p: unknown): void {
  if (typeof p !== "function") throw new TypeError(`parser must be a function, got ${typeof p}`);
}

async function parseAll<T>(parser: Parser<T>, r: BufReader): Promise<T> {
  const res = await BufRead.formatErrors(async (r: BufReader) => {
    const v = await parser(r);
    await r.endOfInput();
    return v;
  })(r);
  if (res.ok) return res.value;
  throw new ParseError(res.error, { cause: res.cause });
}

/** Buffered reading and parsing (Eio's `Buf_read`). */
export const BufRead = {
  /**
   * A buffered reader of `src` that buffers at most `opts.maxSize` bytes (Eio's `of_flow`).
   * `opts.signal` cancels its reads, as the calling fiber's cancellation does.
   * @throws RangeError if `maxSize` is not an integer > 0, or `initialSize` not in 1..maxSize.
   * @example
   * ```ts
   * const r = BufRead.of(socket, { maxSize: 64 * 1024 });
   * const requestLine = await r.line();
   * ```
   */
  of(src: Source, opts: BufReadOptions): BufReader {
    if (typeof src?.readInto !== "function") throw new TypeError("src must be a Source");
    if (typeof opts !== "object" || opts === null) {
      throw new TypeError("opts must be an object with maxSize");
    }
    return new BufReader(src, opts);
  },

  /**
   * A reader of the UTF-8 bytes of `s`, which are all its input (Eio's `of_string`).
   * @example
   * ```ts
   * const r = BufRead.ofString("hello\nworld\n");
   * await r.line(); // "hello"
   * ```
   */
  ofString(s: string): BufReader {
    if (typeof s !== "string") throw new TypeError(`s must be a string, got ${describeValue(s)}`);
    return new BufReader(null, { maxSize: Number.POSITIVE_INFINITY }, encodeUtf8(s));
  },

  /**
   * A reader of `bytes`, which are all its input (Eio's `of_buffer`). They are not copied: the
   * reader never modifies them, but {@link BufReader.peek} exposes them.
   * @example
   * ```ts
   * const r = BufRead.ofBytes(new Uint8Array([0, 42]));
   * await r.uint16Be(); // 42
   * ```
   */
  ofBytes(bytes: Uint8Array): BufReader {
    checkBytes("bytes", bytes);
    return new BufReader(null, { maxSize: Number.POSITIVE_INFINITY }, bytes);
  },

  /**
   * Uses `parser` to parse everything in `src` (Eio's `parse_exn`): the parser, then
   * end-of-input, on a reader with `opts`. Parse failures become a `ParseError` whose message
   * says where, as Eio's: `Expected "FROM:" but got "TO:B" (at offset 0)`,
   * `Unexpected end-of-file at offset 1`, `Buffer size limit exceeded when reading at offset 5`,
   * `Unexpected data after parsing (at offset 3)` (the original error is its `cause`).
   * @throws ParseError as above; other errors (IoError, Cancelled) unchanged.
   * @throws RangeError if `maxSize` or `initialSize` is invalid.
   * @example
   * ```ts
   * const from = await BufRead.parse(
   *   async (r) => { await r.string("FROM:"); return r.takeAll(); },
   *   socket,
   *   { maxSize: 1024 },
   * );
   * ```
   */
  parse<T>(parser: Parser<T>, src: Source, opts: BufReadOptions): Promise<T> {
    checkParser(parser);
    return parseAll(parser, BufRead.of(src, opts));
  },

  /**
   * Uses `parser` to parse all of `s` (Eio's `parse_string_exn`).
   * @throws ParseError as {@link BufRead.parse}.
   * @example
   * ```ts
   * await BufRead.parseString((r) => r.line(), "foo\n"); // "foo"
   * ```
   */
  parseString<T>(parser: Parser<T>, s: string): Promise<T> {
    checkParser(parser);
    return parseAll(parser, BufRead.ofString(s));
  },

  /**
   * Uses `parser` to parse all of `bytes`.
   * @throws ParseError as {@link BufRead.parse}.
   * @example
   * ```ts
   * await BufRead.parseBytes((r) => r.uint16Be(), new Uint8Array([1, 0])); // 256
   * ```
   */
  parseBytes<T>(parser: Parser<T>, bytes: Uint8Array): Promise<T> {
    checkParser(parser);
    return parseAll(parser, BufRead.ofBytes(bytes));
  },

  /**
   * A parser that runs `parser` and returns its outcome as a value (Eio's `format_errors`):
   * `ParseError`, `EndOfFile` and `BufferLimitExceeded` become `{ ok: false, error }` with the
   * messages {@link BufRead.parse} uses; other errors are thrown.
   * @example
   * ```ts
   * const res = await BufRead.formatErrors((r) => r.take(3))(r);
   * if (!res.ok) console.error(res.error);
   * ```
   */
  formatErrors<T>(parser: Parser<T>): Parser<ParseResult<T>> {
    checkParser(parser);
    return async (r) => {
      try {
        return { ok: true, value: await parser(r) };
      } catch (e) {
        const error = describeParseError(e, r);
        if (error === undefined) throw e;
        return { ok: false, error, cause: e };
      }
    };
  },

  /**
   * A parser that runs `parser` and returns `f` of its value (Eio's `map`).
   * @example
   * ```ts
   * const upper = BufRead.map((r) => r.take(2), (s) => s.toUpperCase());
   * ```
   */
  map<A, B>(parser: Parser<A>, f: (a: A) => B): Parser<B> {
    return async (r) => f(await parser(r));
  },

  /**
   * A parser that runs `a` then `b` and returns both values (Eio's `pair`; no backtracking: if
   * `b` fails, what `a` consumed is gone).
   * @example
   * ```ts
   * const [c, rest] = await BufRead.pair((r) => r.anyChar(), (r) => r.takeAll())(r);
   * ```
   */
  pair<A, B>(a: Parser<A>, b: Parser<B>): Parser<[A, B]> {
    return async (r) => {
      const x = await a(r);
      return [x, await b(r)];
    };
  },
};
