import { describe, expect, test } from "vitest";
import { EndOfFile, IoError, isCancelled, Switch, Time, Timeout } from "../core/index.ts";
import { Flow } from "../flow/index.ts";
import { Tcp } from "../tcp/index.ts";
import { Sim } from "./index.ts";
import { echoHost, echoOnce } from "./test-helpers/scenarios.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function kindOf(e: unknown): string {
  if (e instanceof IoError) {
    const err = e.err;
    return err.kind === "ConnectionFailure" ? `${err.kind} ${err.reason}` : err.kind;
  }
  if (e instanceof Timeout) return "Timeout";
  if (e instanceof EndOfFile) return "EndOfFile";
  return e instanceof Error ? e.name : String(e);
}

describe("partitions", () => {
  test("a partitioned connect times out on virtual time; after repair it connects", async () => {
    const sim = Sim.create({ seed: 1, connectTimeout: 3000 });
    sim.host("db", (env) => echoHost(env));
    const out: string[] = [];
    sim.client("test", async (env) => {
      sim.partition("test", "db");
      const e = await echoOnce(env, "db", "x").catch((x: unknown) => x);
      out.push(`${kindOf(e)} at ${env.clock.now()} ms`);
      sim.repair("test", "db");
      out.push(`${await echoOnce(env, "db", "after repair")} at ${env.clock.now()} ms`);
    });
    await sim.run();
    expect(out).toMatchInlineSnapshot(`
      [
        "ConnectionFailure Timeout at 3000 ms",
        "after repair at 3025 ms",
      ]
    `);
  });

  test("bytes sent into a partition wait (TCP retransmits) and arrive in order after repair; a read times out meanwhile", async () => {
    const sim = Sim.create({ seed: 2 });
    sim.host("db", (env) => echoHost(env));
    const out: string[] = [];
    sim.client("test", async (env) => {
      await Switch.run(async (sw) => {
        const s = await env.net.connect("tcp:db:7", { sw });
        sim.partition("test", "db");
        await s.write([encoder.encode("one "), encoder.encode("two "), encoder.encode("three")]);
        const buf = new Uint8Array(100);
        const r = await Time.withTimeout(env.clock, 1000, () => s.readInto(buf)).catch(
          (e: unknown) => e,
        );
        out.push(`${kindOf(r)} at ${env.clock.now()} ms`);
        out.push(JSON.stringify(sim.netstat().inFlight));
        sim.repair("db", "test");
        await s.shutdown("send");
        out.push(`${await Flow.readAll(s, { maxSize: 100 })} at ${env.clock.now()} ms`);
      });
    });
    await sim.run();
    expect(out).toMatchInlineSnapshot(`
      [
        "Timeout at 1014 ms",
        "{"tcpSegments":1,"tcpBytes":13,"datagrams":0}",
        "one two three at 1029 ms",
      ]
    `);
  });

  test("partitionOneWay: requests arrive, answers do not", async () => {
    const sim = Sim.create({ seed: 3 });
    let served = 0;
    sim.host("db", async (env) => {
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:0.0.0.0:80", { sw, backlog: 1 });
        const [s] = await l.accept({ sw });
        const buf = new Uint8Array(10);
        await s.readInto(buf);
        served++;
        sim.partitionOneWay("db", "test");
        await s.write([encoder.encode("answer")]);
        await env.clock.sleep(Infinity);
      });
    });
    const out: string[] = [];
    sim.client("test", async (env) => {
      await Switch.run(async (sw) => {
        const s = await env.net.connect("tcp:db:80", { sw });
        await s.write([encoder.encode("q")]);
        const r = await Time.withTimeout(env.clock, 500, () =>
          s.readInto(new Uint8Array(10)),
        ).catch((e: unknown) => e);
        out.push(kindOf(r));
      });
    });
    await sim.run();
    expect(served).toBe(1);
    expect(out).toEqual(["Timeout"]);
  });
});

describe("hold and release", () => {
  test("held messages arrive after release, in order, TCP and UDP", async () => {
    const sim = Sim.create({ seed: 5 });
    const got: string[] = [];
    sim.host("db", async (env) => {
      await Switch.run(async (sw) => {
        const u = await env.net.datagramSocket("udp:0.0.0.0:53", { sw });
        const l = await env.net.listen("tcp:0.0.0.0:80", { sw, backlog: 1 });
        sw.fork(async () => {
          const buf = new Uint8Array(10);
          for (;;) {
            const [, n] = await u.recv(buf);
            got.push(`udp ${decoder.decode(buf.subarray(0, n))} at ${env.clock.now()}`);
          }
        });
        const [s] = await l.accept({ sw });
        const text = await Flow.readAll(s, { maxSize: 100 });
        got.push(`tcp ${text} at ${env.clock.now()}`);
      });
    });
    sim.client("test", async (env) => {
      await Switch.run(async (sw) => {
        const s = await env.net.connect("tcp:db:80", { sw });
        const u = await env.net.datagramSocket("udpv4", { sw });
        sim.hold("test", "db");
        for (const w of ["a", "b", "c"]) {
          await s.write([encoder.encode(w)]);
          await u.send([encoder.encode(w)], { dst: "udp:db:53" });
          await env.clock.sleep(10);
        }
        await s.close();
        await env.clock.sleep(100);
        got.push(`released at ${env.clock.now()}`);
        expect(sim.netstat().held).toEqual({ tcpSegments: 4, datagrams: 3 });
        sim.release("test", "db");
        await env.clock.sleep(100);
      });
    });
    await sim.run();
    expect(got).toMatchInlineSnapshot(`
      [
        "released at 144",
        "udp a at 144",
        "udp b at 144",
        "udp c at 144",
        "tcp abc at 146",
      ]
    `);
  });
});

describe("crash and bounce", () => {
  test("crash: the peer's connection resets, the host's fibers are cancelled, connects time out until it is back", async () => {
    const sim = Sim.create({ seed: 6, connectTimeout: 2000 });
    const events: string[] = [];
    sim.host("db", async (env) => {
      try {
        await echoHost(env);
      } catch (e) {
        events.push(`db ${isCancelled(e) ? "cancelled" : kindOf(e)} at ${env.clock.now()}`);
        throw e;
      }
    });
    sim.client("test", async (env) => {
      await Switch.run(async (sw) => {
        const s = await env.net.connect("tcp:db:7", { sw });
        await s.write([encoder.encode("ping")]);
        await Flow.readExact(s, new Uint8Array(4));
        sim.crash("db");
        const r = await s.readInto(new Uint8Array(4)).catch((e: unknown) => e);
        events.push(`read ${kindOf(r)} at ${env.clock.now()}`);
        const w = await s.write([encoder.encode("more")]).catch((e: unknown) => e);
        events.push(`write ${kindOf(w)}`);
      });
      const c = await echoOnce(env, "db", "x").catch((e: unknown) => e);
      events.push(`connect ${kindOf(c)} at ${env.clock.now()}`);
      expect(sim.netstat().hosts.db).toEqual({
        status: "crashed",
        established: 0,
        listening: 0,
        udp: 0,
      });
    });
    await sim.run();
    expect(events).toMatchInlineSnapshot(`
      [
        "db cancelled at 12",
        "read ConnectionReset at 15",
        "write ConnectionReset",
        "connect ConnectionFailure Timeout at 2015",
      ]
    `);
  });

  test("bounce: the host's function runs again from the start, its state lost", async () => {
    const sim = Sim.create({ seed: 7 });
    let lives = 0;
    sim.host("counter", async (env) => {
      lives++;
      let count = 0; // in memory: lost on a bounce
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:0.0.0.0:80", { sw, backlog: 4 });
        for (;;) {
          await l.acceptFork({ sw, onError: () => {} }, async (flow) => {
            count++;
            await Flow.copyString(String(count), flow);
          });
        }
      });
    });
    const seen: string[] = [];
    sim.client("test", async (env) => {
      const ask = () =>
        Switch.run(async (sw) => {
          const s = await env.net.connect("tcp:counter:80", { sw });
          return Flow.readAll(s, { maxSize: 10 });
        });
      seen.push(await ask(), await ask());
      sim.bounce("counter");
      await env.clock.sleep(1);
      seen.push(await ask());
    });
    await sim.run();
    expect(seen).toEqual(["1", "2", "1"]);
    expect(lives).toBe(2);
    expect(sim.trace().filter((l) => / counter: /.test(l))).toMatchInlineSnapshot(`
      [
        "0 ms counter: start",
        "0 ms counter: listening on tcp:0.0.0.0:80",
        "2 ms counter: accepted tcp:10.0.0.2:49152 on tcp:0.0.0.0:80",
        "17 ms counter: accepted tcp:10.0.0.2:49153 on tcp:0.0.0.0:80",
        "27 ms counter: crash",
        "27 ms counter: restart (life 2)",
        "27 ms counter: listening on tcp:0.0.0.0:80",
        "37 ms counter: accepted tcp:10.0.0.2:49154 on tcp:0.0.0.0:80",
      ]
    `);
  });
});

test("bounce stops a host's detached Tcp.Server too (its fibers are protected from cancellation, not from a crash)", async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on("warning", onWarning);
  try {
    const sim = Sim.create({ seed: 8 });
    let lives = 0;
    sim.host("srv", async () => {
      const life = ++lives;
      const server = await Tcp.Server.create(
        Tcp.WhereToListen.onPort(80),
        async (_addr, _reader, writer) => {
          writer.writeLine(`life ${life}`);
        },
        { onHandlerError: "raise" },
      );
      await server.closeFinished;
    });
    const got: string[] = [];
    sim.client("test", async (env) => {
      const ask = () =>
        Tcp.withConnection(Tcp.WhereToConnect.hostAndPort("srv", 80), ({ reader }) =>
          reader.readLine(),
        );
      got.push(String(await ask()));
      sim.bounce("srv");
      await env.clock.sleep(1);
      got.push(String(await ask()));
    });
    await sim.run();
    expect(got).toEqual(["life 1", "life 2"]);
    expect(
      sim.trace().filter((l) => / srv: /.test(l) && !l.includes("accepted")),
    ).toMatchInlineSnapshot(`
      [
        "0 ms srv: start",
        "0 ms srv: listening on tcp:0.0.0.0:80",
        "9 ms srv: crash",
        "9 ms srv: restart (life 2)",
        "9 ms srv: listening on tcp:0.0.0.0:80",
      ]
    `);
  } finally {
    process.off("warning", onWarning);
  }
  expect(warnings).toEqual([]);
});

describe("random faults from the options", () => {
  test("resetRate resets connections, connectFailureRate refuses connects, both seeded", async () => {
    const outcome = async (seed: number) => {
      const sim = Sim.create({ seed, resetRate: 0.2, connectFailureRate: 0.3 });
      sim.host("db", (env) => echoHost(env, 7, false));
      const out: string[] = [];
      sim.client("test", async (env) => {
        for (let i = 0; i < 10; i++) {
          const r = await echoOnce(env, "db", "x".repeat(3000)).catch((e: unknown) => e);
          out.push(typeof r === "string" ? `ok ${r.length}` : kindOf(r));
        }
      });
      await sim.run();
      return out;
    };
    const a = await outcome(10);
    expect(a).toEqual(await outcome(10));
    expect(a).toContain("ok 3000");
    expect(a).toContain("ConnectionFailure Refused");
    expect(a).toContain("ConnectionReset");
  });
});
