/**
 * Mock clocks (Eio's `Eio_mock.Clock`): time starts at 0 and moves only when told to, or,
 * for the clocks of `Mock.Backend.runFull`, when every fiber is waiting.
 * @module
 */
import {
  type BlockingOptions,
  Cancelled,
  type Clock as ClockContract,
  checkMs,
  Fiber,
  suspend,
  traceln,
} from "../core/index.ts";
import { currentMockScheduler } from "./scheduler.ts";

interface Timer {
  readonly time: number;
  readonly seq: number;
  readonly wake: () => void;
}

/** Options of {@link MockClock}. */
export interface MockClockOptions {
  /** Trace each change of time as `mock time is now N` (default true). */
  readonly trace?: boolean | undefined;
}

/**
 * A mock clock: `now()` starts at 0 (ms) and changes only through {@link advance},
 * {@link tryAdvance} and {@link setTime} — which the mock backend calls itself, when every
 * fiber is waiting, for the clocks it provides. Sleepers wake in order of their deadline,
 * then of their call. Each change of time is traced as `mock time is now N`.
 * @example
 * ```ts
 * const clock = Mock.Clock.make();
 * await Fiber.both(
 *   () => clock.sleep(10),
 *   async () => clock.advance(), // traces "mock time is now 10"
 * );
 * ```
 */
export class MockClock implements ClockContract {
  #now = 0;
  #seq = 0;
  #timers: Timer[] = [];
  readonly #trace: boolean;

  constructor(opts: MockClockOptions = {}) {
    this.#trace = opts.trace ?? true;
  }

  /** The current mock time in ms. */
  now(): number {
    return this.#now;
  }

  /**
   * Waits until the mock time has moved on by `ms` (at once, after a `Fiber.yield()`, if
   * `ms` is 0).
   * @throws RangeError if `ms` is negative or NaN; Cancelled if the calling fiber (or
   *   `opts.signal`) is cancelled first.
   */
  sleep(ms: number, opts?: BlockingOptions): Promise<void> {
    checkMs("ms", ms);
    return this.sleepUntil(this.#now + ms, opts);
  }

  /**
   * Waits until `now() >= time` (`Infinity`: until cancelled). A time already reached
   * yields once, as Eio's mock clock does.
   * @throws RangeError if `time` is NaN; Cancelled if cancelled first.
   */
  sleepUntil(time: number, opts?: BlockingOptions): Promise<void> {
    if (typeof time !== "number" || Number.isNaN(time)) {
      throw new RangeError(`time must be a number, got ${String(time)}`);
    }
    return this.#sleepUntil(time, opts);
  }

  async #sleepUntil(time: number, opts?: BlockingOptions): Promise<void> {
    if (time <= this.#now) {
      const signal = opts?.signal;
      if (signal?.aborted) throw new Cancelled(signal.reason);
      await Fiber.yield();
      return;
    }
    const done = currentMockScheduler()?.waiting(`mock clock: sleep until ${time}`);
    try {
      await suspend<void>((resolve) => {
        if (time === Infinity) return undefined;
        const timer: Timer = { time, seq: this.#seq++, wake: () => resolve() };
        this.#insert(timer);
        return () => this.#remove(timer);
      }, opts?.signal);
    } finally {
      done?.();
    }
  }

  /**
   * Calls `fn` when the time reaches `time` (in deadline order with the sleepers, during the
   * change of time, with `now()` already at the new time); returns a function that cancels it.
   * What `weir/sim` schedules its network events with.
   * @throws RangeError if `time` is NaN.
   */
  at(time: number, fn: () => void): () => void {
    if (typeof time !== "number" || Number.isNaN(time)) {
      throw new RangeError(`time must be a number, got ${String(time)}`);
    }
    const timer: Timer = { time, seq: this.#seq++, wake: fn };
    this.#insert(timer);
    return () => this.#remove(timer);
  }

  /** The time of the next sleeper, or `undefined` if nobody sleeps. */
  get nextTimer(): number | undefined {
    return this.#timers[0]?.time;
  }

  /**
   * Sets the time to `time`, waking (in order) every sleeper whose deadline is reached, and
   * traces `mock time is now N`. The time may go backwards (a wall clock may).
   * @throws RangeError if `time` is NaN or not finite.
   */
  setTime(time: number): void {
    if (typeof time !== "number" || !Number.isFinite(time)) {
      throw new RangeError(`time must be a finite number, got ${String(time)}`);
    }
    let n = 0;
    while (n < this.#timers.length && (this.#timers[n] as Timer).time <= time) n++;
    const due = this.#timers.splice(0, n);
    this.#now = time;
    for (const t of due) t.wake();
    if (this.#trace) traceln("%s", `mock time is now ${time}`);
  }

  /**
   * Sets the time to the next sleeper's deadline (see {@link setTime}).
   * @throws RangeError "No further events scheduled on mock clock" if nobody sleeps.
   */
  advance(): void {
    if (!this.tryAdvance()) throw new RangeError("No further events scheduled on mock clock");
  }

  /** Like {@link advance}, but returns false instead of throwing when nobody sleeps. */
  tryAdvance(): boolean {
    const next = this.#timers[0];
    if (next === undefined) return false;
    this.setTime(next.time);
    return true;
  }

  #insert(t: Timer): void {
    // Binary search for the first timer later than t (equal deadlines keep call order).
    let lo = 0;
    let hi = this.#timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#timers[mid] as Timer).time <= t.time) lo = mid + 1;
      else hi = mid;
    }
    this.#timers.splice(lo, 0, t);
  }

  #remove(t: Timer): void {
    const i = this.#timers.lastIndexOf(t);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** `mock clock (now N ms)`. */
  toString(): string {
    return `mock clock (now ${this.#now} ms)`;
  }
}

/** Mock clocks. */
export const Clock = {
  /**
   * A new mock clock at time 0 that moves only when told to (`advance`, `setTime`).
   * @example
   * ```ts
   * const clock = Mock.Clock.make();
   * clock.setTime(1000); // traces "mock time is now 1000"
   * ```
   */
  make(): MockClock {
    return new MockClock();
  },
};
