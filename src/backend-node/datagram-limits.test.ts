/**
 * The bounds of datagram sockets: a datagram cut to fit says so, drops are counted (the
 * kernel's receive-buffer drops included, on Linux), and sends nobody awaits wait their turn.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { monoClock } from "../core/clock.ts";
import { Cancelled, isIoError, Switch, Time } from "../core/index.ts";
import { Sockaddr } from "../net/sockaddr.ts";
import { type NodeDatagramSocket, openDatagramSocket } from "./datagram-socket.ts";
import { DEFAULT_SEND_QUEUE_LIMIT } from "./send-queue.ts";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "weir-dgram-limits-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const LOCAL = Sockaddr.udp("127.0.0.1", 0);
const payload = (n: number, fill = 7): Uint8Array => new Uint8Array(n).fill(fill);

async function truncation(a: NodeDatagramSocket, b: NodeDatagramSocket): Promise<unknown[]> {
  await a.send([payload(1000)], { dst: b.localAddr });
  await a.send([payload(10, 1)], { dst: b.localAddr });
  const small = new Uint8Array(10);
  const r1 = await b.recv(small);
  const r2 = await b.recv(small);
  return [r1[1], r1.truncated, small[0], r2[1], r2.truncated, b.truncatedDatagrams];
}

describe("recv() and truncation", () => {
  test("UDP: a 1000-byte datagram read into 10 bytes says truncated", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(LOCAL, { sw });
      const b = await openDatagramSocket(LOCAL, { sw });
      expect(await truncation(a, b)).toEqual([10, true, 1, 10, false, 1]);
    });
  });

  test("Unix datagram (the addon's MSG_TRUNC): the same", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(Sockaddr.unix(join(dir, "a.sock")), { sw });
      const b = await openDatagramSocket(Sockaddr.unix(join(dir, "b.sock")), { sw });
      expect(await truncation(a, b)).toEqual([10, true, 1, 10, false, 1]);
    });
  });
});

describe("droppedDatagrams", () => {
  test.runIf(process.platform === "linux")(
    "counts the kernel's receive-buffer drops: received + dropped = sent",
    async () => {
      const SENT = 3000;
      await Switch.run(async (sw) => {
        const a = await openDatagramSocket(LOCAL, { sw });
        const b = await openDatagramSocket(LOCAL, { sw });
        expect(b.droppedDatagrams).toBe(0);
        const data = payload(200);
        for (let i = 0; i < SENT; i++) await a.send([data], { dst: b.localAddr });
        let received = 0;
        const buf = new Uint8Array(256);
        // drain what was kept: everything left arrives at once (loopback), so a quiet
        // 300 ms means nothing more is coming
        for (;;) {
          const got = await Time.withTimeout(monoClock, 300, () => b.recv(buf)).catch(() => null);
          if (got === null) break;
          received++;
        }
        expect(b.droppedDatagrams).toBeGreaterThan(0);
        expect(received + b.droppedDatagrams).toBe(SENT);
      });
    },
  );

  test("is 0 for a socket that reads everything", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(LOCAL, { sw });
      const b = await openDatagramSocket(LOCAL, { sw });
      const buf = new Uint8Array(16);
      for (let i = 0; i < 20; i++) {
        await a.send([payload(8)], { dst: b.localAddr });
        await b.recv(buf);
      }
      expect(b.droppedDatagrams).toBe(0);
    });
  });
});

describe("send() backpressure", () => {
  test("unawaited sends: at most sendQueueLimit in flight, the rest wait their turn", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(LOCAL, {
        sw,
        sendQueueLimit: 3,
      });
      const b = await openDatagramSocket(LOCAL, { sw });
      const sends: Promise<void>[] = [];
      let most = 0;
      for (let i = 0; i < 20; i++) {
        sends.push(a.send([payload(4, i)], { dst: b.localAddr }));
        most = Math.max(most, a.sendsInFlight);
      }
      expect(most).toBe(3);
      await Promise.all(sends);
      expect(a.sendsInFlight).toBe(0);
      const buf = new Uint8Array(8);
      const order: number[] = [];
      for (let i = 0; i < 20; i++) {
        await b.recv(buf);
        order.push(buf[0] ?? -1);
      }
      expect(order).toEqual([...Array(20).keys()]);
    });
  });

  test("a send waiting for its turn can be cancelled, and is then not sent", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(LOCAL, {
        sw,
        sendQueueLimit: 1,
      });
      const b = await openDatagramSocket(LOCAL, { sw });
      const first = a.send([payload(1, 1)], { dst: b.localAddr });
      const ac = new AbortController();
      const second = a.send([payload(1, 2)], { dst: b.localAddr, signal: ac.signal });
      ac.abort("changed my mind");
      await expect(second).rejects.toBeInstanceOf(Cancelled);
      await first;
      await a.send([payload(1, 3)], { dst: b.localAddr });
      const buf = new Uint8Array(4);
      await b.recv(buf);
      expect(buf[0]).toBe(1);
      await b.recv(buf);
      expect(buf[0]).toBe(3);
      expect(a.sendsInFlight).toBe(0);
    });
  });

  test("the default bound, and a bad sendQueueLimit is rejected at once", async () => {
    expect(DEFAULT_SEND_QUEUE_LIMIT).toBe(64);
    await Switch.run(async (sw) => {
      await expect(openDatagramSocket(LOCAL, { sw, sendQueueLimit: 0 })).rejects.toThrow(
        new RangeError("sendQueueLimit must be an integer > 0, got 0"),
      );
    });
  });
});

describe("send() errors", () => {
  test("a datagram too large for UDP is IoError MessageTooLarge with its context", async () => {
    await Switch.run(async (sw) => {
      const a = await openDatagramSocket(LOCAL, { sw });
      const b = await openDatagramSocket(LOCAL, { sw });
      const e = await a.send([payload(70_000)], { dst: b.localAddr }).catch((x: unknown) => x);
      expect(isIoError(e, "MessageTooLarge")).toBe(true);
      expect((e as Error).message.split("\n")[1]).toBe(
        `  sending to ${Sockaddr.format(b.localAddr)}`,
      );
      expect(a.sendsInFlight).toBe(0);
    });
  });
});
