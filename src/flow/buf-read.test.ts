/**
 * BufRead: the cases of Eio's tests/buf_reader.md, then weir's own (UTF-8, readChunk sources,
 * bounds, cancellation).
 */
import { describe, expect, test } from "vitest";
import {
  BufferLimitExceeded,
  Cancelled,
  EndOfFile,
  Fiber,
  monoClock,
  Switch,
} from "../core/index.ts";
import { BufRead, type BufReader, ParseError, type Parser } from "./buf-read.ts";
import { bytesSource, stringSource } from "./sources.ts";
import { ChunkedSource } from "./test-helpers/chunked-source.ts";
import type { Source } from "./types.ts";

const dec = new TextDecoder();
const peek = (r: BufReader): string => dec.decode(r.peek());
const ensure = async (r: BufReader, n: number): Promise<string> => {
  await r.ensure(n);
  return peek(r);
};
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const isA = (b: number): boolean => b === 0x61;
const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs);

/** Eio's `test ?max_size input p`: runs `p` on a reader of a fresh mock flow. */
async function run<T>(
  input: string[],
  p: Parser<T>,
  opts?: { maxSize?: number; readChunk?: boolean },
): Promise<{ value?: T; error?: unknown; trace: string[] }> {
  const src = new ChunkedSource(input, { readChunk: opts?.readChunk ?? false });
  const r = BufRead.of(src, { maxSize: opts?.maxSize ?? 10 });
  try {
    return { value: await p(r), trace: src.trace };
  } catch (error) {
    return { error, trace: src.trace };
  }
}

describe("Eio buf_reader.md", () => {
  test("BufRead.of() over a string source: peek, ensure, consume", async () => {
    const r = BufRead.of(stringSource("Hello"), { maxSize: 100 });
    expect(peek(r)).toBe("");
    expect(await ensure(r, 1)).toBe("Hello");
    r.consume(1);
    expect(peek(r)).toBe("ello");
    expect(await ensure(r, 4)).toBe("ello");
    await expect(r.ensure(5)).rejects.toBeInstanceOf(EndOfFile);
    expect(peek(r)).toBe("ello");
    r.consume(4);
    expect(peek(r)).toBe("");
  });

  test("BufRead ensure() minimises reads: fills the buffer, doubles it, stops at maxSize", async () => {
    const src = new ChunkedSource(["hello world!"]);
    const r = BufRead.of(src, { initialSize: 4, maxSize: 10 });
    expect(await ensure(r, 1)).toBe("hell");
    expect(src.takeTrace()).toEqual(["mock_flow returning 4 bytes"]);
    expect(await ensure(r, 5)).toBe("hello wo");
    expect(src.takeTrace()).toEqual(["mock_flow returning 4 bytes"]);
    expect(await ensure(r, 9)).toBe("hello worl");
    expect(src.takeTrace()).toEqual(["mock_flow returning 2 bytes"]);
    expect(await ensure(r, 10)).toBe("hello worl");
    expect(src.takeTrace()).toEqual([]);
    await expect(r.ensure(11)).rejects.toBeInstanceOf(BufferLimitExceeded);
    expect(src.takeTrace()).toEqual([]);
  });

  test("BufRead ensure() grows straight to n when doubling is not enough", async () => {
    const src = new ChunkedSource(["hello world!"]);
    const r = BufRead.of(src, { initialSize: 4, maxSize: 10 });
    expect(await ensure(r, 10)).toBe("hello worl");
    expect(src.trace).toEqual(["mock_flow returning 10 bytes"]);
  });

  test("BufRead does not read the source again after end-of-file", async () => {
    const src = new ChunkedSource(["hi"]);
    const r = BufRead.of(src, { initialSize: 4, maxSize: 10 });
    await expect(r.ensure(10)).rejects.toBeInstanceOf(EndOfFile);
    expect(src.takeTrace()).toEqual(["mock_flow returning 2 bytes", "mock_flow returning Eof"]);
    expect(peek(r)).toBe("hi");
    await expect(r.ensure(10)).rejects.toBeInstanceOf(EndOfFile);
    expect(await r.takeAll()).toBe("hi");
    expect(await r.takeAll()).toBe("");
    expect(src.takeTrace()).toEqual([]);
    expect(r.eofSeen).toBe(true);
  });

  test("BufRead ensure() makes several reads when needed, compacting the buffer", async () => {
    const src = new ChunkedSource(["one", "two", "three"]);
    const r = BufRead.of(src, { initialSize: 4, maxSize: 10 });
    expect(await ensure(r, 10)).toBe("onetwothre");
    expect(src.takeTrace()).toEqual([
      "mock_flow returning 3 bytes",
      "mock_flow returning 3 bytes",
      "mock_flow returning 4 bytes",
    ]);
    r.consume(4);
    expect(await ensure(r, 7)).toBe("wothree");
    expect(src.takeTrace()).toEqual(["mock_flow returning 1 bytes"]);
  });

  test("BufRead.line() reads lines split across reads", async () => {
    const src = new ChunkedSource(["one", "\ntwo\n", "three\n"]);
    const r = BufRead.of(src, { maxSize: 100 });
    expect(await r.line()).toBe("one");
    expect(src.takeTrace()).toEqual(["mock_flow returning 3 bytes", "mock_flow returning 5 bytes"]);
    expect(await r.line()).toBe("two");
    expect(src.takeTrace()).toEqual([]);
    expect(await r.line()).toBe("three");
    expect(src.takeTrace()).toEqual(["mock_flow returning 6 bytes"]);
    await expect(r.line()).rejects.toBeInstanceOf(EndOfFile);
    expect(src.takeTrace()).toEqual(["mock_flow returning Eof"]);
  });

  test("BufRead.line() accepts \\r\\n line endings", async () => {
    const src = new ChunkedSource(["one\r", "\ntwo\r\n", "three\r\n"]);
    const r = BufRead.of(src, { maxSize: 100 });
    expect(await r.line()).toBe("one");
    expect(src.takeTrace()).toEqual(["mock_flow returning 4 bytes", "mock_flow returning 6 bytes"]);
    expect(await r.line()).toBe("two");
    expect(await r.line()).toBe("three");
    expect(src.takeTrace()).toEqual(["mock_flow returning 7 bytes"]);
    await expect(r.line()).rejects.toBeInstanceOf(EndOfFile);
  });

  test("BufRead.line() returns data without a final newline as the last line", async () => {
    const src = new ChunkedSource(["on", "e\ntwo"]);
    const r = BufRead.of(src, { maxSize: 100 });
    expect(await r.line()).toBe("one");
    expect(src.takeTrace()).toEqual(["mock_flow returning 2 bytes", "mock_flow returning 5 bytes"]);
    expect(await r.line()).toBe("two");
    expect(src.takeTrace()).toEqual(["mock_flow returning Eof"]);
    await expect(r.line()).rejects.toBeInstanceOf(EndOfFile);
  });

  test("BufRead.line() returns several lines from one read, empty ones too", async () => {
    const src = new ChunkedSource(["one\ntwo\n\nthree"]);
    const r = BufRead.of(src, { maxSize: 100 });
    expect(await r.line()).toBe("one");
    expect(src.takeTrace()).toEqual(["mock_flow returning 14 bytes"]);
    expect(await r.line()).toBe("two");
    expect(await r.line()).toBe("");
    expect(await r.line()).toBe("three");
    expect(src.takeTrace()).toEqual(["mock_flow returning Eof"]);
    await expect(r.line()).rejects.toBeInstanceOf(EndOfFile);
  });

  test("BufReader.readInto() serves buffered bytes first (Eio's as_flow)", async () => {
    const src = new ChunkedSource(["foo", "bar"]);
    const r = BufRead.of(src, { maxSize: 100 });
    const read = async (n: number): Promise<string> => {
      const buf = new Uint8Array(n);
      const got = await r.readInto(buf);
      return dec.decode(buf.subarray(0, got));
    };
    expect(await read(2)).toBe("fo");
    expect(src.takeTrace()).toEqual(["mock_flow returning 3 bytes"]);
    expect(await read(2)).toBe("o");
    expect(src.takeTrace()).toEqual([]);
    expect(await read(2)).toBe("ba");
    expect(src.takeTrace()).toEqual(["mock_flow returning 3 bytes"]);
    expect(await read(2)).toBe("r");
    await expect(read(2)).rejects.toBeInstanceOf(EndOfFile);
    expect(src.takeTrace()).toEqual(["mock_flow returning Eof"]);
  });

  test("BufReader.anyChar() and peekChar() read characters; peekChar() gives null at the end", async () => {
    const src = new ChunkedSource(["ab", "c"]);
    const r = BufRead.of(src, { maxSize: 100 });
    expect(await r.anyChar()).toBe("a");
    expect(src.takeTrace()).toEqual(["mock_flow returning 2 bytes"]);
    expect(await r.peekChar()).toBe("b");
    expect(await r.anyChar()).toBe("b");
    expect(await r.anyChar()).toBe("c");
    expect(src.takeTrace()).toEqual(["mock_flow returning 1 bytes"]);
    await expect(r.anyChar()).rejects.toBeInstanceOf(EndOfFile);
    expect(src.takeTrace()).toEqual(["mock_flow returning Eof"]);
    expect(await r.peekChar()).toBeNull();
  });

  test("BufReader.take() reads fixed lengths and consumes nothing at end-of-file", async () => {
    const src = new ChunkedSource(["ab", "c"]);
    const r = BufRead.of(src, { maxSize: 100 });
    expect(await r.take(1)).toBe("a");
    expect(src.takeTrace()).toEqual(["mock_flow returning 2 bytes"]);
    await expect(r.take(3)).rejects.toBeInstanceOf(EndOfFile);
    expect(src.takeTrace()).toEqual(["mock_flow returning 1 bytes", "mock_flow returning Eof"]);
    expect(await r.take(2)).toBe("bc");
  });

  test("BufReader.char() and string() check literals with Eio's messages", async () => {
    const src = new ChunkedSource(["ab", "c"]);
    const r = BufRead.of(src, { maxSize: 100 });
    await expect(r.char("A")).rejects.toThrow(new ParseError("Expected 'A' but got 'a'"));
    expect(src.takeTrace()).toEqual(["mock_flow returning 2 bytes"]);
    await r.char("a");
    await expect(r.string("BC")).rejects.toThrow(new ParseError('Expected "BC" but got "b"'));
    await expect(r.string("bC")).rejects.toThrow(new ParseError('Expected "bC" but got "bc"'));
    expect(src.takeTrace()).toEqual(["mock_flow returning 1 bytes"]);
    await expect(r.string("bcd")).rejects.toBeInstanceOf(EndOfFile);
    expect(src.takeTrace()).toEqual(["mock_flow returning Eof"]);
    await expect(r.string("bcd")).rejects.toBeInstanceOf(EndOfFile);
    await r.string("bc");
    expect(peek(r)).toBe("");
  });

  test("BufReader.skipWhile() and takeWhile() scan across reads", async () => {
    const src = new ChunkedSource(["aa", "a0", "123de"]);
    const r = BufRead.of(src, { maxSize: 100 });
    await r.skipWhile(isA);
    expect(src.takeTrace()).toEqual(["mock_flow returning 2 bytes", "mock_flow returning 2 bytes"]);
    expect(await r.takeWhile(isDigit)).toBe("0123");
    expect(src.takeTrace()).toEqual(["mock_flow returning 5 bytes"]);
    expect(await r.takeWhile((b) => !isDigit(b))).toBe("de");
    expect(src.takeTrace()).toEqual(["mock_flow returning Eof"]);
  });

  test("BufReader.skip() then takeAll()", async () => {
    const p: Parser<string> = async (r) => {
      await r.skip(5);
      return r.takeAll();
    };
    expect(await run(["abc", "def", "ghi"], p)).toEqual({
      value: "fghi",
      trace: [
        "mock_flow returning 3 bytes",
        "mock_flow returning 3 bytes",
        "mock_flow returning 3 bytes",
        "mock_flow returning Eof",
      ],
    });
  });

  test("BufReader.skip() skips more than maxSize without growing the buffer", async () => {
    const p: Parser<string> = async (r) => {
      await r.skip(5);
      return r.takeAll();
    };
    expect(await run(["abcdefg"], p, { maxSize: 3 })).toEqual({
      value: "fg",
      trace: [
        "mock_flow returning 3 bytes",
        "mock_flow returning 3 bytes",
        "mock_flow returning 1 bytes",
        "mock_flow returning Eof",
      ],
    });
  });

  test("BufReader.takeWhile1() needs at least one match", async () => {
    expect((await run(["aaabc"], (r) => r.takeWhile1(isA))).value).toBe("aaa");
    const none = await run(["aaabc"], (r) => r.takeWhile1((b) => !isA(b)));
    expect(none.error).toEqual(new ParseError("takeWhile1"));
    expect((await run(["abc"], (r) => r.takeWhile1(isA))).value).toBe("a");
  });

  test("BufReader.skipWhile1() needs at least one match", async () => {
    const p: Parser<string> = async (r) => {
      await r.skipWhile1(isA);
      return r.takeAll();
    };
    expect(await run(["aaaaabc"], p)).toEqual({
      value: "bc",
      trace: ["mock_flow returning 7 bytes", "mock_flow returning Eof"],
    });
    const none = await run(["bbbccc"], p);
    expect(none.error).toEqual(new ParseError("skipWhile1"));
    expect(none.trace).toEqual(["mock_flow returning 6 bytes"]);
    expect((await run(["abbbccc"], p)).value).toBe("bbbccc");
  });

  test("BufReader big-endian readers (Eio's BE)", async () => {
    const v = (p: Parser<number | bigint>, b: Uint8Array) => BufRead.parseBytes(p, b);
    expect((await v((r) => r.uint16Be(), bytes(128, 1))).toString(16)).toBe("8001");
    expect((await v((r) => r.uint32Be(), bytes(128, 64, 32, 1))).toString(16)).toBe("80402001");
    expect((await v((r) => r.uint48Be(), bytes(128, 64, 32, 16, 8, 1))).toString(16)).toBe(
      "804020100801",
    );
    expect((await v((r) => r.uint64Be(), bytes(128, 64, 32, 16, 8, 4, 2, 1))).toString(16)).toBe(
      "8040201008040201",
    );
    expect(
      (await BufRead.parseBytes((r) => r.floatBe(), bytes(128, 64, 32, 1))).toExponential(6),
    ).toBe("-5.888953e-39");
    expect(
      (
        await BufRead.parseBytes((r) => r.doubleBe(), bytes(128, 64, 32, 16, 8, 4, 2, 1))
      ).toExponential(6),
    ).toBe("-1.793993e-307");
  });

  test("BufReader little-endian readers (Eio's LE)", async () => {
    const v = (p: Parser<number | bigint>, b: Uint8Array) => BufRead.parseBytes(p, b);
    expect((await v((r) => r.uint16Le(), bytes(128, 1))).toString(16)).toBe("180");
    expect((await v((r) => r.uint32Le(), bytes(128, 64, 32, 1))).toString(16)).toBe("1204080");
    expect((await v((r) => r.uint48Le(), bytes(128, 64, 32, 16, 8, 1))).toString(16)).toBe(
      "10810204080",
    );
    expect((await v((r) => r.uint64Le(), bytes(128, 64, 32, 16, 8, 4, 2, 1))).toString(16)).toBe(
      "102040810204080",
    );
    expect(
      (await BufRead.parseBytes((r) => r.floatLe(), bytes(128, 64, 32, 1))).toExponential(6),
    ).toBe("2.943364e-38");
    expect(
      (
        await BufRead.parseBytes((r) => r.doubleLe(), bytes(128, 64, 32, 16, 8, 4, 2, 1))
      ).toExponential(6),
    ).toBe("8.209689e-304");
  });

  test("BufReader signed readers give negative values", async () => {
    const all = bytes(0xff, 0xfe, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfe);
    expect(await BufRead.parseBytes((r) => r.int8(), bytes(0x80))).toBe(-128);
    expect(await BufRead.parseBytes((r) => r.int16Be(), bytes(0xff, 0xfe))).toBe(-2);
    expect(await BufRead.parseBytes((r) => r.int16Le(), bytes(0xfe, 0xff))).toBe(-2);
    expect(await BufRead.parseBytes((r) => r.int32Be(), bytes(0xff, 0xff, 0xff, 0xfe))).toBe(-2);
    expect(await BufRead.parseBytes((r) => r.int32Le(), bytes(0xfe, 0xff, 0xff, 0xff))).toBe(-2);
    expect(await BufRead.parseBytes((r) => r.int64Be(), all)).toBe(-0x0001_0001_0000_0002n);
    expect(await BufRead.parseBytes((r) => r.int64Le(), all.slice().reverse())).toBe(
      -0x0001_0001_0000_0002n,
    );
    expect(await BufRead.parseBytes((r) => r.uint8(), bytes(0x80))).toBe(128);
  });

  test("BufReader.takeAll() after line()", async () => {
    const src = new ChunkedSource(["20 text/gemini\r\n", "# Introduction\n", "# Conclusion\n"]);
    const r = BufRead.of(src, { maxSize: 100 });
    expect(await r.line()).toBe("20 text/gemini");
    expect(src.takeTrace()).toEqual(["mock_flow returning 16 bytes"]);
    expect(await r.takeAll()).toBe("# Introduction\n# Conclusion\n");
    expect(src.takeTrace()).toEqual([
      "mock_flow returning 15 bytes",
      "mock_flow returning 13 bytes",
      "mock_flow returning Eof",
    ]);
  });

  test("BufReader.takeAll() rejects with BufferLimitExceeded at maxSize, consuming nothing", async () => {
    const src = new ChunkedSource(["abc", "def", "ghi", "jkl"]);
    const r = BufRead.of(src, { maxSize: 10 });
    await expect(r.takeAll()).rejects.toBeInstanceOf(BufferLimitExceeded);
    expect(src.takeTrace()).toEqual([
      "mock_flow returning 3 bytes",
      "mock_flow returning 3 bytes",
      "mock_flow returning 3 bytes",
      "mock_flow returning 1 bytes",
    ]);
    expect(await r.take(3)).toBe("abc");
  });

  test("BufRead.map() and pair() combine parsers; plain async functions bind", async () => {
    expect(
      (
        await run(
          ["abc"],
          BufRead.map(
            (r) => r.take(2),
            (s) => s.toUpperCase(),
          ),
        )
      ).value,
    ).toBe("AB");
    const pair = await run(
      ["abc"],
      BufRead.pair(
        (r) => r.anyChar(),
        (r) => r.takeAll(),
      ),
    );
    expect(pair).toEqual({
      value: ["a", "bc"],
      trace: ["mock_flow returning 3 bytes", "mock_flow returning Eof"],
    });
    const bind = await run(["abc"], async (r) => r.char(await r.anyChar()));
    expect(bind.error).toEqual(new ParseError("Expected 'a' but got 'b'"));
    const bind2 = await run(["aac"], async (r) => {
      await r.char(await r.anyChar());
      return r.takeAll();
    });
    expect(bind2.value).toBe("c");
    const keepFirst = await run(["ab"], async (r) => {
      const a = await r.anyChar();
      await r.anyChar();
      return a;
    });
    expect(keepFirst).toEqual({ value: "a", trace: ["mock_flow returning 2 bytes"] });
  });

  test("BufRead.formatErrors() reports errors with offsets", async () => {
    expect(
      (
        await run(
          ["abc"],
          BufRead.formatErrors((r) => r.take(3)),
        )
      ).value,
    ).toEqual({
      ok: true,
      value: "abc",
    });
    const trailing = await run(
      ["abc"],
      BufRead.formatErrors(async (r) => {
        const s = await r.take(2);
        await r.endOfInput();
        return s;
      }),
    );
    expect(trailing.value).toMatchObject({
      ok: false,
      error: "Unexpected data after parsing (at offset 2)",
    });
    const eof = await run(
      ["abc"],
      BufRead.formatErrors(async (r) => {
        const s = await r.take(4);
        await r.endOfInput();
        return s;
      }),
    );
    expect(eof.value).toMatchObject({ ok: false, error: "Unexpected end-of-file at offset 3" });
    expect(eof.trace).toEqual(["mock_flow returning 3 bytes", "mock_flow returning Eof"]);
    const limit = await run(
      ["abc"],
      BufRead.formatErrors((r) => r.line()),
      { maxSize: 2 },
    );
    expect(limit.value).toMatchObject({
      ok: false,
      error: "Buffer size limit exceeded when reading at offset 0",
    });
    expect(limit.trace).toEqual(["mock_flow returning 2 bytes"]);
  });

  test("BufReader.lines() iterates lazily until end-of-input", async () => {
    const src = new ChunkedSource(["one", "\ntwo\n", "three"]);
    const r = BufRead.of(src, { maxSize: 10 });
    for await (const line of r.lines()) src.trace.push(JSON.stringify(line));
    expect(src.trace).toEqual([
      "mock_flow returning 3 bytes",
      "mock_flow returning 5 bytes",
      '"one"',
      '"two"',
      "mock_flow returning 5 bytes",
      "mock_flow returning Eof",
      '"three"',
    ]);
  });

  test("BufReader.seq() runs a parser until end-of-input", async () => {
    const collect = async (r: BufReader): Promise<string> => {
      const out: string[] = [];
      for await (const x of r.seq((r) => r.take(2))) out.push(x);
      return out.join(",");
    };
    expect(await run(["abcd1234"], collect)).toEqual({
      value: "ab,cd,12,34",
      trace: ["mock_flow returning 8 bytes", "mock_flow returning Eof"],
    });
    const odd = await run(["abcd123"], collect);
    expect(odd.error).toBeInstanceOf(EndOfFile);
  });

  test("BufReader.lines() lets other reads run between items (no staleness check)", async () => {
    const r = BufRead.of(new ChunkedSource(["one\ntwo\nthree\n"]), { maxSize: 100 });
    const it = r.lines();
    expect((await it.next()).value).toBe("one");
    expect(await r.take(3)).toBe("two");
    expect(await r.line()).toBe("");
    expect((await it.next()).value).toBe("three");
    expect((await it.next()).done).toBe(true);
  });

  test("BufRead.parse() turns parse failures into Eio's messages", async () => {
    const from: Parser<string> = async (r) => {
      await r.string("FROM:");
      return r.takeAll();
    };
    const parse = <T>(p: Parser<T>, s: string) => BufRead.parse(p, stringSource(s), { maxSize: 5 });
    expect(await parse(from, "FROM:A")).toBe("A");
    await expect(parse(from, "TO:B")).rejects.toThrow(
      new ParseError('Expected "FROM:" but got "TO:B" (at offset 0)'),
    );
    await expect(parse(from, "FROM:ABCDE")).rejects.toThrow(
      new ParseError("Buffer size limit exceeded when reading at offset 5"),
    );
    await expect(parse((r) => r.string("END"), "ENDING")).rejects.toThrow(
      new ParseError("Unexpected data after parsing (at offset 3)"),
    );
    await expect(parse((r) => r.string("END"), "E")).rejects.toThrow(
      new ParseError("Unexpected end-of-file at offset 1"),
    );
    await expect(parse((r) => r.take(3), "ENDING")).rejects.toThrow(
      new ParseError("Unexpected data after parsing (at offset 3)"),
    );
    const e = await parse((r) => r.take(3), "E").catch((e: unknown) => e);
    expect(e).toBeInstanceOf(ParseError);
    expect((e as ParseError).cause).toBeInstanceOf(EndOfFile);
  });

  test("BufRead.ofString() reads lines of a string", async () => {
    const r = BufRead.ofString("hello\nworld\n");
    expect(await r.line()).toBe("hello");
    expect(await r.line()).toBe("world");
    await expect(r.line()).rejects.toBeInstanceOf(EndOfFile);
  });

  test("BufRead.parseString() parses all of a string", async () => {
    expect(await BufRead.parseString((r) => r.line(), "foo\n")).toBe("foo");
    await expect(BufRead.parseString((r) => r.line(), "foo\nbar\n")).rejects.toThrow(
      new ParseError("Unexpected data after parsing (at offset 4)"),
    );
    const res = await BufRead.formatErrors((r) => r.line())(BufRead.ofString("foo\n"));
    expect(res).toEqual({ ok: true, value: "foo" });
  });

  test("BufRead.parse() reads two lines from a scripted flow", async () => {
    const src = new ChunkedSource(["foo\nba", "r\n"], { label: "flow" });
    const both = await BufRead.parse(
      BufRead.pair(
        (r) => r.line(),
        (r) => r.line(),
      ),
      src,
      { maxSize: 100 },
    );
    expect(both).toEqual(["foo", "bar"]);
  });
});

describe("BufRead with UTF-8", () => {
  test("BufRead.line() decodes a multi-byte character split across reads", async () => {
    const all = new TextEncoder().encode("héllo €uro 😀\nnext\n");
    const chunks = Array.from(all, (b) => new Uint8Array([b]));
    const r = BufRead.of(new ChunkedSource(chunks), { maxSize: 100 });
    expect(await r.line()).toBe("héllo €uro 😀");
    expect(await r.line()).toBe("next");
  });

  test("BufReader.anyChar() reads whole characters, U+FFFD for invalid bytes", async () => {
    const input = new Uint8Array([
      0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xe2, 0x82, 0x41, 0xc3,
    ]);
    const chunks = Array.from(input, (b) => new Uint8Array([b]));
    const r = BufRead.of(new ChunkedSource(chunks), { maxSize: 100 });
    const got: string[] = [];
    while ((await r.peekChar()) !== null) got.push(await r.anyChar());
    expect(got.join("")).toBe(new TextDecoder().decode(input));
    expect(got).toEqual(["é", "€", "😀", "\uFFFD", "\uFFFD", "A", "\uFFFD"]);
  });

  test("BufReader.char() matches a multi-byte character", async () => {
    const r = BufRead.ofString("€1");
    await expect(r.char("$")).rejects.toThrow(new ParseError("Expected '$' but got '€'"));
    await r.char("€");
    expect(await r.takeAll()).toBe("1");
  });

  test("BufReader.string() matches a multi-byte string", async () => {
    const r = BufRead.of(
      new ChunkedSource(["gr", new Uint8Array([0xc3]), new Uint8Array([0xbc]), "n"]),
      {
        maxSize: 10,
      },
    );
    await r.string("grün");
    expect(await r.atEnd()).toBe(true);
  });
});

describe("BufRead line blocks", () => {
  test("BufRead.line() interleaved with other reads matches a per-line split", async () => {
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const alphabet = ["a", "b", "c", " ", "é", "€", "😀", "\r"];
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      let l = "";
      const n = Math.floor(rand() * 60);
      for (let j = 0; j < n; j++) l += alphabet[Math.floor(rand() * alphabet.length)];
      lines.push(l.replace(/\r+$/, ""));
    }
    const text = `${lines.join("\n")}\n`;
    const data = new TextEncoder().encode(text);
    for (const readChunk of [false, true]) {
      const chunks: Uint8Array[] = [];
      for (let off = 0; off < data.length; ) {
        const n = 1 + Math.floor(rand() * 3000);
        chunks.push(data.subarray(off, off + n));
        off += n;
      }
      const r = BufRead.of(new ChunkedSource(chunks, { readChunk }), { maxSize: 4096 });
      let expectedOffset = 0;
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as string;
        if (i % 97 === 5 && line.length > 0) {
          // Read the line's first character another way, then the rest as a line.
          const c = await r.anyChar();
          expect(c + (await r.line())).toBe(line);
        } else if (i % 89 === 3) {
          await r.ensure(1);
          expect(await r.line()).toBe(line);
        } else expect(await r.line()).toBe(line);
        expectedOffset += new TextEncoder().encode(line).length + 1;
        expect(r.consumedBytes).toBe(expectedOffset);
      }
      await expect(r.line()).rejects.toBeInstanceOf(EndOfFile);
    }
  });
});

describe("BufReader.bufferedLine", () => {
  test("BufReader.bufferedLine() returns complete buffered lines without reading", async () => {
    const src = new ChunkedSource(["one\ntwo\r\nthr", "ee\nfour"]);
    const r = BufRead.of(src, { maxSize: 100 });
    expect(r.bufferedLine()).toBeNull();
    expect(src.trace).toEqual([]);
    expect(await r.line()).toBe("one");
    expect(r.bufferedLine()).toBe("two");
    expect(r.bufferedLine()).toBeNull();
    const got: string[] = [];
    for (;;) {
      const line = r.bufferedLine() ?? ((await r.atEnd()) ? null : await r.line());
      if (line === null) break;
      got.push(line);
    }
    expect(got).toEqual(["three", "four"]);
  });
});

describe("BufRead over readChunk sources", () => {
  test("BufRead.line() works inside the source's chunk, without copying it", async () => {
    const chunk = new TextEncoder().encode("one\ntwo\nthr");
    const src = new ChunkedSource([chunk, "ee\n"], { readChunk: true });
    const r = BufRead.of(src, { maxSize: 100 });
    expect(await r.line()).toBe("one");
    expect(r.peek().buffer).toBe(chunk.buffer);
    expect(await r.line()).toBe("two");
    expect(await r.line()).toBe("three");
    expect(src.trace).toEqual(["mock_flow returning 11 bytes", "mock_flow returning 3 bytes"]);
    await expect(r.line()).rejects.toBeInstanceOf(EndOfFile);
  });

  test("BufRead.line() goes back to working in the chunk after a line that spans two chunks", async () => {
    const first = new TextEncoder().encode("ab\ncd");
    const second = new TextEncoder().encode("ef\ngh\nij\n");
    const r = BufRead.of(new ChunkedSource([first, second], { readChunk: true }), {
      maxSize: 100,
    });
    expect(await r.line()).toBe("ab");
    expect(r.peek().buffer).toBe(first.buffer);
    expect(await r.line()).toBe("cdef");
    expect(r.peek().buffer).toBe(second.buffer);
    expect(await r.line()).toBe("gh");
    expect(r.peek().buffer).toBe(second.buffer);
    expect(await r.line()).toBe("ij");
    expect(r.consumedBytes).toBe(first.length + second.length);
  });

  test("BufRead.of() never shows more than maxSize bytes of a large chunk", async () => {
    const big = `${"x".repeat(50)}\n${"y".repeat(5)}\n`;
    const r = BufRead.of(stringSource(big), { maxSize: 10 });
    await expect(r.line()).rejects.toBeInstanceOf(BufferLimitExceeded);
    expect(r.buffered).toBeLessThanOrEqual(10);
    await r.skip(51);
    expect(await r.line()).toBe("yyyyy");
    expect(r.buffered).toBe(0);
  });

  test("BufReader gives the same results with and without readChunk", async () => {
    const input = ["ab\ncd", "ef\r\n", "\n", "xyz", "12345678", "tail"];
    const parser: Parser<unknown[]> = async (r) => [
      await r.line(),
      await r.line(),
      await r.line(),
      await r.take(2),
      await r.peekChar(),
      await r.takeWhile((b) => b !== 0x35),
      await r.uint16Be(),
      await r.skip(1),
      await r.takeAll(),
    ];
    const a = await run(input, parser, { maxSize: 8 });
    const b = await run(input, parser, { maxSize: 8, readChunk: true });
    expect(a.error).toBeUndefined();
    expect(b.value).toEqual(a.value);
  });

  test("BufReader.readChunk() hands over buffered bytes, then reads the source", async () => {
    const src = bytesSource([new Uint8Array([1, 2, 3]), new Uint8Array([4])]);
    const r = BufRead.of(src, { maxSize: 2 });
    expect(await r.uint8()).toBe(1);
    expect([...(await r.readChunk())]).toEqual([2, 3]);
    expect([...(await r.readChunk())]).toEqual([4]);
    await expect(r.readChunk()).rejects.toBeInstanceOf(EndOfFile);
  });
});

describe("BufRead bounds and arguments", () => {
  test("BufRead.of() checks maxSize and initialSize", () => {
    const src = stringSource("");
    expect(() => BufRead.of(src, { maxSize: 0 })).toThrow(
      new RangeError("maxSize must be an integer > 0, got 0"),
    );
    expect(() => BufRead.of(src, { maxSize: 1.5 })).toThrow(RangeError);
    expect(() => BufRead.of(src, { maxSize: 10, initialSize: 11 })).toThrow(
      new RangeError("initialSize must be an integer between 1 and maxSize (10), got 11"),
    );
  });

  test("BufReader methods reject bad arguments at once", async () => {
    const r = BufRead.ofString("abc");
    expect(() => r.take(-1)).toThrow(new RangeError("n must be an integer >= 0, got -1"));
    expect(() => r.skip(0.5)).toThrow(RangeError);
    expect(() => r.consume(4)).toThrow(
      new RangeError("n must be an integer between 0 and 3 (the bytes buffered), got 4"),
    );
    expect(() => r.char("ab")).toThrow(new TypeError('c must be a single character, got "ab"'));
    expect(await r.take(0)).toBe("");
  });

  test("BufRead.of() never asks the source for more than maxSize bytes", async () => {
    const sizes: number[] = [];
    const inner = new ChunkedSource(["a".repeat(100)]);
    const src: Source = {
      readInto: (buf, opts) => {
        sizes.push(buf.length);
        return inner.readInto(buf, opts);
      },
    };
    const r = BufRead.of(src, { maxSize: 16, initialSize: 4 });
    await expect(r.takeAll()).rejects.toBeInstanceOf(BufferLimitExceeded);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16);
    expect(r.buffered).toBe(16);
  });

  test("BufReader.ensure() rejects with BufferLimitExceeded before reading", async () => {
    const src = new ChunkedSource(["abc"]);
    const r = BufRead.of(src, { maxSize: 2 });
    await expect(r.ensure(3)).rejects.toBeInstanceOf(BufferLimitExceeded);
    expect(src.trace).toEqual([]);
  });

  test("BufReader rejects a second read while one is waiting", async () => {
    const src = new ChunkedSource([], { whenEmpty: "block" });
    const r = BufRead.of(src, { maxSize: 10 });
    const first = r.line();
    await expect(r.take(1)).rejects.toThrow("another read is already in progress");
    src.push("ok\n");
    expect(await first).toBe("ok");
  });
});

describe("BufRead cancellation", () => {
  test("BufReader.line() blocked on the source is cancelled by Fiber.first, and the reader stays usable", async () => {
    const src = new ChunkedSource(["par"], { whenEmpty: "block" });
    const r = BufRead.of(src, { maxSize: 10 });
    const got = await Fiber.first(
      () => r.line(),
      async () => {
        await monoClock.sleep(5);
        return "timeout";
      },
    );
    expect(got).toBe("timeout");
    src.push("tial\n");
    expect(await r.line()).toBe("partial");
  });

  test("BufRead.of() honours its signal", async () => {
    const src = new ChunkedSource([], { whenEmpty: "block" });
    const ac = new AbortController();
    const r = BufRead.of(src, { maxSize: 10, signal: ac.signal });
    const p = r.line();
    ac.abort("stop");
    await expect(p).rejects.toBeInstanceOf(Cancelled);
  });

  test("BufReader.ensure() honours a per-call signal", async () => {
    const src = new ChunkedSource([], { whenEmpty: "block" });
    const r = BufRead.of(src, { maxSize: 10 });
    const ac = new AbortController();
    const p = r.ensure(1, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(Cancelled);
  });

  test("BufReader reads fail with Cancelled when the switch fails", async () => {
    const src = new ChunkedSource([], { whenEmpty: "block" });
    const r = BufRead.of(src, { maxSize: 10 });
    let seen: unknown;
    await expect(
      Switch.run(async (sw) => {
        sw.fork(async () => {
          try {
            await r.line();
          } catch (e) {
            seen = e;
            throw e;
          }
        });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(seen).toBeInstanceOf(Cancelled);
  });
});
