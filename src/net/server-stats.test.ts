import { expect, test } from "vitest";
import { Mock } from "../mock/index.ts";
import { serverStats } from "./server-stats.ts";
import type { ListeningSocket } from "./types.ts";

test("serverStats of a listener no server has used: all zeros", () => {
  expect(serverStats(Mock.Net.listeningSocket("unused"))).toEqual({
    open: 0,
    waiting: 0,
    accepted: 0,
    closed: 0,
    refused: 0,
    limitReached: 0,
    timedOut: 0,
    errors: 0,
    bytesIn: 0,
    bytesOut: 0,
  });
});

test("serverStats of something other than a listener: a TypeError naming it", () => {
  expect(() => serverStats(null as unknown as ListeningSocket)).toThrow(
    new TypeError("listener must be a listening socket, got null"),
  );
  expect(() => serverStats(8080 as unknown as ListeningSocket)).toThrow(
    new TypeError("listener must be a listening socket, got 8080"),
  );
});
