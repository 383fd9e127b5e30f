/**
 * `Sim.explore`: runs one scenario under many seeds, and on the first failure reruns that seed
 * to check the failure is deterministic, then rejects with the seed and how to rerun it.
 * @module
 */
import type { SimOptions } from "./options.ts";
import { Sim } from "./sim.ts";

/** Options of {@link explore}. */
export interface ExploreOptions {
  /**
   * The seeds to try: a count `n` (seeds 0 .. n-1) or a list. The environment variable
   * `WEIR_SIM_SEED`, when set, replaces them with that one seed (to rerun a failure).
   */
  readonly seeds: number | Iterable<number>;
  /** The options of every run but the seed. */
  readonly options?: Omit<SimOptions, "seed"> | undefined;
  /**
   * Builds the scenario on `sim` (hosts, clients, faults). If it does not call `sim.run()`
   * itself, explore does once it returns; a client that throws fails the seed.
   */
  readonly run: (sim: Sim, seed: number) => unknown;
}

/** What a successful exploration did. */
export interface ExploreResult {
  /** How many seeds ran. */
  readonly runs: number;
  /** The events of all runs together. */
  readonly events: number;
}

/** A seed failed; `cause` is its failure. */
export class ExploreFailure extends Error {
  /** The failing seed. */
  readonly seed: number;
  /** Whether the rerun of the seed gave the same trace (false: something outside the simulation). */
  readonly deterministic: boolean;
  /** The failing run's trace. */
  readonly trace: readonly string[];

  constructor(
    seed: number,
    tried: number,
    cause: unknown,
    trace: string[],
    difference: string | undefined,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const det =
      difference === undefined
        ? "the rerun failed the same way, event for event"
        : `NOT deterministic: the rerun differed (${difference}); look for real timers, real I/O or Math.random in the code under test`;
    super(
      `Sim.explore: seed ${seed} failed (run ${tried}): ${why}\n` +
        `  rerun it: WEIR_SIM_SEED=${seed} <your test command>, or Sim.explore({ seeds: [${seed}], ... })\n` +
        `  ${det}`,
      { cause },
    );
    this.name = "ExploreFailure";
    this.seed = seed;
    this.deterministic = difference === undefined;
    this.trace = trace;
  }
}

function seedsOf(seeds: number | Iterable<number>): Iterable<number> {
  const forced = process.env.WEIR_SIM_SEED;
  if (forced !== undefined && forced !== "") {
    const n = Number(forced);
    if (!Number.isSafeInteger(n)) {
      throw new TypeError(`WEIR_SIM_SEED must be an integer, got ${JSON.stringify(forced)}`);
    }
    return [n];
  }
  if (typeof seeds === "number") {
    if (!Number.isInteger(seeds) || seeds <= 0) {
      throw new RangeError(`seeds must be an integer > 0 or a list of seeds, got ${seeds}`);
    }
    return (function* () {
      for (let i = 0; i < seeds; i++) yield i;
    })();
  }
  if (seeds === null || typeof seeds !== "object" || !(Symbol.iterator in seeds)) {
    throw new TypeError(`seeds must be a count or a list of seeds, got ${typeof seeds}`);
  }
  return seeds;
}

async function once(
  opts: ExploreOptions,
  seed: number,
): Promise<{ sim: Sim | undefined; error: unknown }> {
  let sim: Sim | undefined;
  try {
    sim = Sim.create({ ...opts.options, seed });
    await opts.run(sim, seed);
    if (sim.state === "new") await sim.run();
    return { sim, error: undefined };
  } catch (error) {
    return { sim, error: error ?? new Error("the run threw undefined") };
  }
}

function firstDifference(a: string[], b: string[]): string | undefined {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      return `event ${i + 1}: ${JSON.stringify(a[i] ?? "(none)")} then ${JSON.stringify(b[i] ?? "(none)")}`;
    }
  }
  return undefined;
}

/**
 * Runs the scenario `opts.run` builds under each seed, one after another.
 * @throws ExploreFailure for the first seed that fails: its message names the seed, how to
 *   rerun it, and whether the rerun failed the same way; TypeError/RangeError for bad options.
 * @example
 * ```ts
 * await Sim.explore({
 *   seeds: 100,
 *   options: { dropRate: 0.1 },
 *   run: (sim) => {
 *     sim.host("db", serveDb);
 *     sim.client("test", checkDb);
 *   },
 * });
 * ```
 */
export async function explore(opts: ExploreOptions): Promise<ExploreResult> {
  if (typeof opts !== "object" || opts === null)
    throw new TypeError("explore: options are required");
  if (typeof opts.run !== "function") {
    throw new TypeError(`explore: run must be a function, got ${typeof opts.run}`);
  }
  let runs = 0;
  let events = 0;
  for (const seed of seedsOf(opts.seeds)) {
    runs++;
    const { sim, error } = await once(opts, seed);
    events += sim?.eventCount ?? 0;
    if (error === undefined) continue;
    const trace = sim?.trace() ?? [];
    const again = await once(opts, seed);
    const retrace = again.sim?.trace() ?? [];
    let difference = firstDifference(trace, retrace);
    if (difference === undefined && again.error === undefined) difference = "the rerun passed";
    throw new ExploreFailure(seed, runs, error, trace, difference);
  }
  return { runs, events };
}
