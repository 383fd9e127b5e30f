/**
 * mini-redis on `weir/mock`: scripted clients, whole traces, expiry and idle timeouts on mock
 * time. (Real sockets: `mini-redis-net.test.ts`; redis-cli and redis-benchmark: the interop
 * suite.)
 */
import { expect, test } from "vitest";
import { Fiber } from "weir";
import { Mock } from "weir/mock";
import { serveMock } from "../mock-listener.ts";
import { Db } from "./db.ts";
import { DEFAULT_LIMITS, ProtocolError, parseRequest, Request } from "./resp.ts";
import { type ServeOptions, serve } from "./server.ts";

/** RESP arrays of bulk strings, as redis-cli sends them. */
function resp(...commands: string[][]): string {
  return commands
    .map(
      (args) =>
        `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`,
    )
    .join("");
}

function run(
  reads: (
    env: Parameters<Parameters<typeof serveMock>[1]>[0],
  ) => Parameters<typeof Mock.Flow.onRead>[1],
  opts: Partial<ServeOptions> = {},
): Promise<string[]> {
  return serveMock(
    6380,
    (env) => {
      const client = Mock.Flow.make("client");
      Mock.Flow.onRead(client, reads(env));
      return [client];
    },
    (listener, env, stop) => serve(listener, { clock: env.monoClock, stop, ...opts }),
  );
}

test("serve() answers a pipeline of requests in one write", async () => {
  const trace = await run(() => [
    {
      return: resp(["SET", "k", "v"], ["GET", "k"], ["ECHO", "héllo"]),
    },
  ]);
  expect(trace).toMatchInlineSnapshot(`
    [
      "tcp/6380: accepted connection from tcp:127.0.0.1:5000",
      "client: read "*3\\r\\n"",
      "             "$3\\r\\n"",
      "             "SET\\r\\n"",
      "             "$1\\r\\n"",
      "             "k\\r\\n"",
      "             "$1\\r\\n"",
      "             "v\\r\\n"",
      "             "*2\\r\\n"",
      "             "$3\\r\\n"",
      "             "GET\\r\\n"",
      "             "$1\\r\\n"",
      "             "k\\r\\n"",
      "             "*2\\r\\n"",
      "             "$4\\r\\n"",
      "             "ECHO\\r\\n"",
      "             "$6\\r\\n"",
      "             "h\\195\\169llo\\r\\n"",
      "client: wrote "+OK\\r\\n"",
      "              "$1\\r\\n"",
      "              "v\\r\\n"",
      "              "$6\\r\\n"",
      "              "h\\195\\169llo\\r\\n"",
      "client: closed",
      "tcp/6380: closed",
    ]
  `);
});

test("serve() answers requests split anywhere across reads, and inline commands", async () => {
  const bytes = resp(["SET", "key", "value"], ["GET", "key"]);
  const trace = await run(() => [
    { return: bytes.slice(0, 3) },
    { return: bytes.slice(3, 17) },
    { return: bytes.slice(17) },
    { return: "PING\r\n  INCR  n \nDEL n\n" },
  ]);
  expect(trace).toMatchInlineSnapshot(`
    [
      "tcp/6380: accepted connection from tcp:127.0.0.1:5000",
      "client: read "*3\\r"",
      "client: read "\\n"",
      "             "$3\\r\\n"",
      "             "SET\\r\\n"",
      "             "$3\\r\\n"",
      "client: read "key\\r\\n"",
      "             "$5\\r\\n"",
      "             "value\\r\\n"",
      "             "*2\\r\\n"",
      "             "$3\\r\\n"",
      "             "GET\\r\\n"",
      "             "$3\\r\\n"",
      "             "key\\r\\n"",
      "client: read "PING\\r\\n"",
      "             "  INCR  n \\n"",
      "             "DEL n\\n"",
      "client: wrote "+OK\\r\\n"",
      "              "$5\\r\\n"",
      "              "value\\r\\n"",
      "              "+PONG\\r\\n"",
      "              ":1\\r\\n"",
      "              ":1\\r\\n"",
      "client: closed",
      "tcp/6380: closed",
    ]
  `);
});

test("SET EX/PX, EXPIRE and TTL count down on mock time", async () => {
  const trace = await run((env) => [
    { return: "SET a 1 PX 1500\r\nSET b 2 EX 10\r\nTTL b\r\n" },
    {
      run: async () => {
        await env.monoClock.sleep(1000);
        return "GET a\r\nTTL b\r\nEXPIRE b 2\r\n";
      },
    },
    {
      run: async () => {
        await env.monoClock.sleep(1000);
        return "GET a\r\nGET b\r\nPTTL b\r\n";
      },
    },
    {
      run: async () => {
        await env.monoClock.sleep(1000);
        return "GET b\r\nTTL b\r\nTTL never\r\n";
      },
    },
  ]);
  expect(trace).toMatchInlineSnapshot(`
    [
      "tcp/6380: accepted connection from tcp:127.0.0.1:5000",
      "client: read "SET a 1 PX 1500\\r\\n"",
      "             "SET b 2 EX 10\\r\\n"",
      "             "TTL b\\r\\n"",
      "client: wrote "+OK\\r\\n"",
      "              "+OK\\r\\n"",
      "              ":10\\r\\n"",
      "tcp/6380: closed",
      "mock time is now 1000",
      "client: read "GET a\\r\\n"",
      "             "TTL b\\r\\n"",
      "             "EXPIRE b 2\\r\\n"",
      "client: wrote "$1\\r\\n"",
      "              "1\\r\\n"",
      "              ":9\\r\\n"",
      "              ":1\\r\\n"",
      "mock time is now 2000",
      "client: read "GET a\\r\\n"",
      "             "GET b\\r\\n"",
      "             "PTTL b\\r\\n"",
      "client: wrote "$-1\\r\\n"",
      "              "$1\\r\\n"",
      "              "2\\r\\n"",
      "              ":1000\\r\\n"",
      "mock time is now 3000",
      "client: read "GET b\\r\\n"",
      "             "TTL b\\r\\n"",
      "             "TTL never\\r\\n"",
      "client: wrote "$-1\\r\\n"",
      "              ":-2\\r\\n"",
      "              ":-2\\r\\n"",
      "client: closed",
    ]
  `);
});

test("serve() closes a client idle for idleTimeout of mock time", async () => {
  const start = performance.now();
  const trace = await run(() => [{ return: "PING\r\n" }, { run: Fiber.awaitCancel }], {
    idleTimeout: 300_000,
  });
  expect(trace).toMatchInlineSnapshot(`
    [
      "tcp/6380: accepted connection from tcp:127.0.0.1:5000",
      "client: read "PING\\r\\n"",
      "client: wrote "+PONG\\r\\n"",
      "tcp/6380: closed",
      "mock time is now 300000",
      "client: closed",
    ]
  `);
  expect(performance.now() - start).toBeLessThan(2000);
});

test("serve() answers errors, and closes on a protocol error or a bulk past maxBulk", async () => {
  const trace = await run(
    () => [
      {
        return: "NOPE\r\nGET\r\nSET k v EX -1\r\nSET s abc\r\nINCR s\r\n*1\r\n$9\r\n",
      },
    ],
    { limits: { maxBulk: 8 } },
  );
  expect(trace).toMatchInlineSnapshot(`
    [
      "tcp/6380: accepted connection from tcp:127.0.0.1:5000",
      "client: read "NOPE\\r\\n"",
      "             "GET\\r\\n"",
      "             "SET k v EX -1\\r\\n"",
      "             "SET s abc\\r\\n"",
      "             "INCR s\\r\\n"",
      "             "*1\\r\\n"",
      "             "$9\\r\\n"",
      "client: wrote "-ERR unknown command 'NOPE'\\r\\n"",
      "              "-ERR wrong number of arguments for 'get' command\\r\\n"",
      "              "-ERR invalid expire time in 'set' command\\r\\n"",
      "              "+OK\\r\\n"",
      "              "-ERR value is not an integer or out of range\\r\\n"",
      "              "-ERR Protocol error: invalid bulk length\\r\\n"",
      "client: closed",
      "tcp/6380: closed",
    ]
  `);
});

test("serve() refuses a request longer than maxRequest before buffering it", async () => {
  const trace = await run(
    () => [{ return: "*2\r\n$3\r\nGET\r\n$70\r\n" }, { return: "x".repeat(70) }],
    {
      limits: { maxRequest: 64 },
    },
  );
  expect(trace).toMatchInlineSnapshot(`
    [
      "tcp/6380: accepted connection from tcp:127.0.0.1:5000",
      "client: read "*2\\r\\n"",
      "             "$3\\r\\n"",
      "             "GET\\r\\n"",
      "             "$70\\r\\n"",
      "client: wrote "-ERR Protocol error: request too large\\r\\n"",
      "client: closed",
      "tcp/6380: closed",
    ]
  `);
});

test("serve() answers at most maxPipeline requests before waiting for its replies to be written", async () => {
  const trace = await run(() => [{ return: "PING\r\nPING\r\nPING\r\nQUIT\r\nPING\r\n" }], {
    limits: { maxPipeline: 2 },
  });
  expect(trace).toMatchInlineSnapshot(`
    [
      "tcp/6380: accepted connection from tcp:127.0.0.1:5000",
      "client: read "PING\\r\\n"",
      "             "PING\\r\\n"",
      "             "PING\\r\\n"",
      "             "QUIT\\r\\n"",
      "             "PING\\r\\n"",
      "client: wrote "+PONG\\r\\n"",
      "              "+PONG\\r\\n"",
      "tcp/6380: closed",
      "client: wrote "+PONG\\r\\n"",
      "              "+OK\\r\\n"",
      "client: closed",
    ]
  `);
});

test("serve() throws a RangeError for a bad limit, naming it", async () => {
  const listener = Mock.Net.listeningSocket("tcp/1");
  const clock = Mock.Clock.make();
  await expect(serve(listener, { clock, limits: { maxBulk: 0 } })).rejects.toThrow(
    "maxBulk must be an integer > 0, got 0",
  );
  await expect(serve(listener, { clock, maxOutput: 1.5 })).rejects.toThrow(
    "maxOutput must be an integer > 0, got 1.5",
  );
});

test("parseRequest() finds the same request at every split point, and 0 before its end", () => {
  const bytes = Buffer.from(resp(["SET", "key", "a value"]));
  const req = new Request();
  for (let cut = 0; cut < bytes.length; cut++) {
    expect(parseRequest(bytes, 0, cut, req, DEFAULT_LIMITS)).toBe(0);
  }
  expect(parseRequest(bytes, 0, bytes.length, req, DEFAULT_LIMITS)).toBe(bytes.length);
  expect([req.argc, req.str(0), req.str(1), req.str(2)]).toEqual([3, "SET", "key", "a value"]);
  expect(() => parseRequest(Buffer.from("*1\r\n$x\r\n"), 0, 8, req, DEFAULT_LIMITS)).toThrow(
    ProtocolError,
  );
  expect(() => parseRequest(Buffer.from("*2000\r\n"), 0, 7, req, DEFAULT_LIMITS)).toThrow(
    "invalid multibulk length",
  );
});

test("Db drops expired keys when full, and refuses a new key only if still full", () => {
  let now = 0;
  const db = new Db({ now: () => now, maxKeys: 2 });
  expect(db.set("a", Buffer.from("1"), 100)).toBe(true);
  expect(db.set("b", Buffer.from("2"))).toBe(true);
  expect(db.set("c", Buffer.from("3"))).toBe(false);
  now = 100;
  expect(db.set("c", Buffer.from("3"))).toBe(true);
  expect([db.get("a"), db.get("b")?.toString(), db.get("c")?.toString(), db.size]).toEqual([
    undefined,
    "2",
    "3",
    2,
  ]);
  expect(() => new Db({ now: () => 0, maxKeys: 0 })).toThrow(
    "maxKeys must be an integer > 0, got 0",
  );
});
