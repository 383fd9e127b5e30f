/**
 * `Unix.offerHandover` / `Unix.takeOver`, both ends in this process (the fds cross a real Unix
 * socket with SCM_RIGHTS all the same): the successor serves on the same kernel socket, the
 * connections the old one had taken are still served, and a failed successor leaves the
 * offer standing.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { NodeListeningSocket } from "../backend-node/listening-socket.ts";
import { nodeNet } from "../backend-node/node-net.ts";
import { Fiber, Switch } from "../core/index.ts";
import { Flow } from "../flow/index.ts";
import { Mock } from "../mock/index.ts";
import { Net } from "../net/index.ts";
import type { StreamAddr } from "../net/sockaddr.ts";
import type { StreamSocket } from "../net/types.ts";
import { native, Unix } from "./index.ts";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "weir-handover-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function echo(flow: StreamSocket): Promise<void> {
  await Flow.copy(flow, flow);
  await flow.shutdown("send");
}

/** Connects, sends `text`, half-closes and returns the echo. */
async function roundTrip(sw: Switch, addr: StreamAddr, text: string): Promise<string> {
  const c = await nodeNet.connect(addr, { sw });
  await Flow.copyString(text, c);
  await c.shutdown("send");
  const got = await Flow.readAll(c, { maxSize: 1000 });
  await c.close();
  return got;
}

describe("Unix.offerHandover / takeOver", () => {
  test("the successor serves on the same socket; the old server stops and returns", async () => {
    const path = join(dir, "h.sock");
    await Switch.run(async (sw) => {
      const old = await nodeNet.listen("tcp:127.0.0.1:0", { sw, backlog: 16 });
      const offer = await Unix.offerHandover(path, [old], { sw });
      const served: string[] = [];
      const oldServer = Net.runServer(
        old,
        async (f) => {
          served.push("old");
          await echo(f);
        },
        {
          onError: (e) => served.push(`error ${String(e)}`),
          stop: offer.handedOver,
          drainTimeout: 5000,
        },
      );
      expect(await roundTrip(sw, old.listeningAddr, "one")).toBe("one");
      await Switch.run(async (sw2) => {
        const taken = await Unix.takeOver(path, { sw: sw2 });
        expect(taken?.pid).toBe(process.pid);
        const [l] = taken?.listeners ?? [];
        expect(l?.listeningAddr).toEqual(old.listeningAddr);
        let endNew!: () => void;
        const stopNew = new Promise<void>((r) => {
          endNew = r;
        });
        await taken?.ready();
        // the old server has stopped accepting: its runServer returns the successor's pid
        expect(await oldServer).toBe(process.pid);
        expect((old as NodeListeningSocket).acceptStopped).toBe(true);
        const next = Net.runServer(
          l as NonNullable<typeof l>,
          async (f) => {
            served.push("new");
            await echo(f);
          },
          {
            onError: (e) => served.push(`error ${String(e)}`),
            stop: stopNew,
          },
        );
        expect(await roundTrip(sw2, old.listeningAddr, "two")).toBe("two");
        endNew();
        await next;
        expect(served).toEqual(["old", "new"]);
      });
    });
  });

  test("the connections the old one had taken but not accepted yet are still given to accept()", async () => {
    const path = join(dir, "h.sock");
    await Switch.run(async (sw) => {
      const old = (await nodeNet.listen("tcp:127.0.0.1:0", {
        sw,
        backlog: 16,
      })) as NodeListeningSocket;
      const offer = await Unix.offerHandover(path, [old], { sw });
      // three clients connect; nobody accepts: libuv has taken them into the old one's queue
      const clients = await Promise.all(
        [1, 2, 3].map(() => nodeNet.connect(old.listeningAddr, { sw })),
      );
      for (let i = 0; i < 50 && old.queued < 3; i++) await new Promise((r) => setTimeout(r, 10));
      expect(old.queued).toBe(3);
      await Switch.run(async (sw2) => {
        const taken = await Unix.takeOver(path, { sw: sw2 });
        await taken?.ready();
        expect(old.acceptStopped).toBe(true);
        // the offer waits for the queue to empty before it says "handed over"
        let done = false;
        void offer.handedOver.then(() => {
          done = true;
        });
        await Fiber.yield();
        expect(done).toBe(false);
        for (const [i, c] of clients.entries()) {
          const [s] = await old.accept({ sw });
          await Flow.copyString(`queued ${i}`, c);
          await c.shutdown("send");
          await echo(s);
          expect(await Flow.readAll(c, { maxSize: 100 })).toBe(`queued ${i}`);
          await s.close();
          await c.close();
        }
        expect(await offer.handedOver).toBe(process.pid);
        // later clients reach the successor
        const l = taken?.listeners[0];
        const c = await nodeNet.connect(old.listeningAddr, { sw: sw2 });
        const [s] = await (l as NonNullable<typeof l>).accept({ sw: sw2 });
        await Flow.copyString("later", c);
        await c.shutdown("send");
        await echo(s);
        expect(await Flow.readAll(c, { maxSize: 100 })).toBe("later");
        await s.close();
        await c.close();
      });
    });
  });

  test("a successor that does not answer 'ready' is dropped; the offer stands for the next", async () => {
    const path = join(dir, "h.sock");
    await Switch.run(async (sw) => {
      const old = await nodeNet.listen("tcp:127.0.0.1:0", { sw, backlog: 16 });
      const offer = await Unix.offerHandover(path, [old], { sw, timeout: 2000 });
      const oldServer = Net.runServer(old, echo, { onError: () => {}, stop: offer.handedOver });
      await Switch.run(async (sw2) => {
        const bad = await Unix.takeOver(path, { sw: sw2 });
        expect(bad?.listeners.length).toBe(1);
        // it goes away without "ready": the old one keeps accepting
        await Promise.all((bad?.listeners ?? []).map((l) => l.close()));
      });
      expect(await roundTrip(sw, old.listeningAddr, "still old")).toBe("still old");
      // a raw client that sends garbage
      const fd = native.socket("unix", "stream");
      native.connect(fd, { family: "unix", path });
      const garbage = Unix.importSocketStream(fd, { sw, closeUnix: true });
      await Flow.copyString("not ready\n", garbage);
      await garbage.close();
      await Switch.run(async (sw3) => {
        const good = await Unix.takeOver(path, { sw: sw3 });
        await good?.ready();
        expect(await oldServer).toBe(process.pid);
      });
    });
  }, 20_000);

  test("nothing offered at the path (no file, a stale socket file): undefined", async () => {
    await Switch.run(async (sw) => {
      expect(await Unix.takeOver(join(dir, "none.sock"), { sw })).toBeUndefined();
      const stale = join(dir, "stale.sock");
      const fd = native.socket("unix", "stream");
      native.bind(fd, { family: "unix", path: stale });
      native.close(fd); // the file stays, nobody listens
      expect(await Unix.takeOver(stale, { sw })).toBeUndefined();
      // and an offer there removes the stale file first
      const l = await nodeNet.listen("tcp:127.0.0.1:0", { sw, backlog: 4 });
      const offer = await Unix.offerHandover(stale, [l], { sw });
      await offer.close();
    });
  });

  test("bad arguments: TypeError naming them", async () => {
    await Switch.run(async (sw) => {
      await expect(Unix.takeOver("", { sw })).rejects.toThrow(
        /path must be a Unix socket path, got ""/,
      );
      await expect(Unix.takeOver(join(dir, "x"), undefined as never)).rejects.toThrow(
        /takeOver: option sw \(a Switch\) is required/,
      );
      await expect(Unix.offerHandover(join(dir, "x"), [], { sw })).rejects.toThrow(
        /listeners must be 1 to 16 listening sockets, got an array/,
      );
      await expect(
        Unix.offerHandover(join(dir, "x"), [Mock.Net.listeningSocket("tcp/80")], { sw }),
      ).rejects.toThrow(/listeners must be listening sockets of the Node backend/);
      const l = await nodeNet.listen("tcp:127.0.0.1:0", { sw, backlog: 4 });
      await expect(Unix.offerHandover(join(dir, "x"), [l], { sw, timeout: -1 })).rejects.toThrow(
        RangeError,
      );
      writeFileSync(join(dir, "file"), "not a socket");
      await expect(Unix.offerHandover(join(dir, "file"), [l], { sw })).rejects.toThrow(
        /AddressInUse|AlreadyExists/,
      );
    });
  });
});
