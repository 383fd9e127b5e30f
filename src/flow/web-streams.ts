/**
 * Adapters between flows and Web Streams (`ReadableStream<Uint8Array>`,
 * `WritableStream<Uint8Array>`), keeping backpressure both ways.
 * @module
 */
import {
  ReadableStream,
  type ReadableStreamDefaultReader,
  type ReadableStreamReadResult,
  WritableStream,
  type WritableStreamDefaultWriter,
} from "node:stream/web";
import {
  awaitCancellable,
  type BlockingOptions,
  Cancelled,
  currentFiber,
  EndOfFile,
  IoError,
  isCancelled,
  runInFiber,
} from "../core/index.ts";
import { streamError } from "./bytes.ts";
import { DEFAULT_HIGH_WATER_MARK, type ToStreamOptions } from "./node-streams.ts";
import { checkReadBuffer } from "./sources.ts";
import type { Closable, Shutdown, ShutdownCommand, Sink, Source } from "./types.ts";

function checkHwm(opts: ToStreamOptions | undefined): number {
  const hwm = opts?.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  if (!Number.isInteger(hwm) || hwm <= 0) {
    throw new RangeError(`highWaterMark must be an integer > 0, got ${String(hwm)}`);
  }
  return hwm;
}

// A chunk that is not bytes counts as 1, so that it reaches `write`, which rejects it.
const byteLength = (chunk: Uint8Array): number =>
  chunk instanceof Uint8Array ? chunk.byteLength : 1;

/** A source reading a `ReadableStream` (see {@link fromWebReadable}). */
class WebReadableSource implements Source, Closable {
  readonly #rs: ReadableStream<unknown>;
  #reader: ReadableStreamDefaultReader<unknown> | null = null;
  // A read that was cancelled while the stream still owed us its result: the next read takes
  // it, so no chunk is lost.
  #pending: Promise<ReadableStreamReadResult<unknown>> | null = null;
  #leftover: Uint8Array | null = null;
  #done = false;
  #closed = false;

  constructor(rs: ReadableStream<unknown>) {
    this.#rs = rs;
  }

  async #next(max: number, opts: BlockingOptions | undefined): Promise<Uint8Array> {
    let chunk = this.#leftover;
    this.#leftover = null;
    while (chunk === null) {
      if (this.#closed) throw new IoError({ kind: "Closed" });
      if (this.#done) throw new EndOfFile();
      this.#reader ??= this.#rs.getReader();
      this.#pending ??= this.#reader.read();
      let r: ReadableStreamReadResult<unknown>;
      try {
        r = await awaitCancellable(this.#pending, opts?.signal);
      } catch (e) {
        if (!isCancelled(e) || this.#closed) this.#pending = null;
        throw isCancelled(e) ? e : streamError(e);
      }
      this.#pending = null;
      if (r.done) {
        this.#done = true;
        throw new EndOfFile();
      }
      const v = r.value;
      if (!(v instanceof Uint8Array)) {
        throw new TypeError(`ReadableStream chunks must be Uint8Array, got ${typeof v}`);
      }
      if (v.length > 0) chunk = v;
    }
    if (chunk.length > max) {
      this.#leftover = chunk.subarray(max);
      chunk = chunk.subarray(0, max);
    }
    return chunk;
  }

  async readInto(buf: Uint8Array, opts?: BlockingOptions): Promise<number> {
    checkReadBuffer(buf);
    const chunk = await this.#next(buf.length, opts);
    buf.set(chunk);
    return chunk.length;
  }

  readChunk(opts?: BlockingOptions): Promise<Uint8Array> {
    return this.#next(Number.POSITIVE_INFINITY, opts);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const p = this.#reader === null ? this.#rs.cancel() : this.#reader.cancel();
    await p.catch(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A source that reads the Web stream `rs` (its chunks must be `Uint8Array`s). The stream is only
 * read when a read is asked for. A read cancelled while waiting keeps the stream's pending result
 * for the next read, so no data is lost. `readChunk` returns the stream's chunks as they are;
 * `close()` cancels the stream.
 * @throws (from reads) EndOfFile once the stream is done; TypeError for a chunk that is not a
 *   Uint8Array; IoError (cause: the stream's error) if the stream errors; Cancelled if the calling
 *   fiber or `opts.signal` is cancelled while waiting.
 * @example
 * ```ts
 * const res = await fetch(url);
 * const text = await Flow.readAll(Flow.fromWebReadable(res.body!), { maxSize: 1 << 20 });
 * ```
 */
export function fromWebReadable(rs: ReadableStream<Uint8Array>): Source & Closable {
  if (typeof (rs as { getReader?: unknown })?.getReader !== "function") {
    throw new TypeError("rs must be a ReadableStream");
  }
  return new WebReadableSource(rs as ReadableStream<unknown>);
}

/**
 * A `ReadableStream<Uint8Array>` whose data comes from `src`, pulled only while the stream's queue
 * holds less than `highWaterMark` bytes (one read per pull), so a slow consumer stops the reads.
 * Reads run in the calling fiber's context: cancelling it (or aborting `opts.signal`) errors the
 * stream with `Cancelled`; cancelling the stream cancels a pending read. End-of-file closes the
 * stream; other errors error it.
 * @throws RangeError if `highWaterMark` is not an integer > 0.
 * @example
 * ```ts
 * return new Response(Flow.toWebReadable(Flow.stringSource("hello")));
 * ```
 */
export function toWebReadable(src: Source, opts?: ToStreamOptions): ReadableStream<Uint8Array> {
  const hwm = checkHwm(opts);
  const ctx = currentFiber();
  const ac = new AbortController();
  const outer = opts?.signal;
  const readOpts = { signal: ac.signal };
  const chunkSize = Math.min(hwm, DEFAULT_HIGH_WATER_MARK);
  let onOuterAbort: (() => void) | undefined;
  const unlink = (): void => {
    if (onOuterAbort !== undefined) outer?.removeEventListener("abort", onOuterAbort);
    onOuterAbort = undefined;
  };
  let finished = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller): void {
        if (outer === undefined) return;
        onOuterAbort = (): void => {
          unlink();
          ac.abort(outer.reason);
          if (!finished) {
            finished = true;
            controller.error(new Cancelled(outer.reason));
          }
        };
        if (outer.aborted) onOuterAbort();
        else outer.addEventListener("abort", onOuterAbort, { once: true });
      },
      async pull(controller): Promise<void> {
        try {
          const chunk = await runInFiber(ctx, async () => {
            if (src.readChunk !== undefined) return src.readChunk(readOpts);
            const buf = new Uint8Array(chunkSize);
            const n = await src.readInto(buf, readOpts);
            // A small read gets its own copy, so the queue's byte count is what it holds.
            return n < buf.length >> 1 ? buf.slice(0, n) : buf.subarray(0, n);
          });
          if (!finished) controller.enqueue(chunk);
        } catch (e) {
          if (finished) return;
          finished = true;
          unlink();
          if (e instanceof EndOfFile) controller.close();
          else controller.error(e);
        }
      },
      cancel(reason): void {
        finished = true;
        unlink();
        ac.abort(reason);
      },
    },
    { highWaterMark: hwm, size: byteLength },
  );
}

/** Options of {@link toWebWritable}. */
export interface ToWebWritableOptions extends ToStreamOptions {
  /**
   * On `close()`, shut down the sending side of the sink (`sink.shutdown("send")`) if it has
   * one (default true).
   */
  readonly shutdownOnClose?: boolean;
}

/**
 * A `WritableStream<Uint8Array>` that writes each chunk to `sink`, one at a time; its queue holds
 * at most `highWaterMark` bytes before `writer.ready` waits. Writes run in the calling fiber's
 * context: cancelling it (or aborting `opts.signal`, or aborting the stream) fails a pending write
 * with `Cancelled`. Closing the stream shuts down the sink's sending side if it has one.
 * @throws RangeError if `highWaterMark` is not an integer > 0.
 * @example
 * ```ts
 * await Flow.toWebReadable(src).pipeTo(Flow.toWebWritable(socket));
 * ```
 */
export function toWebWritable(sink: Sink, opts?: ToWebWritableOptions): WritableStream<Uint8Array> {
  const hwm = checkHwm(opts);
  const ctx = currentFiber();
  const ac = new AbortController();
  const writeOpts = { signal: ac.signal };
  const outer = opts?.signal;
  const shutdownOnClose = opts?.shutdownOnClose ?? true;
  const listeners: (() => void)[] = [];
  const unlink = (): void => {
    for (const f of listeners.splice(0)) f();
  };
  const listen = (signal: AbortSignal, fn: () => void): void => {
    if (signal.aborted) {
      fn();
      return;
    }
    signal.addEventListener("abort", fn, { once: true });
    listeners.push(() => signal.removeEventListener("abort", fn));
  };
  return new WritableStream<Uint8Array>(
    {
      start(controller): void {
        // The controller's signal aborts at once when the stream is aborted, even while a
        // write is in progress (the stream's own `abort` waits for that write to finish).
        const ctrlSignal = (controller as { signal?: AbortSignal }).signal;
        if (ctrlSignal !== undefined) listen(ctrlSignal, () => ac.abort(ctrlSignal.reason));
        if (outer !== undefined) {
          listen(outer, () => {
            ac.abort(outer.reason);
            controller.error(new Cancelled(outer.reason));
          });
        }
      },
      write(chunk): Promise<void> {
        if (!(chunk instanceof Uint8Array)) {
          return Promise.reject(
            new TypeError(`WritableStream chunks must be Uint8Array, got ${typeof chunk}`),
          );
        }
        return runInFiber(ctx, () => sink.write([chunk], writeOpts));
      },
      async close(): Promise<void> {
        unlink();
        const sd = (sink as Partial<Shutdown>).shutdown;
        if (shutdownOnClose && typeof sd === "function") {
          await runInFiber(ctx, () => sd.call(sink, "send"));
        }
      },
      abort(reason): void {
        unlink();
        ac.abort(reason);
      },
    },
    { highWaterMark: hwm, size: byteLength },
  );
}

/** A sink writing to a `WritableStream` (see {@link fromWebWritable}). */
class WebWritableSink implements Sink, Shutdown, Closable {
  readonly #ws: WritableStream<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #state: "open" | "closing" | "closed" = "open";

  constructor(ws: WritableStream<Uint8Array>) {
    this.#ws = ws;
  }

  async write(bufs: readonly Uint8Array[], opts?: BlockingOptions): Promise<void> {
    if (this.#state !== "open") throw new IoError({ kind: "Closed" });
    this.#writer ??= this.#ws.getWriter();
    const writer = this.#writer;
    const writes: Promise<void>[] = [];
    for (const b of bufs) if (b.length > 0) writes.push(writer.write(b));
    if (writes.length === 0) return;
    // The stream holds each buffer until its write settles: wait for all of them.
    const all = Promise.all(writes);
    all.catch(() => {});
    try {
      await awaitCancellable(all, opts?.signal);
    } catch (e) {
      throw isCancelled(e) ? e : streamError(e);
    }
  }

  async shutdown(cmd: ShutdownCommand): Promise<void> {
    if (cmd === "receive" || this.#state !== "open") return;
    this.#state = "closing";
    this.#writer ??= this.#ws.getWriter();
    try {
      await awaitCancellable(this.#writer.close());
    } catch (e) {
      throw isCancelled(e) ? e : streamError(e);
    }
  }

  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const wasOpen = this.#state === "open";
    this.#state = "closed";
    this.#writer ??= this.#ws.getWriter();
    // The stream's abort waits for a write in progress to settle, which may be never: do not
    // wait for it.
    if (wasOpen) this.#writer.abort(new IoError({ kind: "Closed" })).catch(() => {});
    this.#writer.releaseLock();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A sink that writes to the Web stream `ws`. A `write` resolves once the stream has processed
 * every buffer of the call (so it never holds more than one call's buffers). `shutdown("send")`
 * closes the stream (waiting for pending writes); `close()` aborts it (without waiting).
 * @throws (from writes) IoError (cause: the stream's error) if the stream errors or was closed;
 *   Cancelled if the calling fiber or `opts.signal` is cancelled first (the data may still be
 *   written).
 * @example
 * ```ts
 * const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
 * await Flow.copyString("hi", Flow.fromWebWritable(writable));
 * ```
 */
export function fromWebWritable(ws: WritableStream<Uint8Array>): Sink & Shutdown & Closable {
  if (typeof (ws as { getWriter?: unknown })?.getWriter !== "function") {
    throw new TypeError("ws must be a WritableStream");
  }
  return new WebWritableSink(ws);
}
