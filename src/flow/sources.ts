/**
 * In-memory flows: sources over strings, byte arrays and other sources, a sink that collects
 * what it is given, and the null flow (Eio's `string_source`, `cstruct_source`, `buffer_sink`
 * and `null`).
 * @module
 */
import { type BlockingOptions, EndOfFile } from "../core/index.ts";
import { checkBytes, copyBytes, encodeUtf8 } from "./bytes.ts";
import type { Sink, Source } from "./types.ts";

/** Throws if `buf` is empty, as every `readInto` must. */
export function checkReadBuffer(buf: Uint8Array): void {
  checkBytes("buf", buf);
  if (buf.length === 0) throw new RangeError("buf must not be empty, got a 0-byte buffer");
}

/** A source over a list of byte arrays, each served in turn (no copy for `readChunk`). */
class BytesSource implements Source {
  readonly #chunks: Uint8Array[];
  #index = 0;
  #offset = 0;

  constructor(chunks: readonly Uint8Array[]) {
    this.#chunks = chunks.filter((c) => c.length > 0);
  }

  #next(max: number): Uint8Array {
    const chunk = this.#chunks[this.#index];
    if (chunk === undefined) throw new EndOfFile();
    const start = this.#offset;
    const end = Math.min(chunk.length, start + max);
    if (end === chunk.length) {
      this.#chunks[this.#index] = EMPTY; // let the caller's array go
      this.#index++;
      this.#offset = 0;
    } else this.#offset = end;
    return start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end);
  }

  async readInto(buf: Uint8Array, _opts?: BlockingOptions): Promise<number> {
    checkReadBuffer(buf);
    const part = this.#next(buf.length);
    buf.set(part);
    return part.length;
  }

  async readChunk(_opts?: BlockingOptions): Promise<Uint8Array> {
    return this.#next(Number.POSITIVE_INFINITY);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * A source that gives the UTF-8 bytes of `s`, then end-of-file (Eio's `Flow.string_source`).
 * `readChunk` returns everything left at once, without copying.
 * @example
 * ```ts
 * const text = await Flow.readAll(stringSource("hello"), { maxSize: 100 }); // "hello"
 * ```
 */
export function stringSource(s: string): Source {
  if (typeof s !== "string") throw new TypeError(`s must be a string, got ${typeof s}`);
  return new BytesSource([encodeUtf8(s)]);
}

/**
 * A source that gives the bytes of `data` (one array, or several in order), then end-of-file
 * (Eio's `Flow.cstruct_source`). The arrays are not copied: do not modify them while the source
 * is in use. `readChunk` returns (views of) the arrays themselves.
 * @throws TypeError if `data` is not a Uint8Array or an array of them.
 * @example
 * ```ts
 * const src = bytesSource([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * ```
 */
export function bytesSource(data: Uint8Array | readonly Uint8Array[]): Source {
  const list = data instanceof Uint8Array ? [data] : data;
  if (!Array.isArray(list)) throw new TypeError("data must be a Uint8Array or an array of them");
  list.forEach((c, i) => {
    checkBytes(`data[${i}]`, c);
  });
  return new BytesSource(list);
}

/**
 * A source that reads each of `sources` to its end-of-file in turn, then reports end-of-file.
 * It offers `readChunk` when every source does.
 * @example
 * ```ts
 * const src = concatSource(stringSource("head\n"), body);
 * ```
 */
export function concatSource(...sources: Source[]): Source {
  let i = 0;
  const readInto = async (buf: Uint8Array, opts?: BlockingOptions): Promise<number> => {
    checkReadBuffer(buf);
    for (;;) {
      const src = sources[i];
      if (src === undefined) throw new EndOfFile();
      try {
        return await src.readInto(buf, opts);
      } catch (e) {
        if (!(e instanceof EndOfFile)) throw e;
        i++;
      }
    }
  };
  if (!sources.every((s) => s.readChunk !== undefined)) return { readInto };
  const readChunk = async (opts?: BlockingOptions): Promise<Uint8Array> => {
    for (;;) {
      const src = sources[i];
      if (src === undefined) throw new EndOfFile();
      try {
        return await (src.readChunk as (o?: BlockingOptions) => Promise<Uint8Array>)(opts);
      } catch (e) {
        if (!(e instanceof EndOfFile)) throw e;
        i++;
      }
    }
  };
  return { readInto, readChunk };
}

/** Something that collects chunks: an array, or any object with a `push` method. */
export interface ChunkCollector {
  push(chunk: Uint8Array): unknown;
}

/**
 * A sink that appends a copy of every buffer written to it to `chunks` (Eio's
 * `Flow.buffer_sink`). Empty buffers are skipped. It never blocks.
 * @example
 * ```ts
 * const chunks: Uint8Array[] = [];
 * await Flow.copyString("hi", bufferSink(chunks));
 * ```
 */
export function bufferSink(chunks: ChunkCollector): Sink {
  if (typeof chunks?.push !== "function") {
    throw new TypeError("chunks must be an array or have a push method");
  }
  return {
    async write(bufs: readonly Uint8Array[]): Promise<void> {
      for (const b of bufs) if (b.length > 0) chunks.push(copyBytes(b, 0, b.length));
    },
  };
}

/**
 * The null flow (Eio's `Flow.null`): a source that is always at end-of-file, and a sink that
 * discards whatever is written to it (`copyFrom` reads the source to its end).
 * @example
 * ```ts
 * await Flow.copy(src, nullFlow); // drain src
 * ```
 */
export const nullFlow: Source & Sink = {
  async readInto(buf: Uint8Array): Promise<number> {
    checkReadBuffer(buf);
    throw new EndOfFile();
  },
  async readChunk(): Promise<Uint8Array> {
    throw new EndOfFile();
  },
  async write(): Promise<void> {},
  async copyFrom(src: Source, opts?: BlockingOptions): Promise<void> {
    const buf = src.readChunk === undefined ? new Uint8Array(65536) : EMPTY;
    try {
      for (;;) {
        if (src.readChunk !== undefined) await src.readChunk(opts);
        else await src.readInto(buf, opts);
      }
    } catch (e) {
      if (!(e instanceof EndOfFile)) throw e;
    }
  },
};
