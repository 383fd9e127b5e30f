/**
 * Clocks are values (Eio's `Time.clock`), so that the mock backend can replace them with
 * clocks that jump. Durations and times are in milliseconds.
 * @module
 */
import { type BlockingOptions, suspend } from "./suspend.ts";

/** A clock: something that tells the time and can wait. */
export interface Clock {
  /** The current time in ms (wall clock: since the epoch; monotonic: since an arbitrary start). */
  now(): number;
  /**
   * Waits `ms` milliseconds (`Infinity`: until cancelled).
   * @throws Cancelled if the calling fiber (or `signal`) is cancelled first.
   * @throws RangeError if `ms` is negative or NaN.
   */
  sleep(ms: number, opts?: BlockingOptions): Promise<void>;
  /** Waits until `now() >= time`. @throws Cancelled if cancelled first. */
  sleepUntil(time: number, opts?: BlockingOptions): Promise<void>;
}

/** Checks a duration argument. @throws RangeError naming `name` if negative or NaN. */
export function checkMs(name: string, ms: number): void {
  if (typeof ms !== "number" || Number.isNaN(ms) || ms < 0) {
    throw new RangeError(`${name} must be a number of ms >= 0, got ${String(ms)}`);
  }
}

// setTimeout's limit: longer delays fire at once, so wait in steps.
const maxDelay = 2 ** 31 - 1;

class TimerClock implements Clock {
  readonly #now: () => number;
  constructor(now: () => number) {
    this.#now = now;
  }

  now(): number {
    return this.#now();
  }

  sleep(ms: number, opts?: BlockingOptions): Promise<void> {
    checkMs("ms", ms);
    return this.sleepUntil(this.#now() + ms, opts);
  }

  sleepUntil(time: number, opts?: BlockingOptions): Promise<void> {
    if (Number.isNaN(time)) throw new RangeError("time must be a number, got NaN");
    return suspend<void>((resolve) => {
      if (time === Infinity) return undefined;
      let timer: NodeJS.Timeout;
      const arm = (): void => {
        const left = time - this.#now();
        if (left <= 0) resolve();
        else timer = setTimeout(arm, Math.min(Math.ceil(left), maxDelay));
      };
      arm();
      return () => clearTimeout(timer);
    }, opts?.signal);
  }
}

/** The wall clock: `now()` is `Date.now()`. */
export const realClock: Clock = new TimerClock(() => Date.now());

/** The monotonic clock: `now()` is `performance.now()`, which never goes backwards. */
export const monoClock: Clock = new TimerClock(() => performance.now());

/**
 * Formats a duration the way Async prints a `Time.Span` (`2m`, `30s`, `1.5s`, `250ms`).
 * @example
 * ```ts
 * formatSpan(120_000); // "2m"
 * formatSpan(1500); // "1.5s"
 * ```
 */
export function formatSpan(ms: number): string {
  if (ms === Infinity) return "forever";
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(3))}s`;
  return `${Number(ms.toFixed(3))}ms`;
}
