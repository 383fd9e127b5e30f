/**
 * BufWrite against a model (as Eio's fuzz/fuzz_buf_write.ml): for random sequences of writes,
 * yields and flushes, with random buffer sizes and a sink that takes each write in random
 * steps, the sink receives exactly the concatenation of the writes.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Fiber } from "../../src/core/index.ts";
import { BufWrite, type BufWriter } from "../../src/flow/index.ts";
import { MockSink, type SinkAction } from "../../src/flow/test-helpers/chunked-source.ts";

type Op = {
  readonly name: string;
  /** The bytes the op adds to the output. */
  readonly expected: Uint8Array;
  readonly run: (w: BufWriter) => void | Promise<void>;
};

const enc = new TextEncoder();
const none = new Uint8Array(0);

function encoded(n: number, set: (v: DataView) => void): Uint8Array {
  const b = new Uint8Array(n);
  set(new DataView(b.buffer));
  return b;
}

const bytesArb = fc.uint8Array({ maxLength: 24 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.string({ unit: fc.constantFrom("a", "b", "é", "€", "😀", "\n"), maxLength: 12 }).map((s) => ({
    name: `string ${JSON.stringify(s)}`,
    expected: enc.encode(s),
    run: (w: BufWriter) => w.string(s),
  })),
  fc.tuple(bytesArb, fc.nat(), fc.nat()).map(([b, o, l]) => {
    const off = b.length === 0 ? 0 : o % (b.length + 1);
    const len = l % (b.length - off + 1);
    return {
      name: `bytes ${b.length} ${off} ${len}`,
      expected: b.slice(off, off + len),
      run: (w: BufWriter) => {
        w.bytes(b, off, len);
        b.fill(0); // the writer copied them
      },
    };
  }),
  bytesArb.map((b) => ({
    name: `scheduleBytes ${b.length}`,
    expected: b.slice(),
    run: (w: BufWriter) => w.scheduleBytes(b),
  })),
  fc.constantFrom("x", "é", "😀").map((c) => ({
    name: `char ${c}`,
    expected: enc.encode(c),
    run: (w: BufWriter) => w.char(c),
  })),
  fc.integer({ min: 0, max: 0xffff }).map((n) => ({
    name: `uint16Be ${n}`,
    expected: encoded(2, (v) => v.setUint16(0, n, false)),
    run: (w: BufWriter) => w.uint16Be(n),
  })),
  fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }).map((n) => ({
    name: `int32Le ${n}`,
    expected: encoded(4, (v) => v.setInt32(0, n, true)),
    run: (w: BufWriter) => w.int32Le(n),
  })),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((n) => ({
    name: `uint64Be ${n}`,
    expected: encoded(8, (v) => v.setBigUint64(0, n, false)),
    run: (w: BufWriter) => w.uint64Be(n),
  })),
  fc.double().map((x) => ({
    name: `doubleLe ${x}`,
    expected: encoded(8, (v) => v.setFloat64(0, x, true)),
    run: (w: BufWriter) => w.doubleLe(x),
  })),
  fc.constant<Op>({ name: "yield", expected: none, run: () => Fiber.yield() }),
  fc.constant<Op>({ name: "flush", expected: none, run: (w) => w.flush() }),
  fc.constant<Op>({ name: "ready", expected: none, run: (w) => w.ready() }),
);

const actionArb: fc.Arbitrary<SinkAction> = fc.oneof(
  fc.integer({ min: 1, max: 16 }).map((n) => ({ return: n })),
  fc.integer({ min: 1, max: 16 }).map((n) => ({ yieldThen: n })),
);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

describe("BufWrite property", () => {
  test("BufWrite output is the concatenation of its writes, whatever the sink takes per step", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 25 }),
        fc.array(actionArb, { maxLength: 30 }),
        fc.integer({ min: 1, max: 32 }),
        fc.option(fc.integer({ min: 0, max: 64 }), { nil: undefined }),
        fc.boolean(),
        async (ops, actions, initialSize, maxBuffered, closeFirst) => {
          const sink = new MockSink("flow").script(...actions);
          await BufWrite.with(
            sink,
            async (w) => {
              for (const o of ops) await o.run(w);
              if (closeFirst) await w.close();
            },
            { initialSize, maxBuffered },
          );
          expect(concat(sink.data)).toEqual(concat(ops.map((o) => o.expected)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
