/**
 * BufRead against a pure model over the whole input (as Eio's fuzz/fuzz_buf_read.ml): random
 * operations give the same values and the same errors (end-of-file, limit exceeded, parse
 * failure), consume the same bytes, whatever the chunking of the input, the reading method
 * (`readInto` or `readChunk`), `maxSize` and `initialSize`.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { BufferLimitExceeded, EndOfFile } from "../../src/core/index.ts";
import { BufRead, type BufReader, ParseError } from "../../src/flow/index.ts";
import { ChunkedSource } from "../../src/flow/test-helpers/chunked-source.ts";

type Outcome = { ok: unknown } | { err: "EOF" | "TooBig" | "Failure" };

class Failure extends Error {}
class TooBig extends Error {}

const dec = new TextDecoder();
const decode = (b: Uint8Array): string => dec.decode(b);
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

/** The model: the input and how much of it was consumed. */
class Model {
  readonly data: Uint8Array;
  readonly max: number;
  pos = 0;
  constructor(data: Uint8Array, max: number) {
    this.data = data;
    this.max = max;
  }
  get rest(): Uint8Array {
    return this.data.subarray(this.pos);
  }
  takeAll(): string {
    if (this.rest.length >= this.max) throw new TooBig();
    const s = decode(this.rest);
    this.pos = this.data.length;
    return s;
  }
  line(): string {
    const rest = this.rest;
    const i = rest.indexOf(10);
    if (i >= 0) {
      if (i >= this.max) throw new TooBig();
      const end = i > 0 && rest[i - 1] === 13 ? i - 1 : i;
      this.pos += i + 1;
      return decode(rest.subarray(0, end));
    }
    if (rest.length === 0) throw new EndOfFile();
    return this.takeAll();
  }
  bytes(n: number): Uint8Array {
    if (n > this.max) throw new TooBig();
    if (this.rest.length < n) throw new EndOfFile();
    const b = this.rest.subarray(0, n);
    this.pos += n;
    return b;
  }
  take(n: number): string {
    return decode(this.bytes(n));
  }
  count(pred: (b: number) => boolean): number {
    const rest = this.rest;
    let c = 0;
    while (c < rest.length && pred(rest[c] as number)) c++;
    if (c >= this.max) throw new TooBig();
    return c;
  }
  takeWhile(pred: (b: number) => boolean): string {
    const c = this.count(pred);
    return decode(this.bytes(c));
  }
  takeWhile1(pred: (b: number) => boolean): string {
    const c = this.count(pred);
    if (c === 0) throw new Failure();
    return decode(this.bytes(c));
  }
  skipWhile(pred: (b: number) => boolean): void {
    while (this.pos < this.data.length && pred(this.data[this.pos] as number)) this.pos++;
  }
  skip(n: number): void {
    if (n > this.rest.length) {
      this.pos = this.data.length;
      throw new EndOfFile();
    }
    this.pos += n;
  }
  /** The next character and its length in bytes, as the WHATWG decoder reads it. */
  nextChar(): [string, number] | null {
    const rest = this.rest;
    if (rest.length === 0) return null;
    const fatal = new TextDecoder("utf-8", { fatal: true });
    for (let k = 1; k <= Math.min(4, rest.length); k++) {
      try {
        const s = fatal.decode(rest.subarray(0, k));
        if (s.length > 0) return [s, k];
      } catch {}
    }
    // Invalid: U+FFFD for the longest prefix that could start a valid sequence (at least 1).
    let len = 1;
    for (let k = 2; k <= Math.min(4, rest.length); k++) {
      try {
        const s = new TextDecoder("utf-8", { fatal: true }).decode(rest.subarray(0, k), {
          stream: true,
        });
        if (s.length === 0) len = k;
        else break;
      } catch {
        break;
      }
    }
    return ["\uFFFD", len];
  }
  anyChar(): string {
    const c = this.nextChar();
    if (c === null) throw new EndOfFile();
    this.pos += c[1];
    return c[0];
  }
  peekChar(): string | null {
    return this.nextChar()?.[0] ?? null;
  }
  char(ch: string): void {
    const c = this.nextChar();
    if (c === null) throw new EndOfFile();
    if (c[0] !== ch) throw new Failure();
    this.pos += c[1];
  }
  string(s: string): void {
    const b = new TextEncoder().encode(s);
    const rest = this.rest;
    for (let i = 0; i < b.length; i++) {
      if (i >= this.max) throw new TooBig();
      if (i >= rest.length) throw new EndOfFile();
      if (rest[i] !== b[i]) throw new Failure();
    }
    this.pos += b.length;
  }
  view(n: number): DataView {
    const b = this.bytes(n);
    return new DataView(b.buffer, b.byteOffset, n);
  }
  atEnd(): boolean {
    return this.rest.length === 0;
  }
  endOfInput(): void {
    if (!this.atEnd()) throw new Failure();
  }
}

type Op = {
  readonly name: string;
  readonly real: (r: BufReader) => Promise<unknown>;
  readonly model: (m: Model) => unknown;
};

const op = (
  name: string,
  real: (r: BufReader) => Promise<unknown>,
  model: (m: Model) => unknown,
): Op => ({ name, real, model });

const fixedOps: Op[] = [
  op(
    "line",
    (r) => r.line(),
    (m) => m.line(),
  ),
  op(
    "takeAll",
    (r) => r.takeAll(),
    (m) => m.takeAll(),
  ),
  op(
    "takeWhile digit",
    (r) => r.takeWhile(isDigit),
    (m) => m.takeWhile(isDigit),
  ),
  op(
    "takeWhile1 digit",
    (r) => r.takeWhile1(isDigit),
    (m) => m.takeWhile1(isDigit),
  ),
  op(
    "skipWhile digit",
    (r) => r.skipWhile(isDigit),
    (m) => m.skipWhile(isDigit),
  ),
  op(
    "anyChar",
    (r) => r.anyChar(),
    (m) => m.anyChar(),
  ),
  op(
    "peekChar",
    (r) => r.peekChar(),
    (m) => m.peekChar(),
  ),
  op(
    "char x",
    (r) => r.char("x"),
    (m) => m.char("x"),
  ),
  op(
    "char é",
    (r) => r.char("é"),
    (m) => m.char("é"),
  ),
  op(
    "atEnd",
    (r) => r.atEnd(),
    (m) => m.atEnd(),
  ),
  op(
    "endOfInput",
    (r) => r.endOfInput(),
    (m) => m.endOfInput(),
  ),
  op(
    "uint8",
    (r) => r.uint8(),
    (m) => m.view(1).getUint8(0),
  ),
  op(
    "uint16Be",
    (r) => r.uint16Be(),
    (m) => m.view(2).getUint16(0, false),
  ),
  op(
    "int16Le",
    (r) => r.int16Le(),
    (m) => m.view(2).getInt16(0, true),
  ),
  op(
    "uint32Be",
    (r) => r.uint32Be(),
    (m) => m.view(4).getUint32(0, false),
  ),
  op(
    "int32Le",
    (r) => r.int32Le(),
    (m) => m.view(4).getInt32(0, true),
  ),
  op(
    "uint64Le",
    (r) => r.uint64Le(),
    (m) => m.view(8).getBigUint64(0, true),
  ),
  op(
    "doubleBe",
    (r) => r.doubleBe(),
    (m) => m.view(8).getFloat64(0, false),
  ),
  op(
    "lines",
    async (r) => {
      const out: string[] = [];
      for await (const l of r.lines()) out.push(l);
      return out;
    },
    (m) => {
      const out: string[] = [];
      while (!m.atEnd()) out.push(m.line());
      return out;
    },
  ),
];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constantFrom(...fixedOps),
  fc.nat(12).map((n) =>
    op(
      `take ${n}`,
      (r) => r.take(n),
      (m) => m.take(n),
    ),
  ),
  fc.nat(12).map((n) =>
    op(
      `skip ${n}`,
      (r) => r.skip(n),
      (m) => m.skip(n),
    ),
  ),
  fc.nat(12).map((n) =>
    op(
      `takeBytes ${n}`,
      (r) => r.takeBytes(n),
      (m) => m.bytes(n).slice(),
    ),
  ),
  fc
    .constantFrom("a", "ax", "x\n", "0é", "€😀", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
    .map((s) =>
      op(
        `string ${JSON.stringify(s)}`,
        (r) => r.string(s),
        (m) => m.string(s),
      ),
    ),
);

const enc = new TextEncoder();
const tokenArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom("a", "x", "0", "7", "\n", "\r\n", "\r").map((s) => enc.encode(s)),
  },
  { weight: 2, arbitrary: fc.constantFrom("é", "€", "😀").map((s) => enc.encode(s)) },
  { weight: 1, arbitrary: fc.constantFrom(0xff, 0x80, 0xe2, 0xf0).map((b) => new Uint8Array([b])) },
);

const inputArb = fc.array(tokenArb, { maxLength: 40 }).map((ts) => {
  const out = new Uint8Array(ts.reduce((n, t) => n + t.length, 0));
  let off = 0;
  for (const t of ts) {
    out.set(t, off);
    off += t.length;
  }
  return out;
});

/** Splits `data` at the given cut points (some chunks may be empty). */
function split(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(data.subarray(prev, p));
    prev = p;
  }
  chunks.push(data.subarray(prev));
  return chunks;
}

function classify(e: unknown): Outcome {
  if (e instanceof EndOfFile) return { err: "EOF" };
  if (e instanceof BufferLimitExceeded || e instanceof TooBig) return { err: "TooBig" };
  if (e instanceof ParseError || e instanceof Failure) return { err: "Failure" };
  throw e;
}

async function outcome(f: () => unknown): Promise<Outcome> {
  try {
    return { ok: await f() };
  } catch (e) {
    return classify(e);
  }
}

describe("BufRead property", () => {
  test("BufRead operations match the string model whatever the chunking and maxSize", async () => {
    await fc.assert(
      fc.asyncProperty(
        inputArb,
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        fc.integer({ min: 4, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(opArb, { minLength: 1, maxLength: 12 }),
        async (data, cuts, readChunk, maxSize, initial, ops) => {
          const src = new ChunkedSource(split(data, cuts), { readChunk });
          const r = BufRead.of(src, { maxSize, initialSize: Math.min(initial, maxSize) });
          const m = new Model(data, maxSize);
          for (const o of ops) {
            const real = await outcome(() => o.real(r));
            const model = await outcome(() => o.model(m));
            expect(real, `${o.name} after ${m.pos}`).toEqual(model);
            expect(r.consumedBytes, `consumed after ${o.name}`).toBe(m.pos);
            expect(r.buffered).toBeLessThanOrEqual(maxSize);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  test("BufRead.line() reads the same lines however the input is split", async () => {
    const lineArb = fc.string({ unit: fc.constantFrom("a", "b", "é", "😀", "\r"), maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineArb, { maxLength: 20 }),
        fc.constantFrom("\n", "\r\n"),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.boolean(),
        async (lines, eol, cuts, readChunk) => {
          const text = lines.map((l) => l + eol).join("");
          const data = enc.encode(text);
          const r = BufRead.of(new ChunkedSource(split(data, cuts), { readChunk }), {
            maxSize: 200,
            initialSize: 8,
          });
          const got: string[] = [];
          for await (const l of r.lines()) got.push(l);
          // The model: split on LF, drop one CR before it.
          const expected =
            text === ""
              ? []
              : text
                  .slice(0, -1)
                  .split("\n")
                  .map((l) => l.replace(/\r$/, ""));
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("BufRead maxSize outcome does not depend on the chunking", async () => {
    await fc.assert(
      fc.asyncProperty(
        inputArb,
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 4, max: 24 }),
        async (data, cuts1, cuts2, maxSize) => {
          const run = async (cuts: number[], readChunk: boolean): Promise<Outcome[]> => {
            const r = BufRead.of(new ChunkedSource(split(data, cuts), { readChunk }), { maxSize });
            const out: Outcome[] = [];
            for (let i = 0; i < 6; i++) out.push(await outcome(() => r.line()));
            out.push(await outcome(() => r.takeAll()));
            return out;
          };
          const a = await run(cuts1, false);
          expect(await run(cuts2, true)).toEqual(a);
        },
      ),
      { numRuns: 200 },
    );
  });
});
