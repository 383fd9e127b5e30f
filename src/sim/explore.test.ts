import { afterEach, describe, expect, test } from "vitest";
import { Sim } from "./index.ts";
import { echoHost, echoOnce } from "./test-helpers/scenarios.ts";

afterEach(() => {
  delete process.env.WEIR_SIM_SEED;
});

describe("Sim.explore()", () => {
  test("runs every seed and reports how many runs and events", async () => {
    const seeds: number[] = [];
    const r = await Sim.explore({
      seeds: 20,
      options: { dropRate: 0.05 },
      run: (sim, seed) => {
        seeds.push(seed);
        sim.host("db", (env) => echoHost(env));
        sim.client("test", async (env) => {
          expect(await echoOnce(env, "db", "ping")).toBe("ping");
        });
      },
    });
    expect(seeds).toEqual([...Array(20).keys()]);
    expect(r.runs).toBe(20);
    expect(r.events).toBeGreaterThan(20 * 10);
  });

  test("rejects with the first failing seed, how to rerun it, and that the rerun failed the same way", async () => {
    const tried: number[] = [];
    const e = await Sim.explore({
      seeds: [5, 6, 7, 8, 9, 10],
      options: { latency: { min: 1, max: 100 } },
      run: (sim, seed) => {
        tried.push(seed);
        sim.host("db", (env) => echoHost(env));
        sim.client("test", async (env) => {
          await echoOnce(env, "db", "ping");
          // a "bug" that only slow networks show
          if (env.clock.now() > 200) throw new Error(`too slow: ${env.clock.now()} ms`);
        });
      },
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Sim.ExploreFailure);
    const f = e as InstanceType<typeof Sim.ExploreFailure>;
    expect(f.message).toMatchInlineSnapshot(`
      "Sim.explore: seed 5 failed (run 1): simulation with seed 5 failed at 267 ms: client "test" failed: too slow: 267 ms
        rerun it: WEIR_SIM_SEED=5 <your test command>, or Sim.explore({ seeds: [5], ... })
        the rerun failed the same way, event for event"
    `);
    expect(f.deterministic).toBe(true);
    expect(tried.slice(-2)).toEqual([f.seed, f.seed]);
    expect(f.trace.at(-1)).toMatch(/ sim: failed: client "test" failed: too slow/);
  });

  test("says so when the rerun of a failing seed differs (state outside the simulation)", async () => {
    let runs = 0;
    const e = await Sim.explore({
      seeds: 3,
      run: (sim) => {
        runs++;
        sim.client("test", async (env) => {
          await env.clock.sleep(runs); // depends on how often it ran: not deterministic
          throw new Error("always fails");
        });
      },
    }).catch((x: unknown) => x);
    const f = e as InstanceType<typeof Sim.ExploreFailure>;
    expect(f.deterministic).toBe(false);
    expect(f.message.split("\n")[2]).toMatchInlineSnapshot(
      `"  NOT deterministic: the rerun differed (event 2: "1 ms sim: failed: client \\"test\\" failed: always fails" then "2 ms sim: failed: client \\"test\\" failed: always fails"); look for real timers, real I/O or Math.random in the code under test"`,
    );
  });

  test("run may call sim.run() itself and check the outcome afterwards", async () => {
    const e = await Sim.explore({
      seeds: 5,
      run: async (sim) => {
        sim.host("db", (env) => echoHost(env));
        sim.client("test", (env) => echoOnce(env, "db", "x"));
        await sim.run();
        const { delivered } = sim.netstat();
        if (sim.seed === 3) throw new Error(`seed 3 checked after its run: ${delivered > 0}`);
      },
    }).catch((x: unknown) => x);
    expect((e as Error).message.split("\n")[0]).toBe(
      "Sim.explore: seed 3 failed (run 4): seed 3 checked after its run: true",
    );
  });

  test("WEIR_SIM_SEED reruns just that seed", async () => {
    process.env.WEIR_SIM_SEED = "77";
    const seeds: number[] = [];
    await Sim.explore({
      seeds: 1000,
      run: (sim, seed) => {
        seeds.push(seed);
        sim.client("c", async () => {});
      },
    });
    expect(seeds).toEqual([77]);
  });

  test("bad options throw at once", async () => {
    await expect(Sim.explore({ seeds: 0, run: () => {} })).rejects.toThrow(
      "seeds must be an integer > 0 or a list of seeds, got 0",
    );
    await expect(
      Sim.explore({ seeds: 1, run: undefined as unknown as () => void }),
    ).rejects.toThrow("explore: run must be a function, got undefined");
  });
});
