/**
 * `Histogram`: an HDR-style latency recorder for `weir bench`. Values (nanoseconds) go into
 * log-linear buckets: below 2^8 one bucket per value, then 128 buckets per power of two, so
 * every value is kept within 0.8% of its true size, in a fixed 38 KB whatever the number of
 * samples (as HdrHistogram does with 2 significant digits).
 * @module
 */

/** Bits of linear precision: 2^(SUB_BITS-1) buckets per power of two above 2^SUB_BITS. */
const SUB_BITS = 8;
const SUB_COUNT = 1 << SUB_BITS;
const HALF = SUB_COUNT >>> 1;
/** Powers of two covered above the linear range: values up to 2^(SUB_BITS+MAGNITUDES)-1 ns (~2.4 h). */
const MAGNITUDES = 35;
/** The largest value kept exactly in a bucket; larger ones go to the last bucket. */
const MAX_TRACKABLE = 2 ** (SUB_BITS + MAGNITUDES) - 1;
const BUCKETS = SUB_COUNT + MAGNITUDES * HALF;

function log2Floor(v: number): number {
  if (v < 2 ** 32) return 31 - Math.clz32(v);
  return 63 - Math.clz32(Math.floor(v / 2 ** 32));
}

function indexOf(v: number): number {
  if (v < SUB_COUNT) return v;
  const b = log2Floor(v) - SUB_BITS + 1;
  const sub = Math.floor(v / 2 ** b) - HALF;
  return SUB_COUNT + (b - 1) * HALF + sub;
}

/** The smallest value that lands in bucket `i`. */
function lowOf(i: number): number {
  if (i < SUB_COUNT) return i;
  const b = Math.floor((i - SUB_COUNT) / HALF) + 1;
  const sub = (i - SUB_COUNT) % HALF;
  return (sub + HALF) * 2 ** b;
}

/** The largest value that lands in bucket `i`. */
function highOf(i: number): number {
  if (i < SUB_COUNT) return i;
  const b = Math.floor((i - SUB_COUNT) / HALF) + 1;
  return lowOf(i) + 2 ** b - 1;
}

/** One row of {@link Histogram.rows}: how many values fell at or below `le` (and above the row before). */
export interface HistogramRow {
  /** The upper bound of the row, in the recorded unit (ns). */
  readonly le: number;
  /** How many values the row holds. */
  readonly count: number;
}

/**
 * A latency histogram with bounded memory. Record non-negative numbers (weir bench records
 * nanoseconds); ask for percentiles, the exact min, max and mean, and rows to draw.
 * @example
 * ```ts
 * const h = new Histogram();
 * h.record(120_000); // 120 µs
 * h.percentile(99); // ~120 000
 * ```
 */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #total = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** How many values were recorded. */
  get count(): number {
    return this.#total;
  }

  /** The smallest value recorded (0 when empty). */
  get min(): number {
    return this.#total === 0 ? 0 : this.#min;
  }

  /** The largest value recorded (0 when empty). */
  get max(): number {
    return this.#max;
  }

  /** The mean of the values recorded (0 when empty). */
  get mean(): number {
    return this.#total === 0 ? 0 : this.#sum / this.#total;
  }

  /**
   * Records one value (rounded to an integer; values past ~2.4 h count in the last bucket but
   * still set the exact max).
   * @throws RangeError for a negative or NaN value.
   */
  record(value: number): void {
    if (!(value >= 0)) throw new RangeError(`value must be a number >= 0, got ${value}`);
    const v = Math.round(value);
    const i = indexOf(Math.min(v, MAX_TRACKABLE));
    this.#counts[i] = (this.#counts[i] as number) + 1;
    this.#total++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  /** Adds every value of `other` to this histogram. */
  add(other: Histogram): void {
    const c = other.#counts;
    for (let i = 0; i < BUCKETS; i++) {
      const n = c[i] as number;
      if (n !== 0) this.#counts[i] = (this.#counts[i] as number) + n;
    }
    this.#total += other.#total;
    this.#sum += other.#sum;
    if (other.#total > 0) {
      this.#min = Math.min(this.#min, other.#min);
      this.#max = Math.max(this.#max, other.#max);
    }
  }

  /** Forgets every value. */
  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = 0;
  }

  /**
   * The value at percentile `p` (0..100): the smallest recorded value such that `p`% of the
   * values are at or below it, within the bucket precision (reported as the bucket's upper
   * bound, never above the exact max). 0 when empty.
   * @throws RangeError if `p` is outside 0..100.
   */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`p must be in 0..100, got ${p}`);
    if (this.#total === 0) return 0;
    if (p === 0) return this.#min;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#total));
    if (rank >= this.#total) return this.#max;
    let seen = 0;
    // the last bucket also holds the values past the tracked range: only the max is known there
    for (let i = 0; i < BUCKETS - 1; i++) {
      seen += this.#counts[i] as number;
      if (seen >= rank) return Math.max(this.#min, Math.min(highOf(i), this.#max));
    }
    return this.#max;
  }

  /**
   * The values grouped into rows with the bounds 1, 2, 5, 10, 20, 50, ... (times `unit`), from
   * the row holding the min to the row holding the max; empty rows in between are kept so the
   * shape reads right. The counts add up to {@link count}.
   */
  rows(unit = 1): HistogramRow[] {
    if (this.#total === 0) return [];
    const bounds: number[] = [];
    for (let decade = unit; bounds.length === 0 || bounds.at(-1)! < this.#max; decade *= 10) {
      for (const m of [1, 2, 5]) bounds.push(decade * m);
    }
    const rows: Array<{ le: number; count: number }> = bounds.map((le) => ({ le, count: 0 }));
    let r = 0;
    for (let i = 0; i < BUCKETS; i++) {
      const n = this.#counts[i] as number;
      if (n === 0) continue;
      // a bucket goes in the first row whose bound holds its midpoint (its values are within 0.8%)
      const mid = Math.min((lowOf(i) + highOf(i)) / 2, this.#max);
      while (r < rows.length - 1 && (rows[r] as { le: number }).le < mid) r++;
      (rows[r] as { count: number }).count += n;
    }
    let first = 0;
    while ((rows[first] as HistogramRow).count === 0) first++;
    let last = rows.length - 1;
    while ((rows[last] as HistogramRow).count === 0) last--;
    return rows.slice(first, last + 1);
  }
}
