/**
 * `weir echo` on real sockets with node:net clients; its graceful stop with clients in flight.
 * (The same with socat and nc as clients is in test/interop/.)
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { Client, cleanup, closeClients, listeningPort, refuses, tempDir, weir } from "./harness.ts";

afterEach(async () => {
  await closeClients();
  await cleanup();
});

describe("weir echo", () => {
  test("answers node:net clients on an OS-chosen port of 127.0.0.1, every byte of 1 MiB", async () => {
    const echo = weir(["echo"]);
    const port = await listeningPort(echo);
    expect(echo.stdout).toBe(`listening on tcp:127.0.0.1:${port}\n`);
    const hello = await Client.connect(port);
    const big = await Client.connect(port);
    const data = randomBytes(1 << 20);
    hello.socket.end("hello\n");
    big.socket.end(data);
    await Promise.all([hello.ended, big.ended]);
    expect(hello.received().toString()).toBe("hello\n");
    expect(big.received().equals(data)).toBe(true);
    echo.child.kill("SIGINT");
    expect(await echo.exit()).toEqual({ code: 0, signal: null });
    expect(echo.stderr).toContain("weir echo: SIGINT: stopping");
    expect(echo.stderr).toContain("weir echo: stopped\n");
  });

  test("serves a Unix socket and removes it when it stops", async () => {
    const path = join(tempDir(), "echo.sock");
    const echo = weir(["echo", `unix:${path}`]);
    await echo.waitFor("stdout", /listening on unix:.*\n/);
    expect(echo.stdout).toBe(`listening on unix:${path}\n`);
    const a = await Client.connect(path);
    a.socket.end("over unix\n");
    await a.ended;
    expect(a.received().toString()).toBe("over unix\n");
    echo.child.kill("SIGTERM");
    expect(await echo.exit()).toEqual({ code: 0, signal: null });
    expect(existsSync(path)).toBe(false);
  });

  test("SIGTERM stops accepting, lets clients in flight finish, then exits 0", async () => {
    const echo = weir(["echo", "--drain-ms", "10000"]);
    const port = await listeningPort(echo);
    const a = await Client.connect(port);
    const b = await Client.connect(port);
    a.socket.write("a1");
    b.socket.write("b1");
    await a.receivedAtLeast(2);
    await b.receivedAtLeast(2);

    echo.child.kill("SIGTERM");
    await echo.waitFor("stderr", /SIGTERM: stopping: no new connections; 2 open/);
    // no new clients...
    expect(await refuses(port)).toBe(true);
    // ...but those in flight are still served, to the end
    a.socket.write("a2");
    b.socket.write("b2");
    expect((await a.receivedAtLeast(4)).toString()).toBe("a1a2");
    expect((await b.receivedAtLeast(4)).toString()).toBe("b1b2");
    a.socket.end();
    await a.ended;
    expect(echo.child.exitCode).toBe(null);
    b.socket.end("b3");
    await b.ended;
    expect(b.received().toString()).toBe("b1b2b3");
    const t0 = Date.now();
    expect(await echo.exit()).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(5000); // long before --drain-ms
    expect(echo.stderr).not.toContain("closing");
  });

  test("after --drain-ms, closes the connections still open and exits 0", async () => {
    const echo = weir(["echo", "--drain-ms", "300"]);
    const port = await listeningPort(echo);
    const idle = await Client.connect(port);
    idle.socket.write("x");
    await idle.receivedAtLeast(1);
    const t0 = Date.now();
    echo.child.kill("SIGINT");
    await idle.ended; // the server closed it
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(await echo.exit()).toEqual({ code: 0, signal: null });
    expect(echo.stderr).toContain("drain time (300 ms) over: closing 1 connection\n");
  });

  test("a second signal closes the connections at once", async () => {
    const echo = weir(["echo", "--drain-ms", "60000"]);
    const port = await listeningPort(echo);
    const idle = await Client.connect(port);
    idle.socket.write("x");
    await idle.receivedAtLeast(1);
    echo.child.kill("SIGTERM");
    await echo.waitFor("stderr", /stopping/);
    echo.child.kill("SIGTERM");
    await idle.ended;
    expect(await echo.exit()).toEqual({ code: 0, signal: null });
    expect(echo.stderr).toContain("SIGTERM again: closing 1 connection\n");
  });

  test("--max-connections 1 serves the next client only when the first leaves", async () => {
    const echo = weir(["echo", "--max-connections", "1"]);
    const port = await listeningPort(echo);
    const first = await Client.connect(port);
    first.socket.write("1");
    await first.receivedAtLeast(1);
    const second = await Client.connect(port); // in the kernel's backlog, not accepted
    second.socket.write("2");
    await new Promise((r) => setTimeout(r, 300));
    expect(second.received().length).toBe(0);
    first.socket.end();
    await first.ended;
    expect((await second.receivedAtLeast(1)).toString()).toBe("2");
  });

  test("--domains 1 accepts in a worker thread too (SO_REUSEPORT), and stops gracefully", async () => {
    const echo = weir(["echo", "--domains", "1", "--drain-ms", "2000"]);
    const port = await listeningPort(echo);
    const clients = await Promise.all(Array.from({ length: 20 }, () => Client.connect(port)));
    for (const [i, c] of clients.entries()) c.socket.end(`client ${i}`);
    await Promise.all(clients.map((c) => c.ended));
    for (const [i, c] of clients.entries()) expect(c.received().toString()).toBe(`client ${i}`);
    echo.child.kill("SIGTERM");
    expect(await echo.exit()).toEqual({ code: 0, signal: null });
  });

  test("--json prints events as JSON lines", async () => {
    const echo = weir(["echo", "--json"]);
    const m = await echo.waitFor("stdout", /^(.*)\n/);
    const first = JSON.parse(m[1] as string) as { event: string; address: string };
    expect(first.event).toBe("listening");
    expect(first.address).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
    echo.child.kill("SIGTERM");
    expect((await echo.exit()).code).toBe(0);
    const events = echo.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events).toEqual(["listening", "status", "status"]);
  });
});
