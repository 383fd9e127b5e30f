/**
 * `Sim.create`'s options: what they mean, their defaults, and their checks.
 * @module
 */

/** A latency: a fixed number of ms, or a range drawn from uniformly for each message. */
export type Latency = number | { readonly min: number; readonly max: number };

/** Options of `Sim.create`. */
export interface SimOptions {
  /** The seed of every random choice of the run (an integer); the same seed gives the same run. */
  readonly seed: number;
  /** One-way latency of each message between two hosts, in ms (default `{ min: 1, max: 10 }`). */
  readonly latency?: Latency | undefined;
  /**
   * Probability that a message is lost (default 0): a UDP datagram is dropped, a TCP segment is
   * retransmitted 200 ms later (TCP stays reliable and ordered).
   */
  readonly dropRate?: number | undefined;
  /** Probability that a UDP datagram is delivered twice (default 0). */
  readonly duplicateRate?: number | undefined;
  /** Probability that a TCP data segment resets its connection instead (default 0). */
  readonly resetRate?: number | undefined;
  /** Probability that a connection attempt is refused although something listens (default 0). */
  readonly connectFailureRate?: number | undefined;
  /**
   * Bytes a TCP connection may have in flight or unread in each direction before `write` waits
   * for the reader (default 65536).
   */
  readonly tcpCapacity?: number | undefined;
  /** Datagrams a UDP socket may hold unread; more are dropped, as a kernel does (default 64). */
  readonly udpCapacity?: number | undefined;
  /**
   * TCP bytes arrive in random chunk sizes, one byte included, so that a reader that assumes one
   * read is one message fails at once (default true).
   */
  readonly partialDelivery?: boolean | undefined;
  /** How long a connect may wait for the handshake before failing with `Timeout` (default 75 000 ms). */
  readonly connectTimeout?: number | undefined;
  /**
   * Virtual time the run may take; past it `run()` rejects (default 600 000 ms; `Infinity`:
   * no limit, a stuck run then rejects with `DeadlockDetected`).
   */
  readonly durationMs?: number | undefined;
  /** The most trace events kept (default 1 000 000); the count goes on past it. */
  readonly traceLimit?: number | undefined;
  /**
   * Give each host an IPv6 address too (fd00::N beside 10.0.0.N); the DNS then answers with the
   * IPv4 address first, then the IPv6 one (default false: IPv4 only).
   */
  readonly ipv6?: boolean | undefined;
  /**
   * How far each host's wall clock (`env.clock`) may be off the simulation's time, in ms: each
   * host draws an offset in [-clockSkew, clockSkew] when it starts (default 0). `env.monoClock`
   * is never off. For leases and timestamps that trust wall clocks.
   */
  readonly clockSkew?: number | undefined;
}

/** The options with their defaults filled in. */
export interface Config {
  readonly seed: number;
  readonly latencyMin: number;
  readonly latencyMax: number;
  readonly dropRate: number;
  readonly duplicateRate: number;
  readonly resetRate: number;
  readonly connectFailureRate: number;
  readonly tcpCapacity: number;
  readonly udpCapacity: number;
  readonly partialDelivery: boolean;
  readonly connectTimeout: number;
  readonly durationMs: number;
  readonly traceLimit: number;
  readonly ipv6: boolean;
  readonly clockSkew: number;
}

const known: ReadonlySet<string> = new Set([
  "seed",
  "latency",
  "dropRate",
  "duplicateRate",
  "resetRate",
  "connectFailureRate",
  "tcpCapacity",
  "udpCapacity",
  "partialDelivery",
  "connectTimeout",
  "durationMs",
  "traceLimit",
  "ipv6",
  "clockSkew",
]);

function rate(name: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
    throw new RangeError(`${name} must be a probability in [0, 1], got ${String(v)}`);
  }
  return v;
}

function positiveInt(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new RangeError(`${name} must be an integer > 0, got ${String(v)}`);
  }
  return v;
}

function ms(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || Number.isNaN(v) || v < 0) {
    throw new RangeError(`${name} must be a number of ms >= 0, got ${String(v)}`);
  }
  return v;
}

function wholeMs(name: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${name} must be an integer number of ms >= 0, got ${String(v)}`);
  }
  return v;
}

function latencyOf(v: Latency | undefined): [number, number] {
  if (v === undefined) return [1, 10];
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`latency must be an integer number of ms >= 0, got ${String(v)}`);
    }
    return [v, v];
  }
  if (typeof v !== "object" || v === null) {
    throw new TypeError(`latency must be a number or { min, max }, got ${typeof v}`);
  }
  const { min, max } = v;
  for (const [k, x] of [
    ["latency.min", min],
    ["latency.max", max],
  ] as const) {
    if (typeof x !== "number" || !Number.isInteger(x) || x < 0) {
      throw new RangeError(`${k} must be an integer number of ms >= 0, got ${String(x)}`);
    }
  }
  if (max < min) throw new RangeError(`latency.max must be >= latency.min, got ${max} < ${min}`);
  return [min, max];
}

/**
 * Checks `opts` and fills in the defaults.
 * @throws TypeError/RangeError naming the option and the value given.
 */
export function configOf(opts: SimOptions): Config {
  if (typeof opts !== "object" || opts === null) {
    throw new TypeError(`options must be an object, got ${opts === null ? "null" : typeof opts}`);
  }
  for (const k of Object.keys(opts)) {
    if (!known.has(k)) {
      throw new TypeError(
        `unknown option ${JSON.stringify(k)} (options are ${[...known].join(", ")})`,
      );
    }
  }
  const { seed } = opts;
  if (typeof seed !== "number" || !Number.isSafeInteger(seed)) {
    throw new TypeError(`seed must be an integer, got ${String(seed)}`);
  }
  const [latencyMin, latencyMax] = latencyOf(opts.latency);
  const ipv6 = opts.ipv6 ?? false;
  if (typeof ipv6 !== "boolean") throw new TypeError(`ipv6 must be a boolean, got ${typeof ipv6}`);
  const pd = opts.partialDelivery ?? true;
  if (typeof pd !== "boolean") {
    throw new TypeError(`partialDelivery must be a boolean, got ${typeof pd}`);
  }
  return {
    seed,
    latencyMin,
    latencyMax,
    dropRate: rate("dropRate", opts.dropRate),
    duplicateRate: rate("duplicateRate", opts.duplicateRate),
    resetRate: rate("resetRate", opts.resetRate),
    connectFailureRate: rate("connectFailureRate", opts.connectFailureRate),
    tcpCapacity: positiveInt("tcpCapacity", opts.tcpCapacity, 65536),
    udpCapacity: positiveInt("udpCapacity", opts.udpCapacity, 64),
    partialDelivery: pd,
    connectTimeout: ms("connectTimeout", opts.connectTimeout, 75_000),
    durationMs: ms("durationMs", opts.durationMs, 600_000),
    traceLimit: positiveInt("traceLimit", opts.traceLimit, 1_000_000),
    ipv6,
    clockSkew: wholeMs("clockSkew", opts.clockSkew),
  };
}
