/**
 * Flow operations and in-memory flows: the cases of Eio's tests/flow.md that do not need a real
 * backend, then weir's own.
 */
import { describe, expect, test } from "vitest";
import {
  type BlockingOptions,
  BufferLimitExceeded,
  Cancelled,
  EndOfFile,
  Fiber,
  monoClock,
} from "../core/index.ts";
import { Flow } from "./flow.ts";
import { COPY_BUFFER_SIZE } from "./flow-ops.ts";
import { ChunkedSource, MockSink } from "./test-helpers/chunked-source.ts";
import type { Sink, Source } from "./types.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

describe("Eio flow.md", () => {
  test("Flow.readExact() fills the buffer across reads, EndOfFile if the source ends first", async () => {
    const got: string[] = [];
    const t = async (n: number): Promise<void> => {
      const buf = new Uint8Array(n);
      await Flow.readExact(Flow.bytesSource([enc.encode("foo"), enc.encode("bar")]), buf);
      got.push(dec.decode(buf));
    };
    await t(0);
    await t(3);
    await t(5);
    await t(6);
    await expect(t(7)).rejects.toBeInstanceOf(EndOfFile);
    expect(got).toEqual(["", "foo", "fooba", "foobar"]);
  });

  test("Flow.copy() copies each read to the sink until end-of-file", async () => {
    const trace: string[] = [];
    const src = new ChunkedSource(["foo", "bar"], { label: "src", trace });
    const dst = new MockSink("dst", trace);
    await Flow.copy(src, dst);
    expect(trace).toEqual([
      "src returning 3 bytes",
      'dst: wrote "foo"',
      "src returning 3 bytes",
      'dst: wrote "bar"',
      "src returning Eof",
    ]);
  });

  test("Flow.copy() from a string source writes it in one piece", async () => {
    const dst = new MockSink("dst");
    dst.script({ return: 3 }, { return: 5 });
    await Flow.copy(Flow.stringSource("foobar"), dst);
    expect(dst.trace).toEqual(['dst: wrote "foo"', 'dst: wrote "bar"']);
    expect(dst.calls).toBe(1);
  });

  test("Flow.copy() uses readChunk when the source offers it", async () => {
    const trace: string[] = [];
    const src = new ChunkedSource(["foo", "bar"], { readChunk: true, trace });
    let intoCalls = 0;
    const wrapped: Source = {
      readInto: (b, o) => {
        intoCalls++;
        return src.readInto(b, o);
      },
      readChunk: (o) => (src.readChunk as (o?: BlockingOptions) => Promise<Uint8Array>)(o),
    };
    const dst = new MockSink("dst", trace);
    await Flow.copy(wrapped, dst);
    expect(intoCalls).toBe(0);
    expect(dst.text()).toBe("foobar");
  });

  test("Flow.copy() reuses one buffer of COPY_BUFFER_SIZE bytes", async () => {
    const inner = new ChunkedSource(["a", "b", "c"]);
    const seen = new Set<ArrayBufferLike>();
    const sizes = new Set<number>();
    const src: Source = {
      readInto: (b, o) => {
        seen.add(b.buffer);
        sizes.add(b.length);
        return inner.readInto(b, o);
      },
    };
    const dst = new MockSink("dst");
    await Flow.copy(src, dst);
    expect(seen.size).toBe(1);
    expect([...sizes]).toEqual([COPY_BUFFER_SIZE]);
    expect(dst.text()).toBe("abc");
  });

  test("Flow.copy() lets the sink's copyFrom do the work", async () => {
    const calls: string[] = [];
    const dst: Sink = {
      async write(): Promise<void> {
        calls.push("write");
      },
      async copyFrom(src: Source): Promise<void> {
        calls.push(`copyFrom ${await Flow.readAll(src, { maxSize: 100 })}`);
      },
    };
    await Flow.copy(Flow.stringSource("xyz"), dst);
    expect(calls).toEqual(["copyFrom xyz"]);
  });

  test("Flow.readAllBytes() reads everything", async () => {
    const each = Uint8Array.from({ length: 256 }, (_, i) => i);
    const data = Array.from({ length: 40 }, () => each);
    const got = await Flow.readAllBytes(new ChunkedSource(data), { maxSize: 1 << 20 });
    expect(got.length).toBe(10240);
    expect(got).toEqual(Uint8Array.from({ length: 10240 }, (_, i) => i % 256));
    const viaChunks = await Flow.readAllBytes(Flow.bytesSource(data), { maxSize: 10240 });
    expect(viaChunks).toEqual(got);
  });

  test("Flow.copyString() writes the string to the sink", async () => {
    const dst = new MockSink("dst");
    await Flow.copyString("foobar", dst);
    expect(dst.trace).toEqual(['dst: wrote "foobar"']);
  });

  test("Flow.null reads as empty and discards writes", async () => {
    expect(await Flow.readAll(Flow.null, { maxSize: 10 })).toBe("");
    await Flow.copyString("hello", Flow.null);
    const src = new ChunkedSource(["a", "b"]);
    await Flow.copy(src, Flow.null);
    expect(src.trace.at(-1)).toBe("mock_flow returning Eof");
  });
});

describe("Flow.readAll", () => {
  test("Flow.readAll() decodes UTF-8 split across reads", async () => {
    const bytes = enc.encode("héllo €😀");
    const chunks = Array.from(bytes, (b) => new Uint8Array([b]));
    expect(await Flow.readAll(new ChunkedSource(chunks), { maxSize: 100 })).toBe("héllo €😀");
  });

  test("Flow.readAll() accepts exactly maxSize bytes and rejects one more", async () => {
    for (const readChunk of [false, true]) {
      expect(
        await Flow.readAll(new ChunkedSource(["ab", "cd"], { readChunk }), { maxSize: 4 }),
      ).toBe("abcd");
      await expect(
        Flow.readAll(new ChunkedSource(["ab", "cde"], { readChunk }), { maxSize: 4 }),
      ).rejects.toBeInstanceOf(BufferLimitExceeded);
    }
  });

  test("Flow.readAll() never asks for more than maxSize + 1 bytes", async () => {
    let asked = 0;
    const src: Source = {
      async readInto(buf: Uint8Array): Promise<number> {
        asked += buf.length;
        buf.fill(0x61);
        return buf.length;
      },
    };
    await expect(Flow.readAll(src, { maxSize: 10_000 })).rejects.toBeInstanceOf(
      BufferLimitExceeded,
    );
    expect(asked).toBe(10_001);
  });

  test("Flow.readAll() checks maxSize", () => {
    expect(() => Flow.readAll(Flow.null, { maxSize: 0 })).toThrow(
      new RangeError("maxSize must be an integer > 0 or Infinity, got 0"),
    );
  });
});

describe("in-memory flows", () => {
  test("Flow.stringSource() serves its bytes through readInto and readChunk", async () => {
    const src = Flow.stringSource("hello");
    const buf = new Uint8Array(2);
    expect(await src.readInto(buf)).toBe(2);
    expect(dec.decode(buf)).toBe("he");
    expect(dec.decode(await (src.readChunk as () => Promise<Uint8Array>)())).toBe("llo");
    await expect(src.readInto(buf)).rejects.toBeInstanceOf(EndOfFile);
  });

  test("Flow.stringSource() readInto rejects an empty buffer", async () => {
    await expect(Flow.stringSource("x").readInto(new Uint8Array(0))).rejects.toThrow(RangeError);
  });

  test("Flow.bytesSource() hands out its arrays without copying", async () => {
    const a = new Uint8Array([1, 2]);
    const b = new Uint8Array([3]);
    const src = Flow.bytesSource([a, new Uint8Array(0), b]);
    const readChunk = (src.readChunk as () => Promise<Uint8Array>).bind(src);
    expect(await readChunk()).toBe(a);
    expect(await readChunk()).toBe(b);
    await expect(readChunk()).rejects.toBeInstanceOf(EndOfFile);
  });

  test("Flow.concatSource() reads each source in turn", async () => {
    const src = Flow.concatSource(Flow.stringSource("ab"), Flow.null, Flow.stringSource("cd"));
    expect(await Flow.readAll(src, { maxSize: 10 })).toBe("abcd");
    const noChunk = Flow.concatSource(new ChunkedSource(["x"]), Flow.stringSource("y"));
    expect(noChunk.readChunk).toBeUndefined();
    expect(await Flow.readAll(noChunk, { maxSize: 10 })).toBe("xy");
  });

  test("Flow.bufferSink() appends copies to an array or a collector", async () => {
    const chunks: Uint8Array[] = [];
    const buf = enc.encode("abc");
    await Flow.bufferSink(chunks).write([buf, new Uint8Array(0), enc.encode("d")]);
    buf[0] = 0x7a;
    expect(chunks.map((c) => dec.decode(c))).toEqual(["abc", "d"]);
    let n = 0;
    await Flow.copyString("xyz", Flow.bufferSink({ push: (c) => (n += c.length) }));
    expect(n).toBe(3);
    expect(() => Flow.bufferSink({} as unknown as Uint8Array[])).toThrow(TypeError);
  });
});

describe("Flow cancellation", () => {
  test("Flow.copy() blocked on a read is cancelled by Fiber.first", async () => {
    const src = new ChunkedSource(["a"], { whenEmpty: "block" });
    const dst = new MockSink("dst");
    const r = await Fiber.first(
      async () => {
        await Flow.copy(src, dst);
        return "copied";
      },
      async () => {
        await monoClock.sleep(5);
        return "timeout";
      },
    );
    expect(r).toBe("timeout");
    expect(dst.text()).toBe("a");
  });

  test("Flow.readExact() honours a signal", async () => {
    const src = new ChunkedSource([], { whenEmpty: "block" });
    const ac = new AbortController();
    const p = Flow.readExact(src, new Uint8Array(1), { signal: ac.signal });
    ac.abort("stop");
    const e = await p.catch((e: unknown) => e);
    expect(e).toBeInstanceOf(Cancelled);
    expect((e as Cancelled).cause).toBe("stop");
  });
});
