/**
 * The deadlines run inside the simulation unchanged, on virtual time: `idleTimeout` closes a
 * silent client, `headerTimeout` turns away a client that sends nothing while a good one is
 * served through the only slot, and a graceful stop with `drainTimeout` closes the listener at
 * once and cancels what is left when the drain is over.
 */
import { describe, expect, test } from "vitest";
import { IoError, Switch } from "../../src/core/index.ts";
import { Flow } from "../../src/flow/index.ts";
import { Net } from "../../src/net/index.ts";
import { Sim } from "../../src/sim/index.ts";

describe("deadlines inside the simulation", () => {
  test("idleTimeout and headerTimeout on Net.runServer, on virtual time", async () => {
    const sim = Sim.create({ seed: 3 });
    const events: string[] = [];
    sim.host("srv", async (env) => {
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:0.0.0.0:7", { sw });
        await Net.runServer(l, (flow) => Flow.copy(flow, flow), {
          maxConnections: 1,
          headerTimeout: 1000,
          idleTimeout: 5000,
          onError: (e) =>
            events.push(
              `srv onError: ${e instanceof IoError && e.err.kind === "Timeout" ? `Timeout ${e.err.during}` : e}`,
            ),
        });
      });
    });
    sim.client("silent", async (env) => {
      await Switch.run(async (sw) => {
        const c = await env.net.connect("tcp:srv:7", { sw });
        const t0 = env.clock.now();
        const e = await Flow.readAll(c, { maxSize: 10 }).catch((x: unknown) => x);
        events.push(
          `silent: ${e === "" ? "closed" : String(e)} after ${Math.round((env.clock.now() - t0) / 100) * 100} ms`,
        );
      });
    });
    sim.client("good", async (env) => {
      await env.clock.sleep(100);
      await Switch.run(async (sw) => {
        const c = await env.net.connect("tcp:srv:7", { sw });
        await Flow.copyString("hello", c);
        const buf = new Uint8Array(5);
        await Flow.readExact(c, buf);
        events.push(
          `good: echoed ${new TextDecoder().decode(buf)} at ${env.clock.now() < 1000 ? "< 1 s" : ">= 1 s"}`,
        );
        // then silent: the idle timeout closes it
        const t0 = env.clock.now();
        const rest = await Flow.readAll(c, { maxSize: 10 });
        const idle = env.clock.now() - t0;
        events.push(
          `good: closed when idle (${rest === "" ? "no more bytes" : rest}), after ${idle >= 5000 && idle < 7000 ? "5-7 s" : `${idle} ms`}`,
        );
      });
    });
    await sim.run();
    // the silent client is turned away before any handler (quietly); the good client's handler
    // sees its copy fail with the idle timeout, which goes to onError
    expect(events.filter((e) => e.startsWith("srv"))).toEqual(["srv onError: Timeout idle"]);
    expect(events).toContain("good: echoed hello at < 1 s");
    expect(events).toContain("good: closed when idle (no more bytes), after 5-7 s");
    expect(events.some((e) => /^silent: closed after (1[0-9]00|2000) ms$/.test(e))).toBe(true);
  });

  test("a graceful stop closes the listener at once and cancels handlers after drainTimeout", async () => {
    const sim = Sim.create({ seed: 5 });
    const events: string[] = [];
    sim.host("srv", async (env) => {
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:0.0.0.0:7", { sw });
        const stop = env.clock.sleep(500).then(() => "stopped");
        const r = await Net.runServer(l, (flow) => Flow.copy(flow, flow), {
          stop,
          drainTimeout: 2000,
          onError: () => {},
        });
        events.push(`srv: runServer returned ${r} at ${env.clock.now()}`);
      });
    });
    sim.client("long", async (env) => {
      await Switch.run(async (sw) => {
        const c = await env.net.connect("tcp:srv:7", { sw });
        await Flow.copyString("x", c);
        const r = await Flow.readAll(c, { maxSize: 100 }).catch((e: unknown) => e);
        events.push(`long: ${r === "x" ? "echoed, then closed by the drain" : String(r)}`);
      });
    });
    sim.client("late", async (env) => {
      await env.clock.sleep(1000);
      const e = await Switch.run((sw) => env.net.connect("tcp:srv:7", { sw })).catch(
        (x: unknown) => x,
      );
      events.push(
        `late: ${e instanceof IoError ? `${e.err.kind} ${"reason" in e.err ? e.err.reason : ""}` : "connected"}`,
      );
    });
    await sim.run();
    expect(events).toContain("late: ConnectionFailure Refused");
    expect(events).toContain("long: echoed, then closed by the drain");
    expect(events.find((e) => e.startsWith("srv:"))).toMatch(
      /^srv: runServer returned stopped at 25\d\d$/,
    );
  });
});
