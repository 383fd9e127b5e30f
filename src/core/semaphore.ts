/**
 * `Semaphore` (Eio's `Semaphore`): a count of permits; `acquire` waits for one.
 * @module
 */
import { type BlockingOptions, suspend } from "./suspend.ts";

/**
 * A counting semaphore. Waiters are served first come, first served.
 * @example
 * ```ts
 * const sem = new Semaphore(2);
 * await sem.acquire();
 * try { await work(); } finally { sem.release(); }
 * ```
 */
export class Semaphore {
  #free: number;
  readonly #waiters: Array<() => void> = [];
  #head = 0;
  #live = 0;

  /** @throws RangeError if `permits` is not an integer >= 0 (`Infinity` is allowed). */
  constructor(permits: number) {
    if (!(Number.isInteger(permits) || permits === Infinity) || permits < 0) {
      throw new RangeError(`permits must be an integer >= 0, got ${String(permits)}`);
    }
    this.#free = permits;
  }

  /** The number of permits free now. */
  get available(): number {
    return this.#free;
  }

  /** The number of fibers waiting for a permit. */
  get waiting(): number {
    return this.#live;
  }

  /**
   * Takes a permit, waiting for one if none is free.
   * @throws Cancelled if the calling fiber (or `opts.signal`) is cancelled while waiting
   *   (then no permit was taken).
   */
  acquire(opts?: BlockingOptions): Promise<void> {
    if (this.#free > 0 && this.waiting === 0) {
      this.#free--;
      return Promise.resolve();
    }
    return suspend<void>((resolve) => {
      let granted = false;
      const take = (): void => {
        granted = true;
        resolve();
      };
      this.#waiters.push(take);
      this.#live++;
      return () => {
        if (granted) this.release();
        else this.#remove(take);
      };
    }, opts?.signal);
  }

  /** Returns a permit, waking the longest waiter if any. */
  release(): void {
    while (this.#head < this.#waiters.length) {
      const w = this.#waiters[this.#head] as () => void;
      this.#waiters[this.#head] = noop;
      this.#head++;
      this.#compact();
      if (w !== noop) {
        this.#live--;
        w();
        return;
      }
    }
    this.#free++;
  }

  #remove(w: () => void): void {
    const i = this.#waiters.indexOf(w, this.#head);
    if (i >= 0) {
      this.#waiters[i] = noop;
      this.#live--;
    }
  }

  #compact(): void {
    if (this.#head > 64 && this.#head * 2 > this.#waiters.length) {
      this.#waiters.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

function noop(): void {}
