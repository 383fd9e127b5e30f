/**
 * `weir echo --handover PATH`: restarted three times while `weir bench` runs connection-rate
 * load against it (every connection checks its echo; one failure fails the bench), and its
 * errors; `weir echo --systemd` without socket activation. (With systemd-socket-activate:
 * test/interop/systemd.test.ts.)
 */
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { Client, cleanup, closeClients, listeningPort, tempDir, weir, weirRun } from "./harness.ts";

afterEach(async () => {
  await closeClients();
  await cleanup();
});

describe("weir echo --handover", () => {
  test("three restarts under weir bench --mode connrate: no failed connection, no lost byte", async () => {
    const path = join(tempDir(), "echo.handover");
    // -v: the first one logs its connections, so the test sees the load arrive
    const first = weir(["echo", "127.0.0.1:0", "--handover", path, "-v"]);
    const port = await listeningPort(first);
    const bench = weir([
      "bench",
      `tcp:127.0.0.1:${port}`,
      ...["--mode", "connrate", "--connections", "8", "--duration", "5", "--warmup", "0.2"],
      "--json",
    ]);
    await first.waitFor("stderr", /connection from tcp:127\.0\.0\.1:/);
    let old = first;
    for (let i = 1; i <= 3; i++) {
      const next = weir(["echo", "--handover", path]);
      // the same port, taken over from the old process, which drains and exits
      expect(await listeningPort(next)).toBe(port);
      expect(await old.exit()).toEqual({ code: 0, signal: null });
      expect(old.stderr).toContain(`weir echo: handed over to pid ${next.child.pid}: stopping`);
      await next.waitFor("stderr", new RegExp(`took over from pid ${old.child.pid}\\n`));
      old = next;
      await new Promise((r) => setTimeout(r, 700));
    }
    expect(await bench.exit(30_000)).toEqual({ code: 0, signal: null });
    const result = JSON.parse(bench.stdout);
    expect(result.verified).toBe(true);
    expect(result.requests.sent).toBeGreaterThan(0);
    expect(result.requests.answered).toBe(result.requests.sent);
    expect(result.bytes.received).toBe(result.bytes.sent);
    expect(result.bytes.sent).toBe(result.requests.sent * 64);
    // the last one still serves, then stops on a signal as usual
    const c = await Client.connect(port);
    c.socket.end("after three restarts\n");
    await c.ended;
    expect(c.received().toString()).toBe("after three restarts\n");
    old.child.kill("SIGTERM");
    expect(await old.exit()).toEqual({ code: 0, signal: null });
  }, 60_000);

  test("the first one listens on ADDR; a stale handover socket file is replaced", async () => {
    const dir = tempDir();
    const path = join(dir, "h.sock");
    const a = weir(["echo", "127.0.0.1:0", "--handover", path]);
    await listeningPort(a);
    a.child.kill("SIGKILL"); // leaves its socket file behind
    await a.exit();
    const b = weir(["echo", "127.0.0.1:0", "--handover", path]);
    const port = await listeningPort(b);
    const c = await Client.connect(port);
    c.socket.end("hi");
    await c.ended;
    expect(c.received().toString()).toBe("hi");
    b.child.kill("SIGINT");
    expect(await b.exit()).toEqual({ code: 0, signal: null });
  });

  test("flags that do not go with --handover or --systemd: usage errors", async () => {
    for (const [args, re] of [
      [["--handover", "/tmp/x", "--domains", "1"], /--handover cannot go with --domains/],
      [["--systemd", "127.0.0.1:0"], /--systemd serves the sockets systemd passed: give no ADDR/],
      [["--systemd", "--handover", "/tmp/x"], /--systemd and --handover: give one of them/],
      [["--handover", ""], /--handover needs a PATH/],
    ] as const) {
      const r = await weirRun(["echo", ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  });
});

describe("weir echo --systemd", () => {
  test("without socket activation: exit status 1 and what is missing", async () => {
    const r = await weirRun(["echo", "--systemd"], { env: { LISTEN_FDS: "" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /NotFound: LISTEN_FDS is not set: this process was not started by systemd/,
    );
    const other = await weirRun(["echo", "--systemd"], {
      env: { LISTEN_FDS: "1", LISTEN_PID: "1" },
    });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/LISTEN_PID is 1, not this process/);
  });
});
