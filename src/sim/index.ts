/**
 * `weir/sim`: a deterministic simulated network with faults, on virtual time (turmoil for
 * TypeScript). Hosts run the same code as on real sockets: each gets an `env` whose `net`
 * implements the `Net` contract over the simulation, and `Tcp.*` finds it in the running env.
 * @example
 * ```ts
 * import { Sim } from "weir/sim";
 * const sim = Sim.create({ seed: 7, latency: { min: 1, max: 20 } });
 * sim.host("db", async (env) => { ... });
 * sim.client("test", async (env) => { ... });
 * await sim.run();
 * ```
 * @module
 */
import { ExploreFailure, explore } from "./explore.ts";
import { Sim as SimClass } from "./sim.ts";
import { SimFailure } from "./sim-failure.ts";
import { HostCrashed } from "./types.ts";

export type { ExploreOptions, ExploreResult } from "./explore.ts";
export type { Latency, SimOptions } from "./options.ts";
export type { HostFn, HostStat, NetStat, SimEnv } from "./types.ts";
export type { MessageHook, MessageVerdict, SimMessage } from "./world.ts";
export { ExploreFailure, HostCrashed, SimFailure };

/** A simulation (the class), with `Sim.create` and `Sim.explore`. */
export type Sim = SimClass;

/**
 * The simulation: `Sim.create(options)` makes one; `Sim.explore({ seeds, run })` runs a
 * scenario under many seeds.
 */
export const Sim = {
  create: SimClass.create,
  explore,
  SimFailure,
  ExploreFailure,
  HostCrashed,
};
