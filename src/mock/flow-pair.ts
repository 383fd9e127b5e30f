/**
 * `Mock.Flow.pair`: two connected in-memory stream sockets, a mock `socketpair`.
 * @module
 */

import { type BlockingOptions, EndOfFile, IoError, type Switch, suspend } from "../core/index.ts";
import type { ShutdownCommand } from "../flow/types.ts";
import { checkTimeout, FnIdleWatch } from "../net/deadlines.ts";
import { Ipaddr, Sockaddr, type StreamAddr, type StreamSocket } from "../net/index.ts";
import { publishIdleTimeout } from "../net/metrics.ts";
import { checkReadBuffer, checkShutdownCommand, checkWriteBuffers } from "./checks.ts";
import { currentMockScheduler } from "./scheduler.ts";
import { trace, traceData } from "./trace.ts";

/** Options of {@link pair}. */
export interface PairOptions {
  /** Close both sockets when this switch finishes. */
  readonly sw?: Switch | undefined;
  /**
   * How many bytes may wait in each direction before `write` waits for the reader
   * (default 65536).
   */
  readonly bufferSize?: number | undefined;
  /** Trace each side's reads, writes, shutdowns and closes under these names (default: silent). */
  readonly labels?: readonly [string, string] | undefined;
  /** The two sockets' addresses (`a`'s local address is `b`'s peer address; default `tcp:127.0.0.1:0`). */
  readonly addrs?: readonly [StreamAddr, StreamAddr] | undefined;
}

/** One direction of the pair: bytes written by one socket, waiting to be read by the other. */
class Pipe {
  readonly limit: number;
  chunks: Uint8Array[] = [];
  size = 0;
  /** Bytes that went in or out so far (what an idle deadline watches). */
  moved = 0;
  /** The writer will send no more (shut down or closed). */
  eof = false;
  /** The reader takes no more (shut down or closed): writes fail. */
  readerGone = false;
  readonly readers = new Set<() => void>();
  readonly writers = new Set<() => void>();

  constructor(limit: number) {
    this.limit = limit;
  }

  wakeReaders(): void {
    const ws = [...this.readers];
    this.readers.clear();
    for (const w of ws) w();
  }

  wakeWriters(): void {
    const ws = [...this.writers];
    this.writers.clear();
    for (const w of ws) w();
  }

  wait(set: Set<() => void>, what: string, signal: AbortSignal | undefined): Promise<void> {
    const done = currentMockScheduler()?.waiting(what);
    return suspend<void>((resolve) => {
      const w = (): void => resolve();
      set.add(w);
      return () => set.delete(w);
    }, signal).finally(() => done?.());
  }

  /** Takes up to `buf.length` bytes into `buf`. */
  take(buf: Uint8Array): number {
    let n = 0;
    while (n < buf.length && this.chunks.length > 0) {
      const c = this.chunks[0] as Uint8Array;
      const k = Math.min(c.length, buf.length - n);
      buf.set(c.subarray(0, k), n);
      n += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.size -= n;
    this.moved += n;
    return n;
  }
}

/** One end of a {@link pair}. */
class PairSocket implements StreamSocket {
  readonly localAddr: StreamAddr;
  readonly peerAddr: StreamAddr;
  readonly #in: Pipe;
  readonly #out: Pipe;
  readonly #label: string | undefined;
  #state: "open" | "closed" = "open";
  #receiveShut = false;
  #sendShut = false;
  #onClose: Array<() => void> = [];
  #idle: FnIdleWatch | null = null;
  #timedOut: IoError | null = null;
  /** Bytes read (see `StreamSocket.bytesRead`). */
  bytesRead = 0;
  /** Bytes written (see `StreamSocket.bytesWritten`). */
  bytesWritten = 0;

  constructor(
    inPipe: Pipe,
    outPipe: Pipe,
    label: string | undefined,
    local: StreamAddr,
    peer: StreamAddr,
  ) {
    this.#in = inPipe;
    this.#out = outPipe;
    this.#label = label;
    this.localAddr = local;
    this.peerAddr = peer;
  }

  #name(): string {
    return this.#label ?? "pair socket";
  }

  #check(op: string): void {
    if (this.#timedOut !== null) throw this.#timedOut;
    if (this.#state === "closed") throw new IoError({ kind: "Closed" }, [`${op} ${this.#name()}`]);
  }

  async readInto(buf: Uint8Array, opts?: BlockingOptions): Promise<number> {
    checkReadBuffer(buf);
    for (;;) {
      this.#check("reading from");
      const p = this.#in;
      if (p.size > 0 && !this.#receiveShut) {
        const n = p.take(buf);
        this.bytesRead += n;
        p.wakeWriters();
        if (this.#label !== undefined) traceData(this.#label, "read", buf.subarray(0, n));
        return n;
      }
      if (p.eof || this.#receiveShut) throw new EndOfFile();
      await p.wait(p.readers, `${this.#name()}: read`, opts?.signal);
    }
  }

  /** Waits until `n` bytes wait unread (or end of file); see `StreamSocket.awaitBuffered`. */
  async awaitBuffered(n: number, opts?: BlockingOptions): Promise<void> {
    for (;;) {
      this.#check("reading from");
      const p = this.#in;
      if (p.size >= n || p.eof || this.#receiveShut) return;
      await p.wait(p.readers, `${this.#name()}: wait for ${n} bytes`, opts?.signal);
    }
  }

  async write(bufs: readonly Uint8Array[], opts?: BlockingOptions): Promise<void> {
    checkWriteBuffers(bufs);
    this.#check("writing to");
    if (this.#label !== undefined) {
      const data = bufs.filter((b) => b.length > 0);
      if (data.length > 0)
        traceData(this.#label, "wrote", data.length === 1 ? (data[0] as Uint8Array) : data);
    }
    const p = this.#out;
    for (const b of bufs) {
      let off = 0;
      while (off < b.length) {
        this.#check("writing to");
        if (this.#sendShut || p.readerGone) {
          throw new IoError({ kind: "ConnectionReset", cause: new Error("EPIPE: broken pipe") }, [
            `writing to ${this.#name()}`,
          ]);
        }
        const room = p.limit - p.size;
        if (room <= 0) {
          await p.wait(p.writers, `${this.#name()}: write`, opts?.signal);
          continue;
        }
        const k = Math.min(room, b.length - off);
        // Copy: the caller may reuse its buffer once write resolves.
        p.chunks.push(b.slice(off, off + k));
        p.size += k;
        p.moved += k;
        this.bytesWritten += k;
        off += k;
        p.wakeReaders();
      }
    }
  }

  async shutdown(cmd: ShutdownCommand): Promise<void> {
    checkShutdownCommand(cmd);
    this.#check("shutting down");
    if (this.#label !== undefined) trace(`${this.#label}: shutdown ${cmd}`);
    if (cmd === "send" || cmd === "all") {
      this.#sendShut = true;
      this.#out.eof = true;
      this.#out.wakeReaders();
      this.#out.wakeWriters();
    }
    if (cmd === "receive" || cmd === "all") {
      this.#receiveShut = true;
      this.#in.readerGone = true;
      this.#in.chunks = [];
      this.#in.size = 0;
      this.#in.wakeReaders();
      this.#in.wakeWriters();
    }
  }

  setNoDelay(_enabled: boolean): void {}

  /** Whether its idle timeout closed it. */
  get idleTimedOut(): boolean {
    return this.#timedOut !== null;
  }

  setIdleTimeout(ms: number | null): void {
    if (ms !== null) checkTimeout("ms", ms);
    this.#idle?.cancel();
    this.#idle =
      ms === null || this.#state === "closed"
        ? null
        : new FnIdleWatch(
            ms,
            () => this.#in.moved + this.#out.moved,
            (err) => {
              if (this.#label !== undefined) trace(`${this.#label}: idle timeout`);
              this.#timedOut = err;
              publishIdleTimeout(this, ms);
              void this.close();
            },
          );
  }

  close(): Promise<void> {
    if (this.#state === "closed") return Promise.resolve();
    this.#state = "closed";
    this.#idle?.cancel();
    this.#idle = null;
    const hooks = this.#onClose;
    this.#onClose = [];
    for (const h of hooks) h();
    this.#out.eof = true;
    this.#in.readerGone = true;
    this.#in.chunks = [];
    this.#in.size = 0;
    for (const p of [this.#in, this.#out]) {
      p.wakeReaders();
      p.wakeWriters();
    }
    if (this.#label !== undefined) trace(`${this.#label}: closed`);
    return Promise.resolve();
  }

  attachToSwitch(sw: Switch): void {
    if (this.#state === "closed") return;
    const hook = sw.onRelease(() => this.close());
    this.#onClose.push(() => hook.remove());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Two connected stream sockets; disposing the pair closes both. */
export type StreamSocketPair = readonly [StreamSocket, StreamSocket] & AsyncDisposable;

/**
 * Two connected in-memory stream sockets (a mock `socketpair`): what one writes, the other
 * reads. Shutting down `"send"` gives the peer end-of-file once it has read the data;
 * `"receive"` makes pending and later reads give end-of-file and the peer's writes fail;
 * `close` does both, and makes the socket's own operations reject with `IoError` `Closed`.
 * Writing to a peer that no longer reads rejects with `IoError` `ConnectionReset`. Each
 * direction buffers at most `bufferSize` bytes, then `write` waits. Reads and writes wait
 * cancellably. The sockets are silent unless given `labels`.
 * @throws RangeError if `bufferSize` is not an integer > 0.
 * @example
 * ```ts
 * await using sockets = Mock.Flow.pair();
 * const [a, b] = sockets;
 * await a.write([new TextEncoder().encode("foo")]);
 * await a.close();
 * await b.readInto(new Uint8Array(10)); // 3
 * ```
 */
export function pair(opts: PairOptions = {}): StreamSocketPair {
  const size = opts.bufferSize ?? 65536;
  if (!Number.isInteger(size) || size <= 0) {
    throw new RangeError(`bufferSize must be an integer > 0, got ${String(size)}`);
  }
  const labels = opts.labels;
  const loop = Sockaddr.tcp(Ipaddr.V4.loopback, 0);
  const [addrA, addrB] = opts.addrs ?? [loop, loop];
  const ab = new Pipe(size);
  const ba = new Pipe(size);
  const a = new PairSocket(ba, ab, labels?.[0], Sockaddr.stream(addrA), Sockaddr.stream(addrB));
  const b = new PairSocket(ab, ba, labels?.[1], Sockaddr.stream(addrB), Sockaddr.stream(addrA));
  if (opts.sw !== undefined) {
    a.attachToSwitch(opts.sw);
    b.attachToSwitch(opts.sw);
  }
  const sockets: [StreamSocket, StreamSocket] = [a, b];
  return Object.assign(sockets, {
    async [Symbol.asyncDispose](): Promise<void> {
      await a.close();
      await b.close();
    },
  });
}
