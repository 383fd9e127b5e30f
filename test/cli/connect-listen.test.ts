/**
 * `weir connect` against node:net servers, and `weir listen` with node:net clients: standard
 * input to the socket, the socket to standard output, half-close at end of input. (The same
 * with socat and nc as the peers is in test/interop/.)
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { Client, cleanup, closeClients, listeningPort, refuses, tempDir, weir } from "./harness.ts";

const servers = new Set<net.Server>();
const sockets = new Set<net.Socket>();

afterEach(async () => {
  await closeClients();
  await cleanup();
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all([...servers].map((s) => new Promise((r) => s.close(r))));
  servers.clear();
});

/** A node:net server on 127.0.0.1:0 or a Unix path, calling `onConn` for each connection. */
async function serve(
  onConn: (s: net.Socket) => void,
  path?: string,
): Promise<{ port: number; path: string | undefined }> {
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    onConn(s);
  });
  servers.add(srv);
  await new Promise<void>((resolve) =>
    path === undefined ? srv.listen(0, "127.0.0.1", resolve) : srv.listen(path, resolve),
  );
  const a = srv.address();
  return { port: typeof a === "object" && a !== null ? a.port : 0, path };
}

/** An echo peer that ends its side when the client has ended its own. */
const echo = (s: net.Socket): void => {
  s.pipe(s);
};

/** Collects everything a client sends; resolves with it at the client's end-of-file. */
function collector(): { onConn: (s: net.Socket) => void; received: Promise<Buffer> } {
  const { promise, resolve } = Promise.withResolvers<Buffer>();
  return {
    received: promise,
    onConn: (s) => {
      const chunks: Buffer[] = [];
      s.on("data", (b: Buffer) => chunks.push(b));
      s.on("end", () => {
        resolve(Buffer.concat(chunks));
        s.end();
      });
    },
  };
}

describe("weir connect", () => {
  test("against a node:net echo: stdin goes out, the echo comes back, exit 0", async () => {
    const { port } = await serve(echo);
    const c = weir(["connect", `127.0.0.1:${port}`], { input: "hello from weir\n" });
    expect(await c.exit()).toEqual({ code: 0, signal: null });
    expect(c.stdout).toBe("hello from weir\n");
    expect(c.stderr).toBe("");
  });

  test("sends all of stdin (1 MiB), then half-closes so the server sees the end", async () => {
    const sink = collector();
    const { port } = await serve(sink.onConn);
    const data = randomBytes(1 << 20);
    const c = weir(["connect", `tcp:127.0.0.1:${port}`], { input: data });
    expect(await c.exit()).toEqual({ code: 0, signal: null });
    expect((await sink.received).equals(data)).toBe(true);
  });

  test("prints what the server sends and exits when it closes, with stdin still open", async () => {
    const data = randomBytes(300_000);
    const { port } = await serve((s) => s.end(data));
    const c = weir(["connect", `localhost:${port}`, "-v"]); // stdin: an open pipe, never written
    expect(await c.exit()).toEqual({ code: 0, signal: null });
    expect(c.stdoutBytes().equals(data)).toBe(true);
    expect(c.stderr).toMatch(
      /^weir connect: connected to tcp:127\.0\.0\.1:\d+ from tcp:127\.0\.0\.1:\d+\n$/,
    );
  });

  test("over a Unix socket", async () => {
    const { path } = await serve(echo, join(tempDir(), "s.sock"));
    const c = weir(["connect", `unix:${path}`], { input: "unix hello\n" });
    expect(await c.exit()).toEqual({ code: 0, signal: null });
    expect(c.stdout).toBe("unix hello\n");
  });
});

describe("weir listen", () => {
  test("with a node:net client: data both ways, half-close, exit 0", async () => {
    const l = weir(["listen", "tcp:127.0.0.1:0"], { input: "to the client\n" });
    const port = await listeningPort(l, "stderr");
    expect(l.stdout).toBe("");
    const client = await Client.connect(port);
    client.socket.end("to the server\n");
    await client.ended;
    expect(await l.exit()).toEqual({ code: 0, signal: null });
    expect(client.received().toString()).toBe("to the client\n");
    expect(l.stdout).toBe("to the server\n");
    expect(l.stderr).toBe(`listening on tcp:127.0.0.1:${port}\n`);
  });

  test("with its stdin left open: exits when the client closes, every byte written", async () => {
    const l = weir(["listen", "0"]);
    const port = await listeningPort(l, "stderr");
    const data = randomBytes(200_000);
    const client = await Client.connect(port);
    client.socket.end(data);
    expect(await l.exit()).toEqual({ code: 0, signal: null });
    expect(l.stdoutBytes().equals(data)).toBe(true);
  });

  test("without --keep, one client only: the next is refused", async () => {
    const l = weir(["listen", "0"]);
    const port = await listeningPort(l, "stderr");
    const first = await Client.connect(port);
    first.socket.write("x");
    await l.waitFor("stdout", /x/);
    expect(await refuses(port)).toBe(true);
    first.socket.end();
    expect(await l.exit()).toEqual({ code: 0, signal: null });
  });

  test("--keep serves one client after another over a Unix socket, until SIGTERM", async () => {
    const path = join(tempDir(), "l.sock");
    const l = weir(["listen", "--keep", "-v", `unix:${path}`]);
    await l.waitFor("stderr", /listening on unix:/);
    const a = await Client.connect(path);
    a.socket.end("first\n");
    await a.closed;
    await l.waitFor("stdout", /first\n/);
    const b = await Client.connect(path);
    b.socket.end("second\n");
    await l.waitFor("stdout", /second\n/);
    await b.closed;
    l.child.kill("SIGTERM");
    expect(await l.exit()).toEqual({ code: 0, signal: null });
    expect(l.stdout).toBe("first\nsecond\n");
    expect(l.stderr.match(/connection from unix:/g)).toHaveLength(2);
  });
});
