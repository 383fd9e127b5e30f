/**
 * The text readers of `BufReader` (Eio's `Buf_read` text parsers): lines (decoded a block at a
 * time, each line a slice of one string), characters, strings, `takeWhile` and friends, the
 * end-of-input checks. Sizes and offsets are in bytes; text is UTF-8.
 * @module
 */
import { EndOfFile } from "../../core/index.ts";
import {
  checkCount,
  copyBytes,
  decodeUtf8,
  describeValue,
  encodeUtf8,
  quoteChar,
  quoteString,
} from "../bytes.ts";
import type { BufReader } from "./binary.ts";
import { ParseError } from "./errors.ts";
import type { Parser } from "./parse.ts";
import { BufferCore, busyError } from "./reader.ts";

const NL = 10;
const CR = 13;
const REPLACEMENT = 0xfffd;
const MIN_TEXT_BLOCK = 512;
const MAX_TEXT_BLOCK = 65536;

/** The text readers over the {@link BufferCore}. */
export class TextReader extends BufferCore {
  // Decoded lines (see #lineFast): `#text.slice(#textPos)` starts at stream offset `#textAt`
  // (valid while `#textAt === consumed`).
  #text = "";
  #textPos = 0;
  #textAt = -1;
  #textAscii = false;
  #textBlock = MIN_TEXT_BLOCK;

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
    if (this.busy) return Promise.reject(busyError());
    const s = this.#lineFast();
    if (s !== undefined) return Promise.resolve(s);
    return this.guard(() => this.#lineSlow(0));
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
    if (this.busy) throw busyError();
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
    if (this.#textAt !== this.consumed || sp >= text.length) {
      const len = this.len;
      if (len === 0) return undefined;
      if (sp >= text.length) this.#textBlock = Math.min(this.#textBlock * 2, MAX_TEXT_BLOCK);
      else this.#textBlock = MIN_TEXT_BLOCK;
      const buf = this.buf;
      const pos = this.pos;
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
      this.#textAt = this.consumed;
    }
    const snl = text.indexOf("\n", sp);
    const end = snl > sp && text.charCodeAt(snl - 1) === CR ? snl - 1 : snl;
    const line = text.slice(sp, end);
    // In an ASCII block (one byte per UTF-16 unit) the byte count is the character count.
    const n = this.#textAscii ? snl + 1 - sp : this.buf.indexOf(NL, this.pos) + 1 - this.pos;
    this.#textPos = snl + 1;
    this.advance(n);
    this.#textAt = this.consumed;
    return line;
  }

  #takeLine(nl: number): string {
    const buf = this.buf;
    const pos = this.pos;
    const end = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
    const line = decodeUtf8(buf, pos, end);
    this.advance(nl + 1 - pos);
    return line;
  }

  async #lineSlow(scanned: number): Promise<string> {
    for (;;) {
      const pos = this.pos;
      const len = this.len;
      if (scanned < len) {
        const nl = this.buf.indexOf(NL, pos + scanned);
        if (nl !== -1 && nl < pos + len) return this.#takeLine(nl);
        scanned = len;
      }
      try {
        await this.ensureSlow(len + 1);
      } catch (e) {
        if (e instanceof EndOfFile && this.len > 0) return this.#takeRest();
        throw e;
      }
    }
  }

  #takeRest(): string {
    const s = decodeUtf8(this.buf, this.pos, this.pos + this.len);
    this.advanceAll();
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
      if (!this.busy) {
        const value = this.#lineFast();
        if (value !== undefined) return Promise.resolve({ done: false, value });
      }
      return this.guard(async () =>
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
    // The readers are one BufReader: the text readers are a part of it
    const self = this as unknown as BufReader;
    return {
      next: async (): Promise<IteratorResult<T, undefined>> =>
        (await stop(self))
          ? { done: true, value: undefined }
          : { done: false, value: await parser(self) },
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
    return this.guard(async () => {
      for (;;) {
        try {
          await this.ensureSlow(this.len + 1);
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
    return this.guard(async () => {
      if (this.len < n) await this.ensureSlow(n);
      const s = decodeUtf8(this.buf, this.pos, this.pos + n);
      this.advance(n);
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
    return this.guard(async () => {
      if (this.len < n) await this.ensureSlow(n);
      const b = copyBytes(this.buf, this.pos, this.pos + n);
      this.advance(n);
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
    return this.guard(async () => {
      try {
        while (n > this.len) {
          n -= this.len;
          this.advanceAll();
          const cap = this.adopted ? this.maxSize : (this.own?.length ?? this.initialSize);
          await this.ensureSlow(Math.min(n, cap));
        }
        this.advance(n);
      } catch (e) {
        if (e instanceof EndOfFile) this.advanceAll();
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
    return this.guard(async () => {
      const c = await this.#nextChar();
      return c === 0 ? null : String.fromCodePoint(c >>> 3);
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
    return this.guard(async () => {
      const c = await this.#nextChar();
      if (c === 0) throw new EndOfFile();
      this.advance(c & 7);
      return String.fromCodePoint(c >>> 3);
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
    return this.guard(async () => {
      const next = await this.#nextChar();
      if (next === 0) throw new EndOfFile();
      if (next >>> 3 !== cp) {
        throw new ParseError(
          `Expected ${quoteChar(c)} but got ${quoteChar(String.fromCodePoint(next >>> 3))}`,
        );
      }
      this.advance(next & 7);
    });
  }

  /**
   * Decodes the next character without consuming it and returns it packed with its length in
   * bytes: `codePoint * 8 + length` (0 at end-of-input; unpack with `>>> 3` and `& 7`). Invalid sequences decode to U+FFFD with the length of their longest
   * valid prefix (at least 1), as the WHATWG decoder does.
   */
  async #nextChar(): Promise<number> {
    if (this.len === 0) {
      try {
        await this.ensureSlow(1);
      } catch (e) {
        if (e instanceof EndOfFile) return 0;
        throw e;
      }
    }
    const b0 = this.buf[this.pos]!;
    if (b0 < 0x80) {
      return b0 * 8 + 1;
    }
    const need = b0 < 0xc2 ? 1 : b0 < 0xe0 ? 2 : b0 < 0xf0 ? 3 : b0 < 0xf5 ? 4 : 1;
    if (need === 1) {
      return REPLACEMENT * 8 + 1;
    }
    const want = Math.min(need, this.maxSize);
    if (this.len < want) {
      try {
        await this.ensureSlow(want);
      } catch (e) {
        if (!(e instanceof EndOfFile)) throw e;
      }
    }
    const buf = this.buf;
    const pos = this.pos;
    const avail = Math.min(need, this.len);
    let lo = b0 === 0xe0 ? 0xa0 : b0 === 0xf0 ? 0x90 : 0x80;
    let hi = b0 === 0xed ? 0x9f : b0 === 0xf4 ? 0x8f : 0xbf;
    let cp = b0 & (need === 2 ? 0x1f : need === 3 ? 0x0f : 0x07);
    for (let i = 1; i < need; i++) {
      const b = i < avail ? buf[pos + i]! : -1;
      if (b < lo || b > hi) {
        return REPLACEMENT * 8 + i;
      }
      lo = 0x80;
      hi = 0xbf;
      cp = (cp << 6) | (b & 0x3f);
    }
    return cp * 8 + need;
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
    return this.guard(async () => {
      let i = 0;
      for (;;) {
        if (i === bytes.length) {
          this.advance(i);
          return;
        }
        if (i < this.len) {
          if (this.buf[this.pos + i] === bytes[i]) {
            i++;
            continue;
          }
          const got = decodeUtf8(this.buf, this.pos, this.pos + Math.min(bytes.length, this.len));
          throw new ParseError(`Expected ${quoteString(s)} but got ${quoteString(got)}`);
        }
        await this.ensureSlow(this.len + 1);
      }
    });
  }

  /** Counts the leading bytes for which `pred` holds, reading as needed (Eio's `count_while`). */
  async #countWhile(pred: (byte: number) => boolean): Promise<number> {
    let i = 0;
    for (;;) {
      const buf = this.buf;
      const pos = this.pos;
      const len = this.len;
      while (i < len && pred(buf[pos + i]!)) i++;
      if (i < len) return i;
      try {
        await this.ensureSlow(len + 1);
      } catch (e) {
        if (e instanceof EndOfFile) return this.len;
        throw e;
      }
    }
  }

  #takeString(n: number): string {
    const s = decodeUtf8(this.buf, this.pos, this.pos + n);
    this.advance(n);
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
    return this.guard(async () => this.#takeString(await this.#countWhile(pred)));
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
    return this.guard(async () => {
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
    return this.guard(async () => {
      try {
        for (;;) {
          const buf = this.buf;
          const pos = this.pos;
          const len = this.len;
          let i = 0;
          while (i < len && pred(buf[pos + i]!)) i++;
          if (i < len) {
            this.advance(i);
            return;
          }
          this.advanceAll();
          await this.ensureSlow(1);
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
    return this.guard(async () => {
      const n = await this.#countWhile(pred);
      if (n < 1) throw new ParseError("skipWhile1");
      this.advance(n);
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
    if (this.len > 0 && !this.busy) return Promise.resolve(false);
    return this.guard(() => this.#atEndSlow());
  }

  async #atEndSlow(): Promise<boolean> {
    if (this.len > 0) return false;
    try {
      await this.ensureSlow(1);
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
}
