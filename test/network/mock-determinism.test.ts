/**
 * Every mock transcript of Eio's network.md gives the same trace, result and error on 20
 * repeated runs.
 */
import { describe, expect, test } from "vitest";
import { acceptFork, runServer, type Scenario, withTcpConnect } from "./mock-scenarios.ts";
import { show, transcript } from "./mock-support.ts";

const all: Record<string, Record<string, Scenario>> = { withTcpConnect, acceptFork, runServer };

describe("Mock.Backend.runFull() is deterministic", () => {
  for (const [group, scenarios] of Object.entries(all)) {
    for (const [name, scenario] of Object.entries(scenarios)) {
      test(`${group}.${name} gives the same transcript on 20 runs`, async () => {
        const first = await transcript(scenario);
        const key = (r: typeof first): string =>
          `${r.trace}\n=> ${r.error === undefined ? "ok" : show(r.error)}`;
        for (let i = 1; i < 20; i++) expect(key(await transcript(scenario))).toBe(key(first));
      });
    }
  }
});
