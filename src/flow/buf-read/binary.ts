/**
 * The binary readers of `BufReader` (Eio's `Buf_read.BE`/`LE`): integers of 8 to 64 bits and
 * floats, big- and little-endian. This completes {@link BufReader}.
 * @module
 */
import { busyError } from "./reader.ts";
import { TextReader } from "./text.ts";

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
export class BufReader extends TextReader {
  #scratch: DataView | null = null;

  /**
   * Makes `n` bytes available and returns the buffer that holds them, at the current position:
   * the caller reads them from it (at `pos`, taken before) and then consumes them.
   */
  async #fixed(n: number): Promise<Uint8Array> {
    if (this.busy) throw busyError();
    if (this.len < n) {
      this.busy = true;
      try {
        await this.ensureSlow(n);
      } finally {
        this.busy = false;
      }
    }
    return this.buf;
  }

  /** A DataView over a copy of the `n` bytes of `buf` at `pos` (for floats and 64-bit values). */
  #view(buf: Uint8Array, pos: number, n: number): DataView {
    const view = this.#scratch ?? new DataView(new ArrayBuffer(8));
    this.#scratch = view;
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
    const b = await this.#fixed(1);
    const p = this.pos;
    this.advance(1);
    return b[p]!;
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
    const b = await this.#fixed(1);
    const p = this.pos;
    this.advance(1);
    return (b[p]! << 24) >> 24;
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
    const b = await this.#fixed(2);
    const p = this.pos;
    this.advance(2);
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
    const b = await this.#fixed(2);
    const p = this.pos;
    this.advance(2);
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
    const b = await this.#fixed(2);
    const p = this.pos;
    this.advance(2);
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
    const b = await this.#fixed(2);
    const p = this.pos;
    this.advance(2);
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
    const b = await this.#fixed(4);
    const p = this.pos;
    this.advance(4);
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
    const b = await this.#fixed(4);
    const p = this.pos;
    this.advance(4);
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
    const b = await this.#fixed(4);
    const p = this.pos;
    this.advance(4);
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
    const b = await this.#fixed(4);
    const p = this.pos;
    this.advance(4);
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
    const b = await this.#fixed(6);
    const p = this.pos;
    this.advance(6);
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
    const b = await this.#fixed(6);
    const p = this.pos;
    this.advance(6);
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
    const b = await this.#fixed(8);
    const p = this.pos;
    this.advance(8);
    return this.#view(b, p, 8).getBigUint64(0, false);
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
    const b = await this.#fixed(8);
    const p = this.pos;
    this.advance(8);
    return this.#view(b, p, 8).getBigUint64(0, true);
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
    const b = await this.#fixed(8);
    const p = this.pos;
    this.advance(8);
    return this.#view(b, p, 8).getBigInt64(0, false);
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
    const b = await this.#fixed(8);
    const p = this.pos;
    this.advance(8);
    return this.#view(b, p, 8).getBigInt64(0, true);
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
    const b = await this.#fixed(4);
    const p = this.pos;
    this.advance(4);
    return this.#view(b, p, 4).getFloat32(0, false);
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
    const b = await this.#fixed(4);
    const p = this.pos;
    this.advance(4);
    return this.#view(b, p, 4).getFloat32(0, true);
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
    const b = await this.#fixed(8);
    const p = this.pos;
    this.advance(8);
    return this.#view(b, p, 8).getFloat64(0, false);
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
    const b = await this.#fixed(8);
    const p = this.pos;
    this.advance(8);
    return this.#view(b, p, 8).getFloat64(0, true);
  }
}
