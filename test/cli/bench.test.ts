/**
 * `weir bench`: without arguments (the README's command: weir's echo server in the same
 * process), against `weir echo` in each mode, and its failure modes. Every summary must be
 * consistent: each request counted was answered, and the histogram holds them all.
 */
import { afterEach, describe, expect, test } from "vitest";
import type { BenchResult } from "../../src/cli/bench-report.ts";
import { cleanup, listeningPort, listenOn, tempDir, weir, weirRun } from "./harness.ts";

afterEach(cleanup);

const count = (s: string): number => Number(s.replaceAll(",", ""));

/** Checks what every JSON summary must satisfy. */
function checkResult(r: BenchResult): void {
  expect(r.requests.sent).toBeGreaterThan(0);
  expect(r.requests.answered).toBe(r.requests.sent);
  expect(r.histogram.reduce((n, row) => n + row.count, 0)).toBe(r.requests.answered);
  const l = r.latencyUs;
  const ordered = [l.min, l.p50, l.p90, l.p99, l.p999, l.max];
  expect([...ordered].sort((a, b) => a - b)).toEqual(ordered);
  expect(l.min).toBeGreaterThan(0);
  expect(l.mean).toBeGreaterThanOrEqual(l.min);
  expect(l.mean).toBeLessThanOrEqual(l.max);
  expect(r.bytes).toEqual({
    sent: r.requests.sent * r.size,
    received: r.requests.answered * r.size,
  });
  const rate = r.requests.answered / r.elapsedS;
  expect(Math.abs(r.requestsPerS - rate) / rate).toBeLessThan(0.01);
  expect(r.verified).toBe(true);
  expect(r.interrupted).toBe(false);
}

describe("weir bench", () => {
  test("with no arguments benchmarks an in-process echo server and prints a consistent summary", async () => {
    const r = await weirRun(["bench"], { ms: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(
      /^weir bench: pingpong against tcp:127\.0\.0\.1:\d+ \(echo server in this process, sharing its thread\)\n/,
    );
    expect(out).toContain("  50 connections, 64 B messages\n");
    expect(out).toMatch(
      / {2}\d+\.\d\d s measured after 0\.50 s of warm-up, every echoed byte checked\n/,
    );
    const m = /\n {2}messages +([\d,]+) sent, ([\d,]+) answered \(([\d,]+)\/s\)\n/.exec(out);
    expect(m, out).not.toBeNull();
    const [, sent, answered] = m as RegExpExecArray;
    expect(count(sent as string)).toBeGreaterThan(0);
    expect(count(answered as string)).toBe(count(sent as string));
    for (const p of ["p50", "p90", "p99", "p99.9", "max"]) {
      expect(out).toMatch(new RegExp(` ${p.replace(".", "\\.")} [\\d.]+ (ns|µs|ms|s)\\s`));
    }
    // the histogram: every answered message in one of its rows, ending at 100%
    const rows = [...out.matchAll(/^ {4}≤ [\d.]+ (?:ns|µs|ms|s) +([\d,]+) .* +([\d.]+)%$/gm)];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.reduce((n, row) => n + count(row[1] as string), 0)).toBe(count(answered as string));
    expect(rows.at(-1)?.[2]).toBe("100");
    // not a terminal: plain progress lines on stderr (about one a second, later on a loaded
    // machine), no carriage returns
    expect(r.stderr).toMatch(/^ +\d+\.\ds measuring .*\/s .* total [\d,]+$/m);
    expect(r.stderr).not.toContain("\r");
  });

  test("--json prints one consistent JSON object", async () => {
    const r = await weirRun(["bench", "--json", "-d", "0.5", "--warmup", "0.2", "-c", "10"]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as BenchResult;
    expect(result).toMatchObject({
      mode: "pingpong",
      server: "in-process",
      connections: 10,
      size: 64,
      unit: "message",
      durationS: 0.5,
      warmupS: 0.2,
    });
    checkResult(result);
    expect(r.stderr).toBe(""); // --json and not a terminal: no progress lines
  });

  test("stream mode against weir echo, 16 KiB chunks", async () => {
    const echo = weir(["echo"]);
    const port = await listeningPort(echo);
    const r = await weirRun([
      "bench",
      `127.0.0.1:${port}`,
      "-m",
      "stream",
      "-s",
      "16k",
      "-c",
      "4",
      "-d",
      "0.5",
      "--warmup",
      "0.1",
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as BenchResult;
    expect(result).toMatchObject({
      mode: "stream",
      server: "external",
      size: 16384,
      window: 262144,
    });
    expect(result.target).toBe(`tcp:127.0.0.1:${port}`);
    checkResult(result);
  });

  test("connrate mode against weir echo on a Unix socket", async () => {
    const path = `${tempDir()}/echo.sock`;
    const echo = weir(["echo", `unix:${path}`]);
    await echo.waitFor("stdout", /listening/);
    const r = await weirRun([
      "bench",
      `unix:${path}`,
      "--mode",
      "connrate",
      "-c",
      "4",
      "-d",
      "0.5",
      "--warmup",
      "0",
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as BenchResult;
    expect(result).toMatchObject({ mode: "connrate", unit: "connection", target: `unix:${path}` });
    checkResult(result);
  });

  test("a server that never answers: fails after --stall-ms with status 1", async () => {
    const mute = await listenOn();
    try {
      const t0 = Date.now();
      const r = await weirRun(["bench", `${mute.port}`, "-c", "2", "-d", "5", "--stall-ms", "500"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /weir bench: BenchStalled: no answer from the echo server for 500 ms \(while (warm-up|measuring)\): giving up\n$/,
      );
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(r.stdout).toBe("");
    } finally {
      await mute.close();
    }
  });

  test("SIGINT ends the run early and still prints a consistent summary", async () => {
    const b = weir(["bench", "-d", "60", "--warmup", "0", "-c", "4"]);
    await b.waitFor("stderr", /measuring/);
    b.child.kill("SIGINT");
    expect(await b.exit()).toEqual({ code: 0, signal: null });
    expect(b.stdout).toContain(" of warm-up (interrupted), every echoed byte checked\n");
    const m = /messages +([\d,]+) sent, ([\d,]+) answered/.exec(b.stdout);
    expect(m).not.toBeNull();
    expect(count(m?.[1] as string)).toBe(count(m?.[2] as string));
    expect(b.stderr).toContain("weir bench: SIGINT: stopping early\n");
  });
});
