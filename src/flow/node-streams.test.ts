/**
 * Node stream adapters: data, end-of-file, errors, cancellation (listeners released), and
 * backpressure (50 MB through a deliberately slow consumer stays within the high-water marks).
 */
import { PassThrough, Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
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

/** A source of `total` bytes made on demand (nothing is held beyond the caller's buffer). */
function generatedSource(total: number): Source & { produced: number } {
  const src = {
    produced: 0,
    async readInto(buf: Uint8Array): Promise<number> {
      const n = Math.min(buf.length, total - src.produced);
      if (n === 0) throw new EndOfFile();
      buf.fill(0x61, 0, n);
      src.produced += n;
      return n;
    },
  };
  return src;
}

const listeners = (s: Readable | Writable, ...events: string[]): number =>
  events.reduce((n, e) => n + s.listenerCount(e), 0);

describe("Flow.fromNodeReadable", () => {
  test("Flow.fromNodeReadable() reads a stream to its end", async () => {
    const r = Readable.from([enc.encode("hel"), enc.encode("lo")], { objectMode: false });
    const src = Flow.fromNodeReadable(r);
    expect(await Flow.readAll(src, { maxSize: 100 })).toBe("hello");
    await expect(src.readInto(new Uint8Array(1))).rejects.toBeInstanceOf(EndOfFile);
  });

  test("Flow.fromNodeReadable() accepts object-mode streams of strings and bytes", async () => {
    const r = Readable.from(["héllo", enc.encode(" world")]);
    expect(await Flow.readAll(Flow.fromNodeReadable(r), { maxSize: 100 })).toBe("héllo world");
  });

  test("Flow.fromNodeReadable() readInto keeps what does not fit for the next read", async () => {
    const r = Readable.from([enc.encode("abcdef")]);
    const src = Flow.fromNodeReadable(r);
    const buf = new Uint8Array(4);
    expect(await src.readInto(buf)).toBe(4);
    expect(dec.decode(buf)).toBe("abcd");
    expect(await src.readInto(buf)).toBe(2);
    expect(dec.decode(buf.subarray(0, 2))).toBe("ef");
    await expect(src.readInto(buf)).rejects.toBeInstanceOf(EndOfFile);
  });

  test("Flow.fromNodeReadable() waits for data written later", async () => {
    const pt = new PassThrough();
    const src = Flow.fromNodeReadable(pt);
    const p = Flow.readAll(src, { maxSize: 100 });
    await immediate();
    pt.write("late ");
    await immediate();
    pt.end("data");
    expect(await p).toBe("late data");
  });

  test("Flow.fromNodeReadable() reports a stream error as IoError, a reset as ConnectionReset", async () => {
    const pt = new PassThrough();
    const src = Flow.fromNodeReadable(pt);
    const boom = new Error("boom");
    pt.destroy(boom);
    const e = await src.readInto(new Uint8Array(1)).catch((e: unknown) => e);
    expect(e).toBeInstanceOf(IoError);
    expect((e as IoError).err).toEqual({ kind: "Unknown", cause: boom });

    const pt2 = new PassThrough();
    const src2 = Flow.fromNodeReadable(pt2);
    const p = src2.readInto(new Uint8Array(1)).catch((e: unknown) => e);
    pt2.destroy(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
    expect(((await p) as IoError).err.kind).toBe("ConnectionReset");
  });

  test("Flow.fromNodeReadable() read is cancelled by Fiber.first and releases its listeners", async () => {
    const pt = new PassThrough();
    const src = Flow.fromNodeReadable(pt);
    const before = listeners(pt, "readable", "end", "close", "error");
    const got = await Fiber.first(
      async () => String(await src.readInto(new Uint8Array(10))),
      async () => {
        await monoClock.sleep(5);
        return "timeout";
      },
    );
    expect(got).toBe("timeout");
    expect(listeners(pt, "readable", "end", "close", "error")).toBe(before);
    pt.end("x");
    expect(await Flow.readAll(src, { maxSize: 10 })).toBe("x");
  });

  test("Flow.fromNodeReadable() honours a signal", async () => {
    const pt = new PassThrough();
    const ac = new AbortController();
    const p = Flow.fromNodeReadable(pt).readChunk?.({ signal: ac.signal });
    ac.abort("stop");
    await expect(p).rejects.toBeInstanceOf(Cancelled);
    pt.destroy();
  });

  test("Flow.fromNodeReadable() close() destroys the stream; a pending read fails with Closed", async () => {
    const pt = new PassThrough();
    const src = Flow.fromNodeReadable(pt);
    const p = src.readInto(new Uint8Array(1)).catch((e: unknown) => e);
    await src.close();
    expect(pt.destroyed).toBe(true);
    expect(((await p) as IoError).err.kind).toBe("Closed");
  });
});

describe("Flow.toNodeReadable", () => {
  test("Flow.toNodeReadable() streams a source to its end", async () => {
    const r = Flow.toNodeReadable(new ChunkedSource(["ab", "cd", "ef"]));
    const parts: string[] = [];
    for await (const c of r) parts.push(dec.decode(c as Uint8Array));
    expect(parts.join("")).toBe("abcdef");
  });

  test("Flow.toNodeReadable() uses readChunk when offered", async () => {
    const r = Flow.toNodeReadable(Flow.stringSource("hello"));
    const parts: Uint8Array[] = [];
    for await (const c of r) parts.push(c as Uint8Array);
    expect(parts.length).toBe(1);
    expect(dec.decode(parts[0])).toBe("hello");
  });

  test("Flow.toNodeReadable() destroys the stream when the source fails", async () => {
    const boom = new Error("boom");
    const src: Source = {
      readInto: async () => {
        throw boom;
      },
    };
    const r = Flow.toNodeReadable(src);
    await expect(
      (async () => {
        for await (const _ of r);
      })(),
    ).rejects.toBe(boom);
  });

  test("Flow.toNodeReadable() destroy cancels a pending read", async () => {
    const reasons: unknown[] = [];
    const src = new ChunkedSource([], { whenEmpty: "block" });
    const watched: Source = {
      readInto: (b, o) =>
        src.readInto(b, o).catch((e: unknown) => {
          reasons.push(e);
          throw e;
        }),
    };
    const r = Flow.toNodeReadable(watched);
    r.resume();
    await immediate();
    r.destroy();
    await immediate();
    expect(reasons[0]).toBeInstanceOf(Cancelled);
  });

  test("Flow.toNodeReadable() is destroyed with Cancelled when its signal aborts", async () => {
    const ac = new AbortController();
    const r = Flow.toNodeReadable(new ChunkedSource([], { whenEmpty: "block" }), {
      signal: ac.signal,
    });
    const done = new Promise<unknown>((resolve) => r.on("error", resolve));
    r.resume();
    ac.abort("stop");
    expect(await done).toBeInstanceOf(Cancelled);
  });

  test("Flow.toNodeReadable() checks highWaterMark", () => {
    expect(() => Flow.toNodeReadable(Flow.null, { highWaterMark: 0 })).toThrow(
      new RangeError("highWaterMark must be an integer > 0, got 0"),
    );
  });
});

describe("Flow.toNodeWritable", () => {
  test("Flow.toNodeWritable() writes to the sink and shuts it down at the end", async () => {
    const calls: ShutdownCommand[] = [];
    const sink = Object.assign(new MockSink("dst"), {
      async shutdown(cmd: ShutdownCommand): Promise<void> {
        calls.push(cmd);
      },
    }) as Sink & Shutdown & MockSink;
    const w = Flow.toNodeWritable(sink);
    await pipeline(Readable.from(["foo", "bar", "baz"]), w);
    expect(sink.text()).toBe("foobarbaz");
    expect(calls).toEqual(["send"]);
  });

  test("Flow.toNodeWritable() passes corked writes as one vectored write", async () => {
    const sink = new MockSink("dst");
    const w = Flow.toNodeWritable(sink, { shutdownOnEnd: false });
    w.cork();
    w.write("a");
    w.write("b");
    w.uncork();
    await new Promise<void>((resolve) => w.end(resolve));
    expect(sink.trace).toEqual(['dst: wrote ["a"; "b"]']);
  });

  test("Flow.toNodeWritable() errors the stream when the sink fails", async () => {
    const boom = new Error("boom");
    const sink = new MockSink("dst").script({ raise: boom });
    const w = Flow.toNodeWritable(sink);
    const err = new Promise<unknown>((resolve) => w.on("error", resolve));
    w.write("x");
    expect(await err).toBe(boom);
  });
});

describe("Flow.fromNodeWritable", () => {
  test("Flow.fromNodeWritable() writes to the stream", async () => {
    const pt = new PassThrough();
    const sink = Flow.fromNodeWritable(pt);
    const out = Flow.readAll(Flow.fromNodeReadable(pt), { maxSize: 100 });
    await Flow.copyString("hello ", sink);
    await sink.write([enc.encode("wor"), new Uint8Array(0), enc.encode("ld")]);
    await sink.shutdown("send");
    expect(await out).toBe("hello world");
  });

  test("Flow.fromNodeWritable() write resolves only after the stream has handed the data on", async () => {
    const log: string[] = [];
    const w = new Writable({
      writev(chunks, cb) {
        log.push(`writev ${chunks.map((c) => dec.decode(c.chunk as Uint8Array)).join("+")}`);
        setImmediate(() => {
          log.push("callback");
          cb();
        });
      },
    });
    const sink = Flow.fromNodeWritable(w);
    await sink.write([enc.encode("a"), enc.encode("b")]);
    log.push("resolved");
    expect(log).toEqual(["writev a+b", "callback", "resolved"]);
    await sink.close();
  });

  test("Flow.fromNodeWritable() reports stream errors; EPIPE as ConnectionReset", async () => {
    const w = new Writable({
      write(_c, _e, cb) {
        cb(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    const sink = Flow.fromNodeWritable(w);
    const e = await sink.write([enc.encode("x")]).catch((e: unknown) => e);
    expect((e as IoError).err.kind).toBe("ConnectionReset");
    const again = await sink.write([enc.encode("y")]).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(IoError);
  });

  test("Flow.fromNodeWritable() write after close fails with Closed", async () => {
    const sink = Flow.fromNodeWritable(new PassThrough());
    await sink.close();
    const e = await sink.write([enc.encode("x")]).catch((e: unknown) => e);
    expect((e as IoError).err.kind).toBe("Closed");
  });

  test("Flow.fromNodeWritable() write is cancelled by a signal", async () => {
    const w = new Writable({ highWaterMark: 1, write() {} }); // never calls back
    const sink = Flow.fromNodeWritable(w);
    const ac = new AbortController();
    const p = sink.write([enc.encode("x")], { signal: ac.signal });
    ac.abort("stop");
    await expect(p).rejects.toBeInstanceOf(Cancelled);
    w.destroy();
  });
});

describe("Node adapters keep backpressure", () => {
  const total = 50 * 1024 * 1024;
  const hwm = 64 * 1024;

  test("Flow.toNodeReadable() and toNodeWritable() pipe 50 MB into a slow sink within their high-water marks", async () => {
    const src = generatedSource(total);
    const r = Flow.toNodeReadable(src, { highWaterMark: hwm });
    let received = 0;
    let maxHeld = 0;
    let maxReadable = 0;
    let maxWritable = 0;
    let w: Writable | undefined;
    const slowSink: Sink = {
      async write(bufs: readonly Uint8Array[], _opts?: BlockingOptions): Promise<void> {
        await immediate(); // a slow consumer: one write per event-loop turn
        for (const b of bufs) received += b.length;
        maxHeld = Math.max(maxHeld, src.produced - received);
        maxReadable = Math.max(maxReadable, r.readableLength);
        maxWritable = Math.max(maxWritable, w?.writableLength ?? 0);
      },
    };
    w = Flow.toNodeWritable(slowSink, { highWaterMark: hwm });
    await pipeline(r, w);
    expect(received).toBe(total);
    // Each stream may exceed its mark by the one chunk that crossed it (chunks are <= hwm).
    expect(maxReadable).toBeLessThanOrEqual(2 * hwm);
    expect(maxWritable).toBeLessThanOrEqual(2 * hwm);
    // Everything produced but not yet consumed sits in the two streams and one chunk in flight.
    expect(maxHeld).toBeLessThanOrEqual(5 * hwm);
  });

  test("Flow.fromNodeReadable() and fromNodeWritable() copy 50 MB into a slow stream within its high-water mark", async () => {
    let produced = 0;
    const chunk = Buffer.alloc(hwm, 0x62);
    const r = new Readable({
      highWaterMark: hwm,
      read() {
        if (produced >= total) this.push(null);
        else {
          produced += chunk.length;
          this.push(chunk);
        }
      },
    });
    let received = 0;
    let maxHeld = 0;
    let maxReadable = 0;
    const w = new Writable({
      highWaterMark: hwm,
      write(c: Uint8Array, _enc, cb) {
        // A slow consumer: takes each chunk one event-loop turn later.
        setImmediate(() => {
          received += c.length;
          maxHeld = Math.max(maxHeld, produced - received);
          maxReadable = Math.max(maxReadable, r.readableLength);
          cb();
        });
      },
    });
    await Flow.copy(Flow.fromNodeReadable(r), Flow.fromNodeWritable(w));
    expect(received).toBe(total);
    expect(maxReadable).toBeLessThanOrEqual(2 * hwm);
    expect(maxHeld).toBeLessThanOrEqual(3 * hwm);
    w.destroy();
  });
});
