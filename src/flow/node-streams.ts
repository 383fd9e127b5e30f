/**
 * Adapters between flows and Node streams (`node:stream` Readable and Writable), keeping
 * backpressure both ways: nothing here buffers more than a stream's high-water mark plus one
 * chunk.
 * @module
 */
import { Buffer } from "node:buffer";
import { Readable, Writable } from "node:stream";
import {
  type BlockingOptions,
  Cancelled,
  currentFiber,
  EndOfFile,
  IoError,
  runInFiber,
  suspend,
} from "../core/index.ts";
import { streamError } from "./bytes.ts";
import { checkReadBuffer } from "./sources.ts";
import type { Closable, Shutdown, ShutdownCommand, Sink, Source } from "./types.ts";

/** The high-water mark the adapters use by default: 64 KiB, as Node's own streams. */
export const DEFAULT_HIGH_WATER_MARK = 65536;

/** Options of the adapters that make a Node or Web stream out of a flow. */
export interface ToStreamOptions {
  /** How many bytes the stream may hold before it stops asking (default 64 KiB). */
  readonly highWaterMark?: number;
  /** Destroys the stream (with `Cancelled`) when this signal aborts. */
  readonly signal?: AbortSignal | undefined;
}

function checkHwm(opts: ToStreamOptions | undefined): number {
  const hwm = opts?.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  if (!Number.isInteger(hwm) || hwm <= 0) {
    throw new RangeError(`highWaterMark must be an integer > 0, got ${String(hwm)}`);
  }
  return hwm;
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  throw new TypeError(`stream chunks must be Uint8Array or string, got ${typeof chunk}`);
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Links `outer` (the caller's optional signal) to an AbortController the adapter owns, so that
 * both the adapter's own teardown and the caller can cancel its operations. Returns the
 * controller and a function that unlinks.
 */
function linkSignal(
  outer: AbortSignal | undefined,
  onAbort: (reason: unknown) => void,
): () => void {
  if (outer === undefined) return () => {};
  if (outer.aborted) {
    queueMicrotask(() => onAbort(outer.reason));
    return () => {};
  }
  const listener = (): void => onAbort(outer.reason);
  outer.addEventListener("abort", listener, { once: true });
  return () => outer.removeEventListener("abort", listener);
}

/** A source reading a Node `Readable` (see {@link fromNodeReadable}). */
class NodeReadableSource implements Source, Closable {
  readonly #r: Readable;
  #leftover: Uint8Array | null = null;
  #error: unknown = undefined;

  constructor(r: Readable) {
    this.#r = r;
    // Without a listener an 'error' event would crash the process; we report it on the next read.
    r.on("error", (e: unknown) => {
      this.#error ??= e;
    });
  }

  /** The next chunk if one is buffered; `null` if we must wait. */
  #take(max: number): Uint8Array | null {
    let chunk = this.#leftover;
    this.#leftover = null;
    if (chunk === null) {
      const c: unknown = this.#r.read();
      if (c !== null) chunk = toBytes(c);
    }
    if (chunk !== null) {
      if (chunk.length > max) {
        this.#leftover = chunk.subarray(max);
        chunk = chunk.subarray(0, max);
      }
      return chunk;
    }
    const err = this.#error ?? this.#r.errored;
    if (err !== undefined && err !== null) throw streamError(err);
    if (this.#r.readableEnded) throw new EndOfFile();
    if (this.#r.destroyed) throw new IoError({ kind: "Closed" });
    return null;
  }

  #wait(opts: BlockingOptions | undefined): Promise<void> {
    const r = this.#r;
    return suspend<void>((resolve) => {
      const cleanup = (): void => {
        r.off("readable", done);
        r.off("end", done);
        r.off("error", done);
        r.off("close", done);
      };
      const done = (): void => {
        cleanup();
        resolve();
      };
      r.on("readable", done);
      r.on("end", done);
      r.on("error", done);
      r.on("close", done);
      return cleanup;
    }, opts?.signal);
  }

  async #next(max: number, opts: BlockingOptions | undefined): Promise<Uint8Array> {
    for (;;) {
      const chunk = this.#take(max);
      if (chunk !== null && chunk.length > 0) return chunk;
      if (chunk === null) await this.#wait(opts);
    }
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
    this.#r.destroy();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A source that reads the Node stream `r` (bytes or strings, which are UTF-8 encoded). Data is
 * only taken from the stream when asked for, so a slow reader stops the stream at its
 * high-water mark. `readChunk` returns what the stream has buffered without copying. The
 * adapter listens for `'error'` (reported by the next read); `close()` destroys the stream.
 * @throws (from reads) EndOfFile after the stream's end; IoError (`ConnectionReset` for resets,
 *   `Closed` if the stream was destroyed, `Unknown` with the stream's error as cause otherwise);
 *   Cancelled if the calling fiber or `opts.signal` is cancelled while waiting (listeners removed).
 * @example
 * ```ts
 * const src = Flow.fromNodeReadable(fs.createReadStream("data.txt"));
 * const text = await Flow.readAll(src, { maxSize: 1 << 20 });
 * ```
 */
export function fromNodeReadable(r: Readable): Source & Closable {
  if (!(r instanceof Readable) && typeof (r as { read?: unknown })?.read !== "function") {
    throw new TypeError("r must be a Node Readable stream");
  }
  return new NodeReadableSource(r);
}

/**
 * A Node `Readable` whose data comes from `src`. The stream reads `src` only when its buffer is
 * below `highWaterMark` (one read per `_read` call), so a slow consumer stops the reads. Reads run
 * in the calling fiber's context: cancelling that fiber (or aborting `opts.signal`) destroys the
 * stream with `Cancelled`; destroying the stream cancels a pending read. End-of-file ends the
 * stream; any other error destroys it with that error.
 * @throws RangeError if `highWaterMark` is not an integer > 0.
 * @example
 * ```ts
 * await pipeline(Flow.toNodeReadable(socket), fs.createWriteStream("out.bin"));
 * ```
 */
export function toNodeReadable(src: Source, opts?: ToStreamOptions): Readable {
  const hwm = checkHwm(opts);
  const ctx = currentFiber();
  const ac = new AbortController();
  const readOpts = { signal: ac.signal };
  const readOnce = async (size: number): Promise<Uint8Array> => {
    if (src.readChunk !== undefined) return src.readChunk(readOpts);
    const buf = Buffer.allocUnsafe(Math.min(Math.max(size, 1), hwm));
    const n = await src.readInto(buf, readOpts);
    // A small read gets its own copy, so the stream's byte count is what it holds in memory.
    return n < buf.length >> 1 ? Buffer.from(buf.subarray(0, n)) : buf.subarray(0, n);
  };
  let unlink = (): void => {};
  const readable = new Readable({
    highWaterMark: hwm,
    read(size: number): void {
      runInFiber(ctx, () => readOnce(size)).then(
        (chunk) => {
          if (!readable.destroyed) readable.push(chunk);
        },
        (e: unknown) => {
          if (readable.destroyed) return;
          if (e instanceof EndOfFile) readable.push(null);
          else readable.destroy(asError(e));
        },
      );
    },
    destroy(err: Error | null, cb: (err: Error | null) => void): void {
      unlink();
      ac.abort(err ?? new Error("Readable destroyed"));
      cb(err);
    },
  });
  unlink = linkSignal(opts?.signal, (reason) => readable.destroy(new Cancelled(reason)));
  return readable;
}

/** Options of {@link toNodeWritable}. */
export interface ToNodeWritableOptions extends ToStreamOptions {
  /**
   * On `end()`, shut down the sending side of the sink (`sink.shutdown("send")`) if it has one, so
   * the peer sees end-of-file (default true).
   */
  readonly shutdownOnEnd?: boolean;
}

/**
 * A Node `Writable` that writes to `sink`. The stream passes its buffered chunks to `sink.write`
 * (vectored, one call at a time) and holds at most `highWaterMark` bytes before `write()` returns
 * false. Writes run in the calling fiber's context: cancelling that fiber (or aborting
 * `opts.signal`) fails them with `Cancelled`; destroying the stream cancels a pending write.
 * `end()` shuts down the sink's sending side if it has one (see `shutdownOnEnd`).
 * @throws RangeError if `highWaterMark` is not an integer > 0.
 * @example
 * ```ts
 * await pipeline(fs.createReadStream("in.bin"), Flow.toNodeWritable(socket));
 * ```
 */
export function toNodeWritable(sink: Sink, opts?: ToNodeWritableOptions): Writable {
  const hwm = checkHwm(opts);
  const ctx = currentFiber();
  const ac = new AbortController();
  const writeOpts = { signal: ac.signal };
  const shutdownOnEnd = opts?.shutdownOnEnd ?? true;
  const run = (bufs: Uint8Array[], cb: (e?: Error | null) => void): void => {
    runInFiber(ctx, () => sink.write(bufs, writeOpts)).then(
      () => cb(),
      (e: unknown) => cb(asError(e)),
    );
  };
  let unlink = (): void => {};
  const writable = new Writable({
    highWaterMark: hwm,
    write(chunk: unknown, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
      run([toBytes(chunk)], cb);
    },
    writev(chunks: { chunk: unknown }[], cb: (e?: Error | null) => void): void {
      run(
        chunks.map((c) => toBytes(c.chunk)),
        cb,
      );
    },
    final(cb: (e?: Error | null) => void): void {
      unlink();
      const sd = (sink as Partial<Shutdown>).shutdown;
      if (!shutdownOnEnd || typeof sd !== "function") {
        cb();
        return;
      }
      runInFiber(ctx, () => sd.call(sink, "send")).then(
        () => cb(),
        (e: unknown) => cb(asError(e)),
      );
    },
    destroy(err: Error | null, cb: (err: Error | null) => void): void {
      unlink();
      ac.abort(err ?? new Error("Writable destroyed"));
      cb(err);
    },
  });
  unlink = linkSignal(opts?.signal, (reason) => writable.destroy(new Cancelled(reason)));
  return writable;
}

/** A sink writing to a Node `Writable` (see {@link fromNodeWritable}). */
class NodeWritableSink implements Sink, Shutdown, Closable {
  readonly #w: Writable;
  #error: unknown = undefined;

  constructor(w: Writable) {
    this.#w = w;
    w.on("error", (e: unknown) => {
      this.#error ??= e;
    });
  }

  #check(): void {
    const err = this.#error ?? this.#w.errored;
    if (err !== undefined && err !== null) throw streamError(err);
    if (this.#w.destroyed || this.#w.writableEnded) throw new IoError({ kind: "Closed" });
  }

  async write(bufs: readonly Uint8Array[], opts?: BlockingOptions): Promise<void> {
    this.#check();
    const w = this.#w;
    let last = -1;
    for (let i = 0; i < bufs.length; i++) if ((bufs[i] as Uint8Array).length > 0) last = i;
    if (last < 0) return;
    // Resolve only once the stream has handed the last buffer on (its callback): until then it
    // may still hold references to our buffers, which the caller is then free to reuse.
    await suspend<void>((resolve, reject) => {
      w.cork();
      for (let i = 0; i <= last; i++) {
        const b = bufs[i] as Uint8Array;
        if (b.length === 0) continue;
        if (i === last) w.write(b, (e) => (e ? reject(streamError(e)) : resolve()));
        else w.write(b);
      }
      w.uncork();
      return undefined;
    }, opts?.signal);
  }

  async shutdown(cmd: ShutdownCommand): Promise<void> {
    if (cmd === "receive") return;
    const w = this.#w;
    if (w.writableFinished) return;
    if (w.destroyed) throw new IoError({ kind: "Closed" });
    await suspend<void>((resolve, reject) => {
      const cleanup = (): void => {
        w.off("finish", onFinish);
        w.off("error", onError);
        w.off("close", onClose);
      };
      const onFinish = (): void => {
        cleanup();
        resolve();
      };
      const onError = (e: unknown): void => {
        cleanup();
        reject(streamError(e));
      };
      const onClose = (): void => {
        cleanup();
        if (w.writableFinished) resolve();
        else reject(new IoError({ kind: "Closed" }));
      };
      w.on("finish", onFinish);
      w.on("error", onError);
      w.on("close", onClose);
      w.end();
      return cleanup;
    });
  }

  async close(): Promise<void> {
    this.#w.destroy();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A sink that writes to the Node stream `w`. Each `write` corks the stream, writes every buffer
 * (so the stream can use one vectored write) and resolves once the stream has handed the last
 * buffer on, so the sink never holds more than the buffers of the call in progress.
 * `shutdown("send")` ends the stream (waiting for `'finish'`); `close()` destroys it. The adapter
 * listens for `'error'` (reported by the next write).
 * @throws (from writes) IoError (`ConnectionReset` for EPIPE/ECONNRESET, `Closed` after
 *   end/destroy, `Unknown` otherwise); Cancelled if the calling fiber or `opts.signal` is
 *   cancelled first (the data may still be written).
 * @example
 * ```ts
 * await Flow.copy(socket, Flow.fromNodeWritable(process.stdout));
 * ```
 */
export function fromNodeWritable(w: Writable): Sink & Shutdown & Closable {
  if (!(w instanceof Writable) && typeof (w as { write?: unknown })?.write !== "function") {
    throw new TypeError("w must be a Node Writable stream");
  }
  return new NodeWritableSink(w);
}
