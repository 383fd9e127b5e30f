/**
 * `weir proxy` on real sockets: in front of `weir echo`, with 100 concurrent node:net clients;
 * its log lines, a refused target, its graceful stop. (With socat and nc: test/interop/.)
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import {
  Client,
  cleanup,
  closeClients,
  closedPort,
  listeningPort,
  type Proc,
  tempDir,
  weir,
} from "./harness.ts";

afterEach(async () => {
  await closeClients();
  await cleanup();
});

/** Starts `weir echo ARGS` and returns it with the port it listens on. */
async function echoServer(args: string[] = []): Promise<[Proc, number]> {
  const echo = weir(["echo", ...args]);
  return [echo, await listeningPort(echo)];
}

describe("weir proxy", () => {
  test("in front of weir echo: 100 concurrent clients, every byte checked, one log line each", async () => {
    const [, echoPort] = await echoServer();
    const proxy = weir(["proxy", "--listen", "tcp:127.0.0.1:0", "--to", `127.0.0.1:${echoPort}`]);
    const port = await listeningPort(proxy);
    const N = 100;
    const SIZE = 64 * 1024;
    const payloads = Array.from({ length: N }, () => randomBytes(SIZE));
    const clients = await Promise.all(payloads.map(() => Client.connect(port)));
    for (const [i, c] of clients.entries()) c.socket.end(payloads[i] as Buffer);
    await Promise.all(clients.map((c) => c.ended));
    clients.forEach((c, i) => {
      expect(c.received().length, `client ${i}`).toBe(SIZE);
      expect(c.received().equals(payloads[i] as Buffer), `client ${i}`).toBe(true);
    });
    await proxy.waitFor("stdout", /(?:.*\n){101}/); // the listening line and 100 log lines
    const lines = proxy.stdout.trim().split("\n").slice(1);
    expect(lines).toHaveLength(N);
    const local = new Set(clients.map((c) => `tcp:127.0.0.1:${c.localPort}`));
    for (const line of lines) {
      const m = /^(tcp:\S+) -> (tcp:\S+): (\d+) B up, (\d+) B down, [\d.]+ ms, closed$/.exec(line);
      expect(m, line).not.toBeNull();
      const [, peer, target, up, down] = m as RegExpExecArray;
      expect(local.has(peer as string), line).toBe(true);
      expect(target).toBe(`tcp:127.0.0.1:${echoPort}`);
      expect([Number(up), Number(down)]).toEqual([SIZE, SIZE]);
    }
    proxy.child.kill("SIGTERM");
    expect(await proxy.exit()).toEqual({ code: 0, signal: null });
  });

  test("a TCP-to-Unix proxy, with half-close both ways", async () => {
    const path = join(tempDir(), "echo.sock");
    const echo = weir(["echo", `unix:${path}`]);
    await echo.waitFor("stdout", /listening/);
    const proxy = weir(["proxy", "--listen", "0", "--to", `unix:${path}`]);
    const port = await listeningPort(proxy);
    const data = randomBytes(256 * 1024);
    const a = await Client.connect(port);
    const b = await Client.connect(port);
    a.socket.end(data);
    b.socket.end("via node\n");
    await Promise.all([a.ended, b.ended]);
    expect(a.received().equals(data)).toBe(true);
    expect(b.received().toString()).toBe("via node\n");
    await proxy.waitFor("stdout", /(?:.*\n){3}/);
    expect(proxy.stdout).toContain(
      ` -> unix:${path}: ${data.length} B up, ${data.length} B down, `,
    );
    expect(proxy.stdout).toContain(` -> unix:${path}: 9 B up, 9 B down, `);
  });

  test("a refused target: the client is closed and the line says why", async () => {
    const dead = await closedPort();
    const proxy = weir(["proxy", "--listen", "0", "--to", `127.0.0.1:${dead}`]);
    const port = await listeningPort(proxy);
    const c = await Client.connect(port);
    await c.ended;
    expect(c.received().length).toBe(0);
    const m = await proxy.waitFor("stdout", /\n(.* connect failed: .*)\n/);
    expect(m[1]).toMatch(
      new RegExp(
        `^tcp:127\\.0\\.0\\.1:\\d+ -> tcp:127\\.0\\.0\\.1:${dead}: 0 B up, 0 B down, [\\d.]+ ms, ` +
          `connect failed: Net ConnectionFailure Refused: connect ECONNREFUSED 127\\.0\\.0\\.1:${dead}; ` +
          `connecting to tcp:127\\.0\\.0\\.1:${dead}$`,
      ),
    );
    // the proxy goes on serving
    expect(proxy.child.exitCode).toBe(null);
  });

  test("SIGINT: no new clients, the one in flight finishes, exit 0; --json lines", async () => {
    const [, echoPort] = await echoServer();
    const proxy = weir(["proxy", "--listen", "0", "--to", `${echoPort}`, "--json"]);
    const first = await proxy.waitFor("stdout", /^(.*)\n/);
    const { address } = JSON.parse(first[1] as string) as { address: string };
    const port = Number(address.split(":").at(-1));
    const c = await Client.connect(port);
    c.socket.write("before");
    await c.receivedAtLeast(6);
    proxy.child.kill("SIGINT");
    await proxy.waitFor(
      "stdout",
      /"event":"status","message":"SIGINT: stopping: no new connections; 1 open/,
    );
    c.socket.end("after");
    await c.ended;
    expect(c.received().toString()).toBe("beforeafter");
    expect(await proxy.exit()).toEqual({ code: 0, signal: null });
    const events = proxy.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const conn = events.find((e) => e.event === "connection");
    expect(conn).toMatchObject({
      event: "connection",
      target: `tcp:127.0.0.1:${echoPort}`,
      up: 11,
      down: 11,
      end: "closed",
    });
    expect(events.at(-1)).toEqual({ event: "status", message: "stopped" });
  });

  test("--max-connections 1 forwards one client at a time", async () => {
    const [, echoPort] = await echoServer();
    const proxy = weir(["proxy", "--listen", "0", "--to", `${echoPort}`, "--max-connections", "1"]);
    const port = await listeningPort(proxy);
    const a = await Client.connect(port);
    a.socket.write("a");
    await a.receivedAtLeast(1);
    const b = await Client.connect(port);
    b.socket.write("b");
    await new Promise((r) => setTimeout(r, 300));
    expect(b.received().length).toBe(0);
    a.socket.end();
    await a.ended;
    expect((await b.receivedAtLeast(1)).toString()).toBe("b");
  });
});
