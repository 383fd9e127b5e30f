/**
 * Idle timeouts for the examples' connections with one timer per server, not one per read:
 * each connection notes when it last saw bytes ({@link IdleEntry.touch}, a clock read), and a
 * sweep fiber wakes at the earliest deadline and aborts the signal of each connection idle for
 * `idleMs`. Its reader was made with that signal, so the read it waits in rejects with
 * `Cancelled` (whose `cause` is {@link IDLE}) and the handler closes the connection.
 *
 * The sweep runs on the clock it is given: on `weir/mock` time in tests, so 30 s of idleness take
 * microseconds.
 * @module
 */
import type { Clock, Switch } from "weir";

/** The abort reason of an idle connection's signal. */
export const IDLE: Error = new Error("idle timeout");

/** One tracked connection. */
export interface IdleEntry {
  /** Aborted (with {@link IDLE}) once the connection has been idle for `idleMs`. */
  readonly signal: AbortSignal;
  /** Notes activity now. */
  touch(): void;
  /** Stops tracking (when the connection ends). */
  untrack(): void;
}

class Entry implements IdleEntry {
  readonly #sweep: IdleSweep;
  readonly #ac = new AbortController();
  last: number;
  constructor(sweep: IdleSweep, now: number) {
    this.#sweep = sweep;
    this.last = now;
  }
  get signal(): AbortSignal {
    return this.#ac.signal;
  }
  touch(): void {
    this.last = this.#sweep.clock.now();
  }
  untrack(): void {
    this.#sweep.remove(this);
  }
  expire(): void {
    this.#sweep.remove(this);
    this.#ac.abort(IDLE);
  }
}

/** The idle connections' sweeper of one server. */
export class IdleSweep {
  readonly clock: Clock;
  readonly idleMs: number;
  readonly entries = new Set<Entry>();
  readonly #sw: Switch;
  #running = false;
  #sleep: AbortController | null = null;

  /**
   * A sweeper whose fiber runs on `sw` while it tracks connections.
   * @throws RangeError if `idleMs` is not a number > 0.
   */
  constructor(clock: Clock, idleMs: number, sw: Switch) {
    if (typeof idleMs !== "number" || !(idleMs > 0)) {
      throw new RangeError(`idleTimeout must be a number of ms > 0, got ${String(idleMs)}`);
    }
    this.clock = clock;
    this.idleMs = idleMs;
    this.#sw = sw;
  }

  /** Starts tracking a connection (active now). */
  track(): IdleEntry {
    const e = new Entry(this, this.clock.now());
    this.entries.add(e);
    if (!this.#running) {
      this.#running = true;
      this.#sw.fork(() => this.#loop());
    }
    return e;
  }

  /** Stops tracking `e`; the sweep fiber ends with the last connection. */
  remove(e: Entry): void {
    this.entries.delete(e);
    if (this.entries.size === 0) this.#sleep?.abort();
  }

  async #loop(): Promise<void> {
    try {
      // Waking at most 8 times per idle period keeps a busy server's sweep cheap.
      const step = this.idleMs / 8;
      let wakeAt = this.clock.now();
      while (this.entries.size > 0) {
        let oldest = Infinity;
        for (const e of this.entries) if (e.last < oldest) oldest = e.last;
        wakeAt = Math.max(oldest + this.idleMs, wakeAt + step);
        const sleep = new AbortController();
        this.#sleep = sleep;
        try {
          await this.clock.sleepUntil(wakeAt, { signal: sleep.signal });
        } catch (err) {
          if (sleep.signal.aborted) continue; // the last connection left (one may have come since)
          throw err;
        }
        const now = this.clock.now();
        for (const e of [...this.entries]) if (now - e.last >= this.idleMs) e.expire();
      }
    } finally {
      this.#sleep = null;
      this.#running = false;
    }
  }
}
