/**
 * Eio's network.md, "with_tcp_connet" (sic): `Net.withTcpConnect` on a mock network, each
 * case asserting the whole trace, the result and the error. Eio prints seconds
 * ("mock time is now 10"); weir's clocks count milliseconds.
 */
import { describe, expect, test } from "vitest";
import { IoError } from "../../src/core/index.ts";
import { withTcpConnect } from "./mock-scenarios.ts";
import { show, transcript } from "./mock-support.ts";

describe("withTcpConnect() on Mock.Net (Eio network.md, with_tcp_connet)", () => {
  test("withTcpConnect() fails with NoMatchingAddresses when no address is usable", async () => {
    const r = await transcript(withTcpConnect.noUsableAddresses);
    expect(r.trace).toMatchInlineSnapshot(`"mock-net: getaddrinfo ~service:http www.example.com"`);
    expect(r.error).toBeInstanceOf(IoError);
    expect(show(r.error)).toMatchInlineSnapshot(`
      "IoError: Net ConnectionFailure NoMatchingAddresses
        connecting to "www.example.com":http"
    `);
  });

  test("withTcpConnect() uses the first address when it works", async () => {
    const r = await transcript(withTcpConnect.firstAddressWorks);
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:http www.example.com
      mock-net: connect to tcp:127.0.0.1:80
      flow: wrote "GET / HTTP/1.1\\r\\n"
                  "Host:www.example.com:80\\r\\n"
                  "\\r\\n"
      flow: closed"
    `);
    expect(r.error).toBeUndefined();
  });

  test("withTcpConnect() tries the next address after Refused", async () => {
    const r = await transcript(withTcpConnect.secondAddressWorks);
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:http www.example.com
      mock-net: connect to tcp:127.0.0.1:80
      mock-net: connect to tcp:1.2.3.4:8080
      flow: wrote "GET / HTTP/1.1\\r\\n"
                  "Host:www.example.com:80\\r\\n"
                  "\\r\\n"
      flow: closed"
    `);
    expect(r.error).toBeUndefined();
  });

  test("withTcpConnect() raises the last Refused when every address fails", async () => {
    const r = await transcript(withTcpConnect.bothAddressesFail);
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:http www.example.com
      mock-net: connect to tcp:127.0.0.1:80
      mock-net: connect to tcp:1.2.3.4:8080"
    `);
    expect(r.error).toBeInstanceOf(IoError);
    expect(show(r.error)).toMatchInlineSnapshot(`
      "IoError: Net ConnectionFailure Refused: Simulated failure
        connecting to tcp:1.2.3.4:8080
        connecting to "www.example.com":http"
    `);
  });

  test("withTcpConnect() tries the next address when the first attempt times out", async () => {
    const r = await transcript(withTcpConnect.firstAttemptTimesOut);
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:http www.example.com
      mock-net: connect to tcp:127.0.0.1:80
      mock time is now 10000
      mock-net: connect to tcp:1.2.3.4:8080
      flow: wrote "GET / HTTP/1.1\\r\\n"
                  "Host:www.example.com:80\\r\\n"
                  "\\r\\n"
      flow: closed"
    `);
    expect(r.error).toBeUndefined();
  });

  test("withTcpConnect() fails with ConnectionFailure Timeout when both attempts time out", async () => {
    const r = await transcript(withTcpConnect.bothAttemptsTimeOut);
    expect(r.trace).toMatchInlineSnapshot(`
      "mock-net: getaddrinfo ~service:http www.example.com
      mock-net: connect to tcp:127.0.0.1:80
      mock time is now 10000
      mock-net: connect to tcp:1.2.3.4:8080
      mock time is now 20000"
    `);
    expect(r.error).toBeInstanceOf(IoError);
    expect(show(r.error)).toMatchInlineSnapshot(`
      "IoError: Net ConnectionFailure Timeout
        connecting to "www.example.com":http"
    `);
  });
});
