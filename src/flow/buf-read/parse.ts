/**
 * Parsing with `BufReader` (Eio's `Buf_read.parse` and its combinators), and the `BufRead`
 * namespace that makes readers.
 * @module
 */
import { BufferLimitExceeded, EndOfFile } from "../../core/index.ts";
import { checkBytes, describeValue, encodeUtf8 } from "../bytes.ts";
import type { Source } from "../types.ts";
import { BufReader } from "./binary.ts";
import { ParseError } from "./errors.ts";
import type { BufReadOptions } from "./reader.ts";

/** A parser: reads a value of type `T` from a buffered reader (Eio's `'a parser`). */
export type Parser<T> = (r: BufReader) => Promise<T>;

/** A parse's outcome as a value (Eio's `('a, [`Msg of string]) result`). */
export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string; readonly cause: unknown };

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
