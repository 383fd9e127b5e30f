/**
 * Metrics on the mock: the `weir:*` events traced between the lines they belong with (bytes
 * and durations on mock time), and `Net.serverStats` after the run. Each case compares the
 * whole trace.
 */
import { describe, expect, test } from "vitest";
import { EndOfFile, Fiber, IoError, traceln } from "../../src/core/index.ts";
import { Flow } from "../../src/flow/index.ts";
import { Mock, type MockAction, type MockEnv } from "../../src/mock/index.ts";
import { Net, type ServerStats, Sockaddr, type StreamSocket } from "../../src/net/index.ts";
import { traceMetrics } from "../helpers/metrics.ts";
import { show, transcript } from "./mock-support.ts";

type Accepted = readonly [StreamSocket, Sockaddr];

/** A listener on tcp:0.0.0.0:80 that accepts one client per script, then blocks. */
function listener(clients: Array<(i: number) => StreamSocket>) {
  const socket = Mock.Net.listeningSocket("tcp/80", { listeningAddr: "tcp:0.0.0.0:80" });
  const actions: MockAction<Accepted>[] = [
    ...clients.map((make, i) => ({
      return: [make(i), Sockaddr.parse(`tcp:127.0.0.1:${30000 + i}`)] as const,
    })),
    { run: Fiber.awaitCancel },
  ];
  Mock.Net.onAccept(socket, actions);
  return socket;
}

/** A client that sends `data`, then ends. */
const sends = (data: string) => (i: number) => {
  const flow = Mock.Flow.make(`flow${i}`, {
    localAddr: Sockaddr.stream("tcp:10.0.0.1:80"),
    peerAddr: Sockaddr.stream(`tcp:127.0.0.1:${30000 + i}`),
  });
  Mock.Flow.onRead(flow, [{ return: data }, { raise: new EndOfFile() }]);
  return flow;
};

/** Replies "Bye" to "Hi" after 10 ms; fails on anything else. */
const handler = (env: MockEnv) => async (flow: StreamSocket) => {
  const msg = await Flow.readAll(flow, { maxSize: 100 });
  if (msg !== "Hi") throw new Error(`expected "Hi", got ${JSON.stringify(msg)}`);
  await env.monoClock.sleep(10);
  await Flow.copyString("Bye", flow);
};

/** Runs the server until `ms` of mock time have passed, then stops it; returns its stats. */
async function serveFor(
  env: MockEnv,
  socket: Parameters<typeof Net.runServer>[0],
  ms: number,
  opts: Partial<Parameters<typeof Net.runServer>[2]> = {},
): Promise<ServerStats> {
  const stop = Promise.withResolvers<void>();
  await Fiber.both(
    () => Net.runServer(socket, handler(env), { onError: () => {}, ...opts, stop: stop.promise }),
    async () => {
      await env.monoClock.sleep(ms);
      stop.resolve();
    },
  );
  return Net.serverStats(socket);
}

describe("metrics of Net.runServer on the mock", () => {
  test("each connection opens and closes with its bytes and its duration; a handler's error is a server error", async () => {
    const r = await transcript((env) =>
      traceMetrics(() => serveFor(env, listener([sends("Hi"), sends("Hello")]), 100)),
    );
    expect(r.trace).toMatchInlineSnapshot(`
      "tcp/80: accepted connection from tcp:127.0.0.1:30000
      weir:connection:open #1 from tcp:127.0.0.1:30000 on tcp:0.0.0.0:80
      flow0: read "Hi"
      tcp/80: accepted connection from tcp:127.0.0.1:30001
      weir:connection:open #2 from tcp:127.0.0.1:30001 on tcp:0.0.0.0:80
      flow1: read "Hello"
      flow1: closed
      weir:server:error handler from tcp:127.0.0.1:30001: Error: expected "Hi", got "Hello"
      weir:connection:close #2 error (Error: expected "Hi", got "Hello"), 5 in, 0 out, 0 ms
      mock time is now 10
      flow0: wrote "Bye"
      flow0: closed
      weir:connection:close #1 ok, 2 in, 3 out, 10 ms
      mock time is now 100
      tcp/80: closed"
    `);
    expect(r.value).toMatchInlineSnapshot(`
      {
        "accepted": 2,
        "bytesIn": 7,
        "bytesOut": 3,
        "closed": 2,
        "errors": 1,
        "limitReached": 0,
        "open": 0,
        "refused": 0,
        "timedOut": 0,
        "waiting": 0,
      }
    `);
  });

  test("at maxConnections the server stops accepting, each time it is full", async () => {
    const r = await transcript((env) =>
      traceMetrics(() =>
        serveFor(env, listener([sends("Hi"), sends("Hi"), sends("Hi")]), 100, {
          maxConnections: 1,
        }),
      ),
    );
    expect(r.trace).toMatchInlineSnapshot(`
      "tcp/80: accepted connection from tcp:127.0.0.1:30000
      weir:connection:open #1 from tcp:127.0.0.1:30000 on tcp:0.0.0.0:80
      flow0: read "Hi"
      weir:server:limit on tcp:0.0.0.0:80: 1 open, limit 1
      mock time is now 10
      flow0: wrote "Bye"
      flow0: closed
      weir:connection:close #1 ok, 2 in, 3 out, 10 ms
      tcp/80: accepted connection from tcp:127.0.0.1:30001
      weir:connection:open #2 from tcp:127.0.0.1:30001 on tcp:0.0.0.0:80
      flow1: read "Hi"
      weir:server:limit on tcp:0.0.0.0:80: 1 open, limit 1
      mock time is now 20
      flow1: wrote "Bye"
      flow1: closed
      weir:connection:close #2 ok, 2 in, 3 out, 10 ms
      tcp/80: accepted connection from tcp:127.0.0.1:30002
      weir:connection:open #3 from tcp:127.0.0.1:30002 on tcp:0.0.0.0:80
      flow2: read "Hi"
      weir:server:limit on tcp:0.0.0.0:80: 1 open, limit 1
      mock time is now 30
      flow2: wrote "Bye"
      flow2: closed
      weir:connection:close #3 ok, 2 in, 3 out, 10 ms
      mock time is now 100
      tcp/80: closed"
    `);
    expect(r.value).toMatchObject({ accepted: 3, closed: 3, limitReached: 3, errors: 0 });
  });

  test("an idle timeout closes a connection: a timeout event, then its close with outcome timeout", async () => {
    const r = await transcript((env) =>
      traceMetrics(async () => {
        const socket = listener([sends("Hi")]);
        const stop = Promise.withResolvers<void>();
        await Fiber.both(
          () =>
            Net.runServer(
              socket,
              async (flow) => {
                await env.monoClock.sleep(2000); // the client sent "Hi": nobody reads it
                await flow.readInto(new Uint8Array(10));
              },
              {
                onError: (e) => traceln("onError: %s", show(e)),
                idleTimeout: 800,
                stop: stop.promise,
              },
            ),
          async () => {
            await env.monoClock.sleep(3000);
            stop.resolve();
          },
        );
        return Net.serverStats(socket);
      }),
    );
    expect(r.trace).toMatchInlineSnapshot(`
      "tcp/80: accepted connection from tcp:127.0.0.1:30000
      weir:connection:open #1 from tcp:127.0.0.1:30000 on tcp:0.0.0.0:80
      mock time is now 100
      mock time is now 200
      mock time is now 300
      mock time is now 400
      mock time is now 500
      mock time is now 600
      mock time is now 700
      flow0: idle timeout
      weir:connection:timeout idle 800 ms, peer tcp:127.0.0.1:30000
      flow0: closed
      mock time is now 800
      mock time is now 2000
      weir:connection:close #1 timeout idle, 0 in, 0 out, 2000 ms
      onError: IoError: Net Timeout idle: no byte moved either way in 800 ms
        handling connection from tcp:127.0.0.1:30000
      mock time is now 3000
      tcp/80: closed"
    `);
    expect(r.value).toMatchObject({ accepted: 1, closed: 1, timedOut: 1, errors: 0 });
  });

  test("cancelling the server closes its connections: outcome closed", async () => {
    const r = await transcript((env) =>
      traceMetrics(async () => {
        const socket = listener([sends("Hi")]);
        await Fiber.first(
          () => Net.runServer(socket, () => Fiber.awaitCancel(), { onError: () => {} }),
          () => env.monoClock.sleep(5),
        );
        return Net.serverStats(socket);
      }),
    );
    expect(r.trace).toMatchInlineSnapshot(`
      "tcp/80: accepted connection from tcp:127.0.0.1:30000
      weir:connection:open #1 from tcp:127.0.0.1:30000 on tcp:0.0.0.0:80
      mock time is now 5
      flow0: closed
      weir:connection:close #1 closed, 0 in, 0 out, 5 ms"
    `);
    expect(r.value).toMatchObject({ open: 0, accepted: 1, closed: 1, errors: 0 });
  });
});

test("three domains accepting on one listener count in the same stats", async () => {
  const r = await transcript((env) =>
    Mock.DomainManager.run(async (mgr) => {
      const socket = Mock.Net.listeningSocket("tcp/80", { listeningAddr: "tcp:0.0.0.0:80" });
      const clients = Array.from({ length: 10 }, (_, i) => ({
        run: async (): Promise<Accepted> => {
          await Fiber.yield(); // spread the clients over the domains
          return [sends("Hi")(i), Sockaddr.parse(`tcp:127.0.0.1:${30000 + i}`)];
        },
      }));
      Mock.Net.onAccept(socket, [...clients, ...[0, 1, 2].map(() => ({ run: Fiber.awaitCancel }))]);
      const stop = Promise.withResolvers<void>();
      await Fiber.both(
        () =>
          Net.runServer(socket, handler(env), {
            additionalDomains: [mgr, 2],
            onError: () => {},
            stop: stop.promise,
          }),
        async () => {
          await env.monoClock.sleep(100);
          stop.resolve();
        },
      );
      return Net.serverStats(socket);
    }),
  );
  expect(r.error).toBeUndefined();
  expect(r.value).toEqual({
    open: 0,
    waiting: 0,
    accepted: 10,
    closed: 10,
    refused: 0,
    limitReached: 0,
    timedOut: 0,
    errors: 0,
    bytesIn: 20,
    bytesOut: 30,
  });
  // the accepts were spread over the domains
  expect(new Set(r.trace.match(/^\[\d\] tcp\/80: accepted/gm)).size).toBeGreaterThan(1);
});

describe("weir:connect:attempt on the mock", () => {
  const a1 = Sockaddr.parse("tcp:127.0.0.1:80");
  const a2 = Sockaddr.parse("tcp:192.0.2.1:80");
  const refused = new IoError({
    kind: "ConnectionFailure",
    reason: "Refused",
    cause: new Mock.SimulatedFailure(),
  });

  test("withTcpConnect: a refused attempt, then one that connects", async () => {
    const r = await transcript(() =>
      traceMetrics(async () => {
        const net = Mock.Net.make("mock-net");
        Mock.Net.onGetaddrinfo(net, [{ return: [a1, a2] }]);
        Mock.Net.onConnect(net, [{ raise: refused }, { return: Mock.Flow.make("flow") }]);
        await Net.withTcpConnect(net, { host: "www.example.com", service: "http" }, (c) =>
          Flow.copyString("hi", c),
        );
      }),
    );
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:http www.example.com
      mock-net: connect to tcp:127.0.0.1:80
      weir:connect:attempt tcp:127.0.0.1:80 failed (IoError: Net ConnectionFailure Refused: Simulated failure) after 0 ms
      mock-net: connect to tcp:192.0.2.1:80
      weir:connect:attempt tcp:192.0.2.1:80 connected after 0 ms
      flow: wrote "hi"
      flow: closed"
    `);
  });

  test("happy eyeballs: the black-holed first attempt is cancelled when the second connects", async () => {
    const r = await transcript((env) =>
      traceMetrics(async () => {
        const v6 = Sockaddr.parse("tcp:[2001:db8::1]:80");
        const net = Mock.Net.make("mock-net");
        Mock.Net.onGetaddrinfo(net, [{ return: [v6, a2] }]);
        Mock.Net.onConnect(net, [
          { run: Fiber.awaitCancel },
          {
            run: async () => {
              await env.monoClock.sleep(20);
              return Mock.Flow.make("flow");
            },
          },
        ]);
        await Net.withTcpConnect(
          net,
          { host: "www.example.com", service: "http", happyEyeballs: { clock: env.monoClock } },
          (c) => Flow.copyString("hi", c),
        );
      }),
    );
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:http www.example.com
      mock-net: connect to tcp:[2001:db8::1]:80
      mock time is now 250
      mock-net: connect to tcp:192.0.2.1:80
      mock time is now 270
      weir:connect:attempt tcp:192.0.2.1:80 connected after 20 ms
      weir:connect:attempt tcp:[2001:db8::1]:80 cancelled (Cancelled: Cancelled: Cancelled: another address connected first) after 270 ms
      flow: wrote "hi"
      flow: closed"
    `);
  });
});
