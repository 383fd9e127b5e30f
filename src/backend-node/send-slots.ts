/**
 * `SendSlots`: the bound on a datagram socket's sends in flight, so that sends nobody awaits
 * cannot pile up in memory without end: past the bound, a send waits for a slot.
 * @module
 */
import { type BlockingOptions, suspend } from "../core/index.ts";

/**
 * How many sends a datagram socket has in flight (handed to the socket, not yet reported
 * done) before further sends wait: the default of `sendQueueLimit`.
 * @example
 * ```ts
 * DEFAULT_SEND_QUEUE_LIMIT; // 64
 * ```
 */
export const DEFAULT_SEND_QUEUE_LIMIT = 64;

/**
 * A counting bound with a FIFO of waiters: `acquire` takes a slot (at once if one is free,
 * else when one is released, in order), `release` gives one back. A cancelled wait takes no
 * slot.
 * @example
 * ```ts
 * const slots = new SendSlots(64);
 * await slots.acquire();
 * try { await sendIt(); } finally { slots.release(); }
 * ```
 */
export class SendSlots {
  readonly #limit: number;
  #used = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** How many slots are taken. */
  get inFlight(): number {
    return this.#used;
  }

  /** Takes a slot now if one is free. */
  tryAcquire(): boolean {
    if (this.#used >= this.#limit || this.#waiters.length > 0) return false;
    this.#used++;
    return true;
  }

  /**
   * Waits for a slot.
   * @throws Cancelled if the fiber or `signal` is cancelled first (no slot is then taken).
   */
  acquire(signal?: BlockingOptions["signal"]): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return suspend<void>((resolve) => {
      const w = (): void => resolve();
      this.#waiters.push(w);
      return () => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
      };
    }, signal);
  }

  /** Gives a slot back, to the first waiter if there is one. */
  release(): void {
    const w = this.#waiters.shift();
    if (w !== undefined) w();
    else this.#used--;
  }
}
