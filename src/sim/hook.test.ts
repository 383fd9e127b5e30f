import { describe, expect, test } from "vitest";
import { Switch } from "../core/index.ts";
import { Flow } from "../flow/index.ts";
import { Sim, type SimMessage } from "./index.ts";
import { echoHost, echoOnce } from "./test-helpers/scenarios.ts";

describe("the message hook", () => {
  test("sees every message between hosts as it is sent", async () => {
    const sim = Sim.create({ seed: 1 });
    const seen: string[] = [];
    sim.onMessage((m: SimMessage) => {
      seen.push(`${m.time} ${m.protocol} ${m.kind} ${m.label} ${m.data.length}`);
      return undefined;
    });
    sim.host("db", (env) => echoHost(env));
    sim.client("test", async (env) => {
      await echoOnce(env, "db", "hi");
    });
    await sim.run();
    expect(seen).toMatchInlineSnapshot(`
      [
        "0 tcp syn test:49152 > db:7 0",
        "5 tcp syn-ack db:7 > test:49152 0",
        "13 tcp data test:49152 > db:7 2",
        "13 tcp fin test:49152 > db:7 0",
        "19 tcp data db:7 > test:49152 2",
        "23 tcp fin db:7 > test:49152 0",
      ]
    `);
  });

  test("may hold a message (until release), delay it, or drop it (TCP sends it again)", async () => {
    const sim = Sim.create({ seed: 2, partialDelivery: false });
    let n = 0;
    sim.onMessage((m) => {
      if (m.kind !== "data" || m.from !== "test") return "deliver";
      n++;
      if (n === 1) return "hold";
      if (n === 2) return { delay: 500 };
      return "drop";
    });
    sim.host("db", (env) => echoHost(env));
    const out: string[] = [];
    sim.client("test", async (env) => {
      await Switch.run(async (sw) => {
        const s = await env.net.connect("tcp:db:7", { sw });
        for (const w of ["a", "b", "c"]) await s.write([new TextEncoder().encode(w)]);
        await env.clock.sleep(100);
        out.push(`held at 100 ms: ${JSON.stringify(sim.netstat().held)}`);
        sim.release("test", "db");
        await s.shutdown("send");
        out.push(`${await Flow.readAll(s, { maxSize: 10 })} by ${env.clock.now()} ms`);
      });
    });
    await sim.run();
    expect(out).toMatchInlineSnapshot(`
      [
        "held at 100 ms: {"tcpSegments":3,"datagrams":0}",
        "abc by 528 ms",
      ]
    `);
    expect(sim.trace().filter((l) => l.includes("lost"))).toMatchInlineSnapshot(`
      [
        "14 ms net: test:49152 > db:7 data lost (hook), sent again",
      ]
    `);
  });

  test("a bad verdict fails the run, naming what the hook returned", async () => {
    const sim = Sim.create({ seed: 3 });
    sim.onMessage(() => "later" as unknown as "deliver");
    sim.host("db", (env) => echoHost(env));
    sim.client("test", (env) => echoOnce(env, "db", "x"));
    await expect(sim.run()).rejects.toThrow(
      'the message hook must return "deliver", "drop", "hold", { delay } or undefined, got "later"',
    );
    expect(() => sim.onMessage(5 as unknown as undefined)).toThrow(
      "onMessage: hook must be a function or undefined, got number",
    );
  });
});

describe("sim.netstat()", () => {
  test("counts connections, listeners, sockets and what is in flight", async () => {
    const sim = Sim.create({ seed: 4, latency: 10 });
    const stats: unknown[] = [];
    sim.host("db", (env) => echoHost(env));
    sim.client("test", async (env) => {
      await Switch.run(async (sw) => {
        await env.net.datagramSocket("udpv4", { sw });
        const s = await env.net.connect("tcp:db:7", { sw });
        await s.write([new Uint8Array(3000)]);
        stats.push(sim.netstat());
        await Flow.readExact(s, new Uint8Array(3000));
      });
      stats.push(sim.netstat());
    });
    await sim.run();
    expect(stats).toMatchInlineSnapshot(`
      [
        {
          "delivered": 2,
          "dropped": 0,
          "held": {
            "datagrams": 0,
            "tcpSegments": 0,
          },
          "hosts": {
            "db": {
              "established": 1,
              "listening": 1,
              "status": "up",
              "udp": 0,
            },
            "test": {
              "established": 1,
              "listening": 0,
              "status": "up",
              "udp": 1,
            },
          },
          "inFlight": {
            "datagrams": 0,
            "tcpBytes": 3000,
            "tcpSegments": 3,
          },
          "sent": 5,
          "time": 20,
        },
        {
          "delivered": 9,
          "dropped": 0,
          "held": {
            "datagrams": 0,
            "tcpSegments": 0,
          },
          "hosts": {
            "db": {
              "established": 1,
              "listening": 1,
              "status": "up",
              "udp": 0,
            },
            "test": {
              "established": 0,
              "listening": 0,
              "status": "up",
              "udp": 0,
            },
          },
          "inFlight": {
            "datagrams": 0,
            "tcpBytes": 0,
            "tcpSegments": 1,
          },
          "sent": 10,
          "time": 40,
        },
      ]
    `);
  });
});
