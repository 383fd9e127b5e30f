/**
 * The buffer writers share (src/flow/buf-write/scratch.ts): writers that flush one after another
 * write into the same memory, and memory a sink may still use is never written again.
 */
import { Buffer } from "node:buffer";
import { describe, expect, test } from "vitest";
import { Fiber, Switch } from "../core/index.ts";
import { BufWrite } from "./buf-write/index.ts";
import type { Sink } from "./types.ts";

/** A socket-like sink that takes everything at once and notes which memory it was handed. */
class SyncSink implements Sink {
  readonly texts: string[] = [];
  readonly memory: ArrayBufferLike[] = [];
  tryWrite(bufs: readonly Uint8Array[]): boolean {
    for (const b of bufs) this.memory.push(b.buffer);
    this.texts.push(Buffer.concat(bufs).toString());
    return true;
  }
  write(bufs: readonly Uint8Array[]): Promise<void> {
    this.tryWrite(bufs);
    return Promise.resolve();
  }
  flushed(): Promise<void> {
    return Promise.resolve();
  }
}

/** A sink whose writes keep the buffers until `finish()`; what they held is read then. */
class HoldingSink implements Sink {
  held: Uint8Array[] = [];
  #done: (() => void) | null = null;
  write(bufs: readonly Uint8Array[]): Promise<void> {
    this.held.push(...bufs);
    return new Promise((r) => {
      this.#done = r;
    });
  }
  text(): string {
    return Buffer.concat(this.held).toString();
  }
  finish(): void {
    this.#done?.();
  }
}

describe("the buffer writers share", () => {
  test("writers that flush one after another write into the same memory", async () => {
    const a = new SyncSink();
    const b = new SyncSink();
    await Switch.run(async (sw) => {
      const wa = BufWrite.create(a, { sw });
      const wb = BufWrite.create(b, { sw });
      for (let i = 0; i < 3; i++) {
        wa.string(`a${i}`);
        await wa.flush();
        wb.string(`b${i}`);
        await wb.flush();
      }
    });
    expect(a.texts).toEqual(["a0", "a1", "a2"]);
    expect(b.texts).toEqual(["b0", "b1", "b2"]);
    expect(new Set([...a.memory, ...b.memory]).size).toBe(1);
  });

  test("writers of the same turn get different memory, and each writes what it was given", async () => {
    const a = new SyncSink();
    const b = new SyncSink();
    await Switch.run(async (sw) => {
      const wa = BufWrite.create(a, { sw });
      const wb = BufWrite.create(b, { sw });
      wa.string("one ");
      wb.string("two ");
      wa.string("three");
      wb.string("four");
      await Fiber.yield();
    });
    expect(a.texts).toEqual(["one three"]);
    expect(b.texts).toEqual(["two four"]);
    expect(a.memory[0]).not.toBe(b.memory[0]);
  });

  test("memory a write still holds is not written by another writer", async () => {
    const slow = new HoldingSink();
    const fast = new SyncSink();
    await Switch.run(async (sw) => {
      const ws = BufWrite.create(slow, { sw });
      const wf = BufWrite.create(fast, { sw });
      ws.string("held until the sink is done");
      await Fiber.yield(); // its write has started and holds the buffer
      for (let i = 0; i < 3; i++) {
        wf.string(`xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx${i}`);
        await wf.flush();
      }
      expect(slow.text()).toBe("held until the sink is done");
      slow.finish();
      await ws.flush();
    });
    expect(fast.texts).toHaveLength(3);
  });

  test("a writer aborted during a write gives the memory up: the write's data stays intact", async () => {
    const slow = new HoldingSink();
    const fast = new SyncSink();
    await Switch.run(async (sw) => {
      const ws = BufWrite.create(slow, { sw });
      ws.string("still being written");
      await Fiber.yield();
      ws.abort();
      const wf = BufWrite.create(fast, { sw });
      wf.string("yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
      await wf.flush();
      expect(slow.text()).toBe("still being written");
      slow.finish();
    });
    expect(fast.texts).toEqual(["yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"]);
  });
});
