/**
 * Interop (`npm run test:interop`): examples/mini-redis driven by the real Redis clients,
 * `redis-cli` and `redis-benchmark` (Debian's `redis-tools`).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, expect, test } from "vitest";
import {
  cleanup,
  listeningPort,
  NODE,
  type Proc,
  requireTool,
  start,
  tempDir,
} from "../cli/harness.ts";

beforeAll(() => {
  requireTool("redis-cli", "redis-tools");
  requireTool("redis-benchmark", "redis-tools");
});

afterEach(async () => {
  await cleanup();
});

async function miniRedis(): Promise<{ port: number; proc: Proc }> {
  const proc = start(NODE, ["examples/mini-redis/main.ts", "0"]);
  return { port: await listeningPort(proc), proc };
}

/** Runs `redis-cli -p PORT ARGS` to its end; its stdout. */
async function cli(port: number, ...args: string[]): Promise<string> {
  const p = start("redis-cli", ["-p", String(port), ...args], { input: "" });
  expect(await p.exit()).toEqual({ code: 0, signal: null });
  return p.stdout;
}

async function stop(proc: Proc): Promise<void> {
  proc.child.kill("SIGINT");
  expect(await proc.exit()).toEqual({ code: 0, signal: null });
}

test("redis-cli: strings, counters, expiry, errors", async () => {
  const { port, proc } = await miniRedis();
  expect(await cli(port, "PING")).toBe("PONG\n");
  expect(await cli(port, "SET", "greeting", "hello world")).toBe("OK\n");
  expect(await cli(port, "GET", "greeting")).toBe("hello world\n");
  expect(await cli(port, "ECHO", "ünïcode")).toBe("ünïcode\n");
  expect(await cli(port, "INCR", "visits")).toBe("1\n");
  expect(await cli(port, "INCR", "visits")).toBe("2\n");
  // (redis-cli prints an empty line after an error reply)
  expect(await cli(port, "INCR", "greeting")).toBe(
    "ERR value is not an integer or out of range\n\n",
  );
  expect(await cli(port, "SET", "session", "x", "EX", "100")).toBe("OK\n");
  expect(await cli(port, "TTL", "session")).toBe("100\n");
  expect(await cli(port, "SET", "flash", "y", "PX", "150")).toBe("OK\n");
  expect(await cli(port, "GET", "flash")).toBe("y\n");
  await new Promise((r) => setTimeout(r, 250));
  expect(await cli(port, "GET", "flash")).toBe("\n");
  expect(await cli(port, "EXPIRE", "visits", "50")).toBe("1\n");
  expect(await cli(port, "TTL", "visits")).toBe("50\n");
  expect(await cli(port, "DEL", "greeting", "visits", "nothing")).toBe("2\n");
  expect(await cli(port, "TTL", "visits")).toBe("-2\n");
  expect(await cli(port, "FLUSHALL")).toBe("ERR unknown command 'FLUSHALL'\n\n");
  await stop(proc);
});

test("redis-cli --pipe: 10 000 commands in one stream, all answered", async () => {
  const { port, proc } = await miniRedis();
  const file = join(tempDir(), "commands.txt");
  let text = "";
  for (let i = 0; i < 10_000; i++) text += `SET key:${i} ${i}\r\n`;
  writeFileSync(file, text);
  const p = start("sh", ["-c", `redis-cli -p ${port} --pipe < ${file}`], { input: "" });
  expect(await p.exit()).toEqual({ code: 0, signal: null });
  expect(p.stdout).toContain("errors: 0, replies: 10000");
  expect(await cli(port, "GET", "key:9999")).toBe("9999\n");
  await stop(proc);
});

test("redis-cli SUBSCRIBE gets what another redis-cli PUBLISHes", async () => {
  const { port, proc } = await miniRedis();
  const sub = start("redis-cli", ["-p", String(port), "SUBSCRIBE", "news"]);
  await sub.waitFor("stdout", /subscribe\nnews\n1\n/);
  expect(await cli(port, "PUBLISH", "news", "hello subscribers")).toBe("1\n");
  expect(await cli(port, "PUBLISH", "elsewhere", "nobody")).toBe("0\n");
  await sub.waitFor("stdout", /message\nnews\nhello subscribers\n/);
  sub.child.kill("SIGINT");
  await sub.exit();
  await stop(proc);
});

test("redis-benchmark: SET and GET with and without pipelining, no errors, keys readable after", async () => {
  const { port, proc } = await miniRedis();
  for (const pipeline of ["1", "16"]) {
    const b = start(
      "redis-benchmark",
      ["-p", String(port), "-t", "set,get", "-n", "20000", "-c", "20", "-P", pipeline, "-q"],
      { input: "" },
    );
    expect(await b.exit(60_000)).toEqual({ code: 0, signal: null });
    expect(b.stderr).toBe("");
    const rates = [...b.stdout.matchAll(/(SET|GET): ([\d.]+) requests per second/g)];
    expect(rates.map((m) => m[1])).toEqual(["SET", "GET"]);
    for (const m of rates) expect(Number(m[2])).toBeGreaterThan(0);
  }
  // redis-benchmark's values: 3 bytes (-d 3), the last SET's
  expect(await cli(port, "GET", "key:__rand_int__")).toMatch(/^[^\n]{3}\n$/);
  await stop(proc);
});
