/**
 * Regression tests of the CLI bugs of issue 11, with Node alone (node:net peers, no socat or
 * nc): usage errors for bad addresses and ports, errors that say what happened, a broken log
 * pipe, input never dropped when the peer half-closes, connection counts over threads, and a
 * bench stopped during its warm-up.
 */
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { Client, cleanup, closeClients, listeningPort, tempDir, weir, weirRun } from "./harness.ts";

afterEach(async () => {
  await closeClients();
  await cleanup();
});

/** A node:net server (127.0.0.1, port 0) running `onConn` for each connection. */
async function server(
  onConn: (s: net.Socket) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    onConn(s);
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

/** Collects what `s` sends until it ends; resolves with the bytes. */
function drain(s: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on("data", (b: Buffer) => chunks.push(b));
  return new Promise((resolve) => s.once("end", () => resolve(Buffer.concat(chunks))));
}

describe("usage errors (exit 2)", () => {
  test("weir resolve localhost 99999", async () => {
    const r = await weirRun(["resolve", "localhost", "99999"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'weir resolve: SERVICE must be a port in 0..65535 or a name, got "99999"\n' +
        "Try 'weir resolve --help'.\n",
    );
  });

  test("tcp:999.1.1.1:80 is an invalid address, not a name to look up", async () => {
    const r = await weirRun(["connect", "tcp:999.1.1.1:80"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^weir connect: ADDR: invalid address "tcp:999\.1\.1\.1:80" \(invalid IP address "999\.1\.1\.1"\)\n/,
    );
  });
});

describe("errors that say what happened", () => {
  test("weir echo unix:/nonexistent-dir/x.sock: NotFound with ENOENT, not EACCES", async () => {
    const r = await weirRun(["echo", "unix:/nonexistent-dir-weir/x.sock"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "weir echo: Fs NotFound: bind ENOENT\n  listening on unix:/nonexistent-dir-weir/x.sock\n",
    );
  });
});

describe("--mode", () => {
  test("weir echo unix:PATH --mode 600 makes the socket file 0600, and removes it at the end", async () => {
    const path = join(tempDir(), "m.sock");
    const echo = weir(["echo", `unix:${path}`, "--mode", "600"]);
    await echo.waitFor("stdout", /listening on unix:/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    echo.child.kill("SIGTERM");
    expect(await echo.exit()).toEqual({ code: 0, signal: null });
    expect(existsSync(path)).toBe(false);
  });

  test("--mode on a TCP address is a usage error", async () => {
    const r = await weirRun(["echo", "7000", "--mode", "600"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^weir echo: --mode is for a Unix socket path, got tcp:127\.0\.0\.1:7000\n/,
    );
  });
});

describe("a broken log pipe ends a server with status 1", () => {
  test("weir echo -v, its stderr reader gone: exits 1 at the next log line", async () => {
    const echo = weir(["echo", "-v"]);
    const port = await listeningPort(echo);
    echo.child.stderr?.destroy();
    const c = await Client.connect(port);
    c.socket.end("x");
    expect(await echo.exit()).toEqual({ code: 1, signal: null });
  });

  test("weir proxy, its stdout reader gone: exits 1 and says why on stderr", async () => {
    // port 1: nothing listens there (a port freed just now could be the proxy's own)
    const proxy = weir(["proxy", "--listen", "tcp:127.0.0.1:0", "--to", "127.0.0.1:1"]);
    const port = await listeningPort(proxy);
    proxy.child.stdout?.destroy();
    const c = await Client.connect(port);
    await c.ended; // the connect failed: the proxy logs it (to the broken stdout) and closes
    expect(await proxy.exit()).toEqual({ code: 1, signal: null });
    expect(proxy.stderr).toBe("weir: standard output was closed by its reader (EPIPE): stopping\n");
  });
});

describe("no input is dropped when the peer half-closes", () => {
  const SIZE = 10 * 1024 * 1024;

  test("weir connect sends all 10 MiB to a peer that half-closed at once, then exits 0", async () => {
    const data = randomBytes(SIZE);
    let got: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));
    const srv = await server((s) => {
      got = drain(s);
      s.end("bye\n"); // half-close: this peer has nothing to say, but still reads
    });
    try {
      const c = weir(["connect", `127.0.0.1:${srv.port}`], { input: data });
      expect(await c.exit(30_000)).toEqual({ code: 0, signal: null });
      expect(c.stdout).toBe("bye\n");
      const received = await got;
      expect(received.length).toBe(SIZE);
      expect(received.equals(data)).toBe(true);
    } finally {
      await srv.close();
    }
  });

  test("weir connect to a peer that closes for good: exit 1, saying how much was sent", async () => {
    const srv = await server((s) => s.destroy());
    try {
      const c = weir(["connect", `127.0.0.1:${srv.port}`], { input: randomBytes(SIZE) });
      expect((await c.exit(30_000)).code).toBe(1);
      expect(c.stderr).toMatch(
        /^weir connect: Net ConnectionReset: .*\n {2}sending standard input \(\d+ bytes sent\)\n/,
      );
    } finally {
      await srv.close();
    }
  });

  test("weir listen sends all of stdin to a client that half-closed at once", async () => {
    const data = randomBytes(SIZE);
    const l = weir(["listen", "0"], { input: data });
    const port = await listeningPort(l, "stderr");
    const c = await Client.connect(port);
    c.socket.end("hi");
    await c.ended;
    expect(await l.exit(30_000)).toEqual({ code: 0, signal: null });
    expect(l.stdout).toBe("hi");
    expect(c.received().equals(data)).toBe(true);
  });
});

describe("weir echo --domains", () => {
  test("-v logs the connections of every thread, and the stop counts them all", async () => {
    const echo = weir(["echo", "--domains", "1", "-v", "--drain-ms", "5000"]);
    const port = await listeningPort(echo);
    const N = 12;
    const clients = await Promise.all(Array.from({ length: N }, () => Client.connect(port)));
    // every client echoed once: each connection is open and served, in some thread
    for (const [i, c] of clients.entries()) c.socket.write(`c${i}`);
    for (const [i, c] of clients.entries()) {
      expect((await c.receivedAtLeast(`c${i}`.length)).toString()).toBe(`c${i}`);
    }
    await echo.waitFor("stderr", new RegExp(`(?:connection from [^\\n]*\\n[^]*){${N}}`));
    const lines = echo.stderr.split("\n").filter((l) => l.includes("connection from"));
    expect(lines.length).toBe(N);
    echo.child.kill("SIGTERM");
    await echo.waitFor("stderr", /stopping/);
    expect(echo.stderr).toMatch(
      new RegExp(`SIGTERM: stopping: no new connections; ${N} open, waiting up to 5000 ms`),
    );
    for (const c of clients) c.socket.end();
    await Promise.all(clients.map((c) => c.ended));
    expect(await echo.exit()).toEqual({ code: 0, signal: null });
  });
});

describe("weir bench", () => {
  test("SIGINT during --warmup: no zero figures, a clear message, exit 1", async () => {
    const b = weir(["bench", "--warmup", "60", "-d", "1", "-c", "2"]);
    await b.waitFor("stderr", /warm-up/);
    b.child.kill("SIGINT");
    expect(await b.exit()).toEqual({ code: 1, signal: null });
    expect(b.stdout).toBe("");
    expect(b.stderr).toMatch(/weir bench: SIGINT: stopping early\n/);
    expect(b.stderr).toMatch(/weir bench: stopped during the warm-up: nothing was measured\n$/);
    expect(b.stderr).not.toMatch(/0\.00 s measured/);
  });
});
