/**
 * Web Stream adapters: data, end-of-file, errors, cancellation (no chunk lost), and
 * backpressure (50 MB through a deliberately slow consumer stays within the high-water marks).
 */
import { ReadableStream, WritableStream } from "node:stream/web";
import { describe, expect, test } from "vitest";
import {
  type BlockingOptions,
  Cancelled,
  EndOfFile,
  Fiber,
  IoError,
  monoClock,
} from "../core/index.ts";
import { Flow } from "./flow.ts";
import { ChunkedSource, MockSink } from "./test-helpers/chunked-source.ts";
import type { Shutdown, ShutdownCommand, Sink, Source } from "./types.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));

function streamOf(chunks: unknown[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      for (const x of chunks) c.enqueue(x as Uint8Array);
      c.close();
    },
  });
}

async function collect(rs: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of rs) out.push(c);
  return out;
}

describe("Flow.fromWebReadable", () => {
  test("Flow.fromWebReadable() reads a stream to its end", async () => {
    const src = Flow.fromWebReadable(streamOf([enc.encode("hel"), enc.encode("lo")]));
    expect(await Flow.readAll(src, { maxSize: 100 })).toBe("hello");
    await expect(src.readInto(new Uint8Array(1))).rejects.toBeInstanceOf(EndOfFile);
  });

  test("Flow.fromWebReadable() readInto keeps what does not fit for the next read", async () => {
    const src = Flow.fromWebReadable(streamOf([enc.encode("abcdef")]));
    const buf = new Uint8Array(4);
    expect(await src.readInto(buf)).toBe(4);
    expect(dec.decode(buf)).toBe("abcd");
    expect(await src.readInto(buf)).toBe(2);
    await expect(src.readInto(buf)).rejects.toBeInstanceOf(EndOfFile);
  });

  test("Flow.fromWebReadable() rejects chunks that are not bytes", async () => {
    const src = Flow.fromWebReadable(streamOf(["text"]));
    await expect(src.readInto(new Uint8Array(4))).rejects.toThrow(TypeError);
  });

  test("Flow.fromWebReadable() reports a stream error as IoError", async () => {
    const boom = new Error("boom");
    const rs = new ReadableStream<Uint8Array>({
      start(c) {
        c.error(boom);
      },
    });
    const e = await Flow.fromWebReadable(rs)
      .readInto(new Uint8Array(1))
      .catch((e: unknown) => e);
    expect(e).toBeInstanceOf(IoError);
    expect((e as IoError).cause).toBe(boom);
  });

  test("Flow.fromWebReadable() read cancelled by Fiber.first loses no chunk", async () => {
    let ctrl: ReadableStreamDefaultController<Uint8Array> | undefined;
    const rs = new ReadableStream<Uint8Array>({
      start(c) {
        ctrl = c;
      },
    });
    const src = Flow.fromWebReadable(rs);
    const got = await Fiber.first(
      async () => String(await src.readInto(new Uint8Array(10))),
      async () => {
        await monoClock.sleep(5);
        return "timeout";
      },
    );
    expect(got).toBe("timeout");
    ctrl?.enqueue(enc.encode("kept"));
    ctrl?.close();
    expect(await Flow.readAll(src, { maxSize: 10 })).toBe("kept");
  });

  test("Flow.fromWebReadable() close() cancels the stream", async () => {
    let reason: unknown;
    const rs = new ReadableStream<Uint8Array>({
      cancel(r) {
        reason = r;
      },
    });
    const src = Flow.fromWebReadable(rs);
    await src.close();
    expect(reason).toBeUndefined();
    const e = await src.readInto(new Uint8Array(1)).catch((e: unknown) => e);
    expect((e as IoError).err.kind).toBe("Closed");
  });
});

describe("Flow.toWebReadable", () => {
  test("Flow.toWebReadable() streams a source to its end", async () => {
    const chunks = await collect(Flow.toWebReadable(new ChunkedSource(["ab", "cd"])));
    expect(chunks.map((c) => dec.decode(c)).join("")).toBe("abcd");
  });

  test("Flow.toWebReadable() passes readChunk chunks as they are", async () => {
    const a = enc.encode("xyz");
    const chunks = await collect(Flow.toWebReadable(Flow.bytesSource([a])));
    expect(chunks).toEqual([a]);
    expect(chunks[0]).toBe(a);
  });

  test("Flow.toWebReadable() errors the stream when the source fails", async () => {
    const boom = new Error("boom");
    const src: Source = {
      readInto: async () => {
        throw boom;
      },
    };
    await expect(collect(Flow.toWebReadable(src))).rejects.toBe(boom);
  });

  test("Flow.toWebReadable() cancel() cancels a pending read", async () => {
    const seen: unknown[] = [];
    const inner = new ChunkedSource([], { whenEmpty: "block" });
    const src: Source = {
      readInto: (b, o) =>
        inner.readInto(b, o).catch((e: unknown) => {
          seen.push(e);
          throw e;
        }),
    };
    const rs = Flow.toWebReadable(src);
    const reader = rs.getReader();
    const pending = reader.read();
    await immediate();
    await reader.cancel("bye");
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(seen[0]).toBeInstanceOf(Cancelled);
  });

  test("Flow.toWebReadable() errors with Cancelled when its signal aborts", async () => {
    const ac = new AbortController();
    const rs = Flow.toWebReadable(new ChunkedSource([], { whenEmpty: "block" }), {
      signal: ac.signal,
    });
    const p = rs.getReader().read();
    await immediate();
    ac.abort("stop");
    await expect(p).rejects.toBeInstanceOf(Cancelled);
  });
});

describe("Flow.toWebWritable", () => {
  test("Flow.toWebWritable() writes to the sink and shuts it down on close", async () => {
    const calls: ShutdownCommand[] = [];
    const sink = Object.assign(new MockSink("dst"), {
      async shutdown(cmd: ShutdownCommand): Promise<void> {
        calls.push(cmd);
      },
    }) as Sink & Shutdown & MockSink;
    await streamOf([enc.encode("foo"), enc.encode("bar")]).pipeTo(Flow.toWebWritable(sink));
    expect(sink.text()).toBe("foobar");
    expect(calls).toEqual(["send"]);
  });

  test("Flow.toWebWritable() abort cancels a pending write at once", async () => {
    const sink = new MockSink("dst").script({ awaitCancel: true });
    const ws = Flow.toWebWritable(sink);
    const writer = ws.getWriter();
    const written = writer.write(enc.encode("x"));
    await immediate();
    await writer.abort("stop");
    await expect(written).rejects.toBeInstanceOf(Cancelled);
  });

  test("Flow.toWebWritable() rejects chunks that are not bytes", async () => {
    const writer = Flow.toWebWritable(new MockSink()).getWriter();
    await expect(writer.write("text" as unknown as Uint8Array)).rejects.toThrow(TypeError);
  });
});

describe("Flow.fromWebWritable", () => {
  test("Flow.fromWebWritable() writes to the stream and closes it on shutdown", async () => {
    const got: string[] = [];
    let closed = false;
    const ws = new WritableStream<Uint8Array>({
      write(c) {
        got.push(dec.decode(c));
      },
      close() {
        closed = true;
      },
    });
    const sink = Flow.fromWebWritable(ws);
    await Flow.copyString("hello", sink);
    await sink.write([enc.encode("a"), new Uint8Array(0), enc.encode("b")]);
    await sink.shutdown("send");
    expect(got).toEqual(["hello", "a", "b"]);
    expect(closed).toBe(true);
  });

  test("Flow.fromWebWritable() reports a stream error as IoError", async () => {
    const boom = new Error("boom");
    const sink = Flow.fromWebWritable(
      new WritableStream<Uint8Array>({
        write() {
          throw boom;
        },
      }),
    );
    const e = await sink.write([enc.encode("x")]).catch((e: unknown) => e);
    expect((e as IoError).cause).toBe(boom);
    await sink.close();
  });

  test("Flow.fromWebWritable() write is cancelled by a signal", async () => {
    const sink = Flow.fromWebWritable(
      new WritableStream<Uint8Array>({ write: () => new Promise(() => {}) }),
    );
    const ac = new AbortController();
    const p = sink.write([enc.encode("x")], { signal: ac.signal });
    ac.abort("stop");
    await expect(p).rejects.toBeInstanceOf(Cancelled);
    await sink.close();
  });
});

describe("Web adapters keep backpressure", () => {
  const total = 50 * 1024 * 1024;
  const hwm = 64 * 1024;

  test("Flow.toWebReadable() and toWebWritable() pipe 50 MB into a slow sink within their high-water marks", async () => {
    let produced = 0;
    const src: Source = {
      async readInto(buf: Uint8Array): Promise<number> {
        const n = Math.min(buf.length, total - produced);
        if (n === 0) throw new EndOfFile();
        buf.fill(0x61, 0, n);
        produced += n;
        return n;
      },
    };
    let received = 0;
    let maxHeld = 0;
    const slowSink: Sink = {
      async write(bufs: readonly Uint8Array[], _opts?: BlockingOptions): Promise<void> {
        await immediate();
        for (const b of bufs) received += b.length;
        maxHeld = Math.max(maxHeld, produced - received);
      },
    };
    await Flow.toWebReadable(src, { highWaterMark: hwm }).pipeTo(
      Flow.toWebWritable(slowSink, { highWaterMark: hwm }),
    );
    expect(received).toBe(total);
    // The readable's queue, the writable's queue, and one chunk in each stage.
    expect(maxHeld).toBeLessThanOrEqual(5 * hwm);
    expect(maxHeld).toBeGreaterThan(0);
  });

  test("Flow.fromWebReadable() and fromWebWritable() copy 50 MB into a slow stream within its high-water mark", async () => {
    let produced = 0;
    const chunk = new Uint8Array(hwm).fill(0x62);
    const rs = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          if (produced >= total) c.close();
          else {
            produced += chunk.length;
            c.enqueue(chunk);
          }
        },
      },
      { highWaterMark: hwm, size: (c) => c.byteLength },
    );
    let received = 0;
    let maxHeld = 0;
    const ws = new WritableStream<Uint8Array>({
      async write(c) {
        await immediate();
        received += c.length;
        maxHeld = Math.max(maxHeld, produced - received);
      },
    });
    const sink = Flow.fromWebWritable(ws);
    await Flow.copy(Flow.fromWebReadable(rs), sink);
    await sink.shutdown("send");
    expect(received).toBe(total);
    expect(maxHeld).toBeLessThanOrEqual(3 * hwm);
  });
});
