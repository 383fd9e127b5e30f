/**
 * The HTTP example as users start it (`node examples/http/main.ts PORT`, what
 * `npm run example:http` runs), on real loopback sockets, with node:http and node:net clients.
 */
import http from "node:http";
import { afterEach, expect, test } from "vitest";
import {
  Client,
  cleanup,
  closeClients,
  listeningPort,
  NODE,
  start,
} from "../../test/cli/harness.ts";

afterEach(async () => {
  await closeClients();
  await cleanup();
});

async function startServer(): Promise<{ port: number; stop(): Promise<string> }> {
  const server = start(NODE, ["examples/http/main.ts", "0"]);
  const port = await listeningPort(server);
  expect(server.stdout).toBe(`listening on tcp:127.0.0.1:${port}\n`);
  return {
    port,
    async stop() {
      server.signal("SIGINT");
      expect(await server.exit()).toEqual({ code: 0, signal: null });
      return server.stderr;
    },
  };
}

/** One request with node:http (no agent: its own connection), and the response. */
function request(
  port: number,
  opts: http.RequestOptions,
  body?: Buffer,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("main.ts answers node:http: hello, a chunked 1 MiB echo, 404; then stops on SIGINT", async () => {
  const server = await startServer();
  const hello = await request(server.port, { path: "/" });
  expect([hello.status, hello.headers["content-length"], hello.body.toString()]).toEqual([
    200,
    "14",
    "Hello, world!\n",
  ]);
  const data = Buffer.alloc(1 << 20);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
  // Without Content-Length, node:http sends the body chunked.
  const echo = await request(server.port, { method: "POST", path: "/echo" }, data);
  expect(echo.status).toBe(200);
  expect(echo.body.equals(data)).toBe(true);
  expect((await request(server.port, { path: "/missing" })).status).toBe(404);
  expect(await server.stop()).toBe(
    "http: SIGINT: stopping (again to close the connections)\nhttp: stopped\n",
  );
});

test("main.ts answers 100 pipelined requests on one connection in order", async () => {
  const server = await startServer();
  const c = await Client.connect(server.port);
  let req = "";
  for (let i = 0; i < 100; i++) {
    const body = `body ${i}`;
    req += `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  }
  c.socket.write(`${req}GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  await c.ended;
  const bodies = [
    ...c
      .received()
      .toString()
      .matchAll(/\r\n\r\n(body \d+|Hello, world!\n)/g),
  ].map((m) => m[1]);
  expect(bodies).toEqual([
    ...Array.from({ length: 100 }, (_, i) => `body ${i}`),
    "Hello, world!\n",
  ]);
  await server.stop();
});

test("main.ts answers 413 to a 2 MiB body, and the client reads it before the close", async () => {
  const server = await startServer();
  const c = await Client.connect(server.port);
  c.socket.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${2 << 20}\r\n\r\n`);
  c.socket.write(Buffer.alloc(2 << 20));
  await c.ended;
  expect(c.received().toString()).toMatch(
    /^HTTP\/1\.1 413 Content Too Large\r\n.*Connection: close\r\n\r\nbody too large\n$/s,
  );
  await server.stop();
});
