/**
 * `Tcp.Server` metrics on 127.0.0.1: `server.stats()` is `Net.serverStats` of its listening
 * socket; connections held back at `maxConnections`, refused while dropping, timed out by
 * `idleTimeout` (a normal end: no error counted); the events of a `Tcp.connect` client.
 */
import { connect as rawConnect, type Socket } from "node:net";
import { describe, expect, test } from "vitest";
import { Net } from "../../src/net/index.ts";
import { run } from "../../src/run.ts";
import { Tcp } from "../../src/tcp/index.ts";
import { recordMetrics } from "../helpers/metrics.ts";
import { deferred, until } from "./support.ts";

const local = (): ReturnType<typeof Tcp.WhereToListen.onPortChosenByOs> =>
  Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" });

/** A raw client: sends `line`, resolves with everything it got once the server closes. */
function client(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: Socket = rawConnect({ host: "127.0.0.1", port }, () => s.write(line));
    let got = "";
    s.on("data", (d: Buffer) => {
      got += d.toString();
    });
    s.on("error", reject);
    s.on("close", () => resolve(got));
  });
}

describe("Tcp.Server stats()", () => {
  test("three clients of a line server: stats() is Net.serverStats(listeningSocket), with the bytes each way", async () => {
    await run(async (env) => {
      const server = await Tcp.Server.create(
        local(),
        async (_addr, reader, writer) => {
          const line = await reader.readLine();
          writer.write(`${(line ?? "").toUpperCase()}!\n`);
        },
        { net: env.net, onHandlerError: "raise" },
      );
      const replies = await Promise.all(
        ["a\n", "bb\n", "ccc\n"].map((l) => client(server.listeningOn, l)),
      );
      expect(replies.sort()).toEqual(["A!\n", "BB!\n", "CCC!\n"]);
      await until(() => server.stats().closed === 3);
      expect(server.stats()).toEqual(Net.serverStats(server.listeningSocket));
      expect(server.stats()).toEqual({
        open: 0,
        waiting: 0,
        accepted: 3,
        closed: 3,
        refused: 0,
        limitReached: 0,
        timedOut: 0,
        errors: 0,
        bytesIn: 2 + 3 + 4,
        bytesOut: 3 + 4 + 5,
      });
      await server.close();
    });
  });

  test("at maxConnections 1 a second client waits (limitReached), then is served; while dropping, one is refused", async () => {
    const { messages } = await recordMetrics(() =>
      run(async (env) => {
        const release = deferred();
        const server = await Tcp.Server.createSock(
          local(),
          async (_addr, sock) => {
            await release.promise;
            await sock.write([new TextEncoder().encode("done\n")]);
          },
          { net: env.net, onHandlerError: "raise", maxConnections: 1, onWarning: () => {} },
        );
        const first = client(server.listeningOn, "");
        await until(() => server.stats().open === 1);
        const second = client(server.listeningOn, "");
        await until(() => server.stats().limitReached >= 1);
        expect(server.stats()).toMatchObject({ open: 1, accepted: 1 });
        release.resolve();
        expect(await first).toBe("done\n");
        expect(await second).toBe("done\n");
        await until(() => server.stats().closed === 2);
        server.setDropIncomingConnections(true);
        expect(await client(server.listeningOn, "")).toBe("");
        await until(() => server.stats().closed === 3);
        expect(server.stats()).toMatchObject({ accepted: 3, refused: 1, open: 0 });
        await server.close();
      }),
    );
    const outcomes = messages.flatMap((m) =>
      m.channel === "weir:connection:close" ? [m.msg.outcome] : [],
    );
    expect(outcomes).toEqual(["ok", "ok", "refused"]);
    const limits = messages.flatMap((m) => (m.channel === "weir:server:limit" ? [m.msg] : []));
    expect(limits[0]).toMatchObject({ limit: 1, open: 1 });
  });

  test("idleTimeout: the silent client is timed out, not an error", async () => {
    await run(async (env) => {
      const server = await Tcp.Server.create(
        local(),
        async (_addr, reader) => {
          await reader.readLine();
        },
        { net: env.net, onHandlerError: "raise", idleTimeout: 100 },
      );
      expect(await client(server.listeningOn, "")).toBe("");
      await until(() => server.stats().closed === 1);
      expect(server.stats()).toMatchObject({ accepted: 1, timedOut: 1, errors: 0 });
      await server.close();
    });
  });
});

describe("Tcp.connect", () => {
  test("its connect attempt is published, with the address it connected to", async () => {
    const { messages } = await recordMetrics(() =>
      run(async (env) => {
        const server = await Tcp.Server.createSock(local(), async () => {}, {
          net: env.net,
          onHandlerError: "raise",
        });
        const where = Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn);
        await Tcp.withConnection(where, async () => {}, { net: env.net });
        await server.close({ closeExistingConnections: true });
        return server.listeningOn;
      }),
    );
    const attempts = messages.flatMap((m) => (m.channel === "weir:connect:attempt" ? [m.msg] : []));
    expect(attempts.map((m) => m.outcome)).toEqual(["connected"]);
    expect(attempts[0]?.addr.type).toBe("tcp");
  });
});
