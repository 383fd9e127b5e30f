import { describe, expect, test } from "vitest";
import { type IoError, Switch, traceln } from "../core/index.ts";
import { Flow } from "../flow/index.ts";
import { Sockaddr } from "../net/index.ts";
import { Sim, type SimOptions } from "./index.ts";
import { echoHost, echoOnce } from "./test-helpers/scenarios.ts";

function echoRun(seed: number, text = "hello"): Promise<{ sim: Sim; got: string }> {
  const sim = Sim.create({ seed });
  let got = "";
  sim.host("db", (env) => echoHost(env));
  sim.client("test", async (env) => {
    got = await echoOnce(env, "db", text);
  });
  return sim.run().then(() => ({ sim, got }));
}

describe("Sim.create / host / client / run", () => {
  test("sim.run() resolves when every client returns; the trace has each event with its virtual time", async () => {
    const { sim, got } = await echoRun(7);
    expect(got).toBe("hello");
    expect(sim.trace()).toMatchInlineSnapshot(`
      [
        "0 ms db: start",
        "0 ms db: listening on tcp:0.0.0.0:7",
        "0 ms test: start",
        "0 ms net: test:49152 > db:7 connect (tcp:10.0.0.2:49152 to tcp:10.0.0.1:7)",
        "2 ms net: test:49152 > db:7 syn",
        "2 ms db: accepted tcp:10.0.0.2:49152 on tcp:0.0.0.0:7",
        "6 ms net: db:7 > test:49152 syn-ack",
        "15 ms net: test:49152 > db:7 data 5",
        "15 ms net: test:49152 > db:7 fin",
        "16 ms net: db:7 > test:49152 data 5",
        "22 ms net: db:7 > test:49152 fin",
        "22 ms test: returned",
      ]
    `);
  });

  test("the same seed gives the same trace, event for event; another seed another", async () => {
    const a = await echoRun(42, "x".repeat(5000));
    const b = await echoRun(42, "x".repeat(5000));
    const c = await echoRun(43, "x".repeat(5000));
    expect(a.got).toBe("x".repeat(5000));
    expect(a.sim.trace()).toEqual(b.sim.trace());
    expect(c.sim.trace()).not.toEqual(a.sim.trace());
  });

  test("a client that throws fails the run with the seed and time in the message", async () => {
    const sim = Sim.create({ seed: 9 });
    sim.client("test", async (env) => {
      await env.clock.sleep(25);
      throw new Error("invariant broken");
    });
    const e = await sim.run().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Sim.SimFailure);
    expect((e as Error).message).toBe(
      'simulation with seed 9 failed at 25 ms: client "test" failed: invariant broken',
    );
    expect(((e as Error).cause as Error).message).toBe("invariant broken");
  });

  test("a host that throws fails the run; the other fibers are cancelled", async () => {
    const sim = Sim.create({ seed: 1 });
    sim.host("bad", async (env) => {
      await env.clock.sleep(10);
      throw new Error("host bug");
    });
    let cancelled = false;
    sim.client("test", async (env) => {
      try {
        await env.clock.sleep(1000);
      } catch (e) {
        cancelled = true;
        throw e;
      }
    });
    await expect(sim.run()).rejects.toThrow('seed 1 failed at 10 ms: host "bad" failed: host bug');
    expect(cancelled).toBe(true);
  });

  test("a run past durationMs rejects, naming what still waits", async () => {
    const sim = Sim.create({ seed: 4, durationMs: 5000 });
    sim.host("db", async (env) => {
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:0.0.0.0:80", { sw, backlog: 1 });
        await l.accept({ sw });
        await env.clock.sleep(Infinity);
      });
    });
    sim.client("test", async (env) => {
      await Switch.run(async (sw) => {
        const s = await env.net.connect("tcp:db:80", { sw });
        await s.readInto(new Uint8Array(1));
      });
    });
    await expect(sim.run()).rejects.toThrow(
      "seed 4 failed at 5000 ms: the clients did not finish within durationMs (5000 ms of virtual time); still waiting: mock clock: sleep until Infinity, test: read from test:49152 > db:80",
    );
  });

  test("without a time limit, a stuck run rejects with DeadlockDetected", async () => {
    const sim = Sim.create({ seed: 4, durationMs: Infinity });
    sim.client("test", async (env) => {
      await Switch.run(async (sw) => {
        const u = await env.net.datagramSocket("udp:0.0.0.0:53", { sw });
        await u.recv(new Uint8Array(10));
      });
    });
    await expect(sim.run()).rejects.toThrow(
      "seed 4 failed at 0 ms: Deadlock detected: the main function has not returned, but no fiber can run and no mock timer is pending; still waiting: test: recv on test:53",
    );
  });

  test("traceln in a host goes to the trace under the host's name", async () => {
    const sim = Sim.create({ seed: 0 });
    sim.client("test", async (env) => {
      traceln("one");
      await env.clock.sleep(3);
      traceln("two\nthree");
    });
    await sim.run();
    expect(sim.trace()).toEqual([
      "0 ms test: start",
      "0 ms test: one",
      "3 ms test: two",
      "3 ms test: three",
      "3 ms test: returned",
    ]);
  });

  test("bad arguments throw at once, naming the argument and the value", () => {
    expect(() => Sim.create({ seed: 1.5 })).toThrow("seed must be an integer, got 1.5");
    expect(() => Sim.create({ seed: 1, dropRate: 2 })).toThrow(
      "dropRate must be a probability in [0, 1], got 2",
    );
    expect(() => Sim.create({ seed: 1, latency: { min: 5, max: 2 } })).toThrow(
      "latency.max must be >= latency.min, got 2 < 5",
    );
    expect(() => Sim.create({ seed: 1, droprate: 0.1 } as SimOptions)).toThrow(
      'unknown option "droprate" (options are seed, latency, dropRate, duplicateRate, resetRate, connectFailureRate, tcpCapacity, udpCapacity, partialDelivery, connectTimeout, durationMs, traceLimit, ipv6, clockSkew)',
    );
    expect(() => Sim.create({ seed: 1, tcpCapacity: 0 })).toThrow(
      "tcpCapacity must be an integer > 0, got 0",
    );
    const sim = Sim.create({ seed: 1 });
    expect(() => sim.host("a b", async () => {})).toThrow(
      'sim.host: name must be a host name (letters, digits, "_", ".", "-"; not "localhost"), got "a b"',
    );
    sim.host("db", async () => {});
    expect(() => sim.client("db", async () => {})).toThrow(
      'sim.client: there is already a host named "db"',
    );
    expect(() => sim.partition("db", "nope")).toThrow('sim.partition: no host named "nope"');
    expect(() => sim.crash("db2")).toThrow('sim.crash: no host named "db2"');
  });

  test("run() needs a client and runs once", async () => {
    const sim = Sim.create({ seed: 1 });
    await expect(sim.run()).rejects.toThrow(
      "sim.run(): no clients; add one with sim.client(name, fn)",
    );
    const ok = Sim.create({ seed: 1 });
    ok.client("c", async () => {});
    await ok.run();
    await expect(ok.run()).rejects.toThrow("sim.run() may be called only once");
  });
});

test("clockSkew sets each host's wall clock off by a seeded offset; monoClock and sleeps agree", async () => {
  const sim = Sim.create({ seed: 5, clockSkew: 1000 });
  const seen: string[] = [];
  for (const name of ["a", "b"]) {
    sim.client(name, async (env) => {
      await env.clock.sleepUntil(env.clock.now() + 50);
      seen.push(`${name}: wall ${env.clock.now()} mono ${env.monoClock.now()}`);
    });
  }
  await sim.run();
  expect(seen).toMatchInlineSnapshot(`
    [
      "a: wall 368 mono 50",
      "b: wall 382 mono 50",
    ]
  `);
  expect(() => Sim.create({ seed: 1, clockSkew: 0.5 })).toThrow(
    "clockSkew must be an integer number of ms >= 0, got 0.5",
  );
});

describe("the simulation's DNS and addresses", () => {
  test("getaddrinfo resolves host names, IP literals and localhost; unknown names are NotFound", async () => {
    const sim = Sim.create({ seed: 1 });
    sim.host("db", async () => {});
    const out: string[] = [];
    sim.client("test", async (env) => {
      const show = (as: readonly Sockaddr[]) => as.map((a) => Sockaddr.format(a)).join(" ");
      out.push(show(await env.net.getaddrinfo("db", { service: "http" })));
      out.push(show(await env.net.getaddrinfoStream("10.0.0.1", { service: "5432" })));
      out.push(show(await env.net.getaddrinfoDatagram("localhost", { service: "53" })));
      out.push((await env.net.getnameinfo("tcp:10.0.0.1:443")).join(" "));
      out.push(`${env.name} ${env.ip}`);
      const e = await env.net.getaddrinfo("nowhere").catch((x: unknown) => x);
      out.push((e as IoError).message);
    });
    await sim.run();
    expect(out).toMatchInlineSnapshot(`
      [
        "tcp:10.0.0.1:80 udp:10.0.0.1:80",
        "tcp:10.0.0.1:5432",
        "udp:127.0.0.1:53",
        "db https",
        "test 10.0.0.2",
        "Fs NotFound: ENOTFOUND: no host named "nowhere" in the simulation
        looking up "nowhere"",
      ]
    `);
    expect(sim.lookup("db").toString()).toBe("10.0.0.1");
  });

  test("with ipv6, hosts have an IPv6 address too, and TCP and UDP work over it", async () => {
    const sim = Sim.create({ seed: 1, ipv6: true });
    sim.host("db", async (env) => {
      await Switch.run(async (sw) => {
        const u = await env.net.datagramSocket("udp:[::]:53", { sw });
        sw.fork(async () => {
          const buf = new Uint8Array(10);
          const [from] = await u.recv(buf);
          await u.send([new TextEncoder().encode(Sockaddr.format(from))], { dst: from });
        });
        const l = await env.net.listen("tcp:[::]:80", { sw, backlog: 4 });
        for (;;) {
          const [s, peer] = await l.accept({ sw });
          const text = `${Sockaddr.format(peer)} -> ${Sockaddr.format(s.localAddr)}`;
          await s.write([new TextEncoder().encode(text)]);
          await s.close();
        }
      });
    });
    const out: string[] = [];
    sim.client("test", async (env) => {
      const addrs = await env.net.getaddrinfoStream("db", { service: "80" });
      out.push(addrs.map((a) => Sockaddr.format(a)).join(" "));
      for (const a of addrs) {
        await Switch.run(async (sw) => {
          const s = await env.net.connect(a, { sw });
          out.push(await Flow.readAll(s, { maxSize: 100 }));
        });
      }
      await Switch.run(async (sw) => {
        const u = await env.net.datagramSocket("udpv6", { sw });
        await u.send([new TextEncoder().encode("hi")], { dst: "udp:[fd00::1]:53" });
        const buf = new Uint8Array(100);
        const [from, n] = await u.recv(buf);
        out.push(
          `${Sockaddr.format(from)} says I am ${new TextDecoder().decode(buf.subarray(0, n))}`,
        );
      });
      out.push(`${env.ip} ${env.ip6}`);
    });
    await sim.run();
    expect(out).toMatchInlineSnapshot(`
      [
        "tcp:10.0.0.1:80 tcp:[fd00::1]:80",
        "tcp:10.0.0.2:49152 -> tcp:10.0.0.1:80",
        "tcp:[fd00::2]:49153 -> tcp:[fd00::1]:80",
        "udp:[fd00::1]:53 says I am udp:[fd00::2]:49154",
        "10.0.0.2 fd00::2",
      ]
    `);
  });

  test("connecting where nothing listens is refused; listening twice is AddressInUse", async () => {
    const sim = Sim.create({ seed: 1 });
    sim.host("db", async () => {});
    const out: string[] = [];
    sim.client("test", async (env) => {
      await Switch.run(async (sw) => {
        const e = await env.net.connect("tcp:db:5432", { sw }).catch((x: unknown) => x);
        out.push((e as IoError).message);
        await env.net.listen("tcp:0.0.0.0:80", { sw, backlog: 1 });
        const e2 = await env.net
          .listen("tcp:0.0.0.0:80", { sw, backlog: 1 })
          .catch((x: unknown) => x);
        out.push((e2 as IoError).message);
        const e3 = await env.net
          .listen("tcp:10.0.0.1:81", { sw, backlog: 1 })
          .catch((x: unknown) => x);
        out.push((e3 as IoError).message);
      });
    });
    await sim.run();
    expect(out).toMatchInlineSnapshot(`
      [
        "Net ConnectionFailure Refused: ECONNREFUSED: connection refused
        connecting to tcp:10.0.0.1:5432",
        "Net AddressInUse: EADDRINUSE: port 80
        listening on tcp:0.0.0.0:80",
        "Io Unknown: EADDRNOTAVAIL: 10.0.0.1 is not an address of host test
        listening on tcp:10.0.0.1:81",
      ]
    `);
  });
});

test("with every random fault on, each seed still gives the same trace twice", async () => {
  const chaos = async (seed: number) => {
    const sim = Sim.create({
      seed,
      latency: { min: 0, max: 30 },
      dropRate: 0.1,
      duplicateRate: 0.1,
      resetRate: 0.05,
      connectFailureRate: 0.1,
      tcpCapacity: 2500, // above the message: echoOnce writes it all before reading
    });
    sim.host("db", (env) => echoHost(env, 7, false));
    sim.host("db2", (env) => echoHost(env, 7, false));
    for (const c of ["c1", "c2"]) {
      sim.client(c, async (env) => {
        for (let i = 0; i < 5; i++) {
          await echoOnce(env, i % 2 === 0 ? "db" : "db2", "y".repeat(2000)).catch(() => "");
          if (sim.random() < 0.2) sim.bounce("db2");
        }
      });
    }
    await sim.run();
    return sim.trace();
  };
  for (let seed = 0; seed < 20; seed++) {
    const a = await chaos(seed);
    expect(a.length).toBeGreaterThan(20);
    expect(await chaos(seed)).toEqual(a);
  }
});
