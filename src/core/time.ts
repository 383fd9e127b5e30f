/**
 * Time limits (Eio's `Time.with_timeout` and `Time.Timeout`), and the `Timeout` error.
 * @module
 */
import { type Clock, checkMs } from "./clock.ts";
import { Fiber } from "./fiber.ts";

/**
 * An operation did not finish within its time limit (Eio's `Time.Timeout` exception).
 * The class also makes limits as values: `Timeout.ms(clock, n)` and `Timeout.none`
 * (Eio's `Time.Timeout.t`), see {@link TimeLimit}.
 */
export class Timeout extends Error {
  constructor(message = "Timeout") {
    super(message);
    this.name = "Timeout";
  }

  /** No limit. */
  static get none(): TimeLimit {
    return TimeLimit.none;
  }

  /**
   * A limit of `ms` on `clock`.
   * @throws RangeError if `ms` is negative or NaN.
   * @example
   * ```ts
   * const t = Timeout.ms(env.monoClock, 10_000);
   * await t.run(() => net.connect(addr, { sw }));
   * ```
   */
  static ms(clock: Clock, ms: number): TimeLimit {
    checkMs("ms", ms);
    return new TimeLimit(clock, ms);
  }
}

/** Running with a time limit. */
export const Time = {
  /**
   * Runs `fn`, cancelling it if it has not finished after `ms` on `clock`.
   * @throws Timeout if the time ran out; whatever `fn` throws otherwise.
   * @throws RangeError if `ms` is negative or NaN.
   * @example
   * ```ts
   * await Time.withTimeout(env.monoClock, 1000, () => flow.readInto(buf));
   * ```
   */
  withTimeout<T>(clock: Clock, ms: number, fn: () => T | Promise<T>): Promise<T> {
    checkMs("ms", ms);
    return Fiber.first(fn, async (): Promise<T> => {
      await clock.sleep(ms);
      // A sleep that was already over (0 ms, or a timer that fired in the same turn as `fn`
      // returned) cannot be cancelled: do not let it turn `fn`'s result into a Timeout.
      Fiber.check();
      throw new Timeout(`Timed out after ${ms} ms`);
    });
  },
};

/** A time limit as a value: a duration on a clock, or none. Made by `Timeout.ms`/`Timeout.none`. */
export class TimeLimit {
  /** No limit. */
  static readonly none: TimeLimit = new TimeLimit(undefined, Infinity);

  readonly #clock: Clock | undefined;
  /** The limit in ms (`Infinity` for none). */
  readonly ms: number;

  /** Prefer `Timeout.ms(clock, ms)`. */
  constructor(clock: Clock | undefined, ms: number) {
    this.#clock = clock;
    this.ms = ms;
  }

  /**
   * Runs `fn` within the limit.
   * @throws Timeout if the limit is reached first.
   */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.runOr(fn, () => new Timeout(`Timed out after ${this.ms} ms`));
  }

  /** Like {@link run}, but on expiry rejects with what `onTimeout()` returns. */
  async runOr<T>(fn: () => T | Promise<T>, onTimeout: () => unknown): Promise<T> {
    const clock = this.#clock;
    if (clock === undefined || this.ms === Infinity) return await fn();
    const ms = this.ms;
    return await Fiber.first(fn, async (): Promise<T> => {
      await clock.sleep(ms);
      Fiber.check(); // as in Time.withTimeout
      throw onTimeout();
    });
  }

  /** `"none"` or `"10000 ms"`. */
  toString(): string {
    return this.#clock === undefined ? "none" : `${this.ms} ms`;
  }
}
