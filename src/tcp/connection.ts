/**
 * What the client and the server share: a socket handed out with its own close
 * ({@link OwnedSocket}), and running a function with a reader and writer on a socket, closing
 * them in Async's order ({@link withReaderWriter}).
 * @module
 */
import { checkCount } from "../core/checks.ts";
import {
  type BlockingOptions,
  Cancel,
  type Clock,
  combineErrors,
  isIoError,
} from "../core/index.ts";
import type { ShutdownCommand, Source } from "../flow/types.ts";
import type { StreamAddr } from "../net/sockaddr.ts";
import type { StreamSocket } from "../net/types.ts";
import { Reader } from "./reader.ts";
import { type BufferAgeLimit, checkBufferAgeLimit, Writer } from "./writer.ts";

/** How long closing a connection's writer waits for its flush (Async's Tcp: 30 s). */
export const CONNECTION_FORCE_CLOSE_AFTER = 30_000;

/**
 * A connected socket whose `close()` also releases what owns it (the private switch of a
 * `Tcp.connect` made without `sw`). Everything else goes to the socket itself.
 * @example
 * ```ts
 * const owner = detachedOwner();
 * const inner = await net.connect(addr, { sw: owner.sw });
 * const sock = new OwnedSocket(inner, async () => {
 *   await inner.close();
 *   owner.stop();
 *   await owner.finished;
 * });
 * ```
 */
export class OwnedSocket implements StreamSocket {
  readonly #inner: StreamSocket;
  readonly #close: () => Promise<void>;
  #closing: Promise<void> | null = null;
  /** The socket's `readChunk`, if it has one. */
  readonly readChunk: ((opts?: BlockingOptions) => Promise<Uint8Array>) | undefined;
  /** The socket's `tryWrite` (`Sink.tryWrite`), if it has one. */
  readonly tryWrite: ((bufs: readonly Uint8Array[]) => boolean) | undefined;
  /** The socket's `flushed` (`Sink.flushed`), if it has one. */
  readonly flushed: ((opts?: BlockingOptions) => Promise<void>) | undefined;
  /** The socket's `copyFrom`, if it has one. */
  readonly copyFrom: ((src: Source, opts?: BlockingOptions) => Promise<void>) | undefined;

  /** Wraps `inner`; `close` closes it and releases its owner. */
  constructor(inner: StreamSocket, close: () => Promise<void>) {
    this.#inner = inner;
    this.#close = close;
    const readChunk = inner.readChunk;
    this.readChunk = readChunk === undefined ? undefined : (opts) => readChunk.call(inner, opts);
    const tryWrite = inner.tryWrite;
    this.tryWrite = tryWrite === undefined ? undefined : (bufs) => tryWrite.call(inner, bufs);
    const flushed = inner.flushed;
    this.flushed = flushed === undefined ? undefined : (opts) => flushed.call(inner, opts);
    const copyFrom = inner.copyFrom;
    this.copyFrom =
      copyFrom === undefined
        ? undefined
        : (src, opts) => copyFrom.call(inner, src instanceof OwnedSocket ? src.#inner : src, opts);
  }

  /** The socket's `trySend` (`Sink.trySend`): 0 where it has none. */
  trySend(bufs: readonly Uint8Array[]): number {
    return this.#inner.trySend?.(bufs) ?? 0;
  }

  /** The local address. */
  get localAddr(): StreamAddr {
    return this.#inner.localAddr;
  }

  /** The peer's address. */
  get peerAddr(): StreamAddr {
    return this.#inner.peerAddr;
  }

  /** See `StreamSocket.setNoDelay`. */
  setNoDelay(enabled: boolean): void {
    this.#inner.setNoDelay(enabled);
  }

  /** See `StreamSocket.bytesRead`. */
  get bytesRead(): number | undefined {
    return this.#inner.bytesRead;
  }

  /** See `StreamSocket.bytesWritten`. */
  get bytesWritten(): number | undefined {
    return this.#inner.bytesWritten;
  }

  /** See `StreamSocket.idleTimedOut`. */
  get idleTimedOut(): boolean | undefined {
    return this.#inner.idleTimedOut;
  }

  /** See `StreamSocket.setIdleTimeout`. */
  setIdleTimeout(ms: number | null): void {
    this.#inner.setIdleTimeout(ms);
  }

  /** See `Source.readInto`. */
  readInto(buf: Uint8Array, opts?: BlockingOptions): Promise<number> {
    return this.#inner.readInto(buf, opts);
  }

  /** See `Sink.write`. */
  write(bufs: readonly Uint8Array[], opts?: BlockingOptions): Promise<void> {
    return this.#inner.write(bufs, opts);
  }

  /** See `Shutdown.shutdown`. */
  shutdown(cmd: ShutdownCommand): Promise<void> {
    return this.#inner.shutdown(cmd);
  }

  /** Closes the socket and releases its owner. A second call returns the first's promise. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The options of a connection's reader and writer, as `Tcp.connect` and `Tcp.Server.create` take them. */
export interface ReaderWriterConfig {
  /** The reader's first buffer size in bytes (default 4 KiB, allocated lazily; it grows up to `readerMaxLine`). */
  readonly readerBufferSize?: number | undefined;
  /**
   * The longest line the reader buffers (default 1 MiB): `readLine()`, `lines()` and
   * `readUntil()` past it reject with `BufferLimitExceeded` (and a server closes that connection).
   */
  readonly readerMaxLine?: number | undefined;
  /**
   * The most bytes the writer holds unflushed (default 16 MiB): a `write()` past it fails the
   * writer with `WriterBufferLimitExceeded`. `await writer.flushed()` is the backpressure point.
   */
  readonly writerMaxBuffered?: number | undefined;
  /** The writer's buffer age limit (default `{ atMost: 120_000 }`). */
  readonly bufferAgeLimit?: BufferAgeLimit | undefined;
}

/**
 * Checks the reader and writer options.
 * @throws RangeError/TypeError naming the option and the value as given.
 * @example
 * ```ts
 * checkReaderWriterConfig({ readerMaxLine: 0 }); // throws RangeError: readerMaxLine must be an integer > 0, got 0
 * ```
 */
export function checkReaderWriterConfig(opts: ReaderWriterConfig | undefined): void {
  if (opts?.readerBufferSize !== undefined) checkCount("readerBufferSize", opts.readerBufferSize);
  if (opts?.readerMaxLine !== undefined) checkCount("readerMaxLine", opts.readerMaxLine);
  if (opts?.writerMaxBuffered !== undefined) {
    checkCount("writerMaxBuffered", opts.writerMaxBuffered);
  }
  if (opts?.bufferAgeLimit !== undefined) checkBufferAgeLimit(opts.bufferAgeLimit);
}

/** How to make the reader and writer of a connection. */
export interface ReaderWriterOptions {
  readonly clock: Clock;
  readonly readerBufferSize: number | undefined;
  readonly readerMaxLine: number | undefined;
  readonly writerMaxBuffered: number | undefined;
  readonly bufferAgeLimit: BufferAgeLimit | undefined;
  /** The peer, for the writer's error messages (or a function giving it). */
  readonly peer: string | (() => string);
  /**
   * Cancels the fiber running `fn` (the server's per-connection context). Without it,
   * `withReaderWriter` runs `fn` in a cancellation scope of its own.
   */
  readonly cancel?: ((reason: unknown) => void) | undefined;
}

/**
 * Makes a reader and a writer on `sock` (closing either runs `close`), runs `fn` with them,
 * then closes the writer (flushing it, for at most 30 s) and then the reader, whether `fn`
 * returned or threw. A background failure of the writer (other than the peer going away)
 * cancels `fn`.
 * @throws `fn`'s error (later errors, from closing, kept on it); else the writer's failure or
 *   a close error. A `Cancelled` loses to any real error.
 * @example
 * ```ts
 * const line = await withReaderWriter(sock, () => sock.close(), rwOpts, async (reader, writer) => {
 *   writer.writeLine("hello");
 *   return await reader.readLine();
 * });
 * ```
 */
export async function withReaderWriter<T>(
  sock: StreamSocket,
  close: () => Promise<void>,
  opts: ReaderWriterOptions,
  fn: (reader: Reader, writer: Writer) => T | Promise<T>,
): Promise<T> {
  const cancel = opts.cancel;
  if (cancel === undefined) {
    return await Cancel.sub((scope) =>
      withReaderWriter(sock, close, { ...opts, cancel: (e) => scope.cancel(e) }, fn),
    );
  }
  let writerError: unknown;
  const reader = new Reader(sock, {
    bufferSize: opts.readerBufferSize,
    maxLine: opts.readerMaxLine,
    close,
  });
  const writer = new Writer(sock, {
    bufferAgeLimit: opts.bufferAgeLimit,
    maxBuffered: opts.writerMaxBuffered,
    clock: opts.clock,
    close,
    peer: opts.peer,
    onError: (e) => {
      // A peer that went away is the end of the conversation, not a reason to stop `fn`
      // (it may still be reading the peer's last words); writes will say so.
      if (isIoError(e, "ConnectionReset")) return;
      writerError = e;
      cancel(e);
    },
  });
  let ok = false;
  let value: T | undefined;
  let error: unknown;
  try {
    value = await fn(reader, writer);
    ok = true;
  } catch (e) {
    error = e;
  }
  let seen: Set<unknown> | null = null; // made on the first failure only
  const fail = (e: unknown): void => {
    // The writer's failure comes back from close(): report it once
    if (seen?.has(e) === true) return;
    seen ??= new Set();
    seen.add(e);
    if (ok) {
      ok = false;
      error = e;
    } else error = combineErrors(error, e);
  };
  if (writerError !== undefined) fail(writerError);
  // One protected context for both closes (each would cost a context of its own)
  await Cancel.protect(async () => {
    try {
      await writer.close({ forceCloseAfter: CONNECTION_FORCE_CLOSE_AFTER });
    } catch (e) {
      fail(e);
    }
    try {
      await reader.close();
    } catch (e) {
      fail(e);
    }
  });
  if (!ok) throw error;
  return value as T;
}
