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
