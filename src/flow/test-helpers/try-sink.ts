/**
 * A test sink with a synchronous `tryWrite` and `flushed`, as a Node socket has.
 * @module
 */
import { Buffer } from "node:buffer";

/** A sink with a synchronous `tryWrite`, as a Node socket has: `full` makes it keep the data. */
export class TrySink {
  readonly tries: string[] = [];
  readonly writes: string[] = [];
  full = false;
  failNext: unknown = undefined;
  #waiting: Array<() => void> = [];

  tryWrite(bufs: readonly Uint8Array[]): boolean {
    if (this.failNext !== undefined) throw this.failNext;
    this.tries.push(Buffer.concat(bufs).toString());
    return !this.full;
  }

  write(bufs: readonly Uint8Array[]): Promise<void> {
    if (bufs.length > 0) this.writes.push(Buffer.concat(bufs).toString());
    return this.flushed();
  }

  flushed(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((r) => this.#waiting.push(r));
  }

  drain(): void {
    this.full = false;
    for (const w of this.#waiting.splice(0)) w();
  }
}

/** A {@link TrySink} that also has `trySend`: it takes at most `room` bytes, keeping none. */
export class SendSink extends TrySink {
  readonly sends: string[] = [];
  /** What the sink took, in order, by either path. */
  readonly log: string[] = [];
  room = Number.POSITIVE_INFINITY;

  trySend(bufs: readonly Uint8Array[]): number {
    const all = Buffer.concat(bufs);
    const n = Math.min(all.length, this.room);
    if (n > 0) {
      this.sends.push(all.subarray(0, n).toString());
      this.log.push(all.subarray(0, n).toString());
    }
    return n;
  }

  override tryWrite(bufs: readonly Uint8Array[]): boolean {
    const ok = super.tryWrite(bufs);
    this.log.push(Buffer.concat(bufs).toString());
    return ok;
  }
}
