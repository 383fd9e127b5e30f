/**
 * The clock a simulated host sees: the simulation's virtual time, read-only (only the
 * simulation moves it).
 * @module
 */
import type { BlockingOptions, Clock } from "../core/index.ts";
import type { MockClock } from "../mock/clock.ts";

/** A host's view of the virtual clock: `now`, `sleep` and `sleepUntil`, in ms. */
export class VirtualClock implements Clock {
  readonly #clock: MockClock;

  constructor(clock: MockClock) {
    this.#clock = clock;
  }

  now(): number {
    return this.#clock.now();
  }

  sleep(ms: number, opts?: BlockingOptions): Promise<void> {
    return this.#clock.sleep(ms, opts);
  }

  sleepUntil(time: number, opts?: BlockingOptions): Promise<void> {
    return this.#clock.sleepUntil(time, opts);
  }

  /** `virtual clock (now N ms)`. */
  toString(): string {
    return `virtual clock (now ${this.#clock.now()} ms)`;
  }
}
