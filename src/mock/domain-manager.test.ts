import { expect, test } from "vitest";
import { traceln } from "../core/index.ts";
import { Backend } from "./backend.ts";
import { DomainManager, MockDomainManager } from "./domain-manager.ts";

test("DomainManager.run() prefixes trace lines with [0], and each domain with its id", async () => {
  const lines: string[] = [];
  await Backend.run(
    () =>
      DomainManager.run(async (mgr) => {
        expect(mgr).toBeInstanceOf(MockDomainManager);
        expect(mgr.sharesMemory).toBe(true);
        traceln("main");
        const one = await mgr.run(() => {
          traceln("first");
          return 1;
        });
        expect(one).toBe(1);
        await mgr.run(async () => traceln("second"));
        traceln("main again");
      }),
    { onTrace: (l) => lines.push(l) },
  );
  expect(lines).toEqual(["[0] main", "[1] first", "[2] second", "[0] main again"]);
});

test("DomainManager.make() gives a manager whose domains count from 1", async () => {
  const lines: string[] = [];
  await Backend.run(() => DomainManager.make().run(() => traceln("x")), {
    onTrace: (l) => lines.push(l),
  });
  expect(lines).toEqual(["[1] x"]);
});

test("MockDomainManager.run() rejects a non-function with a TypeError", () => {
  expect(() => DomainManager.make().run(1 as never)).toThrow("fn must be a function, got number");
  expect(() => DomainManager.run(1 as never)).toThrow(TypeError);
});
