/**
 * Idle timeouts for the examples' connections with one timer per server, not one per read:
 * each connection runs in a cancellation scope ({@link IdleSweep.guard}) and notes when it last
 * saw bytes ({@link IdleEntry.touch}, a clock read); a sweep fiber wakes at the earliest
 * deadline and cancels the scope of each connection idle for `idleMs`, so whatever it waits in
 * rejects with `Cancelled` (cause {@link IDLE}), and the handler returns.
 *
 * The sweep runs on the clock it is given: on `weir/mock` time in tests, so 30 s of idleness take
 * microseconds.
 * @module
 */
import { Cancel, Cancelled, type CancelScope, type Clock, type Switch } from "weir";

/** The abort reason of an idle connection's signal. */
export const IDLE: Error = new Error("idle timeout");

/** One tracked connection. */
export interface IdleEntry {
  /** Notes activity now. */
  touch(): void;
  /** Ends the connection now, from any fiber, as an idle timeout does (its handler returns). */
  drop(): void;
}

class Entry implements IdleEntry {
  readonly #sweep: IdleSweep;
  readonly #scope: CancelScope;
  last: number;
  expired = false;
  constructor(sweep: IdleSweep, scope: CancelScope, now: number) {
    this.#sweep = sweep;
    this.#scope = scope;
    this.last = now;
  }
  touch(): void {
    this.last = this.#sweep.clock.now();
  }
  expire(): void {
    this.drop();
  }
  drop(): void {
    this.#sweep.remove(this);
    this.expired = true;
    this.#scope.cancel(IDLE);
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

  /**
   * Runs `fn` (a connection's handler) in a cancellation scope that is cancelled once it has
   * been idle for `idleMs`; returns normally then (an idle client is not an error).
   * @throws what `fn` throws.
   */
  async guard(fn: (idle: IdleEntry) => Promise<void>): Promise<void> {
    let entry: Entry | undefined;
    try {
      await Cancel.sub(async (scope) => {
        entry = new Entry(this, scope, this.clock.now());
        this.entries.add(entry);
        if (!this.#running) {
          this.#running = true;
          this.#sw.fork(() => this.#loop());
        }
        await fn(entry);
      });
    } catch (e) {
      if (!(entry?.expired && e instanceof Cancelled)) throw e;
    } finally {
      if (entry !== undefined) this.remove(entry);
    }
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
