/**
 * The same `Tcp` server code (`shout-server.ts`) driven on `weir/mock` — scripted accepts and
 * flows, the whole trace compared — and on real sockets.
 */
import { describe, expect, test } from "vitest";
import { EndOfFile, Fiber, IoError, traceln } from "../../src/core/index.ts";
import { Mock } from "../../src/mock/index.ts";
import { run } from "../../src/run.ts";
import { Tcp } from "../../src/tcp/index.ts";
import { show, transcript } from "../network/mock-support.ts";
import { startShoutServer } from "./shout-server.ts";

describe("the shout server on weir/mock", () => {
  test("serves scripted connections; close() closes the listener", async () => {
    const r = await transcript(async (env) => {
      const listener = Mock.Net.listeningSocket("tcp/80", { listeningAddr: "tcp:127.0.0.1:80" });
      Mock.Net.onListen(env.net, [{ return: listener }]);
      const flow0 = Mock.Flow.make("flow0");
      const flow1 = Mock.Flow.make("flow1");
      Mock.Flow.onRead(flow0, [{ return: "hello\nwor" }, { return: "ld\n" }]);
      Mock.Flow.onRead(flow1, [{ return: "one\nbye\nignored\n" }]);
      let accepted = false;
      Mock.Net.onAccept(listener, [
        { return: [flow0, "tcp:127.0.0.1:30000"] },
        { return: [flow1, "tcp:127.0.0.1:30001"] },
        {
          run: () => {
            accepted = true;
            return Fiber.awaitCancel();
          },
        },
      ]);
      const server = await startShoutServer(
        env.net,
        env.monoClock,
        Tcp.WhereToListen.onPort(80, { host: "127.0.0.1" }),
      );
      const s = server.toJSON();
      while (!accepted || server.numConnections > 0) await Fiber.yield();
      await server.close();
      return s;
    });
    expect(r.error).toBeUndefined();
    expect(r.value).toMatchObject({ listeningOn: 80, listeningOnAddress: "tcp:127.0.0.1:80" });
    expect(r.trace).toMatchInlineSnapshot(`
      "net: listen on tcp:127.0.0.1:80
      tcp/80: accepted connection from tcp:127.0.0.1:30000
      flow0: read "hello\\n"
                  "wor"
      flow0: read "ld\\n"
      flow0: wrote "HELLO\\n"
                   "WORLD\\n"
                   "BYE\\n"
      tcp/80: accepted connection from tcp:127.0.0.1:30001
      flow1: read "one\\n"
                  "bye\\n"
                  "ignored\\n"
      flow1: wrote "ONE\\n"
                   "BYE\\n"
      flow0: closed
      flow1: closed
      tcp/80: closed"
    `);
  });

  test("a raising handler closes the listener and rejects closeFinished", async () => {
    const r = await transcript(async (env) => {
      const listener = Mock.Net.listeningSocket("tcp/80");
      Mock.Net.onListen(env.net, [{ return: listener }]);
      const flow = Mock.Flow.make("flow");
      Mock.Flow.onRead(flow, [
        {
          raise: new IoError({ kind: "Unknown", cause: new Mock.SimulatedFailure("read failed") }),
        },
      ]);
      Mock.Net.onAccept(listener, [
        { return: [flow, "tcp:127.0.0.1:30000"] },
        { run: () => Fiber.awaitCancel() },
      ]);
      const server = await startShoutServer(env.net, env.monoClock);
      await server.closeFinished;
    });
    expect(show(r.error)).toMatchInlineSnapshot(`
      "IoError: Io Unknown: read failed
        handling connection from tcp:127.0.0.1:30000"
    `);
    expect(r.trace).toMatchInlineSnapshot(`
      "net: listen on tcp:127.0.0.1:0
      tcp/80: accepted connection from tcp:127.0.0.1:30000
      flow: closed
      tcp/80: closed"
    `);
  });

  test("maxConnections: no accept while full", async () => {
    const r = await transcript(async (env) => {
      const listener = Mock.Net.listeningSocket("tcp/80");
      Mock.Net.onListen(env.net, [{ return: listener }]);
      const flows = [0, 1, 2].map((i) => Mock.Flow.make(`flow${i}`));
      for (const f of flows) {
        Mock.Flow.onRead(f, [
          { yieldThen: { return: "x\n" } },
          { yieldThen: { raise: new EndOfFile() } },
        ]);
      }
      Mock.Net.onAccept(listener, [
        ...flows.map((f, i) => ({ return: [f, `tcp:127.0.0.1:${30000 + i}`] as const })),
        { run: () => Fiber.awaitCancel() },
      ]);
      const server = await Tcp.Server.create(
        Tcp.WhereToListen.onPort(80),
        async (_addr, reader, writer) => {
          for await (const line of reader.lines()) writer.writeLine(line);
        },
        {
          net: env.net,
          clock: env.monoClock,
          onHandlerError: "raise",
          maxConnections: 1,
          onWarning: (m) => traceln("warning: %s", m),
        },
      );
      for (let i = 0; i < 20; i++) await Fiber.yield();
      await server.close({ closeExistingConnections: true });
    });
    expect(r.error).toBeUndefined();
    expect(r.trace).toMatchInlineSnapshot(`
      "net: listen on tcp:0.0.0.0:80
      tcp/80: accepted connection from tcp:127.0.0.1:30000
      flow0: read "x\\n"
      warning: Tcp.Server on tcp:0.0.0.0:0 is at its limit of 1 connections (maxConnections): new clients wait until one closes
      flow0: wrote "x\\n"
      flow0: closed
      tcp/80: accepted connection from tcp:127.0.0.1:30001
      flow1: read "x\\n"
      flow1: wrote "x\\n"
      flow1: closed
      tcp/80: accepted connection from tcp:127.0.0.1:30002
      flow2: read "x\\n"
      flow2: wrote "x\\n"
      flow2: closed
      tcp/80: closed"
    `);
  });
});

describe("the shout server on real sockets", () => {
  test("answers lines, then BYE", async () => {
    await run(async (env) => {
      const server = await startShoutServer(env.net, env.monoClock);
      const got = await Tcp.withConnection(
        Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn as number),
        async ({ reader, writer }) => {
          writer.write("hello\nworld\nbye\nignored\n");
          return await reader.contents();
        },
        { net: env.net },
      );
      expect(got).toBe("HELLO\nWORLD\nBYE\n");
      await server.close({ closeExistingConnections: true });
    });
  });
});

describe("maxAcceptsPerBatch on weir/mock", () => {
  const scenario = (batch: number) => async (env: import("../../src/mock/index.ts").MockEnv) => {
    const listener = Mock.Net.listeningSocket("tcp/80");
    Mock.Net.onListen(env.net, [{ return: listener }]);
    const flows = [0, 1, 2].map((i) => Mock.Flow.make(`flow${i}`));
    for (const f of flows) Mock.Flow.onRead(f, [{ return: "x\n" }]);
    let accepted = false;
    Mock.Net.onAccept(listener, [
      ...flows.map((f, i) => ({ return: [f, `tcp:127.0.0.1:${30000 + i}`] as const })),
      {
        run: () => {
          accepted = true;
          return Fiber.awaitCancel();
        },
      },
    ]);
    const server = await Tcp.Server.create(
      Tcp.WhereToListen.onPort(80),
      async (_addr, reader, writer) => {
        await Fiber.yield();
        writer.writeLine((await reader.readLine()) ?? "");
      },
      { net: env.net, clock: env.monoClock, onHandlerError: "raise", maxAcceptsPerBatch: batch },
    );
    while (!accepted || server.numConnections > 0) await Fiber.yield();
    await server.close();
  };

  test("1 (the default): each accepted connection's handler gets a turn before the next accept", async () => {
    const r = await transcript(scenario(1));
    expect(r.error).toBeUndefined();
    expect(r.trace).toMatchInlineSnapshot(`
      "net: listen on tcp:0.0.0.0:80
      tcp/80: accepted connection from tcp:127.0.0.1:30000
      flow0: read "x\\n"
      tcp/80: accepted connection from tcp:127.0.0.1:30001
      flow0: wrote "x\\n"
      flow1: read "x\\n"
      tcp/80: accepted connection from tcp:127.0.0.1:30002
      flow1: wrote "x\\n"
      flow2: read "x\\n"
      flow0: closed
      flow2: wrote "x\\n"
      flow1: closed
      flow2: closed
      tcp/80: closed"
    `);
  });

  test("3: three pending connections are taken in one turn", async () => {
    const r = await transcript(scenario(3));
    expect(r.error).toBeUndefined();
    expect(r.trace).toMatchInlineSnapshot(`
      "net: listen on tcp:0.0.0.0:80
      tcp/80: accepted connection from tcp:127.0.0.1:30000
      tcp/80: accepted connection from tcp:127.0.0.1:30001
      tcp/80: accepted connection from tcp:127.0.0.1:30002
      flow0: read "x\\n"
      flow1: read "x\\n"
      flow2: read "x\\n"
      flow0: wrote "x\\n"
      flow1: wrote "x\\n"
      flow2: wrote "x\\n"
      flow0: closed
      flow1: closed
      flow2: closed
      tcp/80: closed"
    `);
  });
});
