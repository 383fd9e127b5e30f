/**
 * `Tcp.connect` connects to host names with Happy Eyeballs by default (RFC 8305), on mock
 * time: the whole trace shows the stagger; `happyEyeballs: false` keeps the resolver's order.
 */
import { describe, expect, test } from "vitest";
import { Fiber, traceln } from "../../src/core/index.ts";
import { Mock, type MockEnv } from "../../src/mock/index.ts";
import { Sockaddr } from "../../src/net/index.ts";
import { Tcp } from "../../src/tcp/index.ts";
import { show, transcript } from "../network/mock-support.ts";

function dualStack(happyEyeballs?: false) {
  return async (env: MockEnv) => {
    const net = Mock.Net.make("mock-net");
    Mock.Net.onGetaddrinfo(net, [
      { return: [Sockaddr.parse("tcp:[2001:db8::1]:80"), Sockaddr.parse("tcp:192.0.2.1:80")] },
    ]);
    Mock.Net.onConnect(net, [{ run: Fiber.awaitCancel }, { return: Mock.Flow.make("flow") }]);
    const socket = await Tcp.connectSock(Tcp.WhereToConnect.hostAndPort("www.example.com", 80), {
      net,
      clock: env.monoClock,
      timeout: 5000,
      ...(happyEyeballs === false ? { happyEyeballs } : {}),
    });
    traceln("connected");
    await socket.close();
  };
}

describe("Tcp.connectSock() to a host name", () => {
  test("races the address families (Happy Eyeballs) by default: a black-holed IPv6 costs 250 ms", async () => {
    const r = await transcript(dualStack());
    expect(r.error).toBeUndefined();
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:80 www.example.com
      mock-net: connect to tcp:[2001:db8::1]:80
      mock time is now 250
      mock-net: connect to tcp:192.0.2.1:80
      connected
      flow: closed"
    `);
  });

  test("happyEyeballs: false tries one address after another: the black hole costs the whole timeout", async () => {
    const r = await transcript(dualStack(false));
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:80 www.example.com
      mock-net: connect to tcp:[2001:db8::1]:80
      mock time is now 5000"
    `);
    expect(show(r.error)).toMatchInlineSnapshot(`
      "ConnectionAttemptTimeout: Net ConnectionFailure Timeout: connection attempt timeout after 5000 ms
        connecting to "www.example.com":80"
    `);
  });

  test("happyEyeballs must be an object or false", async () => {
    await expect(
      Tcp.connectSock(Tcp.WhereToConnect.hostAndPort("localhost", 80), {
        net: Mock.Net.make("n"),
        // @ts-expect-error: a wrong type, as plain JavaScript could pass
        happyEyeballs: true,
      }),
    ).rejects.toThrow("happyEyeballs must be an object or false, got true");
  });
});
