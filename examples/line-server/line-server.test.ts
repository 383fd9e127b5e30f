/**
 * The line server, tested on `weir/mock`: scripted clients, whole traces, and an idle timeout
 * of 30 s of mock time that takes milliseconds of real time.
 */
import { expect, test } from "vitest";
import { Fiber, Ipaddr, Sockaddr } from "../../src/index.ts";
import { Mock } from "../../src/mock/index.ts";
import { respond, serve } from "./line-server.ts";

/**
 * A mock listening socket that accepts `client`, then, when the server asks for another client,
 * calls `onSecondAccept` and never gives one.
 */
function listenerWithClient(client: ReturnType<typeof Mock.Flow.make>, onSecondAccept: () => void) {
  const listener = Mock.Net.listeningSocket("tcp/7000");
  Mock.Net.onAccept(listener, [
    { return: [client, Sockaddr.tcp(Ipaddr.parse("127.0.0.1"), 5555)] },
    {
      run: () => {
        onSecondAccept();
        return Fiber.awaitCancel();
      },
    },
  ]);
  return listener;
}

test("respond() answers each command", () => {
  const clock = Mock.Clock.make();
  expect(respond("PING", clock)).toBe("PONG");
  expect(respond("ECHO a b", clock)).toBe("a b");
  expect(respond("TIME", clock)).toBe("0");
  expect(respond("QUIT", clock)).toBe("BYE");
  expect(respond("HELP me", clock)).toBe('ERR unknown command: "HELP"');
});

test("serve() answers a client line by line until QUIT", async () => {
  const trace: string[] = [];
  await Mock.Backend.runFull(
    async (env) => {
      const client = Mock.Flow.make("client");
      Mock.Flow.onRead(client, [
        { return: "PING\n" },
        { return: "ECHO hello world\n" },
        { return: "TIME\nQUIT\n" },
      ]);
      let stop!: () => void;
      const stopped = new Promise<void>((resolve) => {
        stop = resolve;
      });
      // Stop gracefully as soon as the server waits for a second client.
      const listener = listenerWithClient(client, () => stop());
      await serve(listener, { clock: env.monoClock, stop: stopped });
    },
    { onTrace: (line) => trace.push(line) },
  );
  expect(trace).toMatchInlineSnapshot(`
    [
      "tcp/7000: accepted connection from tcp:127.0.0.1:5555",
      "client: read "PING\\n"",
      "client: wrote "PONG\\n"",
      "client: read "ECHO hello world\\n"",
      "client: wrote "hello world\\n"",
      "client: read "TIME\\n"",
      "             "QUIT\\n"",
      "client: wrote "0\\n"",
      "client: wrote "BYE\\n"",
      "client: closed",
      "tcp/7000: closed",
    ]
  `);
});

test("serve() disconnects a client idle for 30 s of mock time, in milliseconds of real time", async () => {
  const trace: string[] = [];
  const start = performance.now();
  await Mock.Backend.runFull(
    async (env) => {
      const client = Mock.Flow.make("client");
      Mock.Flow.onRead(client, [{ return: "PING\n" }, { run: Fiber.awaitCancel }]);
      let stop!: () => void;
      const stopped = new Promise<void>((resolve) => {
        stop = resolve;
      });
      const listener = listenerWithClient(client, () => stop());
      await serve(listener, { clock: env.monoClock, idleTimeout: 30_000, stop: stopped });
      expect(env.monoClock.now()).toBe(30_000);
    },
    { onTrace: (line) => trace.push(line) },
  );
  expect(trace).toMatchInlineSnapshot(`
    [
      "tcp/7000: accepted connection from tcp:127.0.0.1:5555",
      "client: read "PING\\n"",
      "client: wrote "PONG\\n"",
      "tcp/7000: closed",
      "mock time is now 30000",
      "client: wrote "ERR idle timeout\\n"",
      "client: closed",
    ]
  `);
  expect(performance.now() - start).toBeLessThan(1000);
});
