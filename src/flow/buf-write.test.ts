/**
 * BufWrite: the cases of Eio's tests/buf_write.md that make sense in TypeScript, then weir's
 * own (maxBuffered, close, arguments).
 *
 * Differences from Eio, by design: there is no `pause`/`unpause` (batching follows from when the
 * writing fiber waits), no `printf`, and a `Sink` takes a whole vectored write, so the flushes
 * waiting on one `write` call resolve together when it returns (Eio resolves them as partial
 * writes progress).
 */
import { describe, expect, test } from "vitest";
import { Cancelled, Fiber, Switch } from "../core/index.ts";
import { BufRead, type Parser } from "./buf-read.ts";
import { BufWrite, type BufWriter, FlushAborted } from "./buf-write/index.ts";
import { bufferSink } from "./sources.ts";
import { MockSink } from "./test-helpers/chunked-source.ts";

const enc = new TextEncoder();

function setup(): { trace: string[]; flow: MockSink; log: (s: string) => void } {
  const trace: string[] = [];
  return { trace, flow: new MockSink("flow", trace), log: (s) => trace.push(s) };
}

/** `Promise.withResolvers` (not in the project's `lib`). */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve: (v: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const errName = (e: unknown): string => (e instanceof Error ? e.name : String(e));

describe("Eio buf_write.md", () => {
  test("BufWrite.with() coalesces writes made before the writer waits into one write", async () => {
    const { trace, flow } = setup();
    await BufWrite.with(flow, (w) => {
      w.string("Hello");
      w.char(" ");
      w.string("world");
    });
    expect(trace).toEqual(['flow: wrote "Hello world"']);
    expect(flow.calls).toBe(1);
  });

  test("BufWrite.with() writes out what was written when the writer yields", async () => {
    const { trace, flow } = setup();
    await BufWrite.with(flow, async (w) => {
      w.string("Hello");
      w.char(" ");
      await Fiber.yield();
      w.string("world");
    });
    expect(trace).toEqual(['flow: wrote "Hello "', 'flow: wrote "world"']);
  });

  test("BufWriter.scheduleBytes() queues bytes without copying, in order with copied writes", async () => {
    const { trace, flow } = setup();
    const world = enc.encode("world");
    await BufWrite.with(flow, (w) => {
      w.string("Hello");
      w.char(" ");
      w.scheduleBytes(world);
      w.char("!");
    });
    expect(trace).toEqual(['flow: wrote ["Hello "; "world"; "!"]']);
  });

  test("BufWriter empty writes write nothing", async () => {
    const { trace, flow } = setup();
    await BufWrite.with(flow, (w) => {
      w.string("");
      w.bytes(new Uint8Array(0));
      w.bytes(enc.encode("abc"), 1, 0);
      w.scheduleBytes(new Uint8Array(0));
    });
    expect(trace).toEqual([]);
    expect(flow.calls).toBe(0);
  });

  test("BufWriter.uint16Le() and uint16Be() write both byte orders", async () => {
    const { trace, flow } = setup();
    await BufWrite.with(flow, async (w) => {
      w.uint16Le(5);
      await Fiber.yield();
      w.uint16Be(5);
    });
    expect(trace).toEqual(['flow: wrote "\\u0005\\u0000"', 'flow: wrote "\\u0000\\u0005"']);
  });

  test("BufWriter.string(), bytes() with an offset, and char() each write", async () => {
    const { trace, flow } = setup();
    await BufWrite.with(flow, async (w) => {
      w.string("test");
      await Fiber.yield();
      w.bytes(enc.encode("test"));
      await Fiber.yield();
      w.bytes(enc.encode("!test!"), 1, 4);
      await Fiber.yield();
      w.char("A");
    });
    expect(trace).toEqual([
      'flow: wrote "test"',
      'flow: wrote "test"',
      'flow: wrote "test"',
      'flow: wrote "A"',
    ]);
  });

  test("BufWrite.with() starts new buffers when a write does not fit", async () => {
    const { trace, flow, log } = setup();
    const f = (w: BufWriter): void => {
      w.string("te");
      w.string("st");
      w.string("te");
      w.string("st");
      w.char("t");
      w.char("e");
    };
    log("With room:");
    await BufWrite.with(flow, f);
    log("Without room:");
    await BufWrite.with(flow, f, { initialSize: 1 });
    expect(trace).toEqual([
      "With room:",
      'flow: wrote "testtestte"',
      "Without room:",
      'flow: wrote ["te"; "st"; "te"; "st"; "te"]',
    ]);
  });

  test("BufWriter.flush() resolves at once when nothing is pending, else once the sink took the data", async () => {
    const { trace, flow, log } = setup();
    const p1 = deferred<number>();
    flow.script({ await: p1.promise });
    await BufWrite.with(flow, async (w) => {
      await Fiber.both(
        async () => {
          await w.flush();
          w.string("Hello");
          log("Flushing...");
          await w.flush();
          log("Flushed");
        },
        async () => {
          await Fiber.yield();
          log("Write now completes...");
          p1.resolve(3);
        },
      );
    });
    expect(trace).toEqual([
      "Flushing...",
      "Write now completes...",
      'flow: wrote "Hel"',
      'flow: wrote "lo"',
      "Flushed",
    ]);
  });

  test("BufWriter.flush() from several fibers: one vectored write, then every flush resolves", async () => {
    const { trace, flow, log } = setup();
    flow.script({ yieldThen: 1 }, { yieldThen: 2 }, { yieldThen: 2 }, { yieldThen: 2 });
    await BufWrite.with(flow, async (w) => {
      await Fiber.all([
        async () => {
          w.string("ab");
          await w.flush();
          log("1st flush");
        },
        async () => {
          w.string("cd");
          await w.flush();
          log("2nd flush");
        },
        async () => {
          w.string("ef");
          await w.flush();
          log("3rd flush");
        },
      ]);
      log("Done");
    });
    expect(trace).toEqual([
      'flow: wrote "a"',
      'flow: wrote ["b"; "c"]',
      'flow: wrote ["d"; "e"]',
      'flow: wrote "f"',
      "1st flush",
      "2nd flush",
      "3rd flush",
      "Done",
    ]);
    expect(flow.calls).toBe(1);
  });

  test("BufWriter.flush() waits for the sink's write to finish", async () => {
    const trace: string[] = [];
    const slowWriter = {
      async write(bufs: readonly Uint8Array[]): Promise<void> {
        for (const b of bufs) {
          await Fiber.yield();
          trace.push(`Write ${JSON.stringify(new TextDecoder().decode(b))}`);
        }
      },
    };
    await BufWrite.with(slowWriter, async (w) => {
      w.string("test");
      await w.flush();
      trace.push("Flush complete");
    });
    expect(trace).toEqual(['Write "test"', "Flush complete"]);
  });

  test("BufWriter batches scheduled and copied writes between yields", async () => {
    const { trace, flow, log } = setup();
    await BufWrite.with(flow, async (w) => {
      w.scheduleBytes(enc.encode("one"));
      w.string("two");
      await Fiber.yield();
      w.string("one");
      w.scheduleBytes(enc.encode("two"));
      await Fiber.yield();
      w.scheduleBytes(enc.encode("end"));
      await Fiber.yield();
      log("Should all be flushed by now.");
    });
    expect(trace).toEqual([
      'flow: wrote ["one"; "two"]',
      'flow: wrote ["one"; "two"]',
      'flow: wrote "end"',
      "Should all be flushed by now.",
    ]);
  });

  test("BufWrite.with() is cancelled while the sink is writing", async () => {
    const { trace, flow, log } = setup();
    flow.script({ awaitCancel: true });
    await expect(
      Fiber.both(
        () =>
          BufWrite.with(flow, (w) => {
            w.string("Hello");
            log("Did write");
          }),
        async () => {
          await Fiber.yield();
          throw new Error("Simulated error");
        },
      ),
    ).rejects.toThrow("Simulated error");
    expect(trace).toEqual(["Did write"]);
  });

  test("BufWrite.create() writer fiber is cancelled while waiting for data", async () => {
    const { flow } = setup();
    await expect(
      Switch.run(async (sw) => {
        BufWrite.create(flow, { sw });
        await Fiber.yield();
        throw new Error("Simulated error");
      }),
    ).rejects.toThrow("Simulated error");
    expect(flow.calls).toBe(0);
  });

  test("BufWriter.bytes() rejects an offset out of range", async () => {
    const { flow } = setup();
    await BufWrite.with(flow, (w) => {
      expect(() => w.bytes(enc.encode("hi"), 100)).toThrow(
        new RangeError("off must be an integer between 0 and 2, got 100"),
      );
      expect(() => w.bytes(enc.encode("hi"), 1, 2)).toThrow(RangeError);
    });
  });

  test("BufWrite.with() still flushes the output when fn throws", async () => {
    const { trace, flow } = setup();
    flow.script({ return: 1 }, { yieldThen: 1 });
    await expect(
      BufWrite.with(flow, (w) => {
        w.string("foo");
        throw new Error("Simulated error");
      }),
    ).rejects.toThrow("Simulated error");
    expect(trace).toEqual(['flow: wrote "f"', 'flow: wrote "o"', 'flow: wrote "o"']);
  });

  test("BufWrite.with() does not flush when cancelled", async () => {
    const { trace, flow } = setup();
    flow.script({ awaitCancel: true });
    await expect(
      Fiber.both(
        () =>
          BufWrite.with(flow, async (w) => {
            w.string("foo");
            await Fiber.awaitCancel();
          }),
        async () => {
          throw new Error("Simulated error");
        },
      ),
    ).rejects.toThrow("Simulated error");
    expect(trace).toEqual([]);
  });

  test("BufWrite.create() rejects pending flushes with FlushAborted when its switch finishes", async () => {
    const { trace, flow, log } = setup();
    flow.script({ awaitCancel: true });
    await Switch.run(async (mainSw) => {
      await Switch.run(async (sw) => {
        const w = BufWrite.create(flow, { sw });
        mainSw.fork(async () => {
          w.string("foo");
          try {
            await w.flush();
            log("unexpected");
          } catch (e) {
            log(`Flush failed: ${errName(e)}`);
          }
        });
        log("Finishing writer switch");
      });
      await Fiber.yield();
      log("Finishing main switch");
    });
    expect(trace).toEqual([
      "Finishing writer switch",
      "Flush failed: FlushAborted",
      "Finishing main switch",
    ]);
  });

  test("BufWrite.with() rejects pending flushes when the sink fails, and fails with the sink's error", async () => {
    const { trace, flow, log } = setup();
    const ioError = new Error("Simulated IO error");
    flow.script({ raise: ioError });
    let cause: unknown;
    await expect(
      Switch.run(async (sw) => {
        await BufWrite.with(flow, (w) => {
          sw.fork(async () => {
            w.string("foo");
            try {
              await w.flush();
            } catch (e) {
              log(`Flush failed: ${errName(e)}`);
              cause = (e as Error).cause;
            }
          });
          log("with returning; w will be closed");
        });
      }),
    ).rejects.toBe(ioError);
    expect(trace).toEqual(["with returning; w will be closed", "Flush failed: FlushAborted"]);
    expect(cause).toBe(ioError);
  });

  test("BufWriter.flush() from another fiber succeeds after with() closes the writer", async () => {
    const { trace, flow, log } = setup();
    flow.script({ yieldThen: 2 }, { return: 1 });
    await Switch.run(async (sw) => {
      await BufWrite.with(flow, (w) => {
        sw.fork(async () => {
          w.string("foo");
          await w.flush();
          log("Flush succeeded");
        });
        log("with returning; w should be closed but not aborted");
      });
    });
    expect(trace).toEqual([
      "with returning; w should be closed but not aborted",
      'flow: wrote "fo"',
      'flow: wrote "o"',
      "Flush succeeded",
    ]);
  });

  test("BufWriter.abort() rejects pending flushes", async () => {
    const { trace, flow, log } = setup();
    flow.script({ awaitCancel: true });
    await Switch.run(async (sw) => {
      const w = BufWrite.create(flow, { sw });
      await Fiber.both(
        async () => {
          try {
            w.string("hi");
            await w.flush();
          } catch (e) {
            if (e instanceof FlushAborted) log("Aborted");
          }
        },
        async () => w.abort(),
      );
    });
    expect(trace).toEqual(["Aborted"]);
  });
});

describe("BufWrite round-trips with BufRead", () => {
  async function roundTrip<T>(
    x: T,
    f: (w: BufWriter, x: T) => void,
    g: Parser<T>,
  ): Promise<string> {
    const chunks: Uint8Array[] = [];
    await BufWrite.with(bufferSink(chunks), (w) => f(w, x), { initialSize: 10 });
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) {
      all.set(c, off);
      off += c.length;
    }
    expect(await BufRead.parseBytes(g, all)).toEqual(x);
    return Buffer.from(all).toString("hex");
  }

  test("BufWriter.string(), char() and uint8() round-trip", async () => {
    expect(
      await roundTrip(
        "test",
        (w, x) => w.string(x),
        (r) => r.takeAll(),
      ),
    ).toBe("74657374");
    expect(
      await roundTrip(
        "ý",
        (w, x) => w.char(x),
        (r) => r.anyChar(),
      ),
    ).toBe("c3bd");
    expect(
      await roundTrip(
        0xa5,
        (w, x) => w.uint8(x),
        (r) => r.uint8(),
      ),
    ).toBe("a5");
    expect(
      await roundTrip(
        -2,
        (w, x) => w.int8(x),
        (r) => r.int8(),
      ),
    ).toBe("fe");
  });

  test("BufWriter big-endian writers round-trip", async () => {
    expect(
      await roundTrip(
        0xa123,
        (w, x) => w.uint16Be(x),
        (r) => r.uint16Be(),
      ),
    ).toBe("a123");
    expect(
      await roundTrip(
        0xa1234567,
        (w, x) => w.uint32Be(x),
        (r) => r.uint32Be(),
      ),
    ).toBe("a1234567");
    expect(
      await roundTrip(
        0xa1234567890a,
        (w, x) => w.uint48Be(x),
        (r) => r.uint48Be(),
      ),
    ).toBe("a1234567890a");
    expect(
      await roundTrip(
        0xa1234567890abcden,
        (w, x) => w.uint64Be(x),
        (r) => r.uint64Be(),
      ),
    ).toBe("a1234567890abcde");
    expect(
      await roundTrip(
        32.25,
        (w, x) => w.floatBe(x),
        (r) => r.floatBe(),
      ),
    ).toBe("42010000");
    expect(
      await roundTrip(
        32.25,
        (w, x) => w.doubleBe(x),
        (r) => r.doubleBe(),
      ),
    ).toBe("4040200000000000");
    expect(
      await roundTrip(
        -2,
        (w, x) => w.int16Be(x),
        (r) => r.int16Be(),
      ),
    ).toBe("fffe");
    expect(
      await roundTrip(
        -2,
        (w, x) => w.int32Be(x),
        (r) => r.int32Be(),
      ),
    ).toBe("fffffffe");
    expect(
      await roundTrip(
        -2n,
        (w, x) => w.int64Be(x),
        (r) => r.int64Be(),
      ),
    ).toBe("fffffffffffffffe");
  });

  test("BufWriter little-endian writers round-trip", async () => {
    expect(
      await roundTrip(
        0xa123,
        (w, x) => w.uint16Le(x),
        (r) => r.uint16Le(),
      ),
    ).toBe("23a1");
    expect(
      await roundTrip(
        0xa1234567,
        (w, x) => w.uint32Le(x),
        (r) => r.uint32Le(),
      ),
    ).toBe("674523a1");
    expect(
      await roundTrip(
        0xa1234567890a,
        (w, x) => w.uint48Le(x),
        (r) => r.uint48Le(),
      ),
    ).toBe("0a89674523a1");
    expect(
      await roundTrip(
        0xa1234567890abcden,
        (w, x) => w.uint64Le(x),
        (r) => r.uint64Le(),
      ),
    ).toBe("debc0a89674523a1");
    expect(
      await roundTrip(
        32.25,
        (w, x) => w.floatLe(x),
        (r) => r.floatLe(),
      ),
    ).toBe("00000142");
    expect(
      await roundTrip(
        32.25,
        (w, x) => w.doubleLe(x),
        (r) => r.doubleLe(),
      ),
    ).toBe("0000000000204040");
    expect(
      await roundTrip(
        -2,
        (w, x) => w.int16Le(x),
        (r) => r.int16Le(),
      ),
    ).toBe("feff");
    expect(
      await roundTrip(
        -2,
        (w, x) => w.int32Le(x),
        (r) => r.int32Le(),
      ),
    ).toBe("feffffff");
    expect(
      await roundTrip(
        -2n,
        (w, x) => w.int64Le(x),
        (r) => r.int64Le(),
      ),
    ).toBe("feffffffffffffff");
  });
});

describe("BufWrite limits and lifecycle", () => {
  test("BufWriter.ready() waits while more than maxBuffered bytes are pending", async () => {
    const { flow } = setup();
    const gate = deferred<number>();
    flow.script({ await: gate.promise });
    const seen: number[] = [];
    await BufWrite.with(
      flow,
      async (w) => {
        w.string("0123456789");
        await w.ready(); // 10 pending, limit 10: no wait
        w.string("ab");
        seen.push(w.pendingBytes);
        let ready = false;
        const p = w.ready().then(() => {
          ready = true;
        });
        await Fiber.yield();
        expect(ready).toBe(false);
        gate.resolve(100);
        await p;
        seen.push(w.pendingBytes);
      },
      { maxBuffered: 10 },
    );
    expect(seen[0]).toBe(12);
    expect(seen[1]).toBeLessThanOrEqual(10);
    expect(flow.text()).toBe("0123456789ab");
  });

  test("BufWriter.ready() honours cancellation", async () => {
    const { flow } = setup();
    const gate = deferred<number>();
    flow.script({ await: gate.promise });
    await expect(
      BufWrite.with(
        flow,
        async (w) => {
          w.string("abc");
          const ac = new AbortController();
          const p = w.ready({ signal: ac.signal });
          ac.abort("enough");
          gate.resolve(3); // with() then flushes "abc" before rethrowing
          await p;
        },
        { maxBuffered: 1 },
      ),
    ).rejects.toBeInstanceOf(Cancelled);
    expect(flow.text()).toBe("abc");
  });

  test("BufWriter.close() waits for the data and makes later writes throw", async () => {
    const { flow } = setup();
    await Switch.run(async (sw) => {
      const w = BufWrite.create(flow, { sw });
      w.string("bye\n");
      await w.close();
      expect(flow.text()).toBe("bye\n");
      expect(w.isClosed).toBe(true);
      expect(() => w.string("more")).toThrow("cannot write to closed writer");
      await w.close();
    });
  });

  test("BufWriter.close() after with() returned resolves: nothing is pending", async () => {
    const { flow } = setup();
    let kept: BufWriter | undefined;
    await BufWrite.with(flow, (w) => {
      kept = w;
      w.string("x");
    });
    await kept?.close();
    await kept?.flush();
    expect(flow.text()).toBe("x");
  });

  test("BufWriter numeric writers reject values out of range", async () => {
    const { flow } = setup();
    await BufWrite.with(flow, (w) => {
      expect(() => w.uint8(256)).toThrow(
        new RangeError("n must be an integer between 0 and 255, got 256"),
      );
      expect(() => w.uint16Be(-1)).toThrow(RangeError);
      expect(() => w.uint32Le(2 ** 32)).toThrow(RangeError);
      expect(() => w.int32Be(2 ** 31)).toThrow(RangeError);
      expect(() => w.uint64Be(-1n)).toThrow(RangeError);
      expect(() => w.int64Le(1n << 63n)).toThrow(RangeError);
      expect(() => w.char("ab")).toThrow(TypeError);
    });
    expect(flow.calls).toBe(0);
  });

  test("BufWrite.with() rejects a bad initialSize at once", () => {
    expect(() => BufWrite.with(setup().flow, () => {}, { initialSize: 0 })).toThrow(
      new RangeError("initialSize must be an integer > 0, got 0"),
    );
  });

  test("BufWriter.string() encodes UTF-8 across buffer boundaries", async () => {
    const { flow } = setup();
    const s = "é€😀".repeat(50);
    await BufWrite.with(
      flow,
      (w) => {
        for (let i = 0; i < 5; i++) w.string(s);
      },
      { initialSize: 7 },
    );
    expect(flow.text()).toBe(s.repeat(5));
  });
});
