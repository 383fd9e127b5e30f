/**
 * The simulation's event log: what `sim.trace()` returns, one line per event with its virtual
 * time. Events are stored as (time, who, what) and formatted only when asked for, so that a
 * run that nobody reads costs little.
 * @module
 */

/** The recorded events of one run, bounded by `limit` (the count goes on past it). */
export class TraceLog {
  readonly #limit: number;
  readonly #times: number[] = [];
  readonly #who: string[] = [];
  readonly #what: string[] = [];
  readonly #extra: Array<number | undefined> = [];
  #count = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Records that `who` did `what` (followed by the number `extra`, if given) at `time` (ms). */
  add(time: number, who: string, what: string, extra?: number): void {
    if (this.#count++ >= this.#limit) return;
    this.#times.push(time);
    this.#who.push(who);
    this.#what.push(what);
    this.#extra.push(extra);
  }

  /** How many events happened (including those past the limit). */
  get count(): number {
    return this.#count;
  }

  /** The events as lines `"12 ms db: listening on tcp:0.0.0.0:5432"`. */
  lines(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.#times.length; i++) {
      const extra = this.#extra[i];
      out.push(`${this.#times[i]} ms ${this.#who[i]}: ${this.#what[i]}${extra ?? ""}`);
    }
    if (this.#count > this.#limit) out.push(`(${this.#count - this.#limit} more events not kept)`);
    return out;
  }
}
