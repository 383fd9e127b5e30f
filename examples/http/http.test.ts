/**
 * The HTTP example on `weir/mock`: scripted clients, whole traces, idle timeouts on mock time.
 * (Real sockets: `http-net.test.ts`; curl and ab: the interop suite.)
 */
import { expect, test } from "vitest";
import { Fiber } from "weir";
import { Mock } from "weir/mock";
import { serveMock } from "../mock-listener.ts";
import { type HttpServeOptions, serve } from "./server.ts";

function run(
  reads: Parameters<typeof Mock.Flow.onRead>[1],
  opts: Partial<HttpServeOptions> = {},
): Promise<string[]> {
  return serveMock(
    8080,
    () => {
      const client = Mock.Flow.make("client");
      Mock.Flow.onRead(client, reads);
      return [client];
    },
    (listener, env, stop) =>
      serve(listener, { clock: env.clock, monoClock: env.monoClock, stop, ...opts }),
  );
}

test("serve() answers pipelined keep-alive requests in one write, and closes after Connection: close", async () => {
  const trace = await run([
    {
      return:
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n" +
        "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n" +
        "GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" +
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    },
  ]);
  expect(trace).toMatchInlineSnapshot(`
    [
      "tcp/8080: accepted connection from tcp:127.0.0.1:5000",
      "client: read "GET / HTTP/1.1\\r\\n"",
      "             "Host: a\\r\\n"",
      "             "\\r\\n"",
      "             "HEAD / HTTP/1.1\\r\\n"",
      "             "Host: a\\r\\n"",
      "             "\\r\\n"",
      "             "GET /nope HTTP/1.1\\r\\n"",
      "             "Host: a\\r\\n"",
      "             "Connection: close\\r\\n"",
      "             "\\r\\n"",
      "             "GET / HTTP/1.1\\r\\n"",
      "             "Host: a\\r\\n"",
      "             "\\r\\n"",
      "client: wrote "HTTP/1.1 200 OK\\r\\n"",
      "              "Date: Thu, 01 Jan 1970 00:00:00 GMT\\r\\n"",
      "              "Content-Type: text/plain\\r\\n"",
      "              "Content-Length: 14\\r\\n"",
      "              "\\r\\n"",
      "              "Hello, world!\\n"",
      "              "HTTP/1.1 200 OK\\r\\n"",
      "              "Date: Thu, 01 Jan 1970 00:00:00 GMT\\r\\n"",
      "              "Content-Type: text/plain\\r\\n"",
      "              "Content-Length: 14\\r\\n"",
      "              "\\r\\n"",
      "              "HTTP/1.1 404 Not Found\\r\\n"",
      "              "Date: Thu, 01 Jan 1970 00:00:00 GMT\\r\\n"",
      "              "Content-Type: text/plain\\r\\n"",
      "              "Content-Length: 10\\r\\n"",
      "              "Connection: close\\r\\n"",
      "              "\\r\\n"",
      "              "not found\\n"",
      "client: closed",
      "tcp/8080: closed",
    ]
  `);
});

test("serve() reads Content-Length and chunked bodies split across reads, and answers 100-continue", async () => {
  const trace = await run([
    { return: "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello" },
    { return: " world" },
    {
      return:
        "PUT /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n" +
        "Content-Type: text/x-demo\r\n\r\n",
    },
    { return: "5;ext=1\r\nchunk\r\n" },
    { return: "3\r\ned!\r\n0\r\nX-Trailer: t\r\n\r\n" },
  ]);
  expect(trace).toMatchInlineSnapshot(`
    [
      "tcp/8080: accepted connection from tcp:127.0.0.1:5000",
      "client: read "POST /echo HTTP/1.1\\r\\n"",
      "             "Host: a\\r\\n"",
      "             "Content-Length: 11\\r\\n"",
      "             "\\r\\n"",
      "             "hello"",
      "client: read " world"",
      "client: read "PUT /echo HTTP/1.1\\r\\n"",
      "             "Host: a\\r\\n"",
      "             "Transfer-Encoding: chunked\\r\\n"",
      "             "Expect: 100-continue\\r\\n"",
      "             "Content-Type: text/x-demo\\r\\n"",
      "             "\\r\\n"",
      "client: wrote "HTTP/1.1 200 OK\\r\\n"",
      "              "Date: Thu, 01 Jan 1970 00:00:00 GMT\\r\\n"",
      "              "Content-Type: application/octet-stream\\r\\n"",
      "              "Content-Length: 11\\r\\n"",
      "              "\\r\\n"",
      "              "hello worldHTTP/1.1 100 Continue\\r\\n"",
      "              "\\r\\n"",
      "client: read "5;ext=1\\r\\n"",
      "             "chunk\\r\\n"",
      "client: read "3\\r\\n"",
      "             "ed!\\r\\n"",
      "             "0\\r\\n"",
      "             "X-Trailer: t\\r\\n"",
      "             "\\r\\n"",
      "tcp/8080: closed",
      "client: wrote "HTTP/1.1 200 OK\\r\\n"",
      "              "Date: Thu, 01 Jan 1970 00:00:00 GMT\\r\\n"",
      "              "Content-Type: text/x-demo\\r\\n"",
      "              "Content-Length: 8\\r\\n"",
      "              "\\r\\n"",
      "              "chunked!"",
      "client: closed",
    ]
  `);
});

test("serve() keeps an HTTP/1.0 connection open only with Connection: keep-alive", async () => {
  const trace = await run([
    {
      return:
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n",
    },
  ]);
  expect(trace).toMatchInlineSnapshot(`
    [
      "tcp/8080: accepted connection from tcp:127.0.0.1:5000",
      "client: read "GET / HTTP/1.0\\r\\n"",
      "             "Connection: keep-alive\\r\\n"",
      "             "\\r\\n"",
      "             "GET / HTTP/1.0\\r\\n"",
      "             "\\r\\n"",
      "             "GET / HTTP/1.0\\r\\n"",
      "             "\\r\\n"",
      "client: wrote "HTTP/1.1 200 OK\\r\\n"",
      "              "Date: Thu, 01 Jan 1970 00:00:00 GMT\\r\\n"",
      "              "Content-Type: text/plain\\r\\n"",
      "              "Content-Length: 14\\r\\n"",
      "              "Connection: keep-alive\\r\\n"",
      "              "\\r\\n"",
      "              "Hello, world!\\n"",
      "              "HTTP/1.1 200 OK\\r\\n"",
      "              "Date: Thu, 01 Jan 1970 00:00:00 GMT\\r\\n"",
      "              "Content-Type: text/plain\\r\\n"",
      "              "Content-Length: 14\\r\\n"",
      "              "Connection: close\\r\\n"",
      "              "\\r\\n"",
      "              "Hello, world!\\n"",
      "client: closed",
      "tcp/8080: closed",
    ]
  `);
});

test.each([
  ["a malformed request line", "GET /\r\n\r\n"],
  ["a header field with space before the colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"],
  ["an HTTP/1.1 request without Host", "GET / HTTP/1.1\r\n\r\n"],
  [
    "both Content-Length and chunked",
    "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
  ],
  [
    "conflicting Content-Lengths",
    "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
  ],
  [
    "a malformed chunk size",
    "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  ],
])("serve() answers 400 and closes for %s", async (_, request) => {
  const trace = await run([{ return: request }]);
  expect(trace.find((l) => l.startsWith("client: wrote"))).toBe(
    'client: wrote "HTTP/1.1 400 Bad Request\\r\\n"',
  );
  expect(trace.filter((l) => l.includes("Connection: close"))).toHaveLength(1);
  // (the listener closes once the server stops: runServer's graceful stop)
  expect(trace.slice(-3)).toEqual(["client: shutdown send", "client: closed", "tcp/8080: closed"]);
});

test("serve() answers 413, 414 and 431 past the limits, before reading what is too large", async () => {
  const limits = { maxRequestLine: 32, maxHeaderBytes: 64, maxHeaders: 3, maxBody: 10 };
  const status = async (request: string): Promise<string | undefined> =>
    (await run([{ return: request }], { limits })).find((l) => l.startsWith("client: wrote"));
  expect(await status("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n")).toBe(
    'client: wrote "HTTP/1.1 413 Content Too Large\\r\\n"',
  );
  expect(
    await status(
      "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsix...\r\n6\r\n",
    ),
  ).toBe('client: wrote "HTTP/1.1 413 Content Too Large\\r\\n"');
  expect(await status(`GET /${"x".repeat(40)} HTTP/1.1\r\n`)).toBe(
    'client: wrote "HTTP/1.1 414 URI Too Long\\r\\n"',
  );
  expect(await status(`GET / HTTP/1.1\r\nHost: a\r\nX-Long: ${"y".repeat(80)}\r\n\r\n`)).toBe(
    'client: wrote "HTTP/1.1 431 Request Header Fields Too Large\\r\\n"',
  );
  expect(await status("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")).toBe(
    'client: wrote "HTTP/1.1 431 Request Header Fields Too Large\\r\\n"',
  );
});

test("serve() closes a connection idle for idleTimeout of mock time, and one that ends mid-request", async () => {
  const idle = await run(
    [{ return: "GET / HTTP/1.1\r\nHost: a\r\n\r\n" }, { run: Fiber.awaitCancel }],
    {
      idleTimeout: 5000,
    },
  );
  expect(idle.slice(-2)).toEqual(["mock time is now 5000", "client: closed"]);
  const cut = await run([
    { return: "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc" },
  ]);
  expect(cut).toMatchInlineSnapshot(`
    [
      "tcp/8080: accepted connection from tcp:127.0.0.1:5000",
      "client: read "POST /echo HTTP/1.1\\r\\n"",
      "             "Host: a\\r\\n"",
      "             "Content-Length: 9\\r\\n"",
      "             "\\r\\n"",
      "             "abc"",
      "client: closed",
      "tcp/8080: closed",
    ]
  `);
});

test("serve() throws a RangeError for a bad limit or idle timeout, naming it", async () => {
  const listener = Mock.Net.listeningSocket("tcp/1");
  const clock = Mock.Clock.make();
  await expect(
    serve(listener, { clock, monoClock: clock, limits: { maxBody: -1 } }),
  ).rejects.toThrow("maxBody must be an integer > 0, got -1");
  await expect(serve(listener, { clock, monoClock: clock, idleTimeout: 0 })).rejects.toThrow(
    "idleTimeout must be a number of ms > 0, got 0",
  );
});
