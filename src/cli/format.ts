/**
 * Number formatting for the `weir` commands' human output: durations, byte counts, rates.
 * @module
 */

/**
 * A duration in nanoseconds as a short human string with 3 significant digits:
 * `850 ns`, `412 µs`, `1.10 ms`, `2.35 s`.
 * @example
 * ```ts
 * formatNs(1_100_000); // "1.10 ms"
 * ```
 */
export function formatNs(ns: number): string {
  if (ns < 1000) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${sig3(ns / 1e3)} µs`;
  if (ns < 1e9) return `${sig3(ns / 1e6)} ms`;
  return `${sig3(ns / 1e9)} s`;
}

/** A number with 3 significant digits (no exponent): 1.23, 12.3, 123, 1234. */
function sig3(x: number): string {
  if (x >= 100) return Math.round(x).toString();
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/**
 * A byte count with a decimal unit (1 kB = 1000 B, as network tools count): `512 B`,
 * `64.0 kB`, `1.05 MB`, `2.10 GB`.
 * @example
 * ```ts
 * formatBytes(65536); // "65.5 kB"
 * ```
 */
export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  if (n < 1e6) return `${sig3(n / 1e3)} kB`;
  if (n < 1e9) return `${sig3(n / 1e6)} MB`;
  return `${sig3(n / 1e9)} GB`;
}

/**
 * A size as it was probably typed: `64 B`, `64 KiB`, `1 MiB` for exact binary multiples,
 * the byte count otherwise.
 */
export function formatSize(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

/**
 * An integer with thousands separators: `1,234,567`.
 * @example
 * ```ts
 * formatCount(104512.4); // "104,512"
 * ```
 */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Milliseconds as seconds with 2 decimals: `3.00 s`. */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
