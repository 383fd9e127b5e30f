/**
 * `Tcp.Reader` and `Tcp.Writer` against models, on the engine they now stand on (BufRead for
 * the reader; the writer's batching, its synchronous fast path and its bound): any chunking of
 * the input gives the same lines and characters as decoding the whole input, with the reader's
 * bound where the model puts it; the writer's output is the concatenation of its writes, whatever
 * the writes, the flushes in between and the sink (one that takes everything at once, one that
 * holds writes, one with `tryWrite` that sometimes keeps the buffers).
 */
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { BufferLimitExceeded, Fiber } from "../../src/core/index.ts";
import { ChunkedSource } from "../../src/flow/test-helpers/chunked-source.ts";
import type { Sink } from "../../src/flow/types.ts";
import { Reader } from "../../src/tcp/reader.ts";
import { TestSink } from "../../src/tcp/test-helpers/doubles.ts";
import { Writer } from "../../src/tcp/writer.ts";

const decoder = new TextDecoder();

/** Bytes rich in what lines and UTF-8 care about: newlines, CRs, multi-byte and invalid bytes. */
const byteArb = fc.oneof(
  fc.constantFrom(0x0a, 0x0d, 0x41, 0x62, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xc3),
  fc.integer({ min: 0, max: 255 }),
);
const dataArb = fc
  .uint8Array({ maxLength: 300 })
  .chain((noise) =>
    fc
      .array(byteArb, { maxLength: 300 })
      .map((rich) => Uint8Array.from([...rich, ...noise.slice(0, 20)])),
  );

/** Splits `data` at the given cut points (each a fraction of the length). */
function chunk(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * data.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    if (p > prev) out.push(data.slice(prev, p));
    prev = Math.max(prev, p);
  }
  return out;
}

/** The lines of `data` as the reader must give them, and whether the bound stops it first. */
function modelLines(data: Uint8Array, maxLine: number): { lines: string[]; tooBig: boolean } {
  const lines: string[] = [];
  let pos = 0;
  while (pos < data.length) {
    const rest = data.subarray(pos);
    const nl = rest.indexOf(0x0a);
    if (nl < 0) {
      if (rest.length >= maxLine) return { lines, tooBig: true };
      lines.push(decoder.decode(rest));
      break;
    }
    if (nl >= maxLine) return { lines, tooBig: true };
    const end = nl > 0 && rest[nl - 1] === 0x0d ? nl - 1 : nl;
    lines.push(decoder.decode(rest.subarray(0, end)));
    pos += nl + 1;
  }
  return { lines, tooBig: false };
}

const sourceArb = fc.record({
  data: dataArb,
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
  readChunk: fc.boolean(),
  maxLine: fc.integer({ min: 1, max: 400 }),
  bufferSize: fc.integer({ min: 1, max: 64 }),
});

describe("Tcp.Reader (on BufRead)", () => {
  test("readLine() gives the model's lines (and its bound) under any chunking", async () => {
    await fc.assert(
      fc.asyncProperty(sourceArb, async ({ data, cuts, readChunk, maxLine, bufferSize }) => {
        const src = new ChunkedSource(chunk(data, cuts), { readChunk });
        const r = new Reader(src, { maxLine, bufferSize });
        const want = modelLines(data, maxLine);
        const got: string[] = [];
        let tooBig = false;
        try {
          for (let l = await r.readLine(); l !== null; l = await r.readLine()) got.push(l);
        } catch (e) {
          if (!(e instanceof BufferLimitExceeded)) throw e;
          tooBig = true;
        }
        expect({ lines: got, tooBig }).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  test("lines() gives the same lines as readLine()", async () => {
    await fc.assert(
      fc.asyncProperty(sourceArb, async ({ data, cuts, readChunk, bufferSize }) => {
        const maxLine = data.length + 1;
        const r = new Reader(new ChunkedSource(chunk(data, cuts), { readChunk }), {
          maxLine,
          bufferSize,
        });
        const got: string[] = [];
        for await (const l of r.lines()) got.push(l);
        expect(got).toEqual(modelLines(data, maxLine).lines);
      }),
      { numRuns: 200 },
    );
  });

  test("readChar() decodes as TextDecoder does over the whole input (one decoder)", async () => {
    await fc.assert(
      fc.asyncProperty(sourceArb, async ({ data, cuts, readChunk, bufferSize }) => {
        const r = new Reader(new ChunkedSource(chunk(data, cuts), { readChunk }), {
          bufferSize,
        });
        let text = "";
        for (let c = await r.readChar(); c !== null; c = await r.readChar()) text += c;
        expect(text).toBe(decoder.decode(data));
      }),
      { numRuns: 200 },
    );
  });
});

/** A sink with a synchronous write that, as a socket, sometimes keeps the buffers for a while. */
class TryWriteSink implements Sink {
  readonly parts: Buffer[] = [];
  readonly #keeps: boolean[];
  #i = 0;
  #pending = false;

  constructor(keeps: boolean[]) {
    this.#keeps = keeps;
  }

  get text(): string {
    return Buffer.concat(this.parts).toString();
  }

  tryWrite(bufs: readonly Uint8Array[]): boolean {
    for (const b of bufs) this.parts.push(Buffer.from(b));
    const keep = this.#keeps[this.#i++ % Math.max(1, this.#keeps.length)] === true;
    this.#pending = keep;
    return !keep;
  }

  async write(bufs: readonly Uint8Array[]): Promise<void> {
    if (!this.tryWrite(bufs)) await this.flushed();
  }

  /** With `rooms`, the sink also has `trySend`: it takes the next room's worth, keeping none. */
  rooms: number[] | null = null;
  #r = 0;

  trySend(bufs: readonly Uint8Array[]): number {
    const rooms = this.rooms;
    if (rooms === null || this.#pending) return 0;
    let room = rooms[this.#r++ % Math.max(1, rooms.length)] ?? 0;
    let n = 0;
    for (const b of bufs) {
      const k = Math.min(room, b.length);
      if (k === 0) break;
      this.parts.push(Buffer.from(b.subarray(0, k)));
      room -= k;
      n += k;
    }
    return n;
  }

  async flushed(): Promise<void> {
    if (!this.#pending) return;
    await Fiber.yield();
    this.#pending = false;
  }
}

type Op =
  | { kind: "write"; text: string }
  | { kind: "bytes"; size: number }
  | { kind: "line"; text: string }
  | { kind: "schedule"; size: number }
  | { kind: "flushed" }
  | { kind: "yield" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("write" as const), text: fc.string({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant("bytes" as const), size: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ kind: fc.constant("line" as const), text: fc.string({ maxLength: 20 }) }),
  fc.record({ kind: fc.constant("schedule" as const), size: fc.integer({ min: 0, max: 3000 }) }),
  fc.constant({ kind: "flushed" as const }),
  fc.constant({ kind: "yield" as const }),
);

describe("Tcp.Writer", () => {
  test("the output is the concatenation of the writes, whatever the sink and the flushes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 40 }),
        fc.constantFrom("plain", "held", "tryWrite", "trySend"),
        fc.array(fc.boolean(), { maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 6000 }), { minLength: 1, maxLength: 6 }),
        async (ops, kind, keeps, rooms) => {
          const test = new TestSink();
          const tw = new TryWriteSink(keeps);
          if (kind === "trySend") tw.rooms = rooms;
          const sink: Sink = kind === "tryWrite" || kind === "trySend" ? tw : test;
          const w = new Writer(sink);
          let want = "";
          let n = 0;
          for (const op of ops) {
            if (kind === "held" && n++ % 3 === 0) test.hold();
            if (op.kind === "write") {
              w.write(op.text);
              want += op.text;
            } else if (op.kind === "line") {
              w.writeLine(op.text);
              want += `${op.text}\n`;
            } else if (op.kind === "bytes" || op.kind === "schedule") {
              const b = Buffer.alloc(op.size, 0x61 + (op.size % 26));
              want += b.toString();
              if (op.kind === "bytes") {
                w.write(b);
                // write() keeps no reference (trySend's part went out, the rest was copied)
                b.fill(0x21);
              } else w.schedule(b);
            } else if (op.kind === "flushed") {
              test.release();
              await w.flushed();
              expect(w.bytesToWrite).toBe(0);
            } else await Fiber.yield();
          }
          test.release();
          await w.close({ forceCloseAfter: Infinity });
          expect(kind === "tryWrite" || kind === "trySend" ? tw.text : test.text).toBe(want);
        },
      ),
      { numRuns: 200 },
    );
  });
});
