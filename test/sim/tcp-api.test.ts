/**
 * `Tcp.*`, `Net.runServer` and `Net.withTcpConnect` run inside the simulation unchanged: they
 * find the host's network and clock in the running env, resolve host names through the
 * simulation's DNS, and their timeouts run on virtual time.
 */
import { describe, expect, test } from "vitest";
import { IoError, Switch, Time, Timeout, traceln } from "../../src/core/index.ts";
import { Flow as Flows } from "../../src/flow/index.ts";
import { Net, Sockaddr } from "../../src/net/index.ts";
import { Sim } from "../../src/sim/index.ts";
import { Tcp } from "../../src/tcp/index.ts";
import { startShoutServer } from "../tcp/shout-server.ts";

describe("Tcp inside the simulation", () => {
  test("Tcp.Server.create serves and Tcp.withConnection talks to it by host name", async () => {
    const sim = Sim.create({ seed: 3 });
    sim.host("shout", async () => {
      // no net or clock passed: Tcp finds the host's in the running env
      const server = await Tcp.Server.create(
        Tcp.WhereToListen.onPort(7000),
        async (_addr, reader, writer) => {
          for await (const line of reader.lines()) writer.writeLine(line.toUpperCase());
        },
        { onHandlerError: "raise" },
      );
      await server.closeFinished;
    });
    const replies: string[] = [];
    sim.client("test", async () => {
      await Tcp.withConnection(
        Tcp.WhereToConnect.hostAndPort("shout", 7000),
        async ({ reader, writer }) => {
          for (const word of ["one", "two", "three"]) {
            writer.writeLine(word);
            replies.push((await reader.readLine()) ?? "(eof)");
          }
        },
      );
    });
    await sim.run();
    expect(replies).toEqual(["ONE", "TWO", "THREE"]);
    expect(
      sim.trace().filter((l) => l.includes("resolved") || l.includes("returned")),
    ).toMatchInlineSnapshot(`
      [
        "0 ms test: resolved "shout" to 10.0.0.1",
        "52 ms test: returned",
      ]
    `);
  });

  test("the shout server written for real sockets serves simulated clients", async () => {
    const sim = Sim.create({ seed: 11, latency: { min: 1, max: 30 } });
    sim.host("shout", async (env) => {
      const server = await startShoutServer(env.net, env.monoClock, Tcp.WhereToListen.onPort(80));
      await server.closeFinished;
    });
    const got: string[] = [];
    for (const name of ["c1", "c2"]) {
      sim.client(name, async () => {
        await Tcp.withConnection(
          Tcp.WhereToConnect.hostAndPort("shout", 80),
          async ({ reader, writer }) => {
            writer.writeLine(`hi from ${name}`);
            writer.writeLine("bye");
            for await (const l of reader.lines()) got.push(`${name} ${l}`);
          },
        );
      });
    }
    await sim.run();
    expect(got.sort()).toEqual(["c1 BYE", "c1 HI FROM C1", "c2 BYE", "c2 HI FROM C2"]);
  });

  test("Tcp.connect's timeout runs on virtual time when the server is partitioned away", async () => {
    const sim = Sim.create({ seed: 5 });
    sim.host("far", async (env) => {
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:0.0.0.0:80", { sw, backlog: 1 });
        await l.accept({ sw });
      });
    });
    let error: unknown;
    let at = -1;
    sim.client("test", async (env) => {
      sim.partition("test", "far");
      try {
        await Tcp.connect(Tcp.WhereToConnect.hostAndPort("far", 80), { timeout: 2500 });
      } catch (e) {
        error = e;
        at = env.monoClock.now();
      }
    });
    await sim.run();
    expect(error).toBeInstanceOf(IoError);
    expect((error as IoError).message).toMatchInlineSnapshot(`
      "Net ConnectionFailure Timeout: connection attempt timeout after 2500 ms
        connecting to "far":80"
    `);
    expect(at).toBe(2500);
  });
});

test('a handler error with onHandlerError "raise" fails the run, naming the host', async () => {
  const sim = Sim.create({ seed: 6 });
  sim.host("srv", async () => {
    const server = await Tcp.Server.create(
      Tcp.WhereToListen.onPort(80),
      async (_addr, reader) => {
        throw new Error(`bad request: ${await reader.readLine()}`);
      },
      { onHandlerError: "raise" },
    );
    await server.closeFinished;
  });
  sim.client("test", async (env) => {
    await Tcp.withConnection(Tcp.WhereToConnect.hostAndPort("srv", 80), async ({ writer }) => {
      writer.writeLine("GET /");
      await env.clock.sleep(Infinity);
    });
  });
  const e = await sim.run().catch((x: unknown) => x);
  expect((e as Error).message).toMatch(
    /^simulation with seed 6 failed at \d+ ms: host "srv" failed: bad request: GET \/$/,
  );
});

describe("Net.runServer and Net.withTcpConnect inside the simulation", () => {
  test("runServer with maxConnections serves every client; withTcpConnect finds it by name", async () => {
    const sim = Sim.create({ seed: 8 });
    sim.host("echo", async (env) => {
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:0.0.0.0:9", { sw, backlog: 8 });
        await Net.runServer(l, (flow) => Flows.copy(flow, flow), {
          maxConnections: 2,
          onError: (e) => {
            throw e;
          },
        });
      });
    });
    const echoed: string[] = [];
    for (const name of ["a", "b", "c"]) {
      sim.client(name, async (env) => {
        await Net.withTcpConnect(env.net, { host: "echo", service: "9" }, async (flow) => {
          await Flows.copyString(`from ${name}`, flow);
          await flow.shutdown("send");
          echoed.push(await Flows.readAll(flow, { maxSize: 100 }));
        });
      });
    }
    await sim.run();
    expect(echoed.sort()).toEqual(["from a", "from b", "from c"]);
  });

  test("withTcpConnect's timeout and Time.withTimeout run on virtual time", async () => {
    const sim = Sim.create({ seed: 2 });
    sim.host("slow", async (env) => {
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:0.0.0.0:80", { sw, backlog: 1 });
        const [s] = await l.accept({ sw });
        await env.clock.sleep(10_000);
        await Flows.copyString("late", s);
      });
    });
    const lines: string[] = [];
    sim.client("test", async (env) => {
      await Net.withTcpConnect(
        env.net,
        { host: "slow", service: "80", timeout: Timeout.ms(env.monoClock, 1000) },
        async (flow) => {
          const t0 = env.clock.now();
          const r = await Time.withTimeout(env.clock, 3000, () =>
            flow.readInto(new Uint8Array(10)),
          ).catch((e: unknown) => e);
          lines.push(
            `${r instanceof Timeout ? "timed out" : "read"} after ${env.clock.now() - t0} ms`,
          );
          traceln("gave up waiting");
        },
      );
    });
    await sim.run();
    expect(lines).toEqual(["timed out after 3000 ms"]);
    expect(sim.trace().some((l) => / test: gave up waiting$/.test(l))).toBe(true);
  });
});

describe("Happy Eyeballs inside the simulation", () => {
  test("Tcp.connect to a dual-stack host tries IPv6 250 ms after an IPv4 SYN goes unanswered", async () => {
    const sim = Sim.create({ seed: 4, ipv6: true, latency: 5 });
    // The DNS answers IPv4 first (as RFC 6724 orders ULA addresses); the IPv4 path is
    // black-holed: its SYNs are held forever.
    sim.onMessage((m) => (m.kind === "syn" && m.dst.startsWith("tcp:10.") ? "hold" : "deliver"));
    sim.host("db", async () => {
      const server = await Tcp.Server.create(
        Tcp.WhereToListen.onPort(5432, { host: "::" }),
        async (addr, _reader, writer) => {
          writer.writeLine(`hello ${Sockaddr.format(addr)}`);
        },
        { onHandlerError: "raise" },
      );
      await server.closeFinished;
    });
    const out: string[] = [];
    sim.client("app", async (env) => {
      await Tcp.withConnection(Tcp.WhereToConnect.hostAndPort("db", 5432), async ({ reader }) => {
        out.push(`${await reader.readLine()} at ${env.clock.now()} ms`);
      });
    });
    await sim.run();
    expect(out).toEqual(["hello tcp:[fd00::2]:49153 at 260 ms"]);
    expect(
      sim.trace().filter((l) => l.includes("connect") || l.includes("syn")),
    ).toMatchInlineSnapshot(`
      [
        "0 ms net: app:49152 > db:5432 connect (tcp:10.0.0.2:49152 to tcp:10.0.0.1:5432)",
        "250 ms net: app:49153 > db:5432 connect (tcp:[fd00::2]:49153 to tcp:[fd00::1]:5432)",
        "255 ms net: app:49153 > db:5432 syn",
        "260 ms net: db:5432 > app:49153 syn-ack",
      ]
    `);
  });
});
