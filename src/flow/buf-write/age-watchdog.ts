/**
 * The buffer-age watchdog of `Writer`s: one timer per clock, armed only while some writer on
 * that clock has unflushed data, that fails the writers whose oldest unflushed byte is older
 * than their `bufferAgeLimit` (Async checks every writer from one clock event too).
 * @module
 */
import {
  CancelContext,
  type Clock,
  currentFiber,
  type FiberContext,
  monoClock,
  realClock,
  runInFiber,
} from "../../core/index.ts";

/** A writer as the watchdog sees it. */
export interface Watched {
  /** The limit in ms (finite). */
  readonly ageLimit: number;
  /** Whether the writer is in the watchdog's set (kept by the watchdog). */
  watched: boolean;
  /** When the oldest unflushed byte was written (clock ms), or NaN if everything is flushed. */
  oldestUnflushed(): number;
  /** Called once the limit is passed; the writer fails (and has left the watchdog). */
  expire(now: number, oldest: number): void;
}

/** A pending timer. */
interface Timer {
  cancel(): void;
}

/**
 * Arms a timer at `deadline` on `clock`. The real clocks use `setTimeout` (cheap to arm and
 * clear); any other clock (the mock's) sleeps in a fiber of `ctx`.
 */
function startTimer(clock: Clock, ctx: FiberContext, deadline: number, fn: () => void): Timer {
  if (clock === monoClock || clock === realClock) {
    const delay = Math.max(0, Math.ceil(deadline - clock.now()));
    // Unreferenced: a writer with data pending is kept alive by its sink (a socket), not by us
    const t = setTimeout(fn, Math.min(delay, 2 ** 31 - 1)).unref();
    return { cancel: () => clearTimeout(t) };
  }
  const ac = new AbortController();
  runInFiber(ctx, () => clock.sleepUntil(deadline, { signal: ac.signal })).then(fn, () => {});
  return { cancel: () => ac.abort() };
}

/**
 * The watchdog of one clock (get it with `AgeWatchdog.of(clock)`). A writer is `add`ed when data becomes pending; the timer is armed
 * for the earliest deadline; when it fires, overdue writers expire and writers with nothing
 * pending leave, and it is re-armed only if some writer still has data pending.
 *
 * On the real clocks a writer that has flushed everything stays in the set until the timer
 * next fires (writers come and go with every message on a busy connection: touching the set
 * or the timer each time would cost more than the messages). The timer then finds it idle,
 * drops it and, if nobody has data pending, is not re-armed. Closing the last writer leaves
 * the timer too (unreferenced, it holds no process open): arming it again for the next
 * connection's first write would cost more than letting it fire once. On any other clock (the mock's), `idle` removes the writer at once and
 * clears the timer when nobody has data pending, so a mock clock never jumps to a deadline
 * that no longer matters.
 */
export class AgeWatchdog {
  readonly #clock: Clock;
  readonly #lazy: boolean;
  readonly #set = new Set<Watched>();
  #timer: Timer | null = null;
  #armedAt = Infinity;
  #ctx: FiberContext | null = null;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#lazy = clock === monoClock || clock === realClock;
  }

  /**
   * The watchdog shared by every writer on `clock`.
   * @example
   * ```ts
   * AgeWatchdog.of(monoClock).armed; // whether some writer has data pending
   * ```
   */
  static of(clock: Clock): AgeWatchdog {
    let w = watchdogs.get(clock);
    if (w === undefined) {
      w = new AgeWatchdog(clock);
      watchdogs.set(clock, w);
    }
    return w;
  }

  /** How many writers the watchdog holds (for tests). */
  get size(): number {
    return this.#set.size;
  }

  /** Whether a timer is armed (for tests). */
  get armed(): boolean {
    return this.#timer !== null;
  }

  /** `w` has data pending since `since` (clock ms). */
  add(w: Watched, since: number): void {
    if (!w.watched) {
      w.watched = true;
      this.#set.add(w);
    }
    const deadline = since + w.ageLimit;
    if (this.#timer === null || deadline < this.#armedAt) this.#arm(deadline);
  }

  /** `w` has flushed everything (on the real clocks, it stays until the timer fires). */
  idle(w: Watched): void {
    if (this.#lazy || !w.watched) return;
    this.leave(w);
  }

  /**
   * `w` is closing or has failed: it leaves now (on a mock clock, the timer goes if it was the
   * last; on the real clocks it fires once more and finds nobody).
   */
  leave(w: Watched): void {
    if (w.watched) {
      w.watched = false;
      this.#set.delete(w);
    }
    if (this.#set.size === 0 && this.#timer !== null && !this.#lazy) this.#disarm();
  }

  #arm(deadline: number): void {
    this.#timer?.cancel();
    this.#armedAt = deadline;
    // The mock clock's sleeping fiber belongs to no caller: a root context, never cancelled.
    this.#ctx ??= { ...currentFiber(), cc: new CancelContext(null) };
    this.#timer = startTimer(this.#clock, this.#ctx, deadline, this.#fire);
  }

  #disarm(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#armedAt = Infinity;
  }

  readonly #fire = (): void => {
    this.#timer = null;
    this.#armedAt = Infinity;
    const now = this.#clock.now();
    let next = Infinity;
    for (const w of [...this.#set]) {
      const oldest = w.oldestUnflushed();
      if (Number.isNaN(oldest)) {
        w.watched = false;
        this.#set.delete(w);
        continue;
      }
      const deadline = oldest + w.ageLimit;
      if (deadline <= now) {
        w.watched = false;
        this.#set.delete(w);
        w.expire(now, oldest);
      } else if (deadline < next) next = deadline;
    }
    if (next !== Infinity && this.#timer === null) this.#arm(next);
  };
}

const watchdogs = new WeakMap<Clock, AgeWatchdog>();
