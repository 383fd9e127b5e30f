/**
 * BufReader.ensure() as a request loop uses it (parse what `peek()` shows, `consume()` it, then
 * `ensure(buffered + 1)`): over a `readChunk` source with nothing buffered, the next chunk
 * becomes the buffer (no copy, no extra read); every other case reads on as before.
 */
import { describe, expect, test } from "vitest";
import { BufferLimitExceeded, Cancelled, EndOfFile, Fiber, Switch } from "../core/index.ts";
import { BufRead } from "./buf-read.ts";
import { ChunkedSource } from "./test-helpers/chunked-source.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

describe("BufReader.ensure() with nothing buffered, over a readChunk source", () => {
  test("the source's chunk becomes the buffer, one read per chunk", async () => {
    const a = enc.encode("PING\r\nPING\r\n");
    const b = enc.encode("ECHO\r\n");
    const src = new ChunkedSource([a, b], { readChunk: true });
    const r = BufRead.of(src, { maxSize: 64 });
    await r.ensure(1);
    expect(r.peek().buffer).toBe(a.buffer);
    expect(r.buffered).toBe(12);
    r.consume(12);
    await r.ensure(1);
    expect(r.peek().buffer).toBe(b.buffer);
    expect(dec.decode(r.peek())).toBe("ECHO\r\n");
    r.consume(6);
    expect(r.consumedBytes).toBe(18);
    await expect(r.ensure(1)).rejects.toBeInstanceOf(EndOfFile);
    expect(src.trace).toEqual([
      "mock_flow returning 12 bytes",
      "mock_flow returning 6 bytes",
      "mock_flow returning Eof",
    ]);
    expect(r.eofSeen).toBe(true);
  });

  test("a chunk shorter than n: reads on until n bytes are buffered", async () => {
    const src = new ChunkedSource(["ab", "cd", "efgh"], { readChunk: true });
    const r = BufRead.of(src, { maxSize: 64 });
    await r.ensure(5);
    expect(dec.decode(r.peek())).toBe("abcdefgh");
    expect(src.reads).toBe(3);
  });

  test("end-of-file after a short chunk: EndOfFile, and what came stays buffered", async () => {
    const src = new ChunkedSource(["abc"], { readChunk: true });
    const r = BufRead.of(src, { maxSize: 64 });
    await expect(r.ensure(5)).rejects.toBeInstanceOf(EndOfFile);
    expect(dec.decode(r.peek())).toBe("abc");
  });

  test("a chunk larger than maxSize: maxSize of it is shown, the rest comes next", async () => {
    const src = new ChunkedSource(["0123456789"], { readChunk: true });
    const r = BufRead.of(src, { maxSize: 4 });
    await r.ensure(1);
    expect(dec.decode(r.peek())).toBe("0123");
    r.consume(4);
    await r.ensure(4);
    expect(dec.decode(r.peek())).toBe("4567");
    r.consume(4);
    await r.ensure(2);
    expect(dec.decode(r.peek())).toBe("89");
    expect(src.reads).toBe(1);
    await expect(r.ensure(5)).rejects.toBeInstanceOf(BufferLimitExceeded);
  });

  test("another operation while it waits is refused; the wait still completes", async () => {
    const src = new ChunkedSource([], { readChunk: true, whenEmpty: "block" });
    const r = BufRead.of(src, { maxSize: 64 });
    const p = r.ensure(1);
    await expect(r.ensure(1)).rejects.toThrow(/another read is already in progress/);
    await expect(r.line()).rejects.toThrow(/another read is already in progress/);
    src.push("x\n");
    await p;
    expect(await r.line()).toBe("x");
  });

  test("a per-call signal cancels the wait; the reader can be used again", async () => {
    const src = new ChunkedSource([], { readChunk: true, whenEmpty: "block" });
    const r = BufRead.of(src, { maxSize: 64 });
    const ac = new AbortController();
    const p = r.ensure(1, { signal: ac.signal });
    ac.abort("stop");
    await expect(p).rejects.toBeInstanceOf(Cancelled);
    src.push("ok");
    await r.ensure(2);
    expect(dec.decode(r.peek())).toBe("ok");
  });

  test("cancelling the waiting fiber rejects the wait with Cancelled", async () => {
    const src = new ChunkedSource([], { readChunk: true, whenEmpty: "block" });
    const r = BufRead.of(src, { maxSize: 64 });
    let seen: unknown;
    await expect(
      Switch.run(async (sw) => {
        sw.fork(async () => {
          try {
            await r.ensure(1);
          } catch (e) {
            seen = e;
            throw e;
          }
        });
        await Fiber.yield();
        sw.fail(new Error("done"));
      }),
    ).rejects.toThrow("done");
    expect(seen).toBeInstanceOf(Cancelled);
  });

  test("a source error is passed on as it is", async () => {
    const boom = new Error("boom");
    const src = {
      readInto: (): Promise<number> => Promise.reject(boom),
      readChunk: (): Promise<Uint8Array> => Promise.reject(boom),
    };
    const r = BufRead.of(src, { maxSize: 64 });
    await expect(r.ensure(1)).rejects.toBe(boom);
    await expect(r.ensure(1)).rejects.toBe(boom);
  });

  test("n already buffered: resolves without reading", async () => {
    const src = new ChunkedSource(["abcdef"], { readChunk: true });
    const r = BufRead.of(src, { maxSize: 64 });
    await r.ensure(1);
    await r.ensure(6);
    await r.ensure(0);
    expect(src.reads).toBe(1);
    expect(() => r.ensure(-1)).toThrow(RangeError);
  });

  test("a request loop parses each chunk whole and waits only when it has used it up", async () => {
    const src = new ChunkedSource(["GET a\nGET b\nGE", "T c\n", "GET d\n"], { readChunk: true });
    const r = BufRead.of(src, { maxSize: 64 });
    const seen: string[] = [];
    for (;;) {
      const view = r.peek();
      let used = 0;
      for (;;) {
        const lf = view.indexOf(10, used);
        if (lf < 0) break;
        seen.push(dec.decode(view.subarray(used, lf)));
        used = lf + 1;
      }
      r.consume(used);
      try {
        await r.ensure(r.buffered + 1);
      } catch (e) {
        if (e instanceof EndOfFile) break;
        throw e;
      }
    }
    expect(seen).toEqual(["GET a", "GET b", "GET c", "GET d"]);
    expect(src.reads).toBe(3);
  });
});
