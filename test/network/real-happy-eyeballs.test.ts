/**
 * Happy Eyeballs on real sockets: a resolver whose first address is dead (a listener on
 * 127.0.0.2 whose accept queue is full, so the kernel drops new SYNs: a connect there hangs,
 * as to a black-holed host) and whose second is a live weir server on 127.0.0.1.
 */
import net from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { native } from "../../src/backend-node/native.ts";
import { Fiber, Flow, monoClock, run, Switch, Timeout } from "../../src/index.ts";
import type { Net as NetT, StreamAddr } from "../../src/net/index.ts";
import { Net, Sockaddr } from "../../src/net/index.ts";

/** A net whose resolver answers every name with `addrs`; everything else is `inner`'s. */
function withResolver(inner: NetT, addrs: () => StreamAddr[]): NetT {
  return {
    connect: (a, o) => inner.connect(a, o),
    listen: (a, o) => inner.listen(a, o),
    datagramSocket: (a, o) => inner.datagramSocket(a, o),
    getaddrinfo: (h, o) => inner.getaddrinfo(h, o),
    getaddrinfoStream: async () => addrs(),
    getaddrinfoDatagram: (h, o) => inner.getaddrinfoDatagram(h, o),
    getnameinfo: (a, o) => inner.getnameinfo(a, o),
  };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanups.splice(0)) f();
});

/** A TCP address on 127.0.0.2 where a connect hangs: a listener whose queue is full. */
async function blackHole(): Promise<StreamAddr> {
  const fd = native.socket("inet", "stream");
  native.bind(fd, { family: "inet", address: "127.0.0.2", port: 0 });
  native.listen(fd, 0);
  const a = native.getsockname(fd);
  const port = a.family === "unix" ? 0 : a.port;
  // backlog 0 holds one connection: fill it, so that the kernel drops further SYNs
  const filler = net.connect({ host: "127.0.0.2", port });
  await new Promise<void>((resolve, reject) => {
    filler.once("connect", resolve);
    filler.once("error", reject);
  });
  cleanups.push(() => {
    filler.destroy();
    native.close(fd);
  });
  return Sockaddr.stream(`tcp:127.0.0.2:${port}`);
}

describe("withTcpConnect() with a dead first address, on real sockets", () => {
  for (const [name, opts] of [
    [
      "with happyEyeballs: the live address wins after the delay",
      { happyEyeballs: { delay: 100, clock: monoClock } },
    ],
    ["without: the first attempt must time out first", { timeout: Timeout.ms(monoClock, 300) }],
  ] as const) {
    test(name, async () => {
      const dead = await blackHole();
      await run(async (env) => {
        await Switch.run(async (sw) => {
          const l = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 8 });
          const live = l.listeningAddr;
          const resolverNet = withResolver(env.net, () => [dead, live]);
          const [, reply] = await Fiber.pair(
            () =>
              l.acceptFork(
                {
                  sw,
                  onError: (e) => {
                    throw e;
                  },
                },
                (f) => Flow.copy(f, f),
              ),
            () =>
              Net.withTcpConnect(
                resolverNet,
                { host: "dual.example", service: "80", ...opts },
                async (conn) => {
                  expect(Sockaddr.format(conn.peerAddr)).toBe(Sockaddr.format(live));
                  await Flow.copyString("over the live path", conn);
                  await conn.shutdown("send");
                  return Flow.readAll(conn, { maxSize: 100 });
                },
              ),
          );
          expect(reply).toBe("over the live path");
        });
      });
      // the leak check after the test sees no socket left: the dead attempt was cancelled and closed
    });
  }
});
