/**
 * Unix socket files are owned safely: a live server's socket is never taken over, a stale
 * one is reclaimed only after a connect to it is refused, close removes the path only while
 * it is still the same socket, and `mode` sets the file's permission bits.
 */
import { existsSync, lstatSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { native } from "../../src/backend-node/native.ts";
import { Fiber, IoError, Switch } from "../../src/core/index.ts";
import { Sockaddr } from "../../src/net/sockaddr.ts";
import { run } from "../../src/run.ts";
import { Tcp } from "../../src/tcp/index.ts";
import { copyString, net, readAllText, tmpSockPath } from "./real-support.ts";

/** Leaves a stale socket file at `path`, as a crashed server does: bound, closed, not unlinked. */
function staleSocket(path: string): void {
  const fd = native.socket("unix", "stream");
  native.bind(fd, { family: "unix", path });
  native.close(fd);
  expect(lstatSync(path).isSocket()).toBe(true);
}

async function failure(p: Promise<unknown>): Promise<IoError> {
  const e = await p.then(
    () => new Error("expected a failure"),
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(IoError);
  return e as IoError;
}

/** Connects to `path`, sends `msg`, and returns what `listener` read from it. */
async function roundTrip(
  sw: Switch,
  l: import("../../src/net/types.ts").ListeningSocket,
  msg: string,
): Promise<string> {
  const [, got] = await Fiber.pair(
    async () => {
      const c = await net.connect(l.listeningAddr, { sw });
      await copyString(msg, c);
      await c.shutdown("send");
    },
    async () => readAllText((await l.accept({ sw }))[0]),
  );
  return got;
}

describe("net.listen() on a Unix path", () => {
  test("a live server's socket gives AddressInUse even with reuseAddr, and keeps serving", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const path = tmpSockPath("live");
        const first = await net.listen(Sockaddr.unix(path), { sw, backlog: 4 });
        const e = await failure(
          net.listen(Sockaddr.unix(path), { sw, backlog: 1, reuseAddr: true }),
        );
        expect(e.err.kind).toBe("AddressInUse");
        expect(e.context).toEqual([`listening on unix:${path}`]);
        // the probe that found it live is a connection that closes at once, unread
        expect(await readAllText((await first.accept({ sw }))[0])).toBe("");
        expect(await roundTrip(sw, first, "still mine")).toBe("still mine");
      }),
    );
  });

  test("a stale socket is reclaimed with reuseAddr, and is AddressInUse without it", async () => {
    const path = tmpSockPath("stale2");
    staleSocket(path);
    await run(() =>
      Switch.run(async (sw) => {
        const e = await failure(net.listen(Sockaddr.unix(path), { sw, backlog: 1 }));
        expect(e.err.kind).toBe("AddressInUse");
        const l = await net.listen(Sockaddr.unix(path), { sw, backlog: 1, reuseAddr: true });
        expect(await roundTrip(sw, l, "reclaimed")).toBe("reclaimed");
      }),
    );
    expect(existsSync(path)).toBe(false);
  });

  test("close() leaves a file that replaced the socket alone", async () => {
    const path = tmpSockPath("replaced");
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen(Sockaddr.unix(path), { sw, backlog: 1 });
        unlinkSync(path);
        writeFileSync(path, "not yours");
        await l.close();
      }),
    );
    expect(readFileSync(path, "utf8")).toBe("not yours");
    unlinkSync(path);
  });

  test("close() leaves a newer server's socket alone", async () => {
    const path = tmpSockPath("newer");
    await run(() =>
      Switch.run(async (sw) => {
        const old = await net.listen(Sockaddr.unix(path), { sw, backlog: 1 });
        unlinkSync(path); // as an operator might, before starting the new server
        const newer = await net.listen(Sockaddr.unix(path), { sw, backlog: 1 });
        await old.close();
        expect(lstatSync(path).isSocket()).toBe(true);
        expect(await roundTrip(sw, newer, "new")).toBe("new");
      }),
    );
    expect(existsSync(path)).toBe(false);
  });

  test("mode sets the socket file's permission bits, whatever the umask", async () => {
    const path = tmpSockPath("mode");
    await run(() =>
      Switch.run(async (sw) => {
        await net.listen(Sockaddr.unix(path), { sw, backlog: 1, mode: 0o660 });
        expect(lstatSync(path).mode & 0o777).toBe(0o660);
        const other = `${path}.2`;
        await net.listen(Sockaddr.unix(other), { sw, backlog: 1, mode: 0o600 });
        expect(lstatSync(other).mode & 0o777).toBe(0o600);
      }),
    );
  });

  test("mode must be 0..0o777 and is for Unix paths only", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        await expect(
          net.listen(Sockaddr.unix(tmpSockPath("m")), { sw, backlog: 1, mode: 0o1000 }),
        ).rejects.toThrow(new RangeError("mode must be an integer in 0..511, got 512"));
        await expect(
          net.listen(Sockaddr.unix(tmpSockPath("m")), {
            sw,
            backlog: 1,
            mode: "660" as unknown as number,
          }),
        ).rejects.toThrow(new TypeError('mode must be an integer in 0..511, got "660"'));
        await expect(
          net.listen("tcp:127.0.0.1:0", { sw, backlog: 1, mode: 0o600 }),
        ).rejects.toThrow(new TypeError("mode is for a Unix socket file, not tcp:127.0.0.1:0"));
      }),
    );
  });

  test("a missing directory is NotFound with the real errno, not EACCES", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const path = "/nonexistent-dir-weir/x.sock";
        const e = await failure(net.listen(Sockaddr.unix(path), { sw, backlog: 1 }));
        expect(e.err.kind).toBe("NotFound");
        expect(e.message.split("\n")).toEqual([
          "Fs NotFound: bind ENOENT",
          `  listening on unix:${path}`,
        ]);
      }),
    );
  });
});

describe("Tcp.WhereToListen.onFile()", () => {
  test("a server reclaims a stale socket left by a crash", async () => {
    const path = tmpSockPath("tcp-stale");
    staleSocket(path);
    await run(async (env) => {
      await using server = await Tcp.Server.createSock(
        Tcp.WhereToListen.onFile(path),
        async (_addr, socket) => copyString("hello", socket),
        { net: env.net, onHandlerError: "raise" },
      );
      expect(server.listeningOn).toBe(path);
      const got = await Switch.run(async (sw) =>
        readAllText(await env.net.connect(`unix:${path}`, { sw })),
      );
      expect(got).toBe("hello");
    });
    expect(existsSync(path)).toBe(false);
  });

  test("a live server's socket is not taken: AddressInUse", async () => {
    const path = tmpSockPath("tcp-live");
    await run(async (env) => {
      await using first = await Tcp.Server.createSock(
        Tcp.WhereToListen.onFile(path),
        async (_addr, socket) => copyString("first", socket),
        { net: env.net, onHandlerError: "raise" },
      );
      const e = await failure(
        Tcp.Server.createSock(Tcp.WhereToListen.onFile(path), async () => {}, {
          net: env.net,
          onHandlerError: "raise",
        }),
      );
      expect(e.err.kind).toBe("AddressInUse");
      const got = await Switch.run(async (sw) =>
        readAllText(await env.net.connect(`unix:${path}`, { sw })),
      );
      expect(got).toBe("first");
      expect(first.listeningOn).toBe(path);
    });
  });

  test("an empty path is rejected at once", () => {
    expect(() => Tcp.WhereToListen.onFile("")).toThrow(
      new RangeError('path must not be empty, got ""'),
    );
    expect(() => Tcp.WhereToListen.onFile(7 as unknown as string)).toThrow(
      new TypeError("path must be a string, got 7"),
    );
  });
});
