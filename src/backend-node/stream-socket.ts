/**
 * `NodeStreamSocket`: a connected stream socket (TCP or Unix) of the Node backend, over a
 * `net.Socket`, with pull-based reads, writes that finish when the kernel has the bytes, and a
 * pipe-like fast path for `Flow.copy` between two sockets.
 * @module
 */
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { show } from "../core/checks.ts";
import {
  type BlockingOptions,
  type CancelContext,
  Cancelled,
  currentCancelContext,
  EndOfFile,
  IoError,
  type ReleaseHandle,
  type Switch,
  suspend,
} from "../core/index.ts";
import { Operation } from "../core/operation.ts";
import { runtimeHas } from "../core/runtime.ts";
import { atTurnEnd, claimTurn, type TurnEndTask } from "../core/turn-end.ts";
import { pump } from "../flow/flow-ops.ts";
import type { ShutdownCommand, Source } from "../flow/types.ts";
import { checkTimeout, deadlineClock, IdleWatch, timeoutError } from "../net/deadlines.ts";
import { publishIdleTimeout } from "../net/metrics.ts";
import type { StreamAddr } from "../net/sockaddr.ts";
import type { StreamSocket } from "../net/types.ts";
import { closedError, errorCode, toIoError } from "./errors.ts";
import { type Flushable, FlushQueue, WriteWait } from "./flush-queue.ts";
import { unixAddrOf } from "./native-addr.ts";
import { inetName } from "./socket-names.ts";
import {
  checkBuf,
  checkBufs,
  type DirectSend,
  directSend,
  handOver,
  restAfter,
} from "./socket-writes.ts";
import { deferReadStop } from "./tls-read-stop.ts";
import { type HasUnixFd, handleFd, unixFd } from "./unix-fd.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/** Where a `net.Socket` keeps the wrapper its listeners report to. */
const kOwner = Symbol("weir.NodeStreamSocket");
type Owned = Socket & { [kOwner]: NodeStreamSocket };

/**
 * The socket's one pending read (a socket serves one read at a time): reused for every read,
 * so a read that has to wait allocates only its promise.
 */
class ReadOp extends Operation<number | Uint8Array> {
  /** The caller's buffer, or `null` for `readChunk`. */
  buf: Uint8Array | null = null;

  start(
    buf: Uint8Array | null,
    cc: CancelContext,
    signal: AbortSignal | undefined,
  ): Promise<number | Uint8Array> {
    const p = this.open();
    this.buf = buf;
    this.arm(cc, signal);
    return p;
  }

  complete(v: number | Uint8Array): void {
    this.buf = null;
    this.settle(v);
  }

  override fail(e: unknown): boolean {
    this.buf = null;
    return super.fail(e);
  }

  protected override abort(): void {
    this.buf = null;
  }
}

/** The listeners every socket shares (set in {@link NodeStreamSocket}'s static block). */
let onData: (this: Socket, chunk: Buffer) => void;
let onEnd: (this: Socket) => void;
let onError: (this: Socket, err: Error) => void;
let onClose: (this: Socket) => void;

/** Friend functions of {@link NodeStreamSocket} (set in its static block) for {@link PipeOp}. */
let pipeDone: (op: PipeOp, src: NodeStreamSocket, dst: NodeStreamSocket) => void;
let flushQueueOf: (sock: NodeStreamSocket) => FlushQueue;
let wrote: (sock: NodeStreamSocket) => void;
/** Writes a chunk the caller owns: sent at once what the kernel takes, Node queues the rest. */
let writeOwned: (sock: NodeStreamSocket, bufs: readonly Buffer[]) => boolean;
/** Whether `sock` is written with one vectored system call (no TLS, an fd, the addon). */
let sendsDirect: (sock: NodeStreamSocket) => boolean;
/** The most a copy holds for the end of the turn: past it, what it holds goes out at once. */
const HOLD_AT_MOST = 256 * 1024;
let idleExpired: (sock: NodeStreamSocket, ms: number) => void;

/** A socket's idle deadline (see `deadlines.ts`): no closure per socket, one small object. */
class NodeIdle extends IdleWatch {
  readonly #sock: NodeStreamSocket;
  constructor(sock: NodeStreamSocket, ms: number) {
    super(ms, deadlineClock());
    this.#sock = sock;
  }
  protected expired(): void {
    idleExpired(this.#sock, this.ms);
  }
}

/** A pending {@link NodeStreamSocket.awaitBuffered}. */
interface Buffering {
  readonly n: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * `dst.copyFrom(src)` between two Node sockets: `src`'s chunks are written to `dst` straight
 * from its 'data' events (they are owned, so no copy and no promise per chunk): the turn's first
 * send at once, the turn's other chunks together at its end, at most 256 KiB held (a server
 * echoing many clients answers them back to back, a stream goes in larger writes: measured
 * against sending each chunk at once, pingpong 1.15x, stream 1.2x, connection rate 0.96x); when `dst`'s
 * buffer passes its high-water mark, `src` pauses until `dst` has flushed. It finishes at
 * `src`'s end of file, once `dst` has handed everything to the kernel. One small object per
 * copy (no closures), since an idle echo connection holds one.
 */
class PipeOp extends Operation<void> implements Flushable, TurnEndTask {
  readonly #src: NodeStreamSocket;
  readonly #dst: NodeStreamSocket;
  readonly #srcRaw: Socket;
  readonly #dstRaw: Socket;
  /** 1: blocked on `dst`'s flush; 2: ending (waiting for the final flush); 4: done. */
  #flags = 0;
  /** Chunks waiting for the end of the turn (in order), or `null`; `#held` bytes of them. */
  #queued: Buffer[] | null = null;
  #held = 0;
  readonly promise: Promise<void>;

  constructor(src: NodeStreamSocket, dst: NodeStreamSocket, srcRaw: Socket, dstRaw: Socket) {
    super();
    this.#src = src;
    this.#dst = dst;
    this.#srcRaw = srcRaw;
    this.#dstRaw = dstRaw;
    this.promise = this.open();
  }

  /**
   * Writes one owned chunk of the source: at once if it is the turn's first send, else at the
   * end of the turn with the turn's other sends (see `core/turn-end.ts`), in one vectored write,
   * unless more than {@link HOLD_AT_MOST} bytes wait; at once always when `dst` is not written
   * with one system call (TLS, which encrypts each write apart, or no fd). Pauses the source if
   * `dst` is full.
   */
  chunk(c: Buffer): void {
    wrote(this.#dst);
    const queued = this.#queued;
    if (queued !== null) {
      queued.push(c); // behind what waits already: order is kept
      this.#held += c.length;
      if (this.#held > HOLD_AT_MOST) {
        this.#queued = [];
        this.#held = 0;
        this.#send(queued);
      }
    } else if (sendsDirect(this.#dst) && !claimTurn()) {
      this.#queued = [c];
      this.#held = c.length;
      atTurnEnd(this);
    } else this.#send([c]);
  }

  turnEnded(): void {
    const queued = this.#queued;
    this.#queued = null;
    this.#held = 0;
    if (queued === null || (this.#flags & 4) !== 0) return;
    if (queued.length > 0) this.#send(queued);
    const flags = this.#flags;
    // The source ended while these waited: finish once they are flushed
    if ((flags & 3) === 2) {
      if (this.#dstRaw.writableLength === 0) this.#finish(undefined);
      else flushQueueOf(this.#dst).wait(this);
    }
  }

  #send(bufs: readonly Buffer[]): void {
    if (!writeOwned(this.#dst, bufs) && (this.#flags & 5) === 0) {
      this.#flags |= 1;
      this.#srcRaw.pause();
      flushQueueOf(this.#dst).wait(this);
    }
  }

  /** Starts moving data (after the source's leftover chunk, if any, went through `chunk`). */
  start(): void {
    if ((this.#flags & 5) === 0) this.#srcRaw.resume();
  }

  flushed(err: unknown): void {
    const flags = this.#flags;
    if ((flags & 4) !== 0) return;
    if (err !== null && err !== undefined) this.#finish(toIoError(err));
    else if ((flags & 2) !== 0) this.#finish(undefined);
    else {
      this.#flags = flags & ~1;
      this.#srcRaw.resume();
    }
  }

  /** The source reached its end: finish once `dst` has flushed. */
  ended(): void {
    const flags = this.#flags;
    if ((flags & 6) !== 0) return;
    this.#flags = flags | 2;
    if (this.#queued !== null) return; // the end of the turn sends them, then finishes
    if (this.#dstRaw.writableLength === 0) this.#finish(undefined);
    else if ((flags & 1) === 0) flushQueueOf(this.#dst).wait(this);
    // else: the flush already queued for the block finishes the copy
  }

  override fail(e: unknown): boolean {
    if ((this.#flags & 4) !== 0) return false;
    this.#finish(e);
    return true;
  }

  /** Cancelled: the copy stops (before the rejection with `Cancelled`). */
  protected override abort(): void {
    this.#flags |= 4;
    this.#queued = null;
    pipeDone(this, this.#src, this.#dst);
  }

  #finish(err: unknown): void {
    this.#flags |= 4;
    this.#queued = null;
    pipeDone(this, this.#src, this.#dst);
    if (err === undefined) this.settle(undefined);
    else super.fail(err);
  }
}

/** What a {@link NodeStreamSocket} knows of its addresses when it is made. */
export interface StreamSocketInit {
  /** "tcp" or "unix": how to read the addresses from the socket. */
  readonly kind: "tcp" | "unix";
  /** The peer's address, if known (it is read from the socket otherwise). */
  readonly peerAddr?: StreamAddr | undefined;
  /** The local address, if known (it is read from the socket otherwise). */
  readonly localAddr?: StreamAddr | undefined;
}

/**
 * A connected stream socket of the Node backend (TCP or Unix), over a `net.Socket` that must
 * have been made with `allowHalfOpen: true` and not be reading yet (paused: `pauseOnConnect`,
 * or `pause()` before it connects). Made by `NodeNet.connect`, `accept`, and `weir/unix`'s
 * imports; attached to a switch with {@link NodeStreamSocket.attach}.
 *
 * Reads are pull-based: nothing is read from the kernel until a read asks, and at most one
 * chunk is read ahead (plus what Node's stream buffers below its 64 KiB high-water mark), so
 * a reader that stops reading makes the peer's writes block. Writes resolve once the kernel
 * has the bytes. `copyFrom` a `NodeStreamSocket` pipes chunks from 'data' events with
 * pause/resume on backpressure.
 *
 * Errors are `IoError`s (`ConnectionReset` for ECONNRESET/EPIPE); using the socket after
 * `close()` gives `IoError` `Closed`. One read at a time: a second concurrent read throws.
 * @example
 * ```ts
 * const sock = await env.net.connect("tcp:127.0.0.1:8080", { sw });
 * await sock.write([new TextEncoder().encode("hello")]);
 * await sock.shutdown("send");
 * const buf = new Uint8Array(100);
 * const n = await sock.readInto(buf);
 * ```
 */
export class NodeStreamSocket implements StreamSocket, HasUnixFd {
  readonly #raw: Socket;
  readonly #kind: "tcp" | "unix";
  #state: "open" | "closing" | "closed" = "open";
  #release: ReleaseHandle | null = null;
  #closing: Promise<void> | null = null;
  #closeResolve: (() => void) | null = null;
  /** Node emitted 'close' (the handle is gone). */
  #rawClosed = false;
  /** The rest of a chunk a read did not take (or a chunk that came with no read waiting). */
  #stash: Buffer | null = null;
  /** End of file seen ('end', or `shutdown("receive")`). */
  #eof = false;
  #sendShut = false;
  /** Why writes are refused from now on, though the socket is open (see {@link refuseWrites}). */
  #refused: Error | null = null;
  /** The error Node reported on the socket (raw; mapped with `toIoError` at each use). */
  #error: unknown = null;
  #read: ReadOp | null = null;
  #flushes: FlushQueue | null = null;
  /** The copy reading from this socket. */
  #pipeOut: PipeOp | null = null;
  /** The copy writing to this socket. */
  #pipeIn: PipeOp | null = null;
  #peer: StreamAddr | null;
  #local: StreamAddr | null;
  /** The idle deadline (`setIdleTimeout`), or `null`. */
  #idle: NodeIdle | null = null;
  /** A pending `awaitBuffered`, or `null`. */
  #buffering: Buffering | null = null;
  /** The addon's non-blocking send, for a plain socket ({@link #sendDirect}), or `null`. */
  #direct: DirectSend | null;
  /** Bytes sent past Node by {@link #sendDirect} (Node's `bytesWritten` does not see them). */
  #sentDirect = 0;

  /**
   * Wraps `raw` (see the class comment for what it must be). Prefer
   * {@link NodeStreamSocket.attach} to give it an owner.
   * @throws TypeError if `init.kind` is not "tcp" or "unix".
   */
  constructor(raw: Socket, init: StreamSocketInit) {
    if (init?.kind !== "tcp" && init?.kind !== "unix") {
      throw new TypeError(`init.kind must be "tcp" or "unix", got ${show(init?.kind)}`);
    }
    this.#raw = raw;
    this.#kind = init.kind;
    this.#peer = init.peerAddr ?? null;
    this.#local = init.localAddr ?? null;
    this.#direct = raw instanceof TLSSocket ? null : directSend();
    if (raw instanceof TLSSocket) {
      if (!runtimeHas("empty-tls-write")) this.#flushes = FlushQueue.tracking(raw);
      if (!runtimeHas("tls-end-after-read-stop")) deferReadStop(raw);
    }
    // Before the 'data' listener, which would otherwise start the flow
    raw.pause();
    (raw as Owned)[kOwner] = this;
    raw.on("data", onData);
    raw.on("end", onEnd);
    raw.on("error", onError);
    raw.on("close", onClose);
  }

  /**
   * Makes `sock` owned by `sw`: it is closed when `sw` finishes (unless closed before; closing
   * it removes the hook).
   * @throws Error "Switch finished!" if `sw` has finished (the socket is then closed).
   * @example
   * ```ts
   * const sock = new NodeStreamSocket(raw, { kind: "tcp" });
   * NodeStreamSocket.attach(sock, sw);
   * ```
   */
  static attach(sock: NodeStreamSocket, sw: Switch): void {
    // A bound function: smaller than a closure, and an idle connection holds one
    sock.#release = sw.onRelease(sock.close.bind(sock));
  }

  static {
    // Listeners are shared functions, not closures per socket: `this` is the net.Socket.
    onData = function (this: Socket, chunk: Buffer): void {
      (this as Owned)[kOwner].#data(chunk);
    };
    onEnd = function (this: Socket): void {
      (this as Owned)[kOwner].#end();
    };
    onError = function (this: Socket, err: Error): void {
      (this as Owned)[kOwner].#failed(err);
    };
    onClose = function (this: Socket): void {
      (this as Owned)[kOwner].#closed();
    };
    pipeDone = (op, src, dst) => {
      if (src.#pipeOut === op) src.#pipeOut = null;
      if (dst.#pipeIn === op) dst.#pipeIn = null;
    };
    flushQueueOf = (sock) => {
      sock.#flushes ??= new FlushQueue(sock.#raw);
      return sock.#flushes;
    };
    sendsDirect = (sock) => sock.#direct !== null;
    wrote = (sock) => {
      const idle = sock.#idle;
      if (idle !== null) idle.activity++;
    };
    idleExpired = (sock, ms) => sock.#idleExpired(ms);
    writeOwned = (sock, bufs) => {
      const rest = sock.#sendDirect(bufs);
      if (rest === null) return true;
      const raw = sock.#raw;
      handOver(raw, rest);
      return !raw.writableNeedDrain;
    };
  }

  /**
   * From now on, writes on `sock` fail with `err` (and `shutdown("send")` does nothing): the
   * runtime has ended the sending side itself (Bun's TLS over a JavaScript stream, when the
   * peer's close_notify comes). Closing, and an error the socket reported, still say so.
   */
  static refuseWrites(sock: NodeStreamSocket, err: Error): void {
    sock.#refused = err;
    sock.#sendShut = true;
  }

  /** The underlying `net.Socket` (for `weir/unix` and tests; do not read from it). */
  static raw(sock: NodeStreamSocket): Socket {
    return sock.#raw;
  }

  #data(chunk: Buffer): void {
    const idle = this.#idle;
    if (idle !== null) idle.activity++;
    const pipe = this.#pipeOut;
    if (pipe !== null) {
      pipe.chunk(chunk);
      return;
    }
    if (this.#eof) return; // shutdown("receive"): drop
    const op = this.#read;
    if (op?.pending) {
      const buf = op.buf;
      if (buf === null) {
        op.complete(chunk);
        return;
      }
      const n = Math.min(chunk.length, buf.length);
      buf.set(n === chunk.length ? chunk : chunk.subarray(0, n));
      if (n < chunk.length) {
        this.#stash = chunk.subarray(n);
        this.#raw.pause();
      }
      op.complete(n);
      return;
    }
    // Nobody is reading: keep the chunk and stop reading from the kernel.
    const stash = this.#stash;
    const kept = stash === null ? chunk : Buffer.concat([stash, chunk]);
    this.#stash = kept;
    const b = this.#buffering;
    if (b !== null) {
      if (kept.length < b.n) return; // awaitBuffered: read on
      this.#buffering = null;
      b.resolve();
    }
    this.#raw.pause();
  }

  #end(): void {
    if (this.#eof) return;
    this.#eof = true;
    const pipe = this.#pipeOut;
    if (pipe !== null) pipe.ended();
    const op = this.#read;
    if (op?.pending && this.#stash === null) op.fail(new EndOfFile());
    this.#endBuffering(null);
  }

  /** Ends a pending `awaitBuffered`: resolved (`null`: end of file), or rejected with `err`. */
  #endBuffering(err: unknown): void {
    const b = this.#buffering;
    if (b === null) return;
    this.#buffering = null;
    if (err === null) b.resolve();
    else b.reject(err);
  }

  /** The idle deadline passed: fail what waits with `Timeout` `idle` and close the handle. */
  #idleExpired(ms: number): void {
    if (this.#state !== "open" || this.#rawClosed) return;
    publishIdleTimeout(this, ms);
    this.#failed(timeoutError("idle", ms));
    this.#raw.destroy();
  }

  #failed(err: Error): void {
    if (this.#error === null) this.#error = err;
    this.#endBuffering(toIoError(err));
    const op = this.#read;
    if (op?.pending) op.fail(toIoError(err));
    this.#flushes?.failAll(err);
    this.#pipeOut?.fail(toIoError(err));
    this.#pipeIn?.fail(toIoError(err));
  }

  #closed(): void {
    this.#rawClosed = true;
    this.#abortAll();
    if (this.#closeResolve !== null) {
      this.#state = "closed";
      const r = this.#closeResolve;
      this.#closeResolve = null;
      r();
    }
  }

  /** Fails every pending operation: the socket is gone (closed by us or by Node). */
  #abortAll(): void {
    const err = this.#error;
    const e = (op: string): IoError => (err !== null ? toIoError(err) : closedError(op));
    const read = this.#read;
    if (read?.pending) read.fail(e("read"));
    const flushes = this.#flushes;
    if (flushes?.waiting) flushes.failAll(err ?? closedError("write"));
    this.#pipeOut?.fail(e("copy"));
    this.#pipeIn?.fail(e("copy"));
    // An error costs a stack trace: made only for a wait that is there to take it
    if (this.#buffering !== null) this.#endBuffering(e("read"));
    const idle = this.#idle;
    this.#idle = null;
    idle?.cancel();
  }

  /** Why an operation cannot start now, or `null` if it can. */
  #unusable(op: string): IoError | null {
    const bad = this.#unusableState(op);
    if (bad !== null) return bad;
    if (this.#raw.destroyed) return closedError(op);
    return null;
  }

  /** Like {@link #unusable}, ignoring that Node may have destroyed the socket after its end. */
  #unusableState(op: string): IoError | null {
    if (this.#state !== "open") return closedError(op);
    if (this.#error !== null) return toIoError(this.#error);
    return null;
  }

  /** The peer's address. @throws IoError `Closed` if it was never read and the socket is closed. */
  get peerAddr(): StreamAddr {
    if (this.#peer === null) this.#peer = this.#readAddr("peer");
    return this.#peer;
  }

  /**
   * The local address (for a Unix client socket, `unix:` with an empty path).
   * @throws IoError `Closed` if it was never read and the socket is closed.
   */
  get localAddr(): StreamAddr {
    if (this.#local === null) this.#local = this.#readAddr("local");
    return this.#local;
  }

  /** Bytes received so far (Node's count; on TLS, the decrypted bytes); kept after `close`. */
  get bytesRead(): number {
    return this.#raw.bytesRead;
  }

  /** Bytes written so far (handed to the kernel or queued in Node); kept after `close`. */
  get bytesWritten(): number {
    return this.#raw.bytesWritten + this.#sentDirect;
  }

  /** Whether its idle timeout closed it. */
  get idleTimedOut(): boolean {
    const e = this.#error;
    return e instanceof IoError && e.err.kind === "Timeout" && e.err.during === "idle";
  }

  #readAddr(which: "peer" | "local"): StreamAddr {
    if (this.#kind === "unix") return unixAddrOf("");
    const a = inetName(this.#raw, which);
    if (a === undefined) throw closedError(`${which}Addr`);
    return a;
  }

  /**
   * Closes the socket once no byte has moved either way for `ms` (`null`: never, the default):
   * a blocked read or write then rejects with `IoError` `Timeout` (`during: "idle"`), as do
   * later ones. The clock is the running env's; the check is a coarse sweep shared by every
   * socket (it fires up to an eighth of `ms`, at most 1 s, late), never a timer per read.
   * @throws TypeError/RangeError for `ms` other than `null` or a number of ms > 0.
   */
  setIdleTimeout(ms: number | null): void {
    if (ms !== null) checkTimeout("ms", ms);
    this.#idle?.cancel();
    this.#idle = ms === null || this.#state !== "open" ? null : new NodeIdle(this, ms);
  }

  /**
   * Waits until at least `n` bytes have arrived unread (they stay for the next reads), or the
   * peer's end of file. For a server's `headerTimeout`, which must not read for the handler.
   * @throws IoError (the socket failed or was closed); Cancelled.
   */
  awaitBuffered(n: number, opts?: BlockingOptions): Promise<void> {
    const stash = this.#stash;
    if ((stash !== null && stash.length >= n) || this.#eof) return RESOLVED;
    const bad = this.#unusable("read");
    if (bad !== null) return Promise.reject(bad);
    if (this.#read?.pending || this.#pipeOut !== null || this.#buffering !== null) {
      return Promise.reject(new Error("awaitBuffered: the socket is already being read"));
    }
    return suspend<void>((resolve, reject) => {
      this.#buffering = { n, resolve, reject };
      this.#raw.resume();
      return () => {
        this.#buffering = null;
        if (!this.#rawClosed) this.#raw.pause();
      };
    }, opts?.signal);
  }

  /**
   * Turns Nagle's algorithm off (`true`, the default for weir's sockets) or on. No effect on
   * Unix sockets.
   * @throws TypeError if `enabled` is not a boolean.
   */
  setNoDelay(enabled: boolean): void {
    if (typeof enabled !== "boolean") {
      throw new TypeError(`enabled must be a boolean, got ${show(enabled)}`);
    }
    if (this.#state === "open" && !this.#rawClosed) this.#raw.setNoDelay(enabled);
  }

  /**
   * Reads at least one byte into `buf` and returns how many (Eio's `single_read`). Takes what
   * a previous read left over first; otherwise starts reading from the kernel and waits for
   * the next chunk (copying what fits, keeping the rest for the next read).
   * @throws RangeError if `buf` is empty; TypeError if it is not a Uint8Array; EndOfFile at the
   *   end (also after `shutdown("receive")`); Cancelled; IoError (`ConnectionReset`, `Closed`).
   */
  readInto(buf: Uint8Array, opts?: BlockingOptions): Promise<number> {
    checkBuf(buf, "buf");
    if (buf.length === 0) throw new RangeError("buf must not be empty, got a 0-byte buffer");
    const stash = this.#stash;
    if (stash !== null && this.#state === "open") {
      const n = Math.min(stash.length, buf.length);
      if (n === stash.length) {
        buf.set(stash);
        this.#stash = null;
      } else {
        buf.set(stash.subarray(0, n));
        this.#stash = stash.subarray(n);
      }
      return Promise.resolve(n);
    }
    return this.#wait(buf, opts?.signal) as Promise<number>;
  }

  /**
   * Returns the next chunk of data, which the caller then owns (no copy): the Source fast path
   * that `Flow.copy` and `BufRead` use. Same errors as {@link readInto}.
   */
  readChunk(opts?: BlockingOptions): Promise<Uint8Array> {
    const stash = this.#stash;
    if (stash !== null && this.#state === "open") {
      this.#stash = null;
      return Promise.resolve(stash);
    }
    return this.#wait(null, opts?.signal) as Promise<Uint8Array>;
  }

  #wait(buf: Uint8Array | null, signal: AbortSignal | undefined): Promise<number | Uint8Array> {
    if (this.#state !== "open") return Promise.reject(closedError("read"));
    if (this.#error !== null) return Promise.reject(toIoError(this.#error));
    if (this.#eof) return Promise.reject(new EndOfFile());
    if (this.#raw.destroyed) return Promise.reject(closedError("read"));
    if (this.#read?.pending || this.#pipeOut !== null) {
      return Promise.reject(
        new Error("read: another read (or a copy) is already using this socket"),
      );
    }
    const cc = currentCancelContext();
    if (cc.cancelled) return Promise.reject(new Cancelled(cc.reason));
    if (signal?.aborted) return Promise.reject(new Cancelled(signal.reason));
    this.#read ??= new ReadOp();
    const p = this.#read.start(buf, cc, signal);
    if (this.#raw.isPaused()) this.#raw.resume();
    return p;
  }

  /**
   * Writes all of `bufs`, in order, several buffers in one system call (writev). Resolves as
   * soon as the kernel has the bytes: at once when it takes them all, else when Node's write
   * callback reports them sent. A peer that does not read makes this wait, so memory stays
   * bounded.
   * @throws TypeError if `bufs` is not an array of Uint8Array; Cancelled (the bytes still go
   *   out: do not reuse the buffers until a later write or `close`); IoError
   *   (`ConnectionReset` when the peer has gone, `Closed` after `close()` or
   *   `shutdown("send")`).
   */
  write(bufs: readonly Uint8Array[], opts?: BlockingOptions): Promise<void> {
    checkBufs(bufs);
    const bad = this.#unwritable();
    if (bad !== null) return Promise.reject(bad);
    const raw = this.#raw;
    const idle = this.#idle;
    if (idle !== null) idle.activity++;
    const rest = this.#sendDirect(bufs);
    if (rest === null) return RESOLVED;
    handOver(raw, rest);
    if (raw.writableLength === 0) {
      const err = raw.errored;
      return err === null ? RESOLVED : Promise.reject(toIoError(err));
    }
    return this.#flushed(opts?.signal);
  }

  /**
   * Resolves once every buffer handed to {@link write} or {@link tryWrite} is in the kernel (at
   * once if none waits in Node's queue).
   * @throws Cancelled; IoError if a write failed.
   */
  flushed(opts?: BlockingOptions): Promise<void> {
    const raw = this.#raw;
    if (raw.writableLength === 0) {
      const err = raw.errored;
      return err === null ? RESOLVED : Promise.reject(toIoError(err));
    }
    return this.#flushed(opts?.signal);
  }

  /** Why a write cannot start now, or `null` if it can. */
  #unwritable(): Error | null {
    const bad = this.#unusable("write");
    if (bad !== null) {
      const refused = this.#refused;
      return refused !== null && this.#state === "open" && this.#error === null ? refused : bad;
    }
    if (this.#sendShut) {
      return (
        this.#refused ??
        new IoError({
          kind: "Closed",
          cause: new Error('write: the socket was shut down for sending (shutdown("send"))'),
        })
      );
    }
    // Not writable at all (an imported read-only end, say): Node would drop the bytes quietly
    if (!this.#raw.writable) return closedError("write");
    return null;
  }

  /** Waits until every queued write has reached the kernel. */
  #flushed(signal: AbortSignal | undefined): Promise<void> {
    const cc = currentCancelContext();
    if (cc.cancelled) return Promise.reject(new Cancelled(cc.reason));
    if (signal?.aborted) return Promise.reject(new Cancelled(signal.reason));
    const w = new WriteWait();
    const p = w.open();
    w.arm(cc, signal);
    flushQueueOf(this).wait(w);
    return p;
  }

  /**
   * Reads `src` to its end and writes everything here (the fast path of `Flow.copy`). From
   * another `NodeStreamSocket` (or this one: an echo), chunks go from `src`'s 'data' events
   * straight to this socket, `src` pausing while this socket's buffer is above its high-water
   * mark; from any other source, a loop over `readChunk` (or `readInto`) and `write`.
   * Resolves once the kernel has all the bytes.
   * @throws what the reads and writes throw (not EndOfFile: that ends the copy); Cancelled (no
   *   listener or pending operation is left behind).
   */
  copyFrom(src: Source, opts?: BlockingOptions): Promise<void> {
    if (src instanceof NodeStreamSocket) return this.#pipeFrom(src, opts?.signal);
    return this.#copyLoop(src, opts);
  }

  #pipeFrom(src: NodeStreamSocket, signal: AbortSignal | undefined): Promise<void> {
    const bad = this.#unwritable();
    if (bad !== null) return Promise.reject(bad);
    const srcBad = src.#eof ? src.#unusableState("read") : src.#unusable("read");
    if (srcBad !== null) return Promise.reject(srcBad);
    if (src.#read?.pending || src.#pipeOut !== null || this.#pipeIn !== null) {
      return Promise.reject(
        new Error("copyFrom: the source is already being read, or this sink already copied to"),
      );
    }
    const cc = currentCancelContext();
    if (cc.cancelled) return Promise.reject(new Cancelled(cc.reason));
    if (signal?.aborted) return Promise.reject(new Cancelled(signal.reason));
    const op = new PipeOp(src, this, src.#raw, this.#raw);
    src.#pipeOut = op;
    this.#pipeIn = op;
    op.arm(cc, signal);
    const stash = src.#stash;
    if (stash !== null) {
      src.#stash = null;
      op.chunk(stash);
    }
    if (src.#eof) op.ended();
    else op.start();
    return op.promise;
  }

  async #copyLoop(src: Source, opts: BlockingOptions | undefined): Promise<void> {
    if (typeof src?.readInto !== "function") {
      throw new TypeError(`src must be a Source, got ${show(src)}`);
    }
    const signal = opts?.signal;
    await pump(
      src,
      (chunk, owned) => (owned ? this.#writeOwned(chunk, signal) : this.write([chunk], opts)),
      opts,
    );
    if (this.#raw.writableLength > 0) await this.#flushed(signal);
  }

  /** Writes a chunk the caller gives away: returns at once while Node's buffer is below its mark. */
  #writeOwned(chunk: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    checkBuf(chunk, "chunk");
    const bad = this.#unwritable();
    if (bad !== null) return Promise.reject(bad);
    if (chunk.length === 0) return RESOLVED;
    const idle = this.#idle;
    if (idle !== null) idle.activity++;
    if (this.#raw.write(chunk)) return RESOLVED;
    const err = this.#raw.errored;
    if (err !== null) return Promise.reject(toIoError(err));
    return this.#flushed(signal);
  }

  /**
   * Half-closes the socket. `"send"`: the peer reads end-of-file once the data written so far
   * has gone (waits for Node to hand it to the kernel and shut the socket down). `"receive"`:
   * stops reading; pending and later reads see end-of-file. `"all"`: both. Shutting a
   * direction down twice does nothing.
   * @throws TypeError for another command; IoError `Closed` after `close()`; Cancelled.
   */
  async shutdown(cmd: ShutdownCommand): Promise<void> {
    if (cmd !== "send" && cmd !== "receive" && cmd !== "all") {
      throw new TypeError(`cmd must be "send", "receive" or "all", got ${show(cmd)}`);
    }
    if (this.#state !== "open") throw closedError("shutdown");
    if (cmd !== "send") this.#shutdownReceive();
    if (cmd !== "receive") await this.#shutdownSend();
  }

  #shutdownReceive(): void {
    if (this.#eof) {
      this.#stash = null;
      return;
    }
    this.#eof = true;
    this.#stash = null;
    if (!this.#rawClosed) this.#raw.pause();
    this.#pipeOut?.ended();
    const op = this.#read;
    if (op?.pending) op.fail(new EndOfFile());
  }

  #shutdownSend(): Promise<void> {
    if (this.#sendShut) return RESOLVED;
    this.#sendShut = true;
    if (this.#error !== null) return Promise.reject(toIoError(this.#error));
    if (this.#rawClosed) return RESOLVED;
    const raw = this.#raw;
    // A write failed and destroyed the socket, its 'error' event still to come (Deno emits it
    // after the write's callback): that failure, not "Cannot call end after destroyed"
    if (raw.errored !== null && raw.errored !== undefined) {
      return Promise.reject(toIoError(raw.errored));
    }
    return suspend<void>((resolve, reject) => {
      raw.end((err?: Error | null) => {
        // The peer may have gone already: nothing left to shut down
        if (err === null || err === undefined || errorCode(err) === "ENOTCONN") resolve();
        else reject(toIoError(err));
      });
      return undefined;
    });
  }

  /**
   * Closes the socket (destroying it: data Node has not yet handed to the kernel is dropped)
   * and resolves once Node has closed it. Pending operations fail with `IoError` `Closed`.
   * A second call waits for the first.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#state = "closing";
    const release = this.#release;
    this.#release = null;
    release?.remove();
    this.#stash = null;
    this.#abortAll();
    if (this.#rawClosed) {
      this.#state = "closed";
      this.#closing = RESOLVED;
      return RESOLVED;
    }
    this.#closing = new Promise<void>((resolve) => {
      this.#closeResolve = resolve;
    });
    this.#raw.destroy();
    return this.#closing;
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The socket's fd (for `weir/unix`), or `undefined` once closed. */
  [unixFd](): number | undefined {
    if (this.#state !== "open") return undefined;
    return handleFd(this.#raw);
  }

  /**
   * Sends what the kernel takes of `bufs` now, straight to the socket's fd, when nothing waits
   * in Node's queue: returns `null` if it took everything, else what is left (views of `bufs`).
   * Anything unusual (no fd, TLS, an error) leaves it all to Node's write, which reports it.
   */
  #sendDirect(bufs: readonly Uint8Array[]): readonly Uint8Array[] | null {
    const send = this.#direct;
    if (send === null || bufs.length > 64) return bufs;
    const raw = this.#raw;
    if (raw.writableLength !== 0 || raw.connecting) return bufs;
    const fd = handleFd(raw);
    if (fd === undefined) return bufs;
    const n = send(fd, bufs);
    if (n <= 0) {
      // A failure (not a socket, the peer gone): Node's write takes over for good, and reports it
      if (n < 0) this.#direct = null;
      return bufs;
    }
    this.#sentDirect += n;
    return restAfter(bufs, n);
  }

  /**
   * Sends what the kernel takes of `bufs` now, keeping none of them (see `Sink.trySend`):
   * the bytes sent, 0 if nothing could go (queued writes, the buffer full, a TLS socket, no
   * addon, or an error, which the next write reports). Not a cancellation point.
   */
  trySend(bufs: readonly Uint8Array[]): number {
    if (this.#unwritable() !== null) return 0;
    const before = this.#sentDirect;
    this.#sendDirect(bufs);
    const n = this.#sentDirect - before;
    if (n > 0) {
      const idle = this.#idle;
      if (idle !== null) idle.activity++;
    }
    return n;
  }

  /**
   * Optional synchronous {@link write} (for `Tcp.Writer`, which flushes without a promise when
   * the socket is idle): hands all of `bufs` to Node now, in order, and returns `true` if the
   * kernel took them all (the buffers may be reused at once), or `false` if some wait in
   * Node's queue (then {@link flushed} resolves once they have gone; do not reuse the buffers
   * before). Not a cancellation point.
   * @throws what {@link write} rejects with (TypeError, IoError), synchronously.
   */
  tryWrite(bufs: readonly Uint8Array[]): boolean {
    checkBufs(bufs);
    const bad = this.#unwritable();
    if (bad !== null) throw bad;
    const raw = this.#raw;
    const idle = this.#idle;
    if (idle !== null) idle.activity++;
    const rest = this.#sendDirect(bufs);
    if (rest === null) return true;
    handOver(raw, rest);
    if (raw.writableLength !== 0) return false;
    const err = raw.errored;
    if (err !== null) throw toIoError(err);
    return true;
  }
}
