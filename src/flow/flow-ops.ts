/**
 * The generic flow operations (Eio's `Flow.copy`, `read_exact`, `read_all`, ...), written once
 * against the {@link Source} and {@link Sink} contracts.
 * @module
 */
import { type BlockingOptions, BufferLimitExceeded, EndOfFile } from "../core/index.ts";
import { checkBytes, concatBytes, decodeUtf8 } from "./bytes.ts";
import { stringSource } from "./sources.ts";
import type { Closable, Shutdown, ShutdownCommand, Sink, Source } from "./types.ts";

/**
 * The size of the one buffer {@link copy} reuses when the source has no `readChunk`: 64 KiB,
 * the size of Node's own socket and file reads, so a copy makes as few calls as Node would while
 * holding a bounded amount of memory.
 */
export const COPY_BUFFER_SIZE = 65536;

/** Options of {@link readAll} and {@link readAllBytes}. */
export interface ReadAllOptions extends BlockingOptions {
  /** The most bytes to accept (an integer > 0, or `Infinity`): more is an error. */
  readonly maxSize: number;
}

/**
 * Copies everything from `src` to `dst` until `src` reports end-of-file (Eio's `Flow.copy`).
 * Uses `dst.copyFrom(src)` when the sink offers it; otherwise a loop that takes chunks from
 * `src.readChunk` when the source offers it (no copy), or reads into one reused buffer of
 * {@link COPY_BUFFER_SIZE} bytes; each piece is written before the next is read, so at most one
 * piece is held at a time. Does not close or shut down either flow.
 * @throws Cancelled if the calling fiber (or `opts.signal`) is cancelled (some data may have been copied).
 * @throws IoError if reading or writing fails.
 * @example
 * ```ts
 * await Flow.copy(socket, socket); // an echo server's handler
 * ```
 */
export function copy(src: Source, dst: Sink, opts?: BlockingOptions): Promise<void> {
  // No async frame for the fast path: an idle echo connection would hold one (~0.5 KB)
  if (dst.copyFrom !== undefined) return dst.copyFrom(src, opts);
  return copyLoop(src, dst, opts);
}

function copyLoop(src: Source, dst: Sink, opts?: BlockingOptions): Promise<void> {
  return pump(src, (chunk) => dst.write([chunk], opts), opts);
}

/**
 * Reads `src` to its end and hands each piece to `write`, the loop of {@link copy} for sinks
 * that implement `copyFrom` themselves. With `src.readChunk` the chunks are the caller's to
 * keep (`owned` is true); otherwise one {@link COPY_BUFFER_SIZE} buffer is reused, so `write`
 * must be done with it when its promise resolves.
 * @throws what `src` or `write` throw (not EndOfFile: that ends the loop).
 * @example
 * ```ts
 * await pump(src, (chunk) => sink.write([chunk]));
 * ```
 */
export async function pump(
  src: Source,
  write: (chunk: Uint8Array, owned: boolean) => Promise<void>,
  opts?: BlockingOptions,
): Promise<void> {
  if (src.readChunk !== undefined) {
    for (;;) {
      let chunk: Uint8Array;
      try {
        chunk = await src.readChunk(opts);
      } catch (e) {
        if (e instanceof EndOfFile) return;
        throw e;
      }
      await write(chunk, true);
    }
  }
  const buf = new Uint8Array(COPY_BUFFER_SIZE);
  for (;;) {
    let n: number;
    try {
      n = await src.readInto(buf, opts);
    } catch (e) {
      if (e instanceof EndOfFile) return;
      throw e;
    }
    await write(buf.subarray(0, n), false);
  }
}

/**
 * Writes the UTF-8 bytes of `s` to `dst` (Eio's `Flow.copy_string`: a {@link copy} from a string
 * source).
 * @throws Cancelled if the calling fiber (or `opts.signal`) is cancelled first.
 * @throws IoError if writing fails.
 * @example
 * ```ts
 * await Flow.copyString("Hello\n", socket);
 * ```
 */
export function copyString(s: string, dst: Sink, opts?: BlockingOptions): Promise<void> {
  return copy(stringSource(s), dst, opts);
}

/**
 * Reads from `src` until `buf` is full (Eio's `Flow.read_exact`). An empty `buf` returns at once.
 * @throws EndOfFile if `src` ends before `buf` is full (the bytes read so far are in `buf`).
 * @throws Cancelled if the calling fiber (or `opts.signal`) is cancelled first.
 * @throws IoError if reading fails.
 * @example
 * ```ts
 * const header = new Uint8Array(4);
 * await Flow.readExact(socket, header);
 * ```
 */
export async function readExact(
  src: Source,
  buf: Uint8Array,
  opts?: BlockingOptions,
): Promise<void> {
  checkBytes("buf", buf);
  let off = 0;
  while (off < buf.length) off += await src.readInto(buf.subarray(off), opts);
}

function checkMaxSize(opts: ReadAllOptions | undefined): number {
  const maxSize = opts?.maxSize;
  if (
    typeof maxSize !== "number" ||
    !(maxSize === Infinity || Number.isInteger(maxSize)) ||
    maxSize <= 0
  ) {
    throw new RangeError(`maxSize must be an integer > 0 or Infinity, got ${String(maxSize)}`);
  }
  return maxSize;
}

/**
 * Reads everything from `src` up to end-of-file, as bytes (Eio's `Flow.read_all`, bounded).
 * Takes chunks from `src.readChunk` when offered, otherwise reads into blocks that grow from
 * 4 KiB to 1 MiB; never holds more than `maxSize + 1` bytes.
 * @throws BufferLimitExceeded if `src` has more than `opts.maxSize` bytes.
 * @throws Cancelled if the calling fiber (or `opts.signal`) is cancelled first.
 * @throws IoError if reading fails.
 * @throws RangeError if `maxSize` is not an integer > 0 or `Infinity`.
 * @example
 * ```ts
 * const body = await Flow.readAllBytes(socket, { maxSize: 1 << 20 });
 * ```
 */
export function readAllBytes(src: Source, opts: ReadAllOptions): Promise<Uint8Array> {
  return readAllGen(src, checkMaxSize(opts), opts);
}

async function readAllGen(
  src: Source,
  maxSize: number,
  opts: BlockingOptions,
): Promise<Uint8Array> {
  const tooBig = (): BufferLimitExceeded =>
    new BufferLimitExceeded(`Buffer size limit exceeded: more than maxSize (${maxSize}) bytes`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (src.readChunk !== undefined) {
    // the chunks are ours to keep: collect them as they come
    await pump(
      src,
      (chunk) => {
        total += chunk.length;
        if (total > maxSize) throw tooBig();
        chunks.push(chunk);
        return Promise.resolve();
      },
      opts,
    );
  } else {
    let blockSize = 4096;
    let block = new Uint8Array(0);
    let off = 0;
    for (;;) {
      if (off === block.length) {
        if (off > 0) chunks.push(block);
        // room for maxSize + 1 bytes in all: the extra byte tells "more than maxSize"
        block = new Uint8Array(Math.min(blockSize, maxSize + 1 - total));
        blockSize = Math.min(blockSize * 2, 1 << 20);
        off = 0;
      }
      let n: number;
      try {
        n = await src.readInto(block.subarray(off), opts);
      } catch (e) {
        if (e instanceof EndOfFile) break;
        throw e;
      }
      off += n;
      total += n;
      if (total > maxSize) throw tooBig();
    }
    if (off > 0) chunks.push(block.subarray(0, off));
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : concatBytes(chunks, total);
}

/**
 * Reads everything from `src` up to end-of-file and decodes it as UTF-8 (invalid sequences
 * become U+FFFD). See {@link readAllBytes}.
 * @throws BufferLimitExceeded if `src` has more than `opts.maxSize` bytes.
 * @throws Cancelled if the calling fiber (or `opts.signal`) is cancelled first.
 * @throws IoError if reading fails.
 * @throws RangeError if `maxSize` is not an integer > 0 or `Infinity`.
 * @example
 * ```ts
 * const text = await Flow.readAll(Flow.stringSource("hi"), { maxSize: 100 }); // "hi"
 * ```
 */
export function readAll(src: Source, opts: ReadAllOptions): Promise<string> {
  return readAllGen(src, checkMaxSize(opts), opts).then((b) => decodeUtf8(b, 0, b.length));
}

/**
 * Stops sending and/or receiving on `flow` (Eio's `Flow.shutdown`): `flow.shutdown(cmd)`.
 * @throws IoError if the flow is closed.
 * @example
 * ```ts
 * await Flow.shutdown(socket, "send"); // the peer now reads end-of-file
 * ```
 */
export function shutdown(flow: Shutdown, cmd: ShutdownCommand): Promise<void> {
  return flow.shutdown(cmd);
}

/**
 * Closes `flow` (Eio's `Flow.close`): `flow.close()`. Closing twice is fine.
 * @example
 * ```ts
 * await Flow.close(socket);
 * ```
 */
export function close(flow: Closable): Promise<void> {
  return flow.close();
}
