/**
 * Type tests of the public surface, checked by `vitest --typecheck` against the built
 * declarations (`weir`, `weir/mock`, `weir/unix`, `weir/sim` resolve through package.json's exports to
 * dist/*.d.ts): what a user's editor sees. A wrong type here fails `npm test`.
 */
import { describe, expectTypeOf, test } from "vitest";
import {
  BufRead,
  Cancelled,
  type ConnectAttemptMessage,
  type ConnectionCloseMessage,
  type ConnectionOutcome,
  Fiber,
  Flow,
  type IoErr,
  IoError,
  type KeepAlive,
  type ListeningSocket,
  MetricsChannels,
  Net,
  type RecvResult,
  run,
  type ServerStats,
  type Sockaddr,
  Sockaddr as SockaddrNs,
  type StreamSocket,
  Switch,
  Tcp,
  Timeout,
} from "weir";
import { Mock } from "weir/mock";
import { type NetStat, Sim, type SimEnv, type SimMessage } from "weir/sim";
import { type ActivationSocket, type HandoverOffer, type TakenOver, Unix } from "weir/unix";

describe("weir", () => {
  test("run() hands the body an env and returns its result", () => {
    const r = run(async (env) => {
      expectTypeOf(env.net.connect).returns.resolves.toEqualTypeOf<StreamSocket>();
      expectTypeOf(env.monoClock.sleep).parameter(0).toEqualTypeOf<number>();
      return 42;
    });
    expectTypeOf(r).toEqualTypeOf<Promise<number>>();
  });

  test("Switch.run returns the body's value; Fiber.pair a typed tuple", () => {
    expectTypeOf(Switch.run(async () => "x")).toEqualTypeOf<Promise<string>>();
    expectTypeOf(
      Fiber.pair(
        async () => 1,
        async () => "a",
      ),
    ).toEqualTypeOf<Promise<[number, string]>>();
  });

  test("IoError's err is a tagged union that narrows on kind", () => {
    const e = new IoError({ kind: "ConnectionFailure", reason: "Refused" });
    expectTypeOf(e.context).toEqualTypeOf<string[]>();
    const err: IoErr = e.err;
    if (err.kind === "ConnectionFailure") {
      expectTypeOf(err.reason).toEqualTypeOf<"Refused" | "NoMatchingAddresses" | "Timeout">();
    }
    // @ts-expect-error: not a kind of IoErr
    new IoError({ kind: "NoSuchKind" });
    expectTypeOf(Cancelled).toMatchTypeOf<abstract new (...args: never[]) => Error>();
    expectTypeOf(Timeout).toMatchTypeOf<abstract new (...args: never[]) => Error>();
  });

  test("Sockaddr is a tagged union of tcp/udp and unix addresses", () => {
    const a = SockaddrNs.parse("tcp:127.0.0.1:80");
    expectTypeOf(a).toEqualTypeOf<Sockaddr>();
    if (a.type === "unix") expectTypeOf(a.path).toEqualTypeOf<string>();
    else expectTypeOf(a.port).toEqualTypeOf<number>();
    expectTypeOf(SockaddrNs.format).returns.toEqualTypeOf<string>();
  });

  test("flows: readAll gives a string, BufRead.line a string", () => {
    expectTypeOf(Flow.readAll).returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(BufRead.of).returns.toHaveProperty("line");
  });

  test("Net.runServer needs a listener and a handler; options are checked", () => {
    expectTypeOf(Net.runServer).parameter(0).toEqualTypeOf<ListeningSocket>();
    void Net.runServer({} as ListeningSocket, async () => {}, {
      onError: () => {},
      // @ts-expect-error: maxConnections is a number
      maxConnections: "10",
    });
  });

  test("metrics: the channel names, the message shapes, Net.serverStats and server.stats()", () => {
    expectTypeOf(MetricsChannels.connectionClose).toEqualTypeOf<"weir:connection:close">();
    expectTypeOf(MetricsChannels.connectAttempt).toEqualTypeOf<"weir:connect:attempt">();
    expectTypeOf<ConnectionCloseMessage["bytesIn"]>().toEqualTypeOf<number>();
    expectTypeOf<ConnectionCloseMessage["outcome"]>().toEqualTypeOf<ConnectionOutcome>();
    expectTypeOf<ConnectAttemptMessage["outcome"]>().toEqualTypeOf<
      "connected" | "failed" | "cancelled"
    >();
    expectTypeOf(Net.serverStats).parameter(0).toEqualTypeOf<ListeningSocket>();
    expectTypeOf(Net.serverStats).returns.toEqualTypeOf<ServerStats>();
    type Server = Awaited<ReturnType<typeof Tcp.Server.createSock>>;
    expectTypeOf<ReturnType<Server["stats"]>>().toEqualTypeOf<ServerStats>();
    expectTypeOf<ServerStats["timedOut"]>().toEqualTypeOf<number>();
    const st = {} as ServerStats;
    // @ts-expect-error: the figures are read-only
    st.open = 1;
  });

  test("datagram recv says whether it truncated; keepAlive and mode are listen options", () => {
    void run(async (env) => {
      await Switch.run(async (sw) => {
        const sock = await env.net.datagramSocket("udp:127.0.0.1:0", { sw, sendQueueLimit: 8 });
        const r = await sock.recv(new Uint8Array(10));
        expectTypeOf(r).toEqualTypeOf<RecvResult>();
        expectTypeOf(r.truncated).toEqualTypeOf<boolean>();
        expectTypeOf(r[1]).toEqualTypeOf<number>();
        await env.net.listen("unix:/tmp/x.sock", { sw, backlog: 1, mode: 0o660 });
        const ka: KeepAlive = { idle: 30_000, interval: 5_000, count: 3 };
        await env.net.connect("tcp:127.0.0.1:1", { sw, keepAlive: ka });
        // @ts-expect-error: keepAlive is an object or false
        await env.net.connect("tcp:127.0.0.1:1", { sw, keepAlive: true });
      });
    });
  });

  test("Tcp.Server.create requires onHandlerError", () => {
    const where = Tcp.WhereToListen.onPortChosenByOs();
    // @ts-expect-error: onHandlerError is required
    void Tcp.Server.create(where, async () => {}, {});
    void Tcp.Server.create(
      where,
      async (_addr, reader, writer) => {
        expectTypeOf(reader.readLine()).toEqualTypeOf<Promise<string | null>>();
        writer.write("x");
      },
      { onHandlerError: "raise" },
    );
  });
});

describe("weir/mock and weir/unix", () => {
  test("Mock.Flow.make gives a flow; Unix.fd a number", () => {
    expectTypeOf(Mock.Flow.make).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(Unix.fd).returns.toEqualTypeOf<number>();
  });
  test("Unix.listenFds gives tagged sockets; takeOver may find nothing", () => {
    expectTypeOf(Unix.listenFds).returns.resolves.toEqualTypeOf<ActivationSocket[]>();
    expectTypeOf<ActivationSocket["kind"]>().toEqualTypeOf<
      "listening" | "stream" | "datagram" | "other"
    >();
    expectTypeOf(Unix.takeOver).returns.resolves.toEqualTypeOf<TakenOver | undefined>();
    expectTypeOf(Unix.offerHandover).returns.resolves.toEqualTypeOf<HandoverOffer>();
    expectTypeOf<HandoverOffer["handedOver"]>().toEqualTypeOf<Promise<number>>();
  });
});

describe("weir/sim", () => {
  test("Sim.create takes the seed; hosts get an env with a Net; run and explore are promises", () => {
    const sim = Sim.create({ seed: 1, latency: { min: 1, max: 20 } });
    // @ts-expect-error: the seed is required
    Sim.create({ latency: 5 });
    sim.host("db", async (env) => {
      expectTypeOf(env).toEqualTypeOf<SimEnv>();
      expectTypeOf(env.net.connect).returns.resolves.toEqualTypeOf<StreamSocket>();
    });
    expectTypeOf(sim.run()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(sim.trace()).toEqualTypeOf<string[]>();
    expectTypeOf(sim.netstat()).toEqualTypeOf<NetStat>();
    sim.onMessage((m) => {
      expectTypeOf(m).toEqualTypeOf<SimMessage>();
      return m.kind === "data" ? { delay: 10 } : "deliver";
    });
    // @ts-expect-error: not a verdict
    sim.onMessage(() => "later");
    expectTypeOf(
      Sim.explore({ seeds: 10, run: (s) => s.client("c", async () => {}) }),
    ).resolves.toHaveProperty("runs");
  });
});
