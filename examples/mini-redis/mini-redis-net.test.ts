/**
 * mini-redis as users start it (`node examples/mini-redis/main.ts PORT`, what
 * `npm run example:mini-redis` runs), on real loopback sockets, with node:net clients.
 */
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

function resp(...args: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === "string" ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

async function startServer(): Promise<{ port: number; stop(): Promise<string> }> {
  const server = start(NODE, ["examples/mini-redis/main.ts", "0"]);
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

test("main.ts serves 2000 pipelined requests on loopback in order, then stops on SIGINT", async () => {
  const server = await startServer();
  const c = await Client.connect(server.port);
  const requests: Buffer[] = [];
  const expected: string[] = [];
  for (let i = 0; i < 1000; i++) {
    requests.push(resp("SET", `key:${i}`, `value ${i}`), resp("GET", `key:${i}`));
    expected.push("+OK\r\n", `$${`value ${i}`.length}\r\nvalue ${i}\r\n`);
  }
  c.socket.write(Buffer.concat(requests));
  const want = expected.join("");
  expect((await c.receivedAtLeast(want.length)).toString()).toBe(want);
  c.socket.end();
  await c.closed;
  expect(await server.stop()).toBe(
    "mini-redis: SIGINT: stopping (again to close the connections)\nmini-redis: stopped\n",
  );
});

test("main.ts stores and returns a 512 KiB binary value sent in pieces", async () => {
  const server = await startServer();
  const c = await Client.connect(server.port);
  const value = Buffer.alloc(512 * 1024);
  for (let i = 0; i < value.length; i++) value[i] = (i * 7) & 0xff;
  const req = Buffer.concat([resp("SET", "big", value), resp("GET", "big")]);
  for (let at = 0; at < req.length; at += 100_000) c.socket.write(req.subarray(at, at + 100_000));
  const header = Buffer.from(`+OK\r\n$${value.length}\r\n`);
  const got = await c.receivedAtLeast(header.length + value.length + 2);
  expect(got.subarray(0, header.length).toString()).toBe(header.toString());
  expect(got.subarray(header.length, header.length + value.length).equals(value)).toBe(true);
  expect(got.length).toBe(header.length + value.length + 2);
  c.socket.end();
  await c.closed;
  await server.stop();
});

test("main.ts delivers PUBLISH to every subscriber of the channel, and to no other", async () => {
  const server = await startServer();
  const a = await Client.connect(server.port);
  const b = await Client.connect(server.port);
  const other = await Client.connect(server.port);
  const pub = await Client.connect(server.port);
  a.socket.write(resp("SUBSCRIBE", "news"));
  b.socket.write(resp("SUBSCRIBE", "news", "sport"));
  other.socket.write(resp("SUBSCRIBE", "weather"));
  const ackA = "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n";
  const ackB = `${ackA}*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n`;
  await a.receivedAtLeast(ackA.length);
  await b.receivedAtLeast(ackB.length);
  await other.receivedAtLeast(1);
  pub.socket.write(resp("PUBLISH", "news", "hello"));
  expect((await pub.receivedAtLeast(4)).toString()).toBe(":2\r\n");
  const msg = "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n";
  expect((await a.receivedAtLeast(ackA.length + msg.length)).toString()).toBe(ackA + msg);
  expect((await b.receivedAtLeast(ackB.length + msg.length)).toString()).toBe(ackB + msg);
  a.socket.write(resp("GET", "x"));
  const refusal =
    "-ERR Can't execute 'get': only (UN)SUBSCRIBE / PING / QUIT are allowed in this context\r\n";
  expect((await a.receivedAtLeast(ackA.length + msg.length + refusal.length)).toString()).toBe(
    ackA + msg + refusal,
  );
  expect(other.received().toString()).toBe("*3\r\n$9\r\nsubscribe\r\n$7\r\nweather\r\n:1\r\n");
  await closeClients();
  await server.stop();
});

test("main.ts disconnects a subscriber that stops reading once 8 MiB wait for it", async () => {
  const server = await startServer();
  const slow = await Client.connect(server.port);
  const pub = await Client.connect(server.port);
  slow.socket.write(resp("SUBSCRIBE", "firehose"));
  await slow.receivedAtLeast(1);
  slow.socket.pause();
  const message = Buffer.alloc(512 * 1024, "m");
  const replies: string[] = [];
  for (let i = 0; i < 80 && !replies.includes(":0\r\n"); i++) {
    const before = pub.received().length;
    pub.socket.write(resp("PUBLISH", "firehose", message));
    replies.push((await pub.receivedAtLeast(before + 4)).subarray(before).toString());
  }
  // Delivered while it fit (8 MiB and the kernel's buffers), then the subscriber was dropped.
  expect(replies.at(-1)).toBe(":0\r\n");
  expect(replies.slice(0, -1).every((r) => r === ":1\r\n")).toBe(true);
  expect(replies.length).toBeGreaterThan(16);
  // It reads what was sent before the drop, then the end (or a reset: bytes were left unsent).
  slow.socket.resume();
  await Promise.race([slow.ended, slow.closed]);
  await closeClients();
  expect(await server.stop()).not.toContain("failed");
});
