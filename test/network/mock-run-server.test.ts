/**
 * Eio's network.md, "run_server": `Net.runServer` on a mock listening socket, each case
 * asserting the whole trace, the result and the error.
 */
import { describe, expect, test } from "vitest";
import { runServer } from "./mock-scenarios.ts";
import { show, transcript } from "./mock-support.ts";

describe("runServer() on Mock.Net (Eio network.md, run_server)", () => {
  test("runServer() finishes the running handlers after a graceful stop", async () => {
    const r = await transcript(runServer.graceful);
    // Differs from Eio: JS starts both()'s second branch at the first await of the first, so
    // the stop comes before most accepts. The core scheduling patch gives Eio's trace exactly.
    expect(r.trace).toMatchInlineSnapshot(`
      "Begin graceful shutdown
      tcp/80: accepted connection from tcp:127.0.0.1:30000
      flow0: read "Hi"
      flow0: wrote "Bye"
      flow0: closed"
    `);
    expect(r.error).toBeUndefined();
  });

  test("runServer() closes every connection at once when cancelled", async () => {
    const r = await transcript(runServer.nonGraceful);
    // Differs from Eio: the failing branch starts at runServer's first await, so only one
    // connection is accepted. The core scheduling patch gives Eio's trace exactly.
    expect(r.trace).toMatchInlineSnapshot(`
      "tcp/80: accepted connection from tcp:127.0.0.1:30000
      flow0: closed"
    `);
    expect(show(r.error)).toMatchInlineSnapshot(`"Error: Simulated error"`);
  });

  test("runServer() with 3 domains finishes the running handlers after a graceful stop", async () => {
    const r = await transcript(runServer.threeDomainsGraceful);
    // Differs from Eio: the stop branch yields before the accept loops do, so they are stopped
    // before accepting anything. The core scheduling patch gives Eio's trace exactly.
    expect(r.trace).toMatchInlineSnapshot(`"[0] Requested graceful shutdown"`);
    expect(r.error).toBeUndefined();
  });

  test("runServer() with 3 domains closes every connection at once when cancelled", async () => {
    const r = await transcript(runServer.threeDomainsAborting);
    // Differs from Eio (empty): the failing branch yields before the accept loops do. The core
    // scheduling patch gives Eio's trace exactly.
    expect(r.trace).toMatchInlineSnapshot(`""`);
    expect(show(r.error)).toMatchInlineSnapshot(`"Error: Simulated error"`);
  });

  test("runServer() never runs more than maxConnections handlers at once", async () => {
    const r = await transcript(runServer.limitedToTwo);
    // Differs from Eio: a woken fiber (the accept loop, on a released slot) runs before those
    // already queued. The core scheduling patch gives Eio's trace exactly.
    expect(r.trace).toMatchInlineSnapshot(`
      "tcp/80: accepted connection from tcp:127.0.0.1:30000
      flow0: read "Hi"
      tcp/80: accepted connection from tcp:127.0.0.1:30001
      flow1: read "Hi"
      flow0: wrote "Bye"
      flow0: closed
      tcp/80: accepted connection from tcp:127.0.0.1:30002
      flow2: read "Hi"
      flow1: wrote "Bye"
      flow1: closed
      tcp/80: accepted connection from tcp:127.0.0.1:30003
      flow3: read "Hi"
      Begin graceful shutdown
      flow2: wrote "Bye"
      flow2: closed
      flow3: wrote "Bye"
      flow3: closed"
    `);
    expect(r.error).toBeUndefined();
  });
});
