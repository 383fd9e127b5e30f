import { Buffer } from "node:buffer";
import { describe, expect, test } from "vitest";
import { IoError, monoClock, realClock } from "../core/index.ts";
import { AgeWatchdog } from "../flow/buf-write/index.ts";
import { TrySink } from "../flow/test-helpers/try-sink.ts";
import { MockClock } from "../mock/clock.ts";
import { WriterBufferAgeExceeded } from "./errors.ts";
import { TestSink } from "./test-helpers/doubles.ts";
import { Writer } from "./writer.ts";

/** Lets queued microtasks and immediates run (the writer flushes in a microtask). */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("Writer", () => {
  test("write() never blocks; writes made together go out in one sink write", async () => {
    const sink = new TestSink();
    const w = new Writer(sink);
    w.write("hello, ");
    w.write(Buffer.from("world"));
    w.writeLine("!");
    expect(w.bytesToWrite).toBe(14);
    expect(sink.writes).toEqual([]);
    await w.flushed();
    expect(sink.writes).toEqual(["hello, world!\n"]);
    expect(w.bytesToWrite).toBe(0);
    expect(w.bytesFlushed).toBe(14);
    await w.close();
  });

  test("write() copies its bytes; schedule() does not", async () => {
    const sink = new TestSink();
    const w = new Writer(sink);
    const mine = Buffer.from("abc");
    w.write(mine);
    mine[0] = 0x78;
    const big = Buffer.alloc(10_000, 0x61);
    w.write(big);
    big.fill(0x62);
    const owned = Buffer.from("owned");
    w.schedule(owned);
    await w.flushed();
    expect(sink.text).toBe(`abc${"a".repeat(10_000)}owned`);
    expect(sink.calls[0]?.includes(owned)).toBe(true);
    await w.close();
  });

  test("writes made while a flush is under way go out in the next one", async () => {
    const sink = new TestSink();
    sink.hold();
    const w = new Writer(sink);
    w.write("a");
    await settle();
    w.write("b");
    w.write("c");
    const f = w.flushed();
    sink.release();
    await f;
    expect(sink.writes).toEqual(["a", "bc"]);
    await w.close();
  });

  test("flushed() waits for the sink; strings longer than the small-write limit work", async () => {
    const sink = new TestSink();
    sink.hold();
    const w = new Writer(sink);
    const long = "é".repeat(2000);
    w.write(long);
    let done = false;
    const f = w.flushed().then(() => {
      done = true;
    });
    await settle();
    expect(done).toBe(false);
    sink.release();
    await f;
    expect(sink.text).toBe(long);
    await w.close();
  });

  test("write() takes only strings and bytes", async () => {
    const w = new Writer(new TestSink());
    expect(() => w.write(42 as unknown as string)).toThrow(
      "data must be a string or a Uint8Array, got 42",
    );
    expect(() => w.schedule("x" as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => new Writer({} as TestSink)).toThrow(TypeError);
    await w.close();
  });

  test("close() flushes, then closes the sink; later writes throw IoError Closed", async () => {
    const sink = new TestSink();
    const w = new Writer(sink);
    w.write("bye\n");
    const p = w.close();
    expect(w.close()).toBe(p);
    expect(() => w.write("more")).toThrow(IoError);
    await p;
    expect(sink.text).toBe("bye\n");
    expect(sink.closed).toBe(true);
    expect(w.isClosed).toBe(true);
    try {
      w.write("x");
    } catch (e) {
      expect((e as IoError).err.kind).toBe("Closed");
    }
  });

  test("close() closes anyway after forceCloseAfter when the flush is stuck", async () => {
    const clock = new MockClock();
    const sink = new TestSink();
    sink.hold();
    const w = new Writer(sink, { clock, bufferAgeLimit: "unlimited" });
    w.write("never read");
    await settle();
    const p = w.close({ forceCloseAfter: 500 });
    await settle();
    expect(sink.closed).toBe(false);
    clock.advance();
    await p;
    expect(clock.now()).toBe(500);
    expect(sink.closed).toBe(true);
    expect(() => w.close({ forceCloseAfter: -1 })).not.toThrow();
    expect(() => new Writer(sink).close({ forceCloseAfter: -1 })).toThrow(
      "forceCloseAfter must be a number of ms >= 0, got -1",
    );
  });

  test("a failed flush fails the writer: onError once, then write/flushed/close throw it", async () => {
    const sink = new TestSink();
    const reset = new IoError({ kind: "ConnectionReset", cause: new Error("EPIPE") });
    sink.failNext(reset);
    const errors: unknown[] = [];
    const w = new Writer(sink, { onError: (e) => errors.push(e) });
    w.write("lost");
    await expect(w.flushed()).rejects.toBe(reset);
    expect(errors).toEqual([reset]);
    expect(w.error).toBe(reset);
    expect(() => w.write("x")).toThrow(reset);
    await expect(w.close()).rejects.toBe(reset);
    expect(sink.closed).toBe(true);
    expect(errors).toHaveLength(1);
  });

  test("bufferAgeLimit fails the writer when its oldest unflushed byte is too old", async () => {
    const clock = new MockClock();
    const sink = new TestSink();
    sink.hold();
    const errors: unknown[] = [];
    const w = new Writer(sink, {
      clock,
      bufferAgeLimit: { atMost: 100 },
      peer: "tcp:127.0.0.1:4000",
      onError: (e) => errors.push(e),
    });
    w.write("x".repeat(10));
    await settle();
    expect(AgeWatchdog.of(clock).armed).toBe(true);
    clock.advance();
    await settle();
    expect(clock.now()).toBe(100);
    expect(errors).toHaveLength(1);
    const e = errors[0] as WriterBufferAgeExceeded;
    expect(e).toBeInstanceOf(WriterBufferAgeExceeded);
    expect(e.message).toBe(
      "writer buffer has data older than 100ms (10 bytes unflushed for 100ms, writing to tcp:127.0.0.1:4000)",
    );
    expect(() => w.write("more")).toThrow(e);
    expect(AgeWatchdog.of(clock).armed).toBe(false);
    await expect(w.close()).rejects.toBe(e);
  });

  test("bufferAgeLimit counts from the oldest byte still unflushed, not the first ever", async () => {
    const clock = new MockClock();
    const sink = new TestSink();
    sink.hold();
    const errors: unknown[] = [];
    const w = new Writer(sink, {
      clock,
      bufferAgeLimit: { atMost: 100 },
      onError: (e) => errors.push(e),
    });
    w.write("a");
    await settle();
    clock.setTime(60);
    w.write("b");
    sink.release();
    sink.hold();
    await settle();
    expect(sink.writes).toEqual(["a", "b"]);
    // "a" flushed; "b" (written at 60) is in flight now: its deadline is 160
    clock.advance();
    await settle();
    expect(clock.now()).toBe(100);
    expect(errors).toEqual([]);
    clock.advance();
    await settle();
    expect(clock.now()).toBe(160);
    expect(errors).toHaveLength(1);
    await expect(w.close()).rejects.toBeInstanceOf(WriterBufferAgeExceeded);
  });

  test('"unlimited" never arms a timer', async () => {
    const clock = new MockClock();
    const sink = new TestSink();
    sink.hold();
    const w = new Writer(sink, { clock, bufferAgeLimit: "unlimited" });
    w.write("x");
    await settle();
    expect(AgeWatchdog.of(clock).armed).toBe(false);
    expect(clock.nextTimer).toBeUndefined();
    sink.release();
    await w.close();
  });

  test("the age timer is armed only while data is pending (mock clock: cleared at once)", async () => {
    const clock = new MockClock();
    const w = new Writer(new TestSink(), { clock, bufferAgeLimit: { atMost: 1000 } });
    expect(AgeWatchdog.of(clock).armed).toBe(false);
    w.write("x");
    expect(AgeWatchdog.of(clock).armed).toBe(true);
    await w.flushed();
    await settle();
    expect(AgeWatchdog.of(clock).armed).toBe(false);
    expect(clock.nextTimer).toBeUndefined();
    await w.close();
  });

  test("the real clock's timer is shared, and outlives the last writer unreferenced (it holds no process open)", async () => {
    const dog = AgeWatchdog.of(monoClock);
    const timeouts = (): number =>
      process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timeouts();
    const a = new Writer(new TestSink());
    const b = new Writer(new TestSink());
    a.write("x");
    b.write("y");
    expect(dog.size).toBe(2);
    expect(dog.armed).toBe(true);
    await Promise.all([a.flushed(), b.flushed()]);
    await settle();
    // Flushed writers stay until the timer fires (no set or timer work per message)...
    expect(dog.size).toBe(2);
    await a.close();
    expect(dog.size).toBe(1);
    expect(dog.armed).toBe(true);
    // ...and after the last one closes the timer stays, for the next connection's writes,
    // without keeping the process alive
    await b.close();
    expect(dog.size).toBe(0);
    expect(dog.armed).toBe(true);
    expect(timeouts()).toBe(before);
    const c = new Writer(new TestSink());
    c.write("z");
    expect(dog.size).toBe(1);
    await c.close();
  });

  test("on the real clock, the timer drops idle writers when it fires, and stops", async () => {
    const dog = AgeWatchdog.of(realClock);
    const sink = new TestSink();
    const w = new Writer(sink, { clock: realClock, bufferAgeLimit: { atMost: 30 } });
    w.write("x");
    await w.flushed();
    expect(dog.armed).toBe(true);
    await new Promise((r) => setTimeout(r, 60));
    expect(dog.size).toBe(0);
    expect(dog.armed).toBe(false);
    expect(w.error).toBeUndefined();
    await w.close();
  });

  test("bufferAgeLimit is checked", () => {
    const sink = new TestSink();
    expect(() => new Writer(sink, { bufferAgeLimit: { atMost: 0 } })).toThrow(
      "bufferAgeLimit.atMost must be a number of ms > 0, got 0",
    );
    expect(() => new Writer(sink, { bufferAgeLimit: "forever" as unknown as "unlimited" })).toThrow(
      'bufferAgeLimit must be { atMost: ms } or "unlimited", got "forever"',
    );
  });

  test("toString() describes the writer", async () => {
    const w = new Writer(new TestSink());
    expect(String(w)).toBe("writer (0 bytes to write, open, buffer age limit 2m)");
    await w.close();
  });
});

describe("Writer on a sink with tryWrite", () => {
  test("writes made together go out in one synchronous tryWrite", async () => {
    const sink = new TrySink();
    const w = new Writer(sink);
    w.write("hello, ");
    w.writeLine("world");
    expect(sink.tries).toEqual([]);
    await w.flushed();
    expect(sink.tries).toEqual(["hello, world\n"]);
    expect(sink.writes).toEqual([]);
    expect(w.bytesFlushed).toBe(13);
    w.write("again");
    await w.flushed();
    expect(sink.tries).toEqual(["hello, world\n", "again"]);
    await w.close();
  });

  test("when the sink keeps data, flushed() waits for it; later writes follow in order", async () => {
    const sink = new TrySink();
    sink.full = true;
    const w = new Writer(sink);
    w.write("a");
    let done = false;
    const f = w.flushed().then(() => {
      done = true;
    });
    await settle();
    expect(done).toBe(false);
    expect(w.bytesToWrite).toBe(1);
    w.write("b");
    await settle();
    sink.drain();
    await f;
    await w.flushed();
    expect(sink.tries).toEqual(["a", "b"]);
    expect(sink.writes).toEqual([]);
    expect(w.bytesToWrite).toBe(0);
    w.write("c");
    await w.flushed();
    expect(sink.tries).toEqual(["a", "b", "c"]);
    await w.close();
  });

  test("a tryWrite that throws fails the writer", async () => {
    const sink = new TrySink();
    const err = new IoError({ kind: "ConnectionReset", cause: "gone" });
    sink.failNext = err;
    const errors: unknown[] = [];
    const w = new Writer(sink, { onError: (e) => errors.push(e) });
    w.write("x");
    await expect(w.flushed()).rejects.toBe(err);
    expect(errors).toEqual([err]);
    expect(() => w.write("y")).toThrow(err);
  });
});
