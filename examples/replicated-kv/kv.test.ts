/**
 * The replicated store under the simulation: a client writes to the leader while the link to
 * the follower may be partitioned (at a time the seed picks), then the leader crashes and the
 * client reads every acknowledged write back from the follower. `Sim.explore` finds the seed
 * where asynchronous replication loses an acknowledged write; synchronous replication passes
 * every seed.
 */
import { describe, expect, test } from "vitest";
import { Time } from "../../src/core/index.ts";
import { Sim, type Sim as SimT } from "../../src/sim/index.ts";
import { follower, leader, type Replication, request } from "./kv.ts";

/** The scenario: 10 writes, a partition of the leader from the follower at a random time, failover. */
function scenario(replication: Replication) {
  return (sim: SimT): void => {
    sim.host("follower", () => follower());
    sim.host("leader", () => leader("follower", replication));
    sim.client("app", async (env) => {
      await env.clock.sleep(50); // the leader connects to the follower
      const cutAt = env.clock.now() + Math.floor(sim.random() * 200);
      const acked = new Map<string, string>();
      for (let i = 0; i < 10; i++) {
        if (env.clock.now() >= cutAt) sim.partition("leader", "follower");
        const answer = await Time.withTimeout(env.clock, 300, () =>
          request("leader", `SET k${i} v${i}`),
        ).catch(() => "timed out");
        if (answer === "OK") acked.set(`k${i}`, `v${i}`);
      }
      sim.crash("leader"); // failover: the follower is all there is
      for (const [k, v] of acked) {
        const got = await request("follower", `GET ${k}`);
        if (got !== v) {
          throw new Error(
            `acknowledged write ${k}=${v} lost at failover: the follower answers ${got}`,
          );
        }
      }
    });
  };
}

describe("the replicated key-value store in the simulation", () => {
  test("asynchronous replication loses an acknowledged write: explore finds the seed", async () => {
    const e = await Sim.explore({ seeds: 100, run: scenario("async") }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Sim.ExploreFailure);
    const f = e as InstanceType<typeof Sim.ExploreFailure>;
    expect(f.deterministic).toBe(true);
    expect(f.message).toMatchInlineSnapshot(`
      "Sim.explore: seed 0 failed (run 1): simulation with seed 0 failed at 352 ms: client "app" failed: acknowledged write k2=v2 lost at failover: the follower answers NIL
        rerun it: WEIR_SIM_SEED=0 <your test command>, or Sim.explore({ seeds: [0], ... })
        the rerun failed the same way, event for event"
    `);
  });

  test("synchronous replication keeps every acknowledged write, on every seed", async () => {
    const r = await Sim.explore({ seeds: 100, run: scenario("sync") });
    expect(r.runs).toBe(100);
  });
});
