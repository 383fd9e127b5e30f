/**
 * The CLI's deadlines against hostile peers, with Node alone: a mute upstream behind
 * `weir proxy` (its clients are closed by --idle-timeout and the proxy's fds come back to where
 * they were), `weir echo --header-timeout` against a silent client, and the old flag names.
 */
import { readdirSync } from "node:fs";
import net from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { Client, cleanup, closeClients, listeningPort, weir, weirRun } from "./harness.ts";

afterEach(async () => {
  await closeClients();
  await cleanup();
});

/** How many fds the process `pid` has open. */
function fdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A node:net server that accepts and never says a word (nor closes). */
async function muteServer(): Promise<{ port: number; accepted(): number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const srv = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return {
    port: (srv.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

describe("weir proxy --idle-timeout", () => {
  test("a mute upstream: 40 clients are closed after the idle timeout, and the proxy's fds come back", async () => {
    const upstream = await muteServer();
    try {
      const proxy = weir([
        "proxy",
        "--listen",
        "tcp:127.0.0.1:0",
        "--to",
        `tcp:127.0.0.1:${upstream.port}`,
        "--idle-timeout",
        "300ms",
      ]);
      const port = await listeningPort(proxy);
      const pid = proxy.child.pid as number;
      // One connection first, so that what the proxy opens once (and keeps) is in the baseline
      const first = await Client.connect(port);
      first.socket.write("hello?\n");
      await first.ended;
      const idleLines = (): number => proxy.stdout.split("closed: idle timeout").length - 1;
      await until(() => idleLines() === 1, "the first connection's line");
      const before = fdsOf(pid);
      const clients = await Promise.all(Array.from({ length: 40 }, () => Client.connect(port)));
      for (const c of clients) c.socket.write("hello?\n");
      await until(() => upstream.accepted() === 41, "the proxy to connect upstream");
      expect(fdsOf(pid)).toBeGreaterThan(before + 60); // a socket each side, for each client
      const t0 = Date.now();
      await Promise.all(clients.map((c) => c.ended));
      const took = Date.now() - t0;
      expect(took).toBeLessThan(5000);
      for (const c of clients) expect(c.received().length).toBe(0);
      await until(() => idleLines() === 41, "a line per connection");
      await until(() => fdsOf(pid) === before, "the proxy's fds back to the baseline");
      proxy.child.kill("SIGTERM");
      expect((await proxy.exit()).code).toBe(0);
    } finally {
      await upstream.close();
    }
  });

  test("--connect-timeout-ms and --drain-ms still work; giving both names of one flag is a usage error", async () => {
    const r = await weirRun([
      "proxy",
      "--listen",
      "0",
      "--to",
      "1",
      "--drain-ms",
      "5",
      "--drain-timeout",
      "5",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--drain-ms is the old name of --drain-timeout: give one of them/);
    const bad = await weirRun(["echo", "--idle-timeout", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--idle-timeout must be a duration in 0ms\.\.2147483647ms/);
  });
});

describe("weir echo --header-timeout", () => {
  test("a client that sends nothing is closed; one that sends is echoed", async () => {
    const echo = weir(["echo", "--header-timeout", "200ms", "--max-connections", "1"]);
    const port = await listeningPort(echo);
    const silent = await Client.connect(port);
    const good = await Client.connect(port);
    good.socket.write("ping");
    // The silent client does not hold the one slot: the good one is echoed at once
    expect((await good.receivedAtLeast(4, 2000)).toString()).toBe("ping");
    const t0 = Date.now();
    await silent.ended;
    expect(Date.now() - t0).toBeLessThan(2000);
    good.socket.end();
    await good.ended;
    echo.child.kill("SIGTERM");
    expect((await echo.exit()).code).toBe(0);
  });
});
