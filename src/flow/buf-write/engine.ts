/**
 * The engine under every buffered writer (`BufWriter`, and `Tcp.Writer` on it): one buffer that
 * collects writes, one flush that hands them to a {@link Sink}, and the bounds.
 *
 * - Writes copy into a small buffer taken on the first write and given back once everything is
 *   written: an idle writer holds no memory. The first writer of a turn takes the buffer the
 *   writers share (`scratch.ts`), so a server's connections reuse the same memory.
 * - The flush is due at the end of the event loop's turn (`core/turn-end.ts`, once for all writers),
 *   so the writes made together go out together, in one vectored write, and a server answering
 *   many clients in one turn sends their replies back to back, as Redis does before it sleeps. A sink that can write synchronously (`tryWrite` and
 *   `flushed`, a Node socket) is written with no promise and no fiber when the kernel takes it
 *   all; otherwise (or when the sink keeps some) a drain loop runs until the writer is idle.
 * - Bounds: `maxUnflushed` bytes may wait (a write past it fails the writer), and the oldest may
 *   wait `bufferAgeLimit` ms (one timer per clock watches every writer, see `AgeWatchdog`).
 * @module
 */
import { Buffer } from "node:buffer";
import {
  CancelContext,
  type Clock,
  currentFiber,
  runInFiber,
  type Scheduler,
  type Switch,
  suspend,
} from "../../core/index.ts";
import { atTurnEnd, type TurnEndTask } from "../../core/turn-end.ts";
import type { Sink } from "../types.ts";
import { AgeWatchdog, type Watched } from "./age-watchdog.ts";
import { FlushAborted, WriterBufferAgeExceeded, WriterBufferLimitExceeded } from "./errors.ts";
import { abandonScratch, releaseScratch, SCRATCH_SIZE, takeScratch } from "./scratch.ts";

/** What the engine is told when it is made (checked by its callers). */
export interface EngineOptions {
  /** The buffer size when writes keep coming; `undefined`: adaptive (512 bytes, then 4000). */
  readonly initialSize: number | undefined;
  /** The `ready()` threshold. */
  readonly maxBuffered: number;
  /** The hard bound of unflushed bytes. */
  readonly maxUnflushed: number;
  /** The age limit in ms (`Infinity`: none). */
  readonly bufferAgeLimit: number;
  readonly clock: Clock;
  /** Who is written to, for error messages. */
  readonly peer: string | (() => string) | undefined;
  /** The switch whose fibers drain to the sink (they fail it if the sink does); `null`: none. */
  readonly sw: Switch | null;
}

/** A `sink.write` that returns at once, and the wait for what it kept. */
type TryWrite = (this: Sink, bufs: readonly Uint8Array[]) => boolean;
type TrySend = (this: Sink, bufs: readonly Uint8Array[]) => number;

interface Waiter {
  readonly threshold: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** Strings and byte arrays this short are copied by a loop (cheaper than a native call). */
const SHORT = 32;
/** Writes above this size get a buffer of their own when the buffer is adaptive. */
const SMALL_WRITE = 2048;
/** The adaptive buffer's size while writes keep coming (below Node's pool limit of 4 KiB). */
const BUSY_SIZE = 4000;
/** The adaptive buffer's size after the writer was idle (most messages are small). */
const FIRST_SIZE = 512;

const EMPTY = Buffer.alloc(0);
const ignore = (): void => {};

const RESOLVED: Promise<void> = Promise.resolve();
/** Empties `xs` (popping is much cheaper than `xs.length = 0` for the short lists here). */
function clear(xs: unknown[]): void {
  while (xs.length > 0) xs.pop();
}
/** The drains of a writer with no switch belong to no caller: a root, never cancelled. */
const DRAIN_CONTEXT = new CancelContext(null);

/**
 * The buffer, the flush and the bounds of a buffered writer. Its two faces are subclasses:
 * `BufWriter` (Eio's typed writes, which fill what {@link reserve} returns) and `Tcp.Writer`
 * (Async's names); each makes public what its API has.
 */
export abstract class WriteEngine implements Watched, TurnEndTask {
  /** The current buffer: `[#start, #pos)` is written and not yet queued; `#pos..` is free. */
  protected buf: Buffer = EMPTY;
  #view: DataView | null = null;
  #start = 0;
  protected pos = 0;
  /** Whether this writer holds the shared buffer (`scratch.ts`), in `buf` or in `#chunks`. */
  #scratch = false;
  /** Sealed buffers, to go out in the next flush (then swapped with `#spare`). */
  #chunks: Uint8Array[] = [];
  #spare: Uint8Array[] = [];
  /** Bytes accepted, handed to the sink, and taken by it (all since creation). */
  #queued = 0;
  #taken = 0;
  #written = 0;
  /** When the oldest byte not handed to the sink / handed and not taken was written. */
  #pendingSince = Number.NaN;
  #inflightSince = Number.NaN;
  #scheduled = false;
  #draining = false;
  #flushes: Waiter[] = [];
  #readyWaiters: Waiter[] = [];
  #state: "open" | "closed" | "aborted" = "open";
  #abortCause: unknown = undefined;
  readonly #sink: Sink;
  readonly #tryWrite: TryWrite | null;
  readonly #trySend: TrySend | null;
  readonly #opts: EngineOptions;
  readonly #watchdog: AgeWatchdog | null;
  /** The scheduler of the fiber that made the writer (the mock's, or the real one). */
  readonly #scheduler: Scheduler = currentFiber().scheduler;

  constructor(sink: Sink, opts: EngineOptions) {
    this.#sink = sink;
    const { tryWrite, flushed } = sink;
    // The synchronous path needs both halves of the contract: the write, and the wait for it
    this.#tryWrite =
      typeof tryWrite === "function" && typeof flushed === "function" ? tryWrite : null;
    const { trySend } = sink;
    this.#trySend = typeof trySend === "function" ? trySend : null;
    this.#opts = opts;
    this.#watchdog = opts.bufferAgeLimit === Infinity ? null : AgeWatchdog.of(opts.clock);
  }

  // The writer as the age watchdog sees it (no object of its own per writer)

  /** @internal The buffer age limit in ms. */
  get ageLimit(): number {
    return this.#opts.bufferAgeLimit;
  }

  /** @internal Whether the age watchdog holds this writer (kept by the watchdog). */
  watched = false;

  /** @internal When the oldest unwritten byte was written (clock ms), or NaN. */
  oldestUnflushed(): number {
    if (this.#written < this.#taken) return this.#inflightSince;
    if (this.#taken < this.#queued) return this.#pendingSince;
    return Number.NaN;
  }

  /** @internal The age limit is passed: the writer fails. */
  expire(now: number, oldest: number): void {
    const e = new WriterBufferAgeExceeded(
      this.#opts.bufferAgeLimit,
      now - oldest,
      this.unwritten,
      this.#peer(),
    );
    this.#fail(e);
  }

  #peer(): string | undefined {
    const p = this.#opts.peer;
    return typeof p === "function" ? p() : p;
  }

  /** Whether writes are refused (closed, or aborted); data may still be going out. */
  protected get writesClosed(): boolean {
    return this.#state !== "open";
  }

  /** The bytes written to the writer that the sink has not taken yet. */
  protected get unwritten(): number {
    return this.#queued - this.#written;
  }

  /** The bytes the sink has taken since the writer was made. */
  protected get written(): number {
    return this.#written;
  }

  /**
   * Called once when the writer fails by itself (its sink failed, or a bound was passed), after
   * it was aborted with `cause`. Nothing by default.
   */
  protected failed(_cause: unknown): void {}

  /** Throws unless the writer takes writes. */
  protected writable(): void {
    if (this.#state !== "open") throw new Error("cannot write to closed writer");
  }

  /** The view of the current buffer, for the numeric writes (made on first use). */
  protected view(): DataView {
    let v = this.#view;
    if (v === null) {
      const b = this.buf;
      v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this.#view = v;
    }
    return v;
  }

  /**
   * Makes room for `len` more bytes at `pos`, starting a new buffer if they do not fit (as Eio's
   * `ensure_space`, a new buffer is as large as the current one, or `len` if larger).
   */
  protected ensureSpace(len: number): void {
    if (this.buf.length - this.pos >= len) return;
    this.#seal();
    const cur = this.buf.length;
    const size = this.#opts.initialSize;
    // A writer starting from nothing writes into the shared buffer when it is free
    if (cur === 0 && size === undefined && len <= SCRATCH_SIZE) {
      const shared = takeScratch();
      if (shared !== null) {
        this.#scratch = true;
        this.buf = shared;
        this.#view = null;
        this.#start = 0;
        this.pos = 0;
        return;
      }
    }
    const usual =
      size === undefined
        ? cur === 0
          ? FIRST_SIZE
          : BUSY_SIZE
        : cur === 0
          ? size
          : Math.min(cur, Math.max(size, 65536));
    this.buf = Buffer.allocUnsafe(Math.max(usual, len));
    this.#view = null;
    this.#start = 0;
    this.pos = 0;
  }

  /** Whether a write of `len` bytes should get a buffer of its own rather than share one. */
  protected isLarge(len: number): boolean {
    return this.#opts.initialSize === undefined && len > SMALL_WRITE;
  }

  /** Writes the UTF-8 encoding of `s` (the caller has checked that writes are open). */
  protected writeString(s: string): void {
    const len = s.length;
    if (len <= SHORT && this.buf.length - this.pos >= len) {
      // A short string (a reply line, a header) is copied by a loop while it is ASCII: cheaper
      // than a call into Buffer.write; the first other character leaves it to Buffer.write.
      const buf = this.buf;
      const at = this.pos;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + i] = c;
      }
      if (i === len) {
        if (len === 0) return;
        this.pos = at + len;
        this.added(len);
        return;
      }
    }
    const max = len * 3; // a UTF-16 code unit never takes more than 3 bytes
    if (max === 0) return;
    if (this.isLarge(max)) {
      const bytes = Buffer.from(s, "utf8");
      const sent = this.#idleSend(bytes);
      if (sent < bytes.length) this.queue(sent === 0 ? bytes : bytes.subarray(sent));
      return;
    }
    // Count exactly only when the bound may not fit
    if (this.buf.length - this.pos < max) this.ensureSpace(Buffer.byteLength(s, "utf8"));
    const n = this.buf.write(s, this.pos, "utf8");
    this.pos += n;
    this.added(n);
  }

  /** Writes a copy of `bytes` (the caller has checked that writes are open). */
  protected writeBytes(bytes: Uint8Array): void {
    const len = bytes.length;
    if (len === 0) return;
    if (this.isLarge(len)) {
      // Idle, a large write goes straight to the sink: only what it leaves is copied
      const sent = this.#idleSend(bytes);
      if (sent === len) return;
      const copy = Buffer.allocUnsafe(len - sent);
      copy.set(sent === 0 ? bytes : bytes.subarray(sent));
      this.queue(copy);
      return;
    }
    const at = this.reserve(len);
    const buf = this.buf;
    if (len <= SHORT) for (let i = 0; i < len; i++) buf[at + i] = bytes[i] as number;
    else buf.set(bytes, at);
  }

  /**
   * If the writer is idle (nothing pending: the order is kept), offers `bytes` to the sink's
   * `trySend`; returns the bytes it took (0 if not offered).
   */
  #idleSend(bytes: Uint8Array): number {
    if (this.#trySend === null || this.#taken !== this.#queued || this.#draining) return 0;
    if (this.#state !== "open") return 0;
    let n: number;
    try {
      n = (this.#trySend as TrySend).call(this.#sink, [bytes]);
    } catch {
      return 0; // the usual flush reports the sink's error
    }
    this.#queued += n;
    this.#taken = this.#queued;
    this.#written = this.#queued;
    return n;
  }

  /** Reserves `len` bytes of the buffer and returns where they start; the caller fills them. */
  protected reserve(len: number): number {
    this.writable();
    this.ensureSpace(len);
    const at = this.pos;
    this.pos = at + len;
    this.added(len);
    return at;
  }

  /** Queues `bytes` as they are, after what the buffer holds (the caller keeps them unchanged). */
  protected queue(bytes: Uint8Array): void {
    this.#seal();
    this.#chunks.push(bytes);
    this.added(bytes.length);
  }

  /**
   * Accounts for `n` more bytes (already in the buffer or queued): checks the bound, starts the
   * age clock, and makes the flush due.
   * @throws WriterBufferLimitExceeded past `maxUnflushed` (the writer fails with it).
   */
  protected added(n: number): void {
    const unflushed = this.#queued + n - this.#written;
    if (unflushed > this.#opts.maxUnflushed) {
      const e = new WriterBufferLimitExceeded(this.#opts.maxUnflushed, unflushed, this.#peer());
      this.#fail(e);
      throw e;
    }
    const dog = this.#watchdog;
    if (dog !== null && this.#taken === this.#queued) {
      const since = this.#opts.clock.now();
      this.#pendingSince = since;
      dog.add(this, since);
    }
    this.#queued += n;
    if (!this.#scheduled && !this.#draining) {
      this.#scheduled = true;
      const sched = this.#scheduler;
      // The mock queues the flush behind the fibers that can run (Eio's writer fiber runs once
      // the writing fiber waits). For real, the flush waits for the end of the event loop's
      // turn, not of this callback: the replies to every client whose bytes came in this turn go
      // out back to back, so a client that answers them all wakes once (measured under
      // redis-benchmark -P 16: 0.77x -> 0.94x node:net on SET, 0.97x -> 1.18x on GET).
      if (sched.wake !== undefined) sched.wake(() => this.flushNow());
      else atTurnEnd(this);
    }
  }

  /** Moves the buffer's unqueued bytes to the chunk list (the buffer keeps its free space). */
  #seal(): void {
    if (this.pos > this.#start) {
      this.#chunks.push(this.buf.subarray(this.#start, this.pos));
      this.#start = this.pos;
    }
  }

  /** Hands everything queued to the sink's next write: returns the buffers. */
  #take(): Uint8Array[] {
    this.#seal();
    const bufs = this.#chunks;
    this.#chunks = this.#spare;
    this.#taken = this.#queued;
    this.#inflightSince = this.#pendingSince;
    return bufs;
  }

  /** The sink took `bufs`, up to byte `end`: wakes who waited for it; idle, gives memory back. */
  #took(bufs: Uint8Array[], end: number): void {
    clear(bufs);
    this.#spare = bufs;
    this.#written = end;
    const flushes = this.#flushes;
    if (flushes.length > 0) {
      let done = 0;
      while (done < flushes.length && (flushes[done] as Waiter).threshold <= end) done++;
      if (done > 0) for (const f of flushes.splice(0, done)) f.resolve();
    }
    if (this.#readyWaiters.length > 0 && this.unwritten <= this.#opts.maxBuffered) {
      for (const r of this.#readyWaiters.splice(0)) r.resolve();
    }
    if (this.#taken === this.#queued) {
      // The sink is done with everything written: the shared buffer can serve the next writer
      if (this.#scratch) {
        this.#scratch = false;
        releaseScratch();
      }
      this.buf = EMPTY;
      this.#view = null;
      this.#start = 0;
      this.pos = 0;
      this.#watchdog?.idle(this);
    }
  }

  /** @internal The end of the turn a write made the flush due in: {@link flushNow}. */
  turnEnded(): void {
    this.flushNow();
  }

  /**
   * @internal The flush made due by a write (run by the scheduler, or by {@link flushUnwritten}
   * when it is sooner): synchronous when the sink can take everything at once.
   */
  flushNow(): void {
    if (!this.#scheduled) return;
    this.#scheduled = false;
    if (this.#draining || this.#state === "aborted" || this.#taken === this.#queued) return;
    const bufs = this.#take();
    const end = this.#queued;
    const tryWrite = this.#tryWrite;
    if (tryWrite === null) {
      this.#startDrain(bufs, end, false);
      return;
    }
    let done: boolean;
    try {
      done = tryWrite.call(this.#sink, bufs);
    } catch (e) {
      this.#fail(e);
      return;
    }
    if (done) this.#took(bufs, end);
    else this.#startDrain(bufs, end, true);
  }

  /** Starts the drain loop in a fiber of the switch, or of the writer's own root context. */
  #startDrain(bufs: Uint8Array[], end: number, handed: boolean): void {
    this.#draining = true;
    const sw = this.#opts.sw;
    if (sw === null) {
      runInFiber({ ...currentFiber(), cc: DRAIN_CONTEXT }, () => {
        // #drain has failed the writer (and told `failed`) before it rejects
        this.#drain(bufs, end, handed).catch(ignore);
      });
      return;
    }
    let started = false;
    try {
      sw.forkDaemon(() => {
        started = true;
        return this.#drain(bufs, end, handed);
      });
    } catch {}
    // The switch is off (or finished): nothing will write, so nothing waits in vain
    if (!started) {
      this.#draining = false;
      this.abortWith(sw.cancelContext.reason);
    }
  }

  /**
   * Writes `bufs` (or, if `handed`, waits until the sink has them), then what was written
   * meanwhile, until the writer is idle.
   * @throws the sink's error (after failing the writer with it).
   */
  async #drain(bufs: Uint8Array[], end: number, handed: boolean): Promise<void> {
    const sink = this.#sink;
    const tryWrite = this.#tryWrite;
    try {
      if (handed) await (sink.flushed as () => Promise<void>).call(sink);
      else await sink.write(bufs);
      for (;;) {
        if (this.#state === "aborted") return;
        this.#took(bufs, end);
        if (this.#taken === this.#queued) return;
        bufs = this.#take();
        end = this.#queued;
        if (tryWrite === null) await sink.write(bufs);
        else if (!tryWrite.call(sink, bufs)) {
          await (sink.flushed as () => Promise<void>).call(sink);
        }
      }
    } catch (e) {
      this.#fail(e);
      throw e;
    } finally {
      this.#draining = false;
    }
  }

  /** The writer failed by itself: aborts it and tells {@link failed} (once). */
  #fail(e: unknown): void {
    if (this.#state === "aborted") return;
    this.abortWith(e);
    this.failed(e);
  }

  /**
   * Waits until everything written so far has been taken by the sink; at once if nothing is
   * pending (even after an abort).
   * @throws FlushAborted if the writer is aborted with data pending; Cancelled if the calling
   *   fiber (or `signal`) is cancelled first.
   */
  protected flushUnwritten(signal: AbortSignal | undefined): Promise<void> {
    // The flush due at the end of this turn happens now: when the sink takes it all at once
    // (the usual case for a socket), `write(); await flush()` costs no promise of ours.
    if (this.#scheduled && this.#tryWrite !== null) this.flushNow();
    if (this.#written === this.#queued) return RESOLVED;
    if (this.#state === "aborted") {
      return Promise.reject(new FlushAborted({ cause: this.#abortCause }));
    }
    // What was written before the flush goes as a buffer of its own (Eio's `flush_buffer`)
    this.#seal();
    return this.#wait(this.#flushes, this.#queued, signal);
  }

  /**
   * Waits until at most `maxBuffered` bytes are pending (at once if so already).
   * @throws FlushAborted if the writer is aborted first; Cancelled if the calling fiber (or
   *   `signal`) is cancelled first.
   */
  protected readyFor(signal: AbortSignal | undefined): Promise<void> {
    if (this.#state === "aborted") {
      return Promise.reject(new FlushAborted({ cause: this.#abortCause }));
    }
    if (this.unwritten <= this.#opts.maxBuffered) return RESOLVED;
    return this.#wait(this.#readyWaiters, 0, signal);
  }

  #wait(list: Waiter[], threshold: number, signal: AbortSignal | undefined): Promise<void> {
    return suspend<void>((resolve, reject) => {
      const waiter: Waiter = { threshold, resolve, reject };
      list.push(waiter);
      return () => {
        const i = list.indexOf(waiter);
        if (i >= 0) list.splice(i, 1);
      };
    }, signal);
  }

  /** Closes the writer for writing: later writes throw; what was written still goes out. */
  protected closeWrites(): void {
    if (this.#state === "open") this.#state = "closed";
  }

  /**
   * Closes the writer and drops what is not written yet: pending and later flushes reject with
   * `FlushAborted` (with `cause`). A drain in progress stops after its write.
   */
  protected abortWith(cause: unknown): void {
    if (this.#state !== "aborted") {
      this.#state = "aborted";
      this.#abortCause = cause;
      this.#chunks = [];
      // A write in progress may still use the shared buffer: give it up rather than back
      if (this.#scratch) {
        this.#scratch = false;
        abandonScratch();
      }
      this.buf = EMPTY;
      this.#view = null;
      this.#start = 0;
      this.pos = 0;
      this.#taken = this.#queued;
      this.#watchdog?.leave(this);
    }
    const err = (): FlushAborted => new FlushAborted({ cause: this.#abortCause });
    for (const f of this.#flushes.splice(0)) f.reject(err());
    for (const r of this.#readyWaiters.splice(0)) r.reject(err());
  }
}
