/**
 * What BufWrite has from Async's Writer, now that both are one engine: the synchronous path on a
 * sink with `tryWrite`, no buffer while idle, the bound on unflushed bytes and the age limit.
 */
import { describe, expect, test } from "vitest";
import { Switch } from "../core/index.ts";
import { MockClock } from "../mock/clock.ts";
import {
  AgeWatchdog,
  BufWrite,
  FlushAborted,
  WriterBufferAgeExceeded,
  WriterBufferLimitExceeded,
} from "./buf-write/index.ts";
import { SendSink, TrySink } from "./test-helpers/try-sink.ts";

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

const caught = (fn: () => void): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("did not throw");
};

describe("BufWrite on one engine with Tcp.Writer", () => {
  test("BufWriter on a sink with tryWrite: a turn's writes go out in one synchronous tryWrite; flush() waits only when the sink keeps data", async () => {
    const sink = new TrySink();
    await Switch.run(async (sw) => {
      const w = BufWrite.create(sink, { sw });
      w.string("hello, ");
      w.string("world\n");
      expect(sink.tries).toEqual([]);
      const p = w.flush();
      // The due flush ran inside flush(): the kernel (here, the sink) took it at once
      expect(sink.tries).toEqual(["hello, world\n"]);
      expect(w.pendingBytes).toBe(0);
      await p;
      sink.full = true;
      w.string("a");
      let done = false;
      const f = w.flush().then(() => {
        done = true;
      });
      w.string("b");
      await settle();
      expect(done).toBe(false);
      expect(w.pendingBytes).toBe(2);
      sink.drain();
      await f;
      await w.flush();
      expect(sink.tries).toEqual(["hello, world\n", "a", "b"]);
      expect(sink.writes).toEqual([]);
      await w.close();
    });
  });

  test("the flush is due at the end of the event loop's turn: writes on both sides of an await go out in one write, two writers' back to back", async () => {
    const a = new TrySink();
    const b = new TrySink();
    await Switch.run(async (sw) => {
      const wa = BufWrite.create(a, { sw });
      const wb = BufWrite.create(b, { sw });
      wa.string("a1 ");
      await Promise.resolve(); // a microtask later: the same turn
      wb.string("b1 ");
      await new Promise<void>((r) => queueMicrotask(r));
      wa.string("a2");
      expect([a.tries, b.tries]).toEqual([[], []]);
      await settle();
      expect([a.tries, b.tries]).toEqual([["a1 a2"], ["b1 "]]);
      wa.string("a3"); // a later turn: its own write
      await settle();
      expect(a.tries).toEqual(["a1 a2", "a3"]);
      await wa.close();
      await wb.close();
    });
  });

  test("BufWriter maxUnflushed: a write past the bound fails the writer with WriterBufferLimitExceeded, its flushes with FlushAborted", async () => {
    const sink = new TrySink();
    sink.full = true;
    await Switch.run(async (sw) => {
      const w = BufWrite.create(sink, { sw, maxUnflushed: 10 });
      w.string("12345678");
      const f = w.flush();
      const e = caught(() => w.string("abc"));
      expect(e).toBeInstanceOf(WriterBufferLimitExceeded);
      expect((e as Error).message).toBe(
        "writer buffer limit exceeded: 10 bytes may wait unflushed, 11 would; await the writer's flush to keep up with the peer",
      );
      await expect(f).rejects.toBeInstanceOf(FlushAborted);
      await expect(w.flush()).rejects.toMatchObject({ cause: e });
      expect(() => w.string("x")).toThrow("cannot write to closed writer");
      sink.drain();
    });
  });

  test("BufWriter maxUnflushed is 16 MiB by default, counting bytes scheduled without a copy", async () => {
    const sink = new TrySink();
    sink.full = true;
    await Switch.run(async (sw) => {
      const w = BufWrite.create(sink, { sw });
      w.scheduleBytes(new Uint8Array(16 * 1024 * 1024));
      expect(caught(() => w.uint8(1))).toBeInstanceOf(WriterBufferLimitExceeded);
      sink.drain();
    });
  });

  test("BufWriter bufferAgeLimit: data older than the limit fails the writer with WriterBufferAgeExceeded", async () => {
    const clock = new MockClock();
    const sink = new TrySink();
    sink.full = true;
    await Switch.run(async (sw) => {
      const w = BufWrite.create(sink, { sw, bufferAgeLimit: 100, clock });
      w.string("stuck");
      const f = w.flush().then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(AgeWatchdog.of(clock).armed).toBe(true);
      clock.advance();
      await settle();
      expect(clock.now()).toBe(100);
      const e = await f;
      expect(e).toBeInstanceOf(FlushAborted);
      const cause = (e as FlushAborted).cause;
      expect(cause).toBeInstanceOf(WriterBufferAgeExceeded);
      expect((cause as Error).message).toBe(
        "writer buffer has data older than 100ms (5 bytes unflushed for 100ms)",
      );
      expect(AgeWatchdog.of(clock).armed).toBe(false);
      sink.drain();
    });
  });

  test("BufWrite options are checked at once, naming the option and the value", () => {
    const sink = new TrySink();
    expect(() => BufWrite.with(sink, () => {}, { maxUnflushed: 0 })).toThrow(
      "maxUnflushed must be an integer > 0, got 0",
    );
    expect(() => BufWrite.with(sink, () => {}, { bufferAgeLimit: -1 })).toThrow(
      "bufferAgeLimit must be a number of ms >= 0, got -1",
    );
  });
});

describe("BufWrite on a sink with trySend", () => {
  const big = (c: string, n = 3000): string => c.repeat(n);

  test("an idle writer hands a large write to trySend at once, uncopied; what the sink leaves is copied and flushed after", async () => {
    const sink = new SendSink();
    await Switch.run(async (sw) => {
      const w = BufWrite.create(sink, { sw });
      const bytes = Buffer.from(big("a"));
      w.bytes(bytes);
      // Taken during the write: nothing pending, nothing tried
      expect(sink.sends).toEqual([big("a")]);
      expect(w.pendingBytes).toBe(0);
      sink.room = 1000;
      const more = Buffer.from(big("b"));
      w.bytes(more);
      expect(sink.sends.at(-1)).toBe(big("b", 1000));
      // The rest was copied: changing the caller's buffer now changes nothing sent
      more.fill("x");
      expect(w.pendingBytes).toBe(2000);
      await w.flush();
      expect(sink.tries).toEqual([big("b", 2000)]);
      await w.close();
    });
  });

  test("a large write behind pending bytes keeps the order: no trySend until the writer is idle", async () => {
    const sink = new SendSink();
    await Switch.run(async (sw) => {
      const w = BufWrite.create(sink, { sw });
      w.string("head;");
      w.bytes(Buffer.from(big("c")));
      expect(sink.sends).toEqual([]);
      await w.flush();
      expect(sink.tries).toEqual([`head;${big("c")}`]);
      // Small writes always share the buffer (one write per turn), even when idle
      w.string("tail");
      expect(sink.sends).toEqual([]);
      await w.flush();
      expect(sink.tries.at(-1)).toBe("tail");
      await w.close();
    });
  });

  test("whatever trySend takes, the sink's output is the concatenation of the writes", async () => {
    for (const room of [0, 1, 2047, 2049, 5000]) {
      const sink = new SendSink();
      sink.room = room;
      const out: string[] = [];
      await Switch.run(async (sw) => {
        const w = BufWrite.create(sink, { sw });
        for (const [i, s] of ["x", big("y"), "z", big("w", 2500), big("v", 4000)].entries()) {
          w.string(s);
          out.push(s);
          if (i % 2 === 1) await w.flush();
        }
        await w.close();
      });
      // Every byte went out once, in order, through one of the two paths
      expect(sink.log.join("")).toBe(out.join(""));
      expect(sink.sends.length > 0).toBe(room > 0);
    }
  });
});
