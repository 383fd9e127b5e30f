/**
 * The CLI's contract with people and scripts: --help everywhere, exit status 2 with a message
 * naming the bad argument for usage errors, status 1 with the IoError and its context lines
 * (never a stack trace) for network failures.
 */
import { afterEach, describe, expect, test } from "vitest";
import { cleanup, closedPort, listenOn, weirRun } from "./harness.ts";

afterEach(cleanup);

const COMMANDS = ["bench", "echo", "proxy", "connect", "listen", "resolve"];

/** A stack trace line, which the CLI must never print. */
const STACK = /^\s+at .+\(.*:\d+:\d+\)$|^\s+at .+:\d+:\d+$/m;

describe("weir --help", () => {
  test("weir --help lists every command and exits 0", async () => {
    const r = await weirRun(["--help"]);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
  });

  test("weir COMMAND --help prints the command's usage and exits 0, for every command", async () => {
    const results = await Promise.all(COMMANDS.map((c) => weirRun([c, "--help"])));
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Usage: weir ${COMMANDS[i]}`);
      expect(r.stdout).toContain("-h, --help");
      expect(r.stderr).toBe("");
    });
  });

  test("weir help proxy is weir proxy --help; -V prints the version", async () => {
    const [a, b, v] = await Promise.all([
      weirRun(["help", "proxy"]),
      weirRun(["proxy", "-h"]),
      weirRun(["-V"]),
    ]);
    expect(a.stdout).toBe(b.stdout);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^weir \d+\.\d+\.\d+/);
  });
});

describe("usage errors exit 2 and name the bad argument", () => {
  // Every case, in-process, is in src/cli/cli.test.ts; these go through the real process.
  test("weir with no command", async () => {
    const r = await weirRun([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "weir: missing command\nCommands: bench, echo, proxy, connect, listen, resolve. Try 'weir --help'.\n",
    );
  });

  test("weir bench --connections 0, weir proxy without --to, weir connect 127.0.0.1", async () => {
    const [a, b, c] = await Promise.all([
      weirRun(["bench", "--connections", "0"]),
      weirRun(["proxy", "--listen", "0"]),
      weirRun(["connect", "127.0.0.1"]),
    ]);
    expect([a.code, b.code, c.code]).toEqual([2, 2, 2]);
    expect(a.stderr).toBe(
      `weir bench: --connections must be an integer in 1..10000, got "0"\nTry 'weir bench --help'.\n`,
    );
    expect(b.stderr).toMatch(/^weir proxy: missing --to ADDR\n/);
    expect(c.stderr).toMatch(/^weir connect: ADDR: invalid address "127\.0\.0\.1" \(expected /);
    for (const r of [a, b, c]) expect(r.stdout).toBe("");
  });

  test("weir bench refuses a target that is not on this machine, before any traffic", async () => {
    const r = await weirRun(["bench", "tcp:192.0.2.1:7", "-d", "0.1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tcp:192\.0\.2\.1:7 is not a loopback or Unix address/);
  });
});

describe("network failures exit 1 with the IoError's context, no stack trace", () => {
  test("weir connect to a closed port", async () => {
    const port = await closedPort();
    const r = await weirRun(["connect", `127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `weir connect: Net ConnectionFailure Refused: connect ECONNREFUSED 127.0.0.1:${port}\n` +
        `  connecting to tcp:127.0.0.1:${port}\n`,
    );
  });

  test("weir connect to a host name adds the name as context", async () => {
    const port = await closedPort();
    const r = await weirRun(["connect", `localhost:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Net ConnectionFailure Refused");
    expect(r.stderr).toContain(`  connecting to "localhost":${port}`);
    expect(r.stderr).not.toMatch(STACK);
  });

  test("weir bench against a closed port", async () => {
    const port = await closedPort();
    const r = await weirRun(["bench", `tcp:127.0.0.1:${port}`, "-d", "0.2"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^weir bench: Net ConnectionFailure Refused/);
    expect(r.stderr).toContain(`connecting to tcp:127.0.0.1:${port}`);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stdout).toBe("");
  });

  test("weir echo on a port in use", async () => {
    const busy = await listenOn();
    try {
      const r = await weirRun(["echo", `127.0.0.1:${busy.port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^weir echo: Net AddressInUse/);
      expect(r.stderr).toContain(`\n  listening on tcp:127.0.0.1:${busy.port}\n`);
      expect(r.stderr).not.toMatch(STACK);
    } finally {
      await busy.close();
    }
  });
});
