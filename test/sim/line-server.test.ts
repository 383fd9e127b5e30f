/**
 * The line server of examples/line-server, unchanged, as a host of the simulation: clients on
 * other hosts talk to it over a network that cuts their bytes at random, with losses, and a
 * silent client gets the idle timeout after 30 s of virtual time.
 */
import { expect, test } from "vitest";
import { serve } from "../../examples/line-server/line-server.ts";
import { Switch } from "../../src/core/index.ts";
import { BufRead, Flow } from "../../src/flow/index.ts";
import { Sim } from "../../src/sim/index.ts";

test("the line server answers every client on every seed, and times out a silent one on virtual time", async () => {
  const r = await Sim.explore({
    seeds: 30,
    options: { dropRate: 0.05, latency: { min: 1, max: 40 } },
    run: (sim) => {
      sim.host("lines", async (env) => {
        await Switch.run(async (sw) => {
          const l = await env.net.listen("tcp:0.0.0.0:7000", { sw, backlog: 8 });
          await serve(l, { clock: env.monoClock, idleTimeout: 30_000 });
        });
      });
      for (const name of ["a", "b"]) {
        sim.client(name, async (env) => {
          await Switch.run(async (sw) => {
            const s = await env.net.connect("tcp:lines:7000", { sw });
            await Flow.copyString(`PING\nECHO hello from ${name}\nQUIT\n`, s);
            const lines: string[] = [];
            for await (const line of BufRead.of(s, { maxSize: 1000 }).lines()) lines.push(line);
            expect(lines).toEqual(["PONG", `hello from ${name}`, "BYE"]);
          });
        });
      }
      sim.client("silent", async (env) => {
        await Switch.run(async (sw) => {
          const t0 = env.clock.now(); // the server's idle timer starts between this and connect's return
          const s = await env.net.connect("tcp:lines:7000", { sw });
          const text = await Flow.readAll(s, { maxSize: 100 });
          expect(text).toBe("ERR idle timeout\n");
          const waited = env.clock.now() - t0;
          expect(waited).toBeGreaterThanOrEqual(30_000);
          expect(waited).toBeLessThan(30_000 + 1000); // two crossings of at most 40 ms, a loss or two
        });
      });
    },
  });
  expect(r.runs).toBe(30);
});
