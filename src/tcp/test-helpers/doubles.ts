/**
 * Test doubles for `Tcp.Reader` and `Tcp.Writer`: an in-memory source fed by the test, and a
 * sink the test can hold, fail or release. Not part of the public API.
 * @module
 */
import { Buffer } from "node:buffer";
import { EndOfFile, suspend } from "../../core/index.ts";
import type { Sink, Source } from "../../flow/types.ts";

type Item = { kind: "data"; bytes: Uint8Array } | { kind: "eof" } | { kind: "error"; err: unknown };

/**
 * A source the test feeds with `push`, `end` and `fail`. Reads wait (cancellably) for data.
 * With `chunks: true` it also has `readChunk` (as sockets do).
 */
export class TestSource implements Source {
  readonly #items: Item[] = [];
  #wake: (() => void) | null = null;
  /** How many reads were served. */
  reads = 0;
  /** The sizes of the buffers `readInto` was given. */
  readonly bufferSizes: number[] = [];
  /** Whether `close()` was called. */
  closed = false;
  readonly readChunk: (() => Promise<Uint8Array>) | undefined;

  constructor(opts: { chunks?: boolean } = {}) {
    this.readChunk =
      opts.chunks === true ? () => this.#next(null) as Promise<Uint8Array> : undefined;
  }

  /** Adds data (a string is UTF-8; several arguments are several chunks). */
  push(...data: Array<string | Uint8Array>): this {
    for (const d of data) {
      this.#items.push({ kind: "data", bytes: typeof d === "string" ? Buffer.from(d) : d });
    }
    this.#poke();
    return this;
  }

  /** Ends the data. */
  end(): this {
    this.#items.push({ kind: "eof" });
    this.#poke();
    return this;
  }

  /** Makes the next read fail with `err`. */
  fail(err: unknown): this {
    this.#items.push({ kind: "error", err });
    this.#poke();
    return this;
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  readInto(buf: Uint8Array): Promise<number> {
    this.bufferSizes.push(buf.length);
    return this.#next(buf) as Promise<number>;
  }

  async #next(buf: Uint8Array | null): Promise<number | Uint8Array> {
    while (this.#items.length === 0) {
      await suspend<void>((resolve) => {
        this.#wake = resolve;
        return () => {
          this.#wake = null;
        };
      });
    }
    const item = this.#items[0] as Item;
    if (item.kind === "eof") throw new EndOfFile();
    if (item.kind === "error") {
      this.#items.shift();
      throw item.err;
    }
    this.reads++;
    if (buf === null) {
      this.#items.shift();
      return item.bytes;
    }
    const n = Math.min(buf.length, item.bytes.length);
    buf.set(item.bytes.subarray(0, n));
    if (n === item.bytes.length) this.#items.shift();
    else item.bytes = item.bytes.subarray(n);
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * A sink that records what it is given. `hold()` makes writes wait until `release()`;
 * `failNext(err)` makes the next write fail.
 */
export class TestSink implements Sink {
  /** Each `write` call's buffers, joined. */
  readonly writes: string[] = [];
  /** The buffers of each call, as given (to check there was no copy). */
  readonly calls: Uint8Array[][] = [];
  closed = false;
  #held = false;
  #waiting: Array<() => void> = [];
  #failNext: unknown = undefined;

  /** Everything written, joined. */
  get text(): string {
    return this.writes.join("");
  }

  hold(): void {
    this.#held = true;
  }

  release(): void {
    this.#held = false;
    for (const w of this.#waiting.splice(0)) w();
  }

  failNext(err: unknown): void {
    this.#failNext = err;
  }

  async write(bufs: readonly Uint8Array[]): Promise<void> {
    if (this.#failNext !== undefined) {
      const e = this.#failNext;
      this.#failNext = undefined;
      throw e;
    }
    this.calls.push([...bufs]);
    this.writes.push(Buffer.concat(bufs.map((b) => Buffer.from(b))).toString());
    if (this.#held) {
      await suspend<void>((resolve) => {
        this.#waiting.push(resolve);
        return undefined;
      });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // Closing fails what is pending, as a socket does
    this.release();
  }
}
