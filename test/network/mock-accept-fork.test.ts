/**
 * Eio's network.md, "Accept_fork error handling": `acceptFork` on a mock listening socket,
 * each case asserting the whole trace, the result and the error.
 */
import { describe, expect, test } from "vitest";
import { acceptFork } from "./mock-scenarios.ts";
import { show, transcript } from "./mock-support.ts";

describe("acceptFork() on Mock.Net (Eio network.md, Accept_fork error handling)", () => {
  test("acceptFork() closes the connection as soon as the handler returns", async () => {
    const r = await transcript(acceptFork.closesOnSuccess);
    expect(r.trace).toMatchInlineSnapshot(`
      "tcp/80: accepted connection from tcp:127.0.0.1:1234
      connection: closed
      Mock connection should have been closed by now"
    `);
    expect(r.error).toBeUndefined();
  });

  test("acceptFork() closes the connection as soon as the handler fails", async () => {
    const r = await transcript(acceptFork.closesOnFailure);
    expect(r.trace).toMatchInlineSnapshot(`
      "tcp/80: accepted connection from tcp:127.0.0.1:1234
      connection: closed
      Mock connection should have been closed by now"
    `);
    expect(show(r.error)).toMatchInlineSnapshot(`"Error: Simulated error"`);
  });

  test("acceptFork() still closes the connection when the fork itself fails", async () => {
    const r = await transcript(acceptFork.closesWhenForkFails);
    expect(r.trace).toMatchInlineSnapshot(`
      "tcp/80: accepted connection from tcp:127.0.0.1:1234
      connection: closed
      Mock connection should have been closed by now"
    `);
    expect(show(r.error)).toMatchInlineSnapshot(`"Error: Simulated error"`);
  });

  test("acceptFork() does not pass a cancellation to onError", async () => {
    const r = await transcript(acceptFork.noCancellationToOnError);
    expect(r.trace).toMatchInlineSnapshot(`
      "tcp/80: accepted connection from tcp:127.0.0.1:1234
      connection: closed"
    `);
    expect(show(r.error)).toMatchInlineSnapshot(`"Error: Simulated error"`);
  });
});
