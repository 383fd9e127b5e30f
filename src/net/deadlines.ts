/**
 * Deadlines that cost nothing per byte: a socket counts its activity in a number, and one coarse
 * sweep per clock and granularity (not one timer per read, as Go's `net/http` and HAProxy keep
 * one timer queue) looks at every watched socket a few times per timeout. The sweep runs on the
 * env's monotonic clock: real timers for the Node backend, `at()` on the mock's and the
 * simulation's clocks, so virtual time fires them too.
 * @module
 */

import { checkDuration } from "../core/checks.ts";
import { type Clock, IoError, monoClock } from "../core/index.ts";
import { ambientEnv } from "./env.ts";

/** A clock that can call a function at a time (the mock's and the simulation's clocks). */
interface AtClock extends Clock {
  at(time: number, fn: () => void): () => void;
}

function hasAt(clock: Clock): clock is AtClock {
  return typeof (clock as Partial<AtClock>).at === "function";
}

/**
 * The clock deadlines run on: the running env's `monoClock` (inside `run`, `Mock.Backend.runFull`
 * or a simulated host), else the real monotonic clock.
 */
export function deadlineClock(): Clock {
  const env = ambientEnv();
  return env?.monoClock ?? monoClock;
}

/**
 * Calls `fn` once, `ms` from now on `clock`; returns a function that cancels it. Not a fiber
 * operation: it belongs to no cancellation context (the caller cancels it).
 * @example
 * ```ts
 * const cancel = callAfter(monoClock, 1000, () => traceln("a second"));
 * ```
 */
export function callAfter(clock: Clock, ms: number, fn: () => void): () => void {
  if (hasAt(clock)) return clock.at(clock.now() + ms, fn);
  const t = setTimeout(fn, Math.max(1, Math.ceil(ms)));
  t.unref();
  return () => clearTimeout(t);
}

/**
 * The largest timeout in ms (about 24.8 days, setTimeout's limit); longer is a RangeError.
 */
export const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * Checks a timeout option (an integer number of ms > 0 and <= {@link MAX_TIMEOUT}).
 * @throws TypeError if not a number; RangeError naming `name` and the value otherwise.
 */
export function checkTimeout(name: string, v: unknown): number {
  const ms = checkDuration(name, v);
  if (ms <= 0 || ms > MAX_TIMEOUT) {
    throw new RangeError(`${name} must be a number of ms > 0 and <= ${MAX_TIMEOUT}, got ${ms}`);
  }
  return ms;
}

/** Like {@link checkTimeout}, for an optional option (`undefined` passes). */
export function checkOptionalTimeout(name: string, v: unknown): number | undefined {
  return v === undefined ? undefined : checkTimeout(name, v);
}

/** The error a blocked operation fails with when its socket's deadline passes. */
export function timeoutError(during: "idle" | "header", ms: number): IoError {
  const what = during === "idle" ? "no byte moved either way" : "the first bytes did not arrive";
  return new IoError({
    kind: "Timeout",
    during,
    cause: new Error(`${what} in ${ms} ms`),
  });
}

/** Something a {@link Sweeper} looks at on each of its ticks. */
export abstract class Deadline {
  /** @internal The sweep that holds it, or `null` once it has fired or been cancelled. */
  sweeper: Sweeper | null = null;

  /** Called on each tick with the clock's time; calls {@link cancel} once done. */
  abstract check(now: number): void;

  /** Stops watching (idempotent). */
  cancel(): void {
    const s = this.sweeper;
    if (s === null) return;
    this.sweeper = null;
    s.delete(this);
  }

  /** Starts watching on `clock`, with a sweep fine enough for `ms`. */
  protected watch(clock: Clock, ms: number): void {
    this.cancel();
    const s = Sweeper.for(clock, ms);
    this.sweeper = s;
    s.add(this);
  }
}

/** The granularities of the sweeps, in ms: a timeout is swept about 8 times per period. */
const TICKS = [10, 100, 1000] as const;

const sweepers = new WeakMap<Clock, Map<number, Sweeper>>();

/**
 * One timer per clock and granularity, running while it has deadlines to look at: each tick
 * checks every deadline (a few numbers each), then re-arms.
 */
export class Sweeper {
  readonly #clock: Clock;
  readonly #tick: number;
  readonly #entries = new Set<Deadline>();
  #cancelTimer: (() => void) | null = null;
  readonly #sweep = (): void => {
    this.#cancelTimer = null;
    const now = this.#clock.now();
    for (const d of this.#entries) d.check(now);
    if (this.#entries.size > 0) this.#arm();
  };

  private constructor(clock: Clock, tick: number) {
    this.#clock = clock;
    this.#tick = tick;
  }

  /** The sweep of `clock` for a timeout of `ms`. */
  static for(clock: Clock, ms: number): Sweeper {
    const tick = ms >= 8 * TICKS[2] ? TICKS[2] : ms >= 8 * TICKS[1] ? TICKS[1] : TICKS[0];
    let byTick = sweepers.get(clock);
    if (byTick === undefined) {
      byTick = new Map();
      sweepers.set(clock, byTick);
    }
    let s = byTick.get(tick);
    if (s === undefined) {
      s = new Sweeper(clock, tick);
      byTick.set(tick, s);
    }
    return s;
  }

  /** How many deadlines it watches. */
  get size(): number {
    return this.#entries.size;
  }

  add(d: Deadline): void {
    this.#entries.add(d);
    if (this.#cancelTimer === null) this.#arm();
  }

  delete(d: Deadline): void {
    this.#entries.delete(d);
    if (this.#entries.size === 0 && this.#cancelTimer !== null) {
      this.#cancelTimer();
      this.#cancelTimer = null;
    }
  }

  #arm(): void {
    this.#cancelTimer = callAfter(this.#clock, this.#tick, this.#sweep);
  }
}

/**
 * A socket's idle deadline: the socket adds to {@link activity} whenever a byte moves (either
 * way); a tick that sees no change for `ms` calls {@link expired} once. It fires between `ms`
 * and `ms` plus one tick (an eighth of `ms`, at most 1 s) after the last byte.
 */
export abstract class IdleWatch extends Deadline {
  /** Bumped by the socket on each read or write that moves bytes. */
  activity = 0;
  #seen = 0;
  #since: number;
  readonly ms: number;

  constructor(ms: number, clock: Clock) {
    super();
    this.ms = ms;
    this.#since = clock.now();
    this.watch(clock, ms);
  }

  /** The activity count now (the field, unless a socket counts its bytes elsewhere). */
  protected probe(): number {
    return this.activity;
  }

  check(now: number): void {
    const activity = this.probe();
    if (activity !== this.#seen) {
      this.#seen = activity;
      this.#since = now;
    } else if (now - this.#since >= this.ms) {
      this.cancel();
      this.expired();
    }
  }

  /** The deadline passed: close the socket with {@link timeoutError}. */
  protected abstract expired(): void;
}

/**
 * A deadline at a fixed time: {@link done} says whether it was met; if not by `ms` from now,
 * {@link expired} is called once.
 */
export abstract class FixedDeadline extends Deadline {
  readonly #at: number;
  readonly ms: number;

  constructor(ms: number, clock: Clock) {
    super();
    this.ms = ms;
    this.#at = clock.now() + ms;
    this.watch(clock, ms);
  }

  check(now: number): void {
    if (this.done()) this.cancel();
    else if (now >= this.#at) {
      this.cancel();
      this.expired();
    }
  }

  protected abstract done(): boolean;
  protected abstract expired(): void;
}

/**
 * An {@link IdleWatch} over functions, for sockets that are not on a hot path (the mock's, the
 * simulation's): `probe` gives a count that changes whenever a byte moves.
 */
export class FnIdleWatch extends IdleWatch {
  readonly #probe: () => number;
  readonly #expired: (err: IoError) => void;

  constructor(ms: number, probe: () => number, expired: (err: IoError) => void) {
    super(ms, deadlineClock());
    this.#probe = probe;
    this.#expired = expired;
  }

  protected override probe(): number {
    return this.#probe();
  }

  protected expired(): void {
    this.#expired(timeoutError("idle", this.ms));
  }
}
