/**
 * `Net.runServer` and `net.listen` check every argument at once, before anything runs or any
 * socket is opened, naming the argument and the value as given (a string quoted).
 */
import { describe, expect, test } from "vitest";
import { Switch } from "../../src/core/index.ts";
import { runServer } from "../../src/net/run-server.ts";
import type { ConnectionHandler, ListeningSocket } from "../../src/net/types.ts";
import { run } from "../../src/run.ts";
import { openFds as openFdCount } from "../helpers/leaks.ts";
import { net } from "./real-support.ts";

const handler: ConnectionHandler = async () => {};
const onError = (): void => {};
type Opts = Parameters<typeof runServer>[2];

describe("runServer() argument checks", () => {
  test("each bad argument throws at once (not a later rejection), naming it", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 4 });
        const call = (listener: unknown, h: unknown, opts: unknown) => () =>
          runServer(listener as ListeningSocket, h as ConnectionHandler, opts as Opts);
        expect(call(null, handler, { onError })).toThrow(
          new TypeError("runServer: listener must be a ListeningSocket, got null"),
        );
        expect(call(l, null, { onError })).toThrow(
          new TypeError("runServer: handler must be a function, got null"),
        );
        expect(call(l, handler, undefined)).toThrow(
          new TypeError(
            "runServer: options must be an object with onError (a function), got undefined",
          ),
        );
        expect(call(l, handler, {})).toThrow(
          new TypeError("runServer: option onError must be a function, got undefined"),
        );
        expect(call(l, handler, { onError, maxConnections: null })).toThrow(
          new TypeError("maxConnections must be an integer > 0, got null"),
        );
        expect(call(l, handler, { onError, maxConnections: "10" })).toThrow(
          new TypeError('maxConnections must be an integer > 0, got "10"'),
        );
        expect(call(l, handler, { onError, maxConnections: 0 })).toThrow(
          new RangeError("maxConnections must be an integer > 0, got 0"),
        );
        expect(call(l, handler, { onError, additionalDomains: [null, 1] })).toThrow(
          new TypeError("additionalDomains manager must be a DomainManager, got null"),
        );
        await l.close();
      }),
    );
  });
});

describe("net.listen() argument checks", () => {
  test("backlog, keepAlive: rejected before a socket is opened", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const before = openFdCount();
        await expect(net.listen("tcp:127.0.0.1:0", { sw, backlog: 1e9 })).rejects.toThrow(
          new RangeError("backlog must be an integer in 0..65535, got 1000000000"),
        );
        await expect(
          net.listen("tcp:127.0.0.1:0", { sw, backlog: "5" as unknown as number }),
        ).rejects.toThrow(new TypeError('backlog must be an integer in 0..65535, got "5"'));
        await expect(
          net.listen("tcp:127.0.0.1:0", {
            sw,
            backlog: 1,
            keepAlive: { idle: "1000" } as unknown as { idle: number },
          }),
        ).rejects.toThrow(
          new TypeError('keepAlive.idle must be an integer in 0..32767000, got "1000"'),
        );
        await expect(
          net.connect("tcp:127.0.0.1:1", { sw, keepAlive: { idle: 1000, count: 0 } }),
        ).rejects.toThrow(new RangeError("keepAlive.count must be an integer in 1..127, got 0"));
        await expect(
          net.connect("tcp:127.0.0.1:1", { sw, keepAlive: true as unknown as false }),
        ).rejects.toThrow(
          new TypeError("keepAlive must be false or { idle, interval?, count? }, got true"),
        );
        expect(openFdCount()).toBe(before);
      }),
    );
  });
});

describe("acceptFork() argument checks", () => {
  test("a null handler is rejected before any connection is accepted", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 4 });
        const c = await net.connect(l.listeningAddr, { sw });
        await expect(
          l.acceptFork({ sw, onError }, null as unknown as ConnectionHandler),
        ).rejects.toThrow(new TypeError("acceptFork: handler must be a function, got null"));
        // the connection is still there for a proper accept
        const [s] = await l.accept({ sw });
        await s.close();
        await c.close();
      }),
    );
  });
});
