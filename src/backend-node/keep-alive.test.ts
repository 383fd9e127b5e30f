/** `keepAlive` on connect and listen, read back from the kernel. */
import { describe, expect, test } from "vitest";
import { Fiber, Switch } from "../core/index.ts";
import type { KeepAlive, StreamSocket } from "../net/types.ts";
import { native } from "./native.ts";
import { NodeNet } from "./node-net.ts";
import { unixFd } from "./unix-fd.ts";

const net = new NodeNet();

function keepAliveOf(sock: StreamSocket): ReturnType<NonNullable<typeof native.getKeepAlive>> {
  const fd = (sock as unknown as { [unixFd](): number | undefined })[unixFd]();
  if (fd === undefined || native.getKeepAlive === undefined) throw new Error("no fd or addon");
  return native.getKeepAlive(fd);
}

/** A connected pair: the client made with `client`, the server's listener with `server`. */
async function pair(
  sw: Switch,
  client: KeepAlive | undefined,
  server: KeepAlive | undefined,
): Promise<[StreamSocket, StreamSocket]> {
  const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 1, keepAlive: server });
  return Fiber.pair(
    () => net.connect(l.listeningAddr, { sw, keepAlive: client }),
    async () => (await l.accept({ sw }))[0],
  );
}

describe.runIf(process.platform === "linux")("keepAlive", () => {
  test("on connect: idle, interval and count, in whole seconds; the accepted side as asked", async () => {
    await Switch.run(async (sw) => {
      const [c, s] = await pair(sw, { idle: 30_000, interval: 5_000, count: 3 }, { idle: 2_500 });
      expect(keepAliveOf(c)).toMatchObject({ on: true, idleS: 30, intervalS: 5, count: 3 });
      expect(keepAliveOf(s)).toMatchObject({ on: true, idleS: 3 });
    });
  });

  test("on listen: every accepted connection gets it; false and absent leave it off", async () => {
    await Switch.run(async (sw) => {
      const [c, s] = await pair(sw, false, { idle: 10_000, interval: 1_000, count: 4 });
      expect(keepAliveOf(s)).toEqual({ on: true, idleS: 10, intervalS: 1, count: 4 });
      expect(keepAliveOf(c).on).toBe(false);
      const [c2, s2] = await pair(sw, undefined, undefined);
      expect(keepAliveOf(c2).on).toBe(false);
      expect(keepAliveOf(s2).on).toBe(false);
    });
  });
});
