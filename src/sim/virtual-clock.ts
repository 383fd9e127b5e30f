/**
 * The clock a simulated host sees: the simulation's virtual time, read-only (only the
 * simulation moves it).
 * @module
 */
import type { BlockingOptions, Clock } from "../core/index.ts";
import type { MockClock } from "../mock/clock.ts";

/**
 * A host's view of the virtual clock: `now`, `sleep` and `sleepUntil`, in ms, `offset` ms ahead
 * of the simulation's time (a wall clock that is off; 0 for the monotonic clock).
 */
export class VirtualClock implements Clock {
  readonly #clock: MockClock;
  /** How far ahead of the simulation's time this clock is (negative: behind). */
  readonly offset: number;

  constructor(clock: MockClock, offset = 0) {
    this.#clock = clock;
    this.offset = offset;
  }

  now(): number {
    return this.#clock.now() + this.offset;
  }

  sleep(ms: number, opts?: BlockingOptions): Promise<void> {
    return this.#clock.sleep(ms, opts);
  }

  sleepUntil(time: number, opts?: BlockingOptions): Promise<void> {
    return this.#clock.sleepUntil(time - this.offset, opts);
  }

  /** Calls `fn` when this clock reads `time` (see `MockClock.at`); returns its cancel. */
  at(time: number, fn: () => void): () => void {
    return this.#clock.at(time - this.offset, fn);
  }

  /** `virtual clock (now N ms)`. */
  toString(): string {
    return `virtual clock (now ${this.now()} ms)`;
  }
}
