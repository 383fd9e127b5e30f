/**
 * `Net.withTcpConnect(..., { happyEyeballs })` (RFC 8305) on a mock network, on mock time:
 * each case compares the whole trace, so the stagger, the order of the attempts and what
 * happens to the losers are all visible.
 */
import { describe, expect, test } from "vitest";
import { Cancel, Fiber, IoError, Timeout, traceln } from "../../src/core/index.ts";
import { Flow } from "../../src/flow/index.ts";
import { Mock, type MockEnv } from "../../src/mock/index.ts";
import { Net, Sockaddr, type StreamSocket } from "../../src/net/index.ts";
import { show, transcript } from "./mock-support.ts";

const v6a = Sockaddr.parse("tcp:[2001:db8::1]:80");
const v6b = Sockaddr.parse("tcp:[2001:db8::2]:80");
const v4a = Sockaddr.parse("tcp:192.0.2.1:80");
const v4b = Sockaddr.parse("tcp:192.0.2.2:80");
const host = { host: "www.example.com", service: "http" };
const refused = new IoError({
  kind: "ConnectionFailure",
  reason: "Refused",
  cause: new Mock.SimulatedFailure(),
});
const hello = (conn: StreamSocket): Promise<void> => Flow.copyString("hello", conn);

function scenario(
  addrs: Sockaddr[],
  connects: (env: MockEnv) => Parameters<typeof Mock.Net.onConnect>[1],
  extra: { timeout?: number } = {},
) {
  return async (env: MockEnv) => {
    const net = Mock.Net.make("mock-net");
    Mock.Net.onGetaddrinfo(net, [{ return: addrs }]);
    Mock.Net.onConnect(net, connects(env));
    const timeout =
      extra.timeout === undefined ? undefined : Timeout.ms(env.monoClock, extra.timeout);
    await Net.withTcpConnect(
      net,
      { ...host, timeout, happyEyeballs: { clock: env.monoClock } },
      hello,
    );
    traceln("connected and done");
  };
}

describe("withTcpConnect() with happyEyeballs", () => {
  test("a black-holed first address: the next family starts after 250 ms and wins; the first is cancelled", async () => {
    const r = await transcript(
      scenario([v6a, v4a], () => [{ run: Fiber.awaitCancel }, { return: Mock.Flow.make("flow") }]),
    );
    expect(r.error).toBeUndefined();
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:http www.example.com
      mock-net: connect to tcp:[2001:db8::1]:80
      mock time is now 250
      mock-net: connect to tcp:192.0.2.1:80
      flow: wrote "hello"
      flow: closed
      connected and done"
    `);
  });

  test("a refused first address starts the next attempt at once, without waiting", async () => {
    const r = await transcript(
      scenario([v6a, v4a], () => [{ raise: refused }, { return: Mock.Flow.make("flow") }]),
    );
    expect(r.error).toBeUndefined();
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:http www.example.com
      mock-net: connect to tcp:[2001:db8::1]:80
      mock-net: connect to tcp:192.0.2.1:80
      flow: wrote "hello"
      flow: closed
      connected and done"
    `);
  });

  test("families are interleaved, one attempt every 250 ms; all timing out is a Timeout", async () => {
    const r = await transcript(
      scenario([v6a, v6b, v4a, v4b], () => Array(4).fill({ run: Fiber.awaitCancel }), {
        timeout: 1000,
      }),
    );
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:http www.example.com
      mock-net: connect to tcp:[2001:db8::1]:80
      mock time is now 250
      mock-net: connect to tcp:192.0.2.1:80
      mock time is now 500
      mock-net: connect to tcp:[2001:db8::2]:80
      mock time is now 750
      mock-net: connect to tcp:192.0.2.2:80
      mock time is now 1000
      mock time is now 1250
      mock time is now 1500
      mock time is now 1750"
    `);
    expect(show(r.error)).toMatchInlineSnapshot(`
      "IoError: Net ConnectionFailure Timeout
        connecting to "www.example.com":http"
    `);
  });

  test("every address refused: the last failure is raised, with both context lines", async () => {
    const r = await transcript(
      scenario([v6a, v4a], () => [{ raise: refused }, { raise: refused }]),
    );
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:http www.example.com
      mock-net: connect to tcp:[2001:db8::1]:80
      mock-net: connect to tcp:192.0.2.1:80"
    `);
    expect(show(r.error)).toMatchInlineSnapshot(`
      "IoError: Net ConnectionFailure Refused: Simulated failure
        connecting to tcp:192.0.2.1:80
        connecting to "www.example.com":http"
    `);
  });

  test("an attempt that connects after another has won is closed, before the winner is used: no attempt is left behind", async () => {
    const r = await transcript(
      scenario([v6a, v4a], (env) => [
        {
          // a connect that completes even though it was cancelled (as a real one can race)
          run: async () => {
            await Cancel.protect(() => env.monoClock.sleep(300));
            return Mock.Flow.make("late");
          },
        },
        { return: Mock.Flow.make("first") },
      ]),
    );
    expect(r.error).toBeUndefined();
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:http www.example.com
      mock-net: connect to tcp:[2001:db8::1]:80
      mock time is now 250
      mock-net: connect to tcp:192.0.2.1:80
      mock time is now 300
      late: closed
      first: wrote "hello"
      first: closed
      connected and done"
    `);
  });

  test("the same scenario gives the same trace every time", async () => {
    const once = () =>
      transcript(
        scenario([v6a, v6b, v4a], () => [
          { run: Fiber.awaitCancel },
          { raise: refused },
          { return: Mock.Flow.make("f") },
        ]),
      ).then((r) => r.trace);
    const first = await once();
    for (let i = 0; i < 10; i++) expect(await once()).toBe(first);
  });

  test("a bad delay is a RangeError naming it", async () => {
    const r = await transcript(async (env) => {
      const net = Mock.Net.make("mock-net");
      Mock.Net.onGetaddrinfo(net, [{ return: [v4a] }]);
      await Net.withTcpConnect(
        net,
        { ...host, happyEyeballs: { delay: -1, clock: env.monoClock } },
        hello,
      );
    });
    expect(show(r.error)).toBe(
      "RangeError: happyEyeballs.delay must be a finite number >= 0, got -1",
    );
  });
});

describe("interleaveFamilies()", () => {
  test("starts with the first address's family and alternates", () => {
    const f = (xs: Sockaddr[]) =>
      Net.interleaveFamilies(xs.map((x) => Sockaddr.stream(x))).map(Sockaddr.format);
    expect(f([v6a, v6b, v4a, v4b])).toEqual([v6a, v4a, v6b, v4b].map(Sockaddr.format));
    expect(f([v4a, v6a, v6b])).toEqual([v4a, v6a, v6b].map(Sockaddr.format));
    expect(f([v4a, v4b])).toEqual([v4a, v4b].map(Sockaddr.format));
    expect(f([])).toEqual([]);
  });
});
