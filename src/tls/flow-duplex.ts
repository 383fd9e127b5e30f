/**
 * `FlowDuplex`: a Node `Duplex` over any weir two-way flow, so that `node:tls` can run over a
 * mock flow, a STARTTLS upgrade, or anything else with `readInto`/`write`/`shutdown`.
 * @module
 */
import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";
import { EndOfFile, type FiberContext, runInFiber } from "../core/index.ts";
import type { TwoWay } from "../flow/types.ts";

/** How much one read from the flow takes at most. */
const READ_SIZE = 64 * 1024;

/**
 * A duplex under `node:tls` whose end `watchEnd` (`over-flow.ts`) watches: its owner may make
 * the end wait, and may wait a turn of the event loop.
 */
export interface EndWatched {
  /**
   * Called when the underlying end of file comes: a promise makes the end wait for it (the TLS
   * layer waits until its engine has taken every byte before).
   */
  beforeEnd: (() => Promise<void> | undefined) | null;
  /** Calls `fn` on the next turn of the event loop. */
  afterTurn(fn: () => void): void;
}

/**
 * A `Duplex` whose reads come from `flow` and whose writes go to it. Every operation on the
 * flow runs in the fiber context `ctx` (the one that set TLS up), so that on the mock backend
 * it is scheduled like any other fiber's. One read at a time, and only when Node asks for
 * more (bounded by Node's high-water mark). `end()` shuts the flow down for sending;
 * `destroy()` closes it.
 *
 * Node's TLS engine finishes some of its work on later turns of the event loop (a write is
 * done one `setImmediate` after its callback): after each hand-over, the mock backend is asked
 * (`Scheduler.hold`) not to take the quiet turns in between for a deadlock.
 */
export class FlowDuplex extends Duplex implements EndWatched {
  readonly #flow: TwoWay;
  readonly #ctx: FiberContext;
  #reading = false;
  /**
   * Called when the flow reaches its end of file: a promise makes the end wait for it (the TLS
   * layer waits until its engine has taken every byte before, see `over-flow.ts`).
   */
  beforeEnd: (() => Promise<void> | undefined) | null = null;

  constructor(flow: TwoWay, ctx: FiberContext) {
    super({ allowHalfOpen: true });
    this.#flow = flow;
    this.#ctx = ctx;
  }

  /**
   * Calls `fn` on the next turn of the event loop, holding the mock run (if any) until then, so
   * that the quiet turn is not taken for a deadlock.
   */
  afterTurn(fn: () => void): void {
    const release = this.#ctx.scheduler.hold?.();
    setImmediate(() => {
      release?.();
      fn();
    });
  }

  /** Holds the mock run (if any) for two turns of the event loop: Node's follow-up work runs first. */
  #settle(): void {
    const release = this.#ctx.scheduler.hold?.();
    if (release !== undefined) setImmediate(() => setImmediate(release));
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    runInFiber(this.#ctx, () => this.#readOnce());
  }

  async #readOnce(): Promise<void> {
    const flow = this.#flow;
    let chunk: Uint8Array;
    try {
      if (flow.readChunk !== undefined) chunk = await flow.readChunk();
      else {
        const buf = new Uint8Array(READ_SIZE);
        chunk = buf.subarray(0, await flow.readInto(buf));
      }
    } catch (e) {
      this.#reading = false;
      this.#settle();
      if (e instanceof EndOfFile) {
        const wait = this.beforeEnd?.();
        if (wait === undefined) this.push(null);
        else
          wait.then(() => {
            if (!this.destroyed) this.push(null);
          });
      } else if (!this.destroyed) this.destroy(asError(e));
      return;
    }
    this.#reading = false;
    this.#settle();
    if (!this.destroyed) this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    runInFiber(this.#ctx, () =>
      this.#flow.write([chunk]).then(
        () => {
          this.#settle();
          cb();
        },
        (e: unknown) => cb(asError(e)),
      ),
    );
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (e?: Error | null) => void): void {
    runInFiber(this.#ctx, () =>
      this.#flow.write(chunks.map((c) => c.chunk)).then(
        () => {
          this.#settle();
          cb();
        },
        (e: unknown) => cb(asError(e)),
      ),
    );
  }

  override _final(cb: (e?: Error | null) => void): void {
    runInFiber(this.#ctx, () =>
      this.#flow.shutdown("send").then(
        () => {
          this.#settle();
          cb();
        },
        (e: unknown) => cb(asError(e)),
      ),
    );
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    runInFiber(this.#ctx, () =>
      this.#flow.close().then(
        () => cb(err),
        () => cb(err),
      ),
    );
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
