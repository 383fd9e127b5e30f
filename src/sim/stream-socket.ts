/**
 * A simulated TCP (or host-local Unix) stream socket: one end of a connection whose two
 * directions are {@link Flow}s. Reads take what has arrived (in random chunk sizes with
 * `partialDelivery`); writes cut the bytes into segments and wait while `tcpCapacity` bytes are
 * in flight or unread; FIN gives end-of-file, RST gives `ConnectionReset`.
 * @module
 */

import { type BlockingOptions, EndOfFile, IoError, type Switch } from "../core/index.ts";
import type { ShutdownCommand } from "../flow/types.ts";
import { checkReadBuffer, checkShutdownCommand, checkWriteBuffers } from "../mock/checks.ts";
import { checkTimeout, FnIdleWatch } from "../net/deadlines.ts";
import type { StreamAddr, StreamSocket } from "../net/index.ts";
import { publishIdleTimeout } from "../net/metrics.ts";
import { DATA, FIN, type Flow, RST, type Segment, SYN_ACK } from "./flow.ts";
import type { SimHost } from "./host.ts";
import { Waiters } from "./waiters.ts";
import type { World } from "./world.ts";

/** The largest segment a write sends (Ethernet's TCP MSS). */
const mss = 1460;
const partialChance = 0.25;

function resetError(why: string, op: string): IoError {
  return new IoError({ kind: "ConnectionReset", cause: new Error(`ECONNRESET: ${why}`) }, [op]);
}

/** One end of a simulated connection. */
export class SimStreamSocket implements StreamSocket {
  readonly localAddr: StreamAddr;
  readonly peerAddr: StreamAddr;
  readonly host: SimHost;
  readonly #world: World;
  readonly #out: Flow;
  readonly #in: Flow;
  /** `"connecting"` until the handshake is done (client side). */
  state: "connecting" | "open" | "closed";
  /** Called once when a connecting socket is accepted (undefined) or refused (the error). */
  onHandshake: ((err: IoError | undefined) => void) | undefined = undefined;
  #eof = false;
  #reset: string | undefined = undefined;
  #rstSent = false;
  #sendShut = false;
  #recvShut = false;
  #chunks: Uint8Array[] = [];
  #head = 0;
  /** Bytes of the head chunk already read. */
  #off = 0;
  #size = 0;
  readonly #readers = new Waiters();
  #release: { remove(): void } | undefined = undefined;
  #idle: FnIdleWatch | null = null;
  #timedOut: IoError | null = null;
  /** Bytes in and out so far (what an idle deadline watches). */
  #moved = 0;
  /** Bytes received (see `StreamSocket.bytesRead`). */
  bytesRead = 0;
  /** Bytes sent (see `StreamSocket.bytesWritten`). */
  bytesWritten = 0;
  readonly #readWhat = (): string => `${this.host.name}: read from ${this.name}`;
  readonly #writeWhat = (): string => `${this.host.name}: write to ${this.name}`;

  constructor(
    world: World,
    host: SimHost,
    local: StreamAddr,
    peer: StreamAddr,
    out: Flow,
    inFlow: Flow,
    state: "connecting" | "open",
  ) {
    this.#world = world;
    this.host = host;
    this.localAddr = local;
    this.peerAddr = peer;
    this.#out = out;
    this.#in = inFlow;
    this.state = state;
    host.sockets.add(this);
  }

  /** `test:49152 > db:5432`. */
  get name(): string {
    return this.#out.label;
  }

  /** Whether the connection was reset (for netstat). */
  get established(): boolean {
    return this.state === "open" && this.#reset === undefined;
  }

  /** A segment arrived from the peer. */
  receive(seg: Segment): void {
    const w = this.#world;
    switch (seg.kind) {
      case DATA: {
        const n = seg.data.length;
        if (this.state === "closed" || this.#reset !== undefined) {
          this.#in.outstanding -= n;
          this.#in.writers.wakeAll();
          if (this.state === "closed" && !this.#rstSent && this.host.up) this.#sendRst();
          return;
        }
        if (!this.#in.local && w.rng.chance(w.config.resetRate)) {
          w.event(`${this.#in.label} data ${n} reset (resetRate)`);
          this.#in.outstanding -= n;
          this.resetBy("reset by the network");
          this.#sendRst();
          return;
        }
        w.log.add(w.clock.now(), "net", this.#in.dataLabel, n);
        if (this.#recvShut) {
          this.#in.outstanding -= n;
          this.#in.writers.wakeAll();
          return;
        }
        this.#chunks.push(seg.data);
        this.#size += n;
        this.#moved += n;
        this.bytesRead += n;
        this.#readers.wakeAll();
        return;
      }
      case FIN:
        w.event(`${this.#in.label} fin`);
        this.#eof = true;
        this.#readers.wakeAll();
        return;
      case RST:
        w.event(`${this.#in.label} rst`);
        if (this.state === "connecting") {
          this.state = "closed";
          this.host.sockets.delete(this);
          this.#handshake(
            new IoError({
              kind: "ConnectionFailure",
              reason: "Refused",
              cause: new Error("ECONNREFUSED: connection refused"),
            }),
          );
          return;
        }
        this.resetBy("connection reset by peer");
        return;
      case SYN_ACK:
        w.event(`${this.#in.label} syn-ack`);
        if (this.state === "connecting") {
          this.state = "open";
          this.#handshake(undefined);
        } else if (!this.#rstSent) this.#sendRst();
        return;
    }
  }

  #handshake(err: IoError | undefined): void {
    const f = this.onHandshake;
    this.onHandshake = undefined;
    f?.(err);
  }

  #sendRst(): void {
    this.#rstSent = true;
    this.#out.send(RST);
  }

  /** The connection is reset: pending and later operations fail with `ConnectionReset`. */
  resetBy(why: string): void {
    if (this.#reset !== undefined) return;
    this.#reset = why;
    this.#out.clear();
    this.#out.outstanding = 0;
    this.#out.writers.wakeAll();
    this.#readers.wakeAll();
    this.host.sockets.delete(this);
  }

  #check(op: string): void {
    if (this.#timedOut !== null) throw this.#timedOut;
    if (this.state === "closed") throw new IoError({ kind: "Closed" }, [`${op} ${this.name}`]);
  }

  readInto(buf: Uint8Array, opts?: BlockingOptions): Promise<number> {
    // No async frame when the bytes are there (the common case of a busy connection).
    try {
      checkReadBuffer(buf);
      const n = this.#tryRead(buf);
      return n >= 0 ? Promise.resolve(n) : this.#readSlow(buf, opts);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Reads what has arrived; -1 if nothing has and the reader must wait. */
  #tryRead(buf: Uint8Array): number {
    this.#check("reading from");
    if (this.#size > 0 && !this.#recvShut) return this.#take(buf);
    if (this.#reset !== undefined) throw resetError(this.#reset, `reading from ${this.name}`);
    if (this.#eof || this.#recvShut) throw new EndOfFile();
    return -1;
  }

  async #readSlow(buf: Uint8Array, opts: BlockingOptions | undefined): Promise<number> {
    for (;;) {
      await this.#readers.wait(this.#readWhat, opts?.signal);
      const n = this.#tryRead(buf);
      if (n >= 0) return n;
    }
  }

  /**
   * Waits until `n` bytes have arrived unread (kept for the next reads), or end of file, a
   * reset or a receive shutdown: what a server's `headerTimeout` waits on.
   * @throws IoError (`Timeout` idle, `Closed`) as reads do; Cancelled.
   */
  async awaitBuffered(n: number, opts?: BlockingOptions): Promise<void> {
    for (;;) {
      this.#check("reading from");
      if (this.#size >= n || this.#eof || this.#recvShut || this.#reset !== undefined) return;
      await this.#readers.wait(this.#readWhat, opts?.signal);
    }
  }

  #take(buf: Uint8Array): number {
    const w = this.#world;
    let n = Math.min(buf.length, this.#size);
    if (n > 1 && w.config.partialDelivery && w.rng.chance(partialChance)) n = w.rng.int(1, n);
    let got = 0;
    while (got < n) {
      const c = this.#chunks[this.#head] as Uint8Array;
      const off = this.#off;
      const k = Math.min(c.length - off, n - got);
      copy(c, off, buf, got, k);
      got += k;
      if (off + k === c.length) {
        this.#chunks[this.#head++] = empty;
        this.#off = 0;
        if (this.#head === this.#chunks.length) {
          this.#chunks = [];
          this.#head = 0;
        }
      } else this.#off = off + k;
    }
    this.#size -= n;
    this.#in.outstanding -= n;
    this.#in.writers.wakeAll();
    return n;
  }

  write(bufs: readonly Uint8Array[], opts?: BlockingOptions): Promise<void> {
    // No async frame when there is room for everything (the common case).
    try {
      checkWriteBuffers(bufs);
      let left = 0;
      for (const b of bufs) left += b.length;
      const cur: Cursor = { bi: 0, off: 0, left };
      return this.#push(bufs, cur) ? resolved : this.#writeSlow(bufs, cur, opts);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async #writeSlow(
    bufs: readonly Uint8Array[],
    cur: Cursor,
    opts: BlockingOptions | undefined,
  ): Promise<void> {
    do await this.#out.writers.wait(this.#writeWhat, opts?.signal);
    while (!this.#push(bufs, cur));
  }

  /**
   * Sends what `tcpCapacity` leaves room for, from `cur` on; true once everything is sent.
   * @throws IoError if the socket is closed, reset or shut down for sending.
   */
  #push(bufs: readonly Uint8Array[], cur: Cursor): boolean {
    const w = this.#world;
    const out = this.#out;
    const cap = w.config.tcpCapacity;
    for (;;) {
      this.#check("writing to");
      if (this.#reset !== undefined) throw resetError(this.#reset, `writing to ${this.name}`);
      if (this.#sendShut) {
        throw new IoError({ kind: "ConnectionReset", cause: new Error("EPIPE: broken pipe") }, [
          `writing to ${this.name}`,
        ]);
      }
      if (cur.left === 0) return true;
      const room = cap - out.outstanding;
      if (room <= 0) return false;
      let k = Math.min(room, mss, cur.left);
      if (k > 1 && w.config.partialDelivery && w.rng.chance(partialChance)) k = w.rng.int(1, k);
      // Gather k bytes across the buffers (a vectored write is sent whole, not cut to its first).
      const seg = new Uint8Array(k);
      let got = 0;
      while (got < k) {
        const b = bufs[cur.bi] as Uint8Array;
        const take = Math.min(b.length - cur.off, k - got);
        copy(b, cur.off, seg, got, take);
        got += take;
        cur.off += take;
        if (cur.off === b.length) {
          cur.bi++;
          cur.off = 0;
        }
      }
      cur.left -= k;
      this.#moved += k;
      this.bytesWritten += k;
      out.outstanding += k;
      if (!out.send(DATA, seg)) {
        w.event(`${out.label} retransmission timeout`);
        this.resetBy("retransmission timeout");
      }
    }
  }

  async shutdown(cmd: ShutdownCommand): Promise<void> {
    checkShutdownCommand(cmd);
    this.#check("shutting down");
    if ((cmd === "send" || cmd === "all") && !this.#sendShut) {
      this.#sendShut = true;
      if (this.#reset === undefined) this.#out.send(FIN);
      this.#out.writers.wakeAll();
    }
    if ((cmd === "receive" || cmd === "all") && !this.#recvShut) {
      this.#recvShut = true;
      this.#dropInput();
      this.#readers.wakeAll();
    }
  }

  #dropInput(): void {
    this.#in.outstanding -= this.#size;
    this.#chunks = [];
    this.#head = 0;
    this.#off = 0;
    this.#size = 0;
    this.#in.writers.wakeAll();
  }

  setNoDelay(_enabled: boolean): void {}

  /** Whether its idle timeout closed it. */
  get idleTimedOut(): boolean {
    return this.#timedOut !== null;
  }

  /** See `StreamSocket.setIdleTimeout`: on the simulation's virtual clock. */
  setIdleTimeout(ms: number | null): void {
    if (ms !== null) checkTimeout("ms", ms);
    this.#idle?.cancel();
    this.#idle =
      ms === null || this.state === "closed"
        ? null
        : new FnIdleWatch(
            ms,
            () => this.#moved,
            (err) => {
              this.#timedOut = err;
              publishIdleTimeout(this, ms);
              void this.close();
            },
          );
  }

  close(): Promise<void> {
    if (this.state === "closed") return Promise.resolve();
    const connecting = this.state === "connecting";
    this.state = "closed";
    this.#idle?.cancel();
    this.#idle = null;
    this.#release?.remove();
    this.#release = undefined;
    this.host.sockets.delete(this);
    if (!connecting && this.#reset === undefined && this.host.up) {
      // As Linux: closing with unread data resets the connection instead of a FIN.
      if (this.#size > 0) this.#sendRst();
      else if (!this.#sendShut) this.#out.send(FIN);
    }
    this.#sendShut = true;
    this.#dropInput();
    this.#readers.wakeAll();
    this.#out.writers.wakeAll();
    return Promise.resolve();
  }

  /**
   * The host crashed: segments it had not delivered are lost, the peer gets a reset, and
   * nothing here works any more.
   */
  crash(): void {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.state = "closed";
    this.#idle?.cancel();
    this.#idle = null;
    this.#release?.remove();
    this.#release = undefined;
    this.host.sockets.delete(this);
    // What the host had sent but not yet delivered dies with it; the peer gets a reset.
    this.#out.clear();
    this.#out.outstanding = 0;
    if (wasOpen && this.#reset === undefined && !this.#rstSent) this.#sendRst();
    this.#dropInput();
    this.#readers.wakeAll();
    this.#out.writers.wakeAll();
  }

  /** Closes the socket when `sw` finishes (the hook goes when the socket closes first). */
  attachToSwitch(sw: Switch): void {
    if (this.state === "closed") return;
    this.#release?.remove();
    this.#release = sw.onRelease(() => this.close());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

const empty = new Uint8Array(0);
const resolved: Promise<void> = Promise.resolve();

/** Where a write has got to: the buffer, the offset in it, the bytes left. */
interface Cursor {
  bi: number;
  off: number;
  left: number;
}

/** Copies `n` bytes; small copies by hand, which is cheaper than a subarray view per copy. */
function copy(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n <= 64) {
    for (let i = 0; i < n; i++) dst[to + i] = src[from + i] as number;
  } else if (from === 0 && n === src.length) dst.set(src, to);
  else dst.set(src.subarray(from, from + n), to);
}
