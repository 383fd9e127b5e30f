/**
 * Interop (`npm run test:interop`): examples/http driven by real HTTP clients, `curl` (Debian's
 * `curl`) and ApacheBench `ab` (Debian's `apache2-utils`).
 */
import { randomBytes } from "node:crypto";
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
  requireTool("curl", "curl");
  requireTool("ab", "apache2-utils");
});

afterEach(async () => {
  await cleanup();
});

async function httpExample(): Promise<{ url: string; proc: Proc }> {
  const proc = start(NODE, ["examples/http/main.ts", "0"]);
  return { url: `http://127.0.0.1:${await listeningPort(proc)}`, proc };
}

/** Runs `curl ARGS` to its end; its stdout and stderr. */
async function curl(...args: string[]): Promise<{ stdout: Buffer; stderr: string }> {
  const p = start("curl", ["-sS", ...args], { input: "" });
  expect(await p.exit()).toEqual({ code: 0, signal: null });
  return { stdout: p.stdoutBytes(), stderr: p.stderr };
}

async function stop(proc: Proc): Promise<void> {
  proc.child.kill("SIGINT");
  expect(await proc.exit()).toEqual({ code: 0, signal: null });
}

test("curl: hello, HEAD, 404, HTTP/1.0, and two requests on one kept-alive connection", async () => {
  const { url, proc } = await httpExample();
  expect((await curl(`${url}/`)).stdout.toString()).toBe("Hello, world!\n");
  const head = (await curl("-I", `${url}/`)).stdout.toString();
  expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  expect(head).toContain("Content-Length: 14\r\n");
  expect(
    (await curl("-o", "/dev/null", "-w", "%{http_code}", `${url}/nope`)).stdout.toString(),
  ).toBe("404");
  expect((await curl("--http1.0", `${url}/`)).stdout.toString()).toBe("Hello, world!\n");
  const twice = await curl("-v", `${url}/`, `${url}/`);
  expect(twice.stdout.toString()).toBe("Hello, world!\nHello, world!\n");
  expect(twice.stderr).toMatch(/Re-using existing connection/);
  await stop(proc);
});

test("curl: POST bodies echoed byte for byte, with Content-Length, 100-continue and chunked", async () => {
  const { url, proc } = await httpExample();
  const file = join(tempDir(), "body.bin");
  const data = randomBytes(768 * 1024);
  writeFileSync(file, data);
  const plain = await curl("--data-binary", `@${file}`, "-H", "Expect:", `${url}/echo`);
  expect(plain.stdout.equals(data)).toBe(true);
  const cont = await curl(
    "-v",
    "--data-binary",
    `@${file}`,
    "-H",
    "Expect: 100-continue",
    `${url}/echo`,
  );
  expect(cont.stdout.equals(data)).toBe(true);
  expect(cont.stderr).toContain("HTTP/1.1 100 Continue");
  const chunked = await curl(
    "--data-binary",
    `@${file}`,
    "-H",
    "Transfer-Encoding: chunked",
    `${url}/echo`,
  );
  expect(chunked.stdout.equals(data)).toBe(true);
  await stop(proc);
});

test("curl: 413 for a body past 1 MiB, 431 for 20 KiB of headers, 400 for a bad Content-Length", async () => {
  const { url, proc } = await httpExample();
  const file = join(tempDir(), "big.bin");
  writeFileSync(file, Buffer.alloc(2 << 20));
  const code = async (...args: string[]): Promise<string> =>
    (await curl("-o", "/dev/null", "-w", "%{http_code}", ...args)).stdout.toString();
  expect(await code("--data-binary", `@${file}`, `${url}/echo`)).toBe("413");
  expect(await code("--data-binary", `@${file}`, "-H", "Expect:", `${url}/echo`)).toBe("413");
  expect(await code("-H", `X-Big: ${"b".repeat(20 * 1024)}`, `${url}/`)).toBe("431");
  expect(await code("-H", "Content-Length: ten", "-X", "POST", `${url}/echo`)).toBe("400");
  await stop(proc);
});

test("ab: 5000 keep-alive requests from 10 clients and 500 with a connection each, none failed", async () => {
  const { url, proc } = await httpExample();
  for (const [args, n] of [
    [["-k", "-c", "10", "-n", "5000"], 5000],
    [["-c", "10", "-n", "500"], 500],
  ] as const) {
    const ab = start("ab", [...args, `${url}/`], { input: "" });
    expect(await ab.exit(60_000)).toEqual({ code: 0, signal: null });
    expect(ab.stdout).toMatch(new RegExp(`Complete requests:\\s+${n}\\n`));
    expect(ab.stdout).toMatch(/Failed requests:\s+0\n/);
    expect(ab.stdout).not.toContain("Non-2xx");
    if (args[0] === "-k") expect(ab.stdout).toMatch(new RegExp(`Keep-Alive requests:\\s+${n}\\n`));
    else expect(ab.stdout).not.toContain("Keep-Alive requests");
  }
  await stop(proc);
});
