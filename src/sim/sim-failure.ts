/**
 * `SimFailure`: why a simulation run failed, with the seed that reproduces it.
 * @module
 */

function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** A simulation run failed; `cause` is the first error. Its message starts with the seed. */
export class SimFailure extends Error {
  /** The seed of the failed run. */
  readonly seed: number;
  /** The virtual time of the failure, in ms. */
  readonly time: number;
  /** What failed, in one line (`client "test" failed: ...`). */
  readonly reason: string;

  constructor(seed: number, time: number, cause: unknown, what?: string) {
    const reason = what === undefined ? describe(cause) : `${what}: ${describe(cause)}`;
    super(`simulation with seed ${seed} failed at ${time} ms: ${reason}`, { cause });
    this.name = "SimFailure";
    this.seed = seed;
    this.time = time;
    this.reason = reason;
  }
}
