/**
 * BufWriter's short writes (strings and byte arrays of up to 32 units, copied by a loop rather
 * than by a native call): the bytes are exactly UTF-8 / the given bytes, whatever mix of ASCII
 * and other characters, wherever the buffer ends, and they batch into one write as before.
 */
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { BufWrite } from "./buf-write/index.ts";
import { MockSink } from "./test-helpers/chunked-source.ts";
import { TrySink } from "./test-helpers/try-sink.ts";

describe("BufWriter short writes", () => {
  test("short ASCII and non-ASCII strings are UTF-8, in order, in one write", async () => {
    const sink = new TrySink();
    const parts = ["+OK\r\n", "$3\r\n", "", "é", "ab€", "x😀y", "\u007f\u0080", "-ERR\r\n"];
    await BufWrite.with(sink, (w) => {
      for (const p of parts) w.string(p);
    });
    expect(sink.tries).toEqual([parts.join("")]);
  });

  test("a non-ASCII character after ASCII ones overwrites nothing it should keep", async () => {
    const flow = new MockSink();
    await BufWrite.with(
      flow,
      (w) => {
        w.string("abc");
        w.string("de€f");
        w.string("gh");
      },
      { initialSize: 8 },
    );
    expect(flow.text()).toBe("abcde€fgh");
    expect(Buffer.concat(flow.data).length).toBe(11);
  });

  test("strings that fill the buffer exactly, or just do not fit, go on in a new one", async () => {
    const flow = new MockSink();
    await BufWrite.with(
      flow,
      (w) => {
        w.string("0123"); // fills the 4-byte buffer
        w.string("4567");
        w.string("89a"); // does not fit in what is left of the second
        w.string("bcde");
      },
      { initialSize: 4 },
    );
    expect(flow.text()).toBe("0123456789abcde");
  });

  test("short byte arrays are copied (the caller may reuse them at once)", async () => {
    const sink = new TrySink();
    const b = new Uint8Array([0x61, 0x62, 0x63]);
    await BufWrite.with(sink, (w) => {
      w.bytes(b);
      b[0] = 0x78;
      w.bytes(b, 1, 2);
      w.bytes(new Uint8Array(32).fill(0x7a));
      w.bytes(new Uint8Array(33).fill(0x79));
    });
    expect(sink.tries).toEqual([`abcbc${"z".repeat(32)}${"y".repeat(33)}`]);
  });

  test("any sequence of short strings and bytes is written as Buffer.from would encode it", async () => {
    const item = fc.oneof(
      fc.string({ maxLength: 40, unit: "grapheme" }),
      fc.string({ maxLength: 40, unit: "binary" }),
      fc.string({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 40 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(item, { maxLength: 30 }),
        fc.integer({ min: 1, max: 64 }),
        async (items, initialSize) => {
          const flow = new MockSink();
          await BufWrite.with(
            flow,
            (w) => {
              for (const it of items) {
                if (typeof it === "string") w.string(it);
                else w.bytes(it);
              }
            },
            { initialSize },
          );
          const want = Buffer.concat(
            items.map((it) => (typeof it === "string" ? Buffer.from(it, "utf8") : it)),
          );
          expect(Buffer.concat(flow.data).equals(want)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
