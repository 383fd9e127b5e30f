/**
 * Metrics inside the simulation: the same `weir:*` events and `Net.serverStats` as on real
 * sockets, with durations on virtual time, so a seed gives the same messages every run.
 */
import { describe, expect, test } from "vitest";
import { Switch } from "../../src/core/index.ts";
import { Flow } from "../../src/flow/index.ts";
import { Net, type ServerStats } from "../../src/net/index.ts";
import type { ListeningSocket } from "../../src/net/types.ts";
import { Sim } from "../../src/sim/index.ts";
import { formatMetric, recordMetrics } from "../helpers/metrics.ts";

/** A server with headerTimeout and idleTimeout; a silent client, and one that echoes once. */
async function scenario(seed: number): Promise<{ lines: string[]; stats: ServerStats }> {
  let listener: ListeningSocket | undefined;
  const { messages } = await recordMetrics(async () => {
    const sim = Sim.create({ seed });
    sim.host("srv", async (env) => {
      await Switch.run(async (sw) => {
        listener = await env.net.listen("tcp:0.0.0.0:7", { sw });
        await Net.runServer(listener, (flow) => Flow.copy(flow, flow), {
          headerTimeout: 1000,
          idleTimeout: 5000,
          onError: () => {},
        });
      });
    });
    sim.client("silent", async (env) => {
      await Switch.run(async (sw) => {
        const c = await env.net.connect("tcp:srv:7", { sw });
        await Flow.readAll(c, { maxSize: 10 });
      });
    });
    sim.client("good", async (env) => {
      await env.clock.sleep(100);
      await Switch.run(async (sw) => {
        const c = await env.net.connect("tcp:srv:7", { sw });
        await Flow.copyString("hello", c);
        await Flow.readExact(c, new Uint8Array(5));
        await Flow.readAll(c, { maxSize: 10 }); // then silent: the idle timeout closes it
      });
    });
    await sim.run();
  });
  const ids = new Map<number, number>();
  const id = (n: number): number => {
    if (!ids.has(n)) ids.set(n, ids.size + 1);
    return ids.get(n) as number;
  };
  return {
    lines: messages.map((m) => formatMetric(m, id)),
    stats: Net.serverStats(listener as ListeningSocket),
  };
}

describe("metrics in weir/sim", () => {
  test("a header timeout and an idle timeout: opens, timeouts, closes with bytes, connect attempts; the same for the same seed", async () => {
    const a = await scenario(3);
    const b = await scenario(3);
    expect(b.lines).toEqual(a.lines);
    const kinds = a.lines.map((l) => l.replace(/ .*/, ""));
    expect(kinds.filter((k) => k === "weir:connection:open")).toHaveLength(2);
    expect(kinds.filter((k) => k === "weir:connect:attempt")).toHaveLength(2);
    expect(a.lines.filter((l) => l.startsWith("weir:connection:timeout"))).toEqual([
      expect.stringMatching(/^weir:connection:timeout header 1000 ms, peer tcp:/),
      expect.stringMatching(/^weir:connection:timeout idle 5000 ms, peer tcp:/),
    ]);
    const closes = a.lines.filter((l) => l.startsWith("weir:connection:close"));
    expect(closes).toEqual([
      expect.stringMatching(
        /^weir:connection:close #\d timeout header, 0 in, 0 out, 1\d{3}(\.\d+)? ms$/,
      ),
      expect.stringMatching(
        /^weir:connection:close #\d timeout idle, 5 in, 5 out, [5-6]\d{3}(\.\d+)? ms$/,
      ),
    ]);
    expect(a.stats).toMatchObject({
      accepted: 2,
      closed: 2,
      timedOut: 2,
      errors: 0,
      bytesIn: 5,
      bytesOut: 5,
    });
  });
});
