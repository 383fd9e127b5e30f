/**
 * Eio's network.md, "run_server": `Net.runServer` on a mock listening socket, each case
 * asserting the whole trace, the result and the error. The traces are Eio's, line for line.
 */
import { describe, expect, test } from "vitest";
import { runServer } from "./mock-scenarios.ts";
import { show, transcript } from "./mock-support.ts";

describe("runServer() on Mock.Net (Eio network.md, run_server)", () => {
  test("runServer() finishes the running handlers after a graceful stop", async () => {
    const r = await transcript(runServer.graceful);
    expect(r.trace).toMatchInlineSnapshot(`
      "tcp/80: accepted connection from tcp:127.0.0.1:30000
      flow0: read "Hi"
      tcp/80: accepted connection from tcp:127.0.0.1:30001
      flow1: read "Hi"
      tcp/80: accepted connection from tcp:127.0.0.1:30002
      flow2: read "Hi"
      Begin graceful shutdown
      flow0: wrote "Bye"
      flow0: closed
      flow1: wrote "Bye"
      flow1: closed
      flow2: wrote "Bye"
      flow2: closed
      tcp/80: closed"
    `);
    expect(r.error).toBeUndefined();
  });

  test("runServer() closes every connection at once when cancelled", async () => {
    const r = await transcript(runServer.nonGraceful);
    expect(r.trace).toMatchInlineSnapshot(`
      "tcp/80: accepted connection from tcp:127.0.0.1:30000
      flow0: read "Hi"
      tcp/80: accepted connection from tcp:127.0.0.1:30001
      flow1: read "Hi"
      tcp/80: accepted connection from tcp:127.0.0.1:30002
      flow2: read "Hi"
      flow0: closed
      flow1: closed
      flow2: closed"
    `);
    expect(show(r.error)).toMatchInlineSnapshot(`"Error: Simulated error"`);
  });

  test("runServer() with 3 domains finishes the running handlers after a graceful stop", async () => {
    const r = await transcript(runServer.threeDomainsGraceful);
    expect(r.trace).toMatchInlineSnapshot(`
      "[1] tcp/80: accepted connection from tcp:127.0.0.1:30000
      [1] flow0: read "Hi"
      [2] tcp/80: accepted connection from tcp:127.0.0.1:30001
      [2] flow1: read "Hi"
      [0] tcp/80: accepted connection from tcp:127.0.0.1:30002
      [0] flow2: read "Hi"
      [1] flow0: wrote "Bye"
      [1] flow0: closed
      [1] tcp/80: accepted connection from tcp:127.0.0.1:30003
      [1] flow3: read "Hi"
      [2] flow1: wrote "Bye"
      [2] flow1: closed
      [2] tcp/80: accepted connection from tcp:127.0.0.1:30004
      [2] flow4: read "Hi"
      [0] flow2: wrote "Bye"
      [0] flow2: closed
      [0] tcp/80: accepted connection from tcp:127.0.0.1:30005
      [0] flow5: read "Hi"
      [0] Requested graceful shutdown
      [1] flow3: wrote "Bye"
      [1] flow3: closed
      [1] tcp/80: closed
      [2] flow4: wrote "Bye"
      [2] flow4: closed
      [0] flow5: wrote "Bye"
      [0] flow5: closed"
    `);
    expect(r.error).toBeUndefined();
  });

  test("runServer() with 3 domains closes every connection at once when cancelled", async () => {
    const r = await transcript(runServer.threeDomainsAborting);
    expect(r.trace).toMatchInlineSnapshot(`
      "[1] tcp/80: accepted connection from tcp:127.0.0.1:30000
      [1] flow0: read "Hi"
      [2] tcp/80: accepted connection from tcp:127.0.0.1:30001
      [2] flow1: read "Hi"
      [0] tcp/80: accepted connection from tcp:127.0.0.1:30002
      [0] flow2: read "Hi"
      [1] flow0: closed
      [2] flow1: closed
      [0] flow2: closed"
    `);
    expect(show(r.error)).toMatchInlineSnapshot(`"Error: Simulated error"`);
  });

  test("runServer() never runs more than maxConnections handlers at once", async () => {
    const r = await transcript(runServer.limitedToTwo);
    expect(r.trace).toMatchInlineSnapshot(`
      "tcp/80: accepted connection from tcp:127.0.0.1:30000
      flow0: read "Hi"
      tcp/80: accepted connection from tcp:127.0.0.1:30001
      flow1: read "Hi"
      flow0: wrote "Bye"
      flow0: closed
      flow1: wrote "Bye"
      flow1: closed
      tcp/80: accepted connection from tcp:127.0.0.1:30002
      flow2: read "Hi"
      tcp/80: accepted connection from tcp:127.0.0.1:30003
      flow3: read "Hi"
      Begin graceful shutdown
      flow2: wrote "Bye"
      flow2: closed
      flow3: wrote "Bye"
      flow3: closed
      tcp/80: closed"
    `);
    expect(r.error).toBeUndefined();
  });
});
