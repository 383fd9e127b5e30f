/**
 * The flow contracts (Eio's `Flow`): byte sources, byte sinks, half-close, close.
 * Every I/O object of weir (sockets, mock flows, adapters) implements these.
 * @module
 */
import type { BlockingOptions } from "../core/index.ts";

/** A source of bytes. */
export interface Source {
  /**
   * Reads at least one byte into `buf` (which must not be empty) and returns how many.
   * Nothing is read from the underlying object before it is asked for.
   * @throws EndOfFile when there is no more data.
   * @throws Cancelled if the calling fiber (or `opts.signal`) is cancelled first.
   * @throws IoError for I/O failures.
   * @throws RangeError if `buf` is empty.
   */
  readInto(buf: Uint8Array, opts?: BlockingOptions): Promise<number>;
  /**
   * Optional fast path (Eio's `Read_source_buffer`): returns the next chunk the source holds,
   * which the caller then owns (no copy). Same errors as {@link readInto}.
   */
  readChunk?(opts?: BlockingOptions): Promise<Uint8Array>;
}

/** A sink of bytes. */
export interface Sink {
  /**
   * Writes all of `bufs`, in order (a vectored write). Resolves once the sink no longer
   * needs the buffers (the caller may then reuse them), and never buffers without bound.
   * @throws Cancelled if the calling fiber (or `opts.signal`) is cancelled first (then some of
   *   the data may have been written).
   * @throws IoError for I/O failures (`ConnectionReset` when the peer has gone).
   */
  write(bufs: readonly Uint8Array[], opts?: BlockingOptions): Promise<void>;
  /**
   * Optional fast path used by `Flow.copy`: reads `src` to its end and writes everything here,
   * better than the generic loop could (Eio's `copy` optimisation).
   */
  copyFrom?(src: Source, opts?: BlockingOptions): Promise<void>;
  /**
   * Optional synchronous {@link write} (a writer's fast path: `Tcp.Writer` flushes an idle
   * sink with it, without a promise): hands all of `bufs` to the sink now and returns `true` if
   * it no longer needs them (they may be reused at once), or `false` if it still holds some:
   * then do not reuse them before {@link flushed} resolves. Not a cancellation point.
   * @throws what `write` would reject with, synchronously.
   */
  tryWrite?(bufs: readonly Uint8Array[]): boolean;
  /**
   * Optional: writes what the sink can take of `bufs` at once without keeping any of them (a
   * socket: what its kernel buffer has room for), and returns the number of bytes taken (0 if
   * none; never blocks, never throws for the sink's own errors, which its next `write` reports).
   * A writer idle hands a large write to it without copying it first.
   */
  trySend?(bufs: readonly Uint8Array[]): number;
  /**
   * Optional: resolves once the sink no longer needs any buffer handed to it by `write` or
   * `tryWrite` (for a socket: everything is in the kernel). A sink with `tryWrite` has it.
   * @throws Cancelled if the calling fiber (or `opts.signal`) is cancelled first; IoError if a
   *   write failed.
   */
  flushed?(opts?: BlockingOptions): Promise<void>;
}

/** What `shutdown` stops: sending (the peer sees end-of-file), receiving, or both. */
export type ShutdownCommand = "send" | "receive" | "all";

/** Something that can be half-closed. */
export interface Shutdown {
  /**
   * Stops sending and/or receiving. After `"receive"`, pending and later reads see
   * end-of-file; after `"send"`, the peer reads end-of-file once the data written is sent.
   * @throws IoError if the object is closed.
   */
  shutdown(cmd: ShutdownCommand): Promise<void>;
}

/** Something that holds a resource until closed. Closing twice is fine. */
export interface Closable extends AsyncDisposable {
  /** Releases the resource. A second call waits for the first to finish and does nothing. */
  close(): Promise<void>;
}

/** A bidirectional flow: a source and a sink that can be half-closed and closed. */
export interface TwoWay extends Source, Sink, Shutdown, Closable {}
