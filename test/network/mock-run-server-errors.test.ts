/** `Net.runServer` on a mock listening socket: failures and limits beyond the Eio transcripts. */
import { expect, test } from "vitest";
import { Fiber } from "../../src/core/index.ts";
import { Mock } from "../../src/mock/index.ts";
import { Net } from "../../src/net/index.ts";
import { show, transcript } from "./mock-support.ts";

const rethrow = (e: unknown): never => {
  throw e;
};

// Before runServer waited for `stop` cancellably, this hung (the mock reported a deadlock).
test("runServer() fails when onError rethrows, even with a stop promise that never resolves", async () => {
  const r = await transcript(async () => {
    const socket = Mock.Net.listeningSocket("tcp/80");
    Mock.Net.onAccept(socket, [
      { return: [Mock.Flow.make("connection"), "tcp:127.0.0.1:1234"] },
      { run: Fiber.awaitCancel },
    ]);
    await Net.runServer(
      socket,
      () => {
        throw new Error("handler failed");
      },
      {
        onError: rethrow,
        stop: new Promise<void>(() => {}),
      },
    );
  });
  expect(r.trace).toMatchInlineSnapshot(`
    "tcp/80: accepted connection from tcp:127.0.0.1:1234
    connection: closed"
  `);
  expect(show(r.error)).toMatchInlineSnapshot(`"Error: handler failed"`);
});

test("runServer() stops accepting when maxConnections handlers run, and resumes when one ends", async () => {
  const r = await transcript(async (env) => {
    const socket = Mock.Net.listeningSocket("tcp/80");
    Mock.Net.onAccept(socket, [
      ...[0, 1, 2].map((i) => ({
        return: [Mock.Flow.make(`flow${i}`), `tcp:127.0.0.1:${3000 + i}`] as const,
      })),
      { run: Fiber.awaitCancel },
    ]);
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    let running = 0;
    let most = 0;
    await Fiber.both(
      () =>
        Net.runServer(
          socket,
          async () => {
            running++;
            most = Math.max(most, running);
            await env.monoClock.sleep(10);
            running--;
          },
          { onError: rethrow, maxConnections: 2, stop: stopped },
        ),
      async () => {
        await env.monoClock.sleep(100);
        stop();
      },
    );
    return most;
  });
  expect(r.value).toBe(2);
  expect(r.trace).toMatchInlineSnapshot(`
    "tcp/80: accepted connection from tcp:127.0.0.1:3000
    tcp/80: accepted connection from tcp:127.0.0.1:3001
    mock time is now 10
    flow0: closed
    flow1: closed
    tcp/80: accepted connection from tcp:127.0.0.1:3002
    mock time is now 20
    flow2: closed
    mock time is now 100
    tcp/80: closed"
  `);
});
