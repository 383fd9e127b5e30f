/**
 * Runs around every test: after it, no handle, request, timer or file descriptor may be left
 * beyond what existed before it (each test must release what it opened), and no subscriber on
 * a `weir:*` metrics channel.
 */
import { afterEach, beforeAll, beforeEach, expect } from "vitest";
import {
  activeResources,
  openFds,
  type ResourceCounts,
  settleLeaks,
  warmRuntime,
} from "./leaks.ts";
import { subscribedChannels } from "./metrics.ts";

let base: ResourceCounts = new Map();
let baseFds = -1;

beforeAll(warmRuntime);

beforeEach(() => {
  base = activeResources();
  baseFds = openFds();
});

afterEach(async () => {
  const left = await settleLeaks(base, baseFds);
  expect(left, "resources left open by the test").toEqual([]);
  expect(subscribedChannels(), "weir:* channels the test left subscribed").toEqual([]);
});
