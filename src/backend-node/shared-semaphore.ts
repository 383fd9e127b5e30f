/**
 * `SharedSemaphore`: a counting semaphore in shared memory, so that threads (the main thread
 * and worker threads) can share one connection limit.
 * @module
 */
import { type BlockingOptions, suspend } from "../core/index.ts";

/** `Atomics.waitAsync` (ES2024; Node >= 16), typed here because the project's lib is ES2023. */
type WaitAsync = (
  cells: Int32Array,
  index: number,
  value: number,
) => { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<string> };

const KEEP_ALIVE_MS = 0x7fffffff;
const noop = (): void => {};

const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/**
 * A semaphore whose count lives in a `SharedArrayBuffer`: pass {@link buffer} to a worker
 * (in `workerData` or a message; it is shared, not copied) and rebuild it there with
 * `new SharedSemaphore(buffer)`. Waiting uses `Atomics.waitAsync`, so no thread blocks, and a
 * waiting `acquire` is cancelled with its fiber. Every thread's waiters are woken on each
 * `release` (they race for the permit), which keeps cancellation simple; meant for a few
 * threads, not thousands of waiters.
 * @example
 * ```ts
 * const sem = SharedSemaphore.create(10);
 * new Worker(url, { workerData: { sem: sem.buffer } });
 * await sem.acquire();
 * try { await work(); } finally { sem.release(); }
 * ```
 */
export class SharedSemaphore {
  readonly #cells: Int32Array;

  /**
   * A view of an existing semaphore.
   * @throws TypeError if `buffer` is not a SharedArrayBuffer of at least 4 bytes.
   */
  constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < 4) {
      throw new TypeError("buffer must be a SharedArrayBuffer of at least 4 bytes");
    }
    this.#cells = new Int32Array(buffer, 0, 1);
  }

  /**
   * A new semaphore with `permits` permits.
   * @throws RangeError unless `permits` is an integer in 0..2^31-1.
   */
  static create(permits: number): SharedSemaphore {
    if (!Number.isInteger(permits) || permits < 0 || permits > 0x7fffffff) {
      throw new RangeError(`permits must be an integer in 0..2147483647, got ${permits}`);
    }
    const s = new SharedSemaphore(new SharedArrayBuffer(4));
    Atomics.store(s.#cells, 0, permits);
    return s;
  }

  /** The shared memory to hand to other threads. */
  get buffer(): SharedArrayBuffer {
    return this.#cells.buffer as SharedArrayBuffer;
  }

  /** The permits free now (a snapshot: other threads may change it at once). */
  get available(): number {
    return Atomics.load(this.#cells, 0);
  }

  /** Takes a permit if one is free; never waits. */
  tryAcquire(): boolean {
    for (;;) {
      const v = Atomics.load(this.#cells, 0);
      if (v <= 0) return false;
      if (Atomics.compareExchange(this.#cells, 0, v, v - 1) === v) return true;
    }
  }

  /**
   * Takes a permit, waiting (without blocking the thread) until one is free.
   * @throws Cancelled if the calling fiber (or `opts.signal`) is cancelled first.
   */
  async acquire(opts: BlockingOptions = {}): Promise<void> {
    for (;;) {
      if (this.tryAcquire()) return;
      const r = waitAsync(this.#cells, 0, 0);
      if (!r.async) continue; // the count changed meanwhile
      // A pending Atomics.waitAsync does not keep the event loop alive: in a worker with
      // nothing else to do, the thread would exit while it waits. A timer holds it open.
      const keepAlive = setInterval(noop, KEEP_ALIVE_MS);
      try {
        // an abandoned wait is harmless: the next release wakes it and nobody listens
        await suspend<unknown>((resolve) => {
          r.value.then(resolve, resolve);
          return undefined;
        }, opts.signal);
      } finally {
        clearInterval(keepAlive);
      }
    }
  }

  /** Gives a permit back and wakes the waiters of every thread. */
  release(): void {
    Atomics.add(this.#cells, 0, 1);
    Atomics.notify(this.#cells, 0);
  }
}
