/**
 * Tcp stands on its own feet: it works outside `run()`, `"raise"` never becomes an unhandled
 * rejection, every buffer of a connection has a bound with a sane default (`readerMaxLine`,
 * `writerMaxBuffered`), and a burst of clients is served with the default backlog — or waits,
 * when the server is at its connection limit.
 */
import { spawnSync } from "node:child_process";
import { createConnection, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import type { NodeListeningSocket } from "../../src/backend-node/listening-socket.ts";
import { BufferLimitExceeded, Fiber, Switch } from "../../src/core/index.ts";
import { runtimeHas } from "../../src/core/runtime.ts";
import { DEFAULT_ACCEPT_QUEUE, DEFAULT_BACKLOG } from "../../src/net/net-base.ts";
import type { TcpAddr } from "../../src/net/sockaddr.ts";
import { run } from "../../src/run.ts";
import { Tcp, WriterBufferLimitExceeded } from "../../src/tcp/index.ts";
import { deferred, until } from "./support.ts";

const local = (): ReturnType<typeof Tcp.WhereToListen.onPortChosenByOs> =>
  Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" });

/** A raw client: connects, sends `data`, and collects what comes back until the server closes. */
function rawClient(port: number, data: string | Buffer): Promise<{ text: string; error?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const c: Socket = createConnection(port, "127.0.0.1", () => {
      c.write(data);
    });
    c.on("data", (d: Buffer) => chunks.push(d));
    c.on("error", (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    c.on("close", () =>
      resolve({
        text: Buffer.concat(chunks).toString(),
        ...(error === undefined ? {} : { error }),
      }),
    );
  });
}

describe("Tcp anywhere", () => {
  test("outside run(), a server and a client need no net option: the real network", async () => {
    const server = await Tcp.Server.create(
      local(),
      async (_addr, reader, writer) => {
        writer.writeLine(`hello ${await reader.readLine()}`);
      },
      { onHandlerError: "raise" },
    );
    try {
      const reply = await Tcp.withConnection(
        Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn),
        async ({ reader, writer }) => {
          writer.writeLine("world");
          return await reader.readLine();
        },
      );
      expect(reply).toBe("hello world");
    } finally {
      await server.close({ closeExistingConnections: true });
    }
  });

  test('"raise" outside run() is an uncaught exception, never an unhandled rejection', () => {
    const script = fileURLToPath(new URL("./fixtures/raise-outside-run.ts", import.meta.url));
    const r = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 20_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^listening on \d+\nuncaught: handler failed outside run\(\)\n$/);
    expect(r.status).toBe(0);
  });
});

describe("readerMaxLine", () => {
  test("a line past the bound (1 MiB by default) rejects with BufferLimitExceeded and the server closes that connection", async () => {
    await run(async () => {
      const failed = deferred<unknown>();
      await using server = await Tcp.Server.create(
        local(),
        async (_addr, reader, writer) => {
          expect(reader.maxLine).toBe(1024 * 1024);
          writer.writeLine(`first ${await reader.readLine()}`);
          await writer.flushed();
          await reader.readLine();
        },
        { onHandlerError: { call: (_addr, e) => failed.resolve(e) } },
      );
      // 3 MiB without a newline: the server buffers at most 1 MiB of it
      const got = await rawClient(server.listeningOn, `short\n${"x".repeat(3 << 20)}`);
      expect(got.text).toBe("first short\n");
      const e = await failed.promise;
      expect(e).toBeInstanceOf(BufferLimitExceeded);
      await until(() => server.numConnections === 0);
    });
  });

  test("readUntil() and lines() have the same bound; a smaller one can be chosen", async () => {
    await run(async () => {
      const seen: string[] = [];
      await using server = await Tcp.Server.create(
        local(),
        async (_addr, reader) => {
          seen.push(String(await reader.readUntil(",")));
          await reader.readUntil(",").catch((e: unknown) => seen.push((e as Error).name));
          await (async () => {
            for await (const line of reader.lines()) seen.push(line);
          })().catch((e: unknown) => seen.push((e as Error).name));
        },
        { onHandlerError: "raise", readerMaxLine: 16 },
      );
      await rawClient(server.listeningOn, `${"a".repeat(15)},${"b".repeat(40)}`);
      await until(() => seen.length === 3);
      expect(seen).toEqual(["a".repeat(15), "BufferLimitExceeded", "BufferLimitExceeded"]);
    });
  });

  test("readerMaxLine and writerMaxBuffered are checked, naming them", async () => {
    const bad = (opts: object) =>
      Tcp.Server.create(local(), async () => {}, { onHandlerError: "raise", ...opts });
    await expect(bad({ readerMaxLine: 0 })).rejects.toThrow(
      "readerMaxLine must be an integer > 0, got 0",
    );
    await expect(bad({ writerMaxBuffered: "1M" })).rejects.toThrow(
      'writerMaxBuffered must be an integer > 0, got "1M"',
    );
    await expect(
      Tcp.connect(Tcp.WhereToConnect.hostAndPort("127.0.0.1", 9), { readerMaxLine: -1 }),
    ).rejects.toThrow("readerMaxLine must be an integer > 0, got -1");
  });
});

describe("writerMaxBuffered", () => {
  test("a client that never reads: a write past 16 MiB unflushed fails the writer, not the server's memory", async () => {
    await run(async () => {
      const failed = deferred<unknown>();
      let written = 0;
      await using server = await Tcp.Server.create(
        local(),
        async (_addr, _reader, writer) => {
          const chunk = Buffer.alloc(1 << 20, 0x78);
          // Never waits on flushed(): only the bound stops it
          for (;;) {
            writer.write(chunk);
            written += chunk.length;
            if (written > 64 << 20) throw new Error("no bound");
          }
        },
        { onHandlerError: { call: (_addr, e) => failed.resolve(e) } },
      );
      const c = createConnection(server.listeningOn, "127.0.0.1");
      c.on("error", () => {});
      c.pause(); // never reads
      try {
        const e = (await failed.promise) as WriterBufferLimitExceeded;
        expect(e).toBeInstanceOf(WriterBufferLimitExceeded);
        expect(e.limit).toBe(16 << 20);
        expect(e.message).toMatch(
          /^writer buffer limit exceeded: 16777216 bytes may wait unflushed, \d+ would \(writing to tcp:127\.0\.0\.1:\d+\); await the writer's flush to keep up with the peer$/,
        );
        // What the kernel took, plus at most the bound
        expect(written).toBeLessThanOrEqual(32 << 20);
        await until(() => server.numConnections === 0);
      } finally {
        c.destroy();
      }
    });
  });

  test("awaiting flushed() keeps a writer under its bound however much it writes", async () => {
    await run(async () => {
      await using server = await Tcp.Server.create(
        local(),
        async (_addr, _reader, writer) => {
          const chunk = Buffer.alloc(64 << 10, 0x79);
          for (let i = 0; i < 64; i++) {
            writer.write(chunk);
            await writer.flushed();
          }
        },
        { onHandlerError: "raise", writerMaxBuffered: 128 << 10 },
      );
      const got = await rawClient(server.listeningOn, "");
      expect(got.text.length).toBe(64 * (64 << 10));
    });
  });
});

describe("backlog and the accept queue", () => {
  test("a burst of 1 000 connects with the defaults: every client is served", async () => {
    await run(async () => {
      await using server = await Tcp.Server.create(
        local(),
        async (_addr, reader, writer) => {
          writer.writeLine(`echo ${await reader.readLine()}`);
        },
        { onHandlerError: "raise" },
      );
      const replies = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => rawClient(server.listeningOn, `${i}\n`)),
      );
      expect(replies.filter((r) => r.error !== undefined)).toEqual([]);
      expect(replies.map((r) => r.text)).toEqual(
        Array.from({ length: 1000 }, (_, i) => `echo ${i}\n`),
      );
    });
  }, 30_000);

  test("at maxConnections, 300 clients wait in weir's accept queue (not reset) and are all served", async () => {
    await run(async () => {
      let running = 0;
      let most = 0;
      await using server = await Tcp.Server.create(
        local(),
        async (_addr, reader, writer) => {
          running++;
          most = Math.max(most, running);
          await Fiber.yield();
          writer.writeLine(`echo ${await reader.readLine()}`);
          await writer.flushed();
          running--;
        },
        { onHandlerError: "raise", maxConnections: 2, onWarning: () => {} },
      );
      const replies = await Promise.all(
        Array.from({ length: 300 }, (_, i) => rawClient(server.listeningOn, `${i}\n`)),
      );
      expect(replies.filter((r) => r.error !== undefined)).toEqual([]);
      expect(replies.map((r) => r.text)).toEqual(
        Array.from({ length: 300 }, (_, i) => `echo ${i}\n`),
      );
      expect(most).toBe(2);
    });
  }, 30_000);

  test("the accept queue is bounded apart from the backlog: past acceptQueue a connection is closed at once", async () => {
    await run(async (env) => {
      await Switch.run(async (sw) => {
        const listener = (await env.net.listen("tcp:127.0.0.1:0", {
          sw,
          backlog: 1024,
          acceptQueue: 2,
        })) as NodeListeningSocket;
        const port = (listener.listeningAddr as TcpAddr).port;
        const outcomes = Array.from({ length: 5 }, () => rawClient(port, "hi\n"));
        await until(() => listener.queued + listener.droppedConnections === 5);
        expect([listener.queued, listener.droppedConnections]).toEqual([2, 3]);
        await listener.close();
        const done = await Promise.all(outcomes);
        expect(done.map((d) => d.text)).toEqual(["", "", "", "", ""]);
      });
    });
  });

  test("net.listen: backlog defaults to 1024 and acceptQueue to 4096; both are checked", async () => {
    await run(async (env) => {
      await Switch.run(async (sw) => {
        await expect(env.net.listen("tcp:127.0.0.1:0", { sw, backlog: -1 })).rejects.toThrow(
          "backlog must be an integer in 0..65535, got -1",
        );
        await expect(env.net.listen("tcp:127.0.0.1:0", { sw, acceptQueue: 0 })).rejects.toThrow(
          "acceptQueue must be an integer > 0, got 0",
        );
        expect([DEFAULT_BACKLOG, DEFAULT_ACCEPT_QUEUE]).toEqual([1024, 4096]);
        const l = await env.net.listen("tcp:127.0.0.1:0", { sw });
        await l.close();
      });
    });
  });
});

describe("the Sink contract", () => {
  test("a Node socket's tryWrite hands buffers over at once; flushed() resolves when the kernel has them all", async () => {
    await run(async (env) => {
      await Switch.run(async (sw) => {
        const listener = await env.net.listen("tcp:127.0.0.1:0", { sw });
        const client = await env.net.connect(listener.listeningAddr, { sw });
        const [server] = await listener.accept({ sw });
        expect(client.tryWrite?.([Buffer.from("hi")])).toBe(true);
        await client.flushed?.();
        // More than the kernel buffers hold while the peer does not read
        const big = Buffer.alloc(32 << 20, 0x61);
        expect(client.tryWrite?.([big])).toBe(false);
        let done = false;
        const flushed = client.flushed?.().then(() => {
          done = true;
        });
        await Fiber.yield();
        expect(done).toBe(false);
        let got = 0;
        const buf = new Uint8Array(1 << 16);
        while (got < big.length + 2) got += await server.readInto(buf);
        await flushed;
        expect(done).toBe(true);
      });
    });
  });

  test("a Node socket's trySend sends what the kernel takes, keeps nothing, counts it in bytesWritten; 0 when full and once closed", async () => {
    await run(async (env) => {
      await Switch.run(async (sw) => {
        const listener = await env.net.listen("tcp:127.0.0.1:0", { sw });
        const client = await env.net.connect(listener.listeningAddr, { sw });
        const [server] = await listener.accept({ sw });
        const hello = Buffer.from("hello");
        if (!runtimeHas("socket-fd")) {
          // Deno hides a node:net socket's fd: nothing goes past Node's write, which still works
          expect(client.trySend?.([hello])).toBe(0);
          await client.write([hello]);
          const b = new Uint8Array(8);
          expect(await server.readInto(b)).toBe(5);
          return;
        }
        expect(client.trySend?.([hello, Buffer.from(" world")])).toBe(11);
        // Nothing kept: the caller may reuse the buffer at once
        hello.fill(0x7a);
        const buf = new Uint8Array(64);
        const n = await server.readInto(buf);
        expect(Buffer.from(buf.subarray(0, n)).toString()).toBe("hello world");
        expect(client.bytesWritten).toBe(11);
        // The peer does not read: the kernel takes part of a large buffer, then nothing
        const big = Buffer.alloc(32 << 20, 0x61);
        const first = client.trySend?.([big]) ?? 0;
        expect(first).toBeGreaterThan(0);
        expect(first).toBeLessThan(big.length);
        expect(client.trySend?.([big.subarray(first)])).toBe(0);
        expect(client.bytesWritten).toBe(11 + first);
        let got = 0;
        const rbuf = new Uint8Array(1 << 16);
        while (got < first) got += await server.readInto(rbuf);
        expect(got).toBe(first);
        await client.close();
        expect(client.trySend?.([hello])).toBe(0);
      });
    });
  });
});
