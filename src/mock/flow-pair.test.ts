import { expect, test } from "vitest";
import { Cancel, Cancelled, EndOfFile, Fiber, IoError, Switch } from "../core/index.ts";
import { Sockaddr } from "../net/index.ts";
import { Backend } from "./backend.ts";
import { pair } from "./flow-pair.ts";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

test("pair() connects two sockets both ways", async () => {
  await Backend.run(async () => {
    await using sockets = pair();
    const [a, b] = sockets;
    await a.write([bytes("ping")]);
    const buf = new Uint8Array(10);
    expect(await b.readInto(buf)).toBe(4);
    await b.write([bytes("pong")]);
    expect(await a.readInto(buf)).toBe(4);
    expect(Sockaddr.format(a.peerAddr)).toBe("tcp:127.0.0.1:0");
  });
});

test("pair() traces under its labels", async () => {
  const lines: string[] = [];
  await Backend.run(
    async () => {
      const [a, b] = pair({ labels: ["client", "server"] });
      await a.write([bytes("hi\n")]);
      await b.readInto(new Uint8Array(10));
      await a.shutdown("send");
      await a.close();
      await b.close();
    },
    { onTrace: (l) => lines.push(l) },
  );
  expect(lines).toEqual([
    'client: wrote "hi\\n"',
    'server: read "hi\\n"',
    "client: shutdown send",
    "client: closed",
    "server: closed",
  ]);
});

test("pair() makes a writer wait while the peer's buffer is full", async () => {
  await Backend.run(async () => {
    const [a, b] = pair({ bufferSize: 4 });
    const log: string[] = [];
    await Fiber.both(
      async () => {
        await a.write([bytes("abcdefgh")]);
        log.push("written");
      },
      async () => {
        await Fiber.yield();
        log.push("reading");
        const buf = new Uint8Array(8);
        let n = 0;
        while (n < 8) n += await b.readInto(buf.subarray(n));
      },
    );
    expect(log).toEqual(["reading", "written"]);
    await a.close();
    await b.close();
  });
  expect(() => pair({ bufferSize: 0 })).toThrow("bufferSize must be an integer > 0, got 0");
});

test("pair() fails writes to a peer that no longer reads with ConnectionReset", async () => {
  await Backend.run(async () => {
    const [a, b] = pair();
    await b.close();
    const e = await a.write([bytes("x")]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IoError);
    expect((e as IoError).err.kind).toBe("ConnectionReset");
    await expect(a.readInto(new Uint8Array(1))).rejects.toBeInstanceOf(EndOfFile);
    await a.close();
  });
});

test("pair() closing a socket fails its own pending read with Closed", async () => {
  await Backend.run(async () => {
    const [a, b] = pair();
    await Fiber.both(
      async () => {
        const e = await a.readInto(new Uint8Array(1)).catch((x: unknown) => x);
        expect((e as IoError).err.kind).toBe("Closed");
      },
      () => a.close(),
    );
    await b.close();
  });
});

test("pair() with sw closes both sockets when the switch finishes", async () => {
  await Backend.run(async () => {
    let sockets: ReturnType<typeof pair> | undefined;
    await Switch.run((sw) => {
      sockets = pair({ sw });
    });
    const [a] = sockets as ReturnType<typeof pair>;
    await expect(a.write([bytes("x")])).rejects.toThrow("writing to pair socket");
  });
});

test("pair() reads and writes are cancellable", async () => {
  await Backend.run(async () => {
    const [a, b] = pair({ bufferSize: 1 });
    const e = await Cancel.sub(async (scope) => {
      const p = a.readInto(new Uint8Array(1));
      scope.cancel(new Error("stop"));
      return await p.catch((x: unknown) => x);
    });
    expect(e).toBeInstanceOf(Cancelled);
    const ac = new AbortController();
    const w = a.write([bytes("abc")], { signal: ac.signal });
    await Fiber.yield();
    ac.abort();
    await expect(w).rejects.toBeInstanceOf(Cancelled);
    expect(await b.readInto(new Uint8Array(4))).toBe(1);
    await a.close();
    await b.close();
  });
});
