/**
 * The end of the event loop's turn: what BufWrite's flush and a copy's later sends wait for.
 */
import { describe, expect, test } from "vitest";
import { atTurnEnd, claimTurn } from "./turn-end.ts";

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("turn-end", () => {
  test("claimTurn: true for the turn's first caller only, true again once the turn has ended", async () => {
    await nextTurn();
    const seen = [claimTurn(), claimTurn()];
    await Promise.resolve(); // microtasks are still this turn
    seen.push(claimTurn());
    await nextTurn();
    seen.push(claimTurn(), claimTurn());
    expect(seen).toEqual([true, false, false, true, false]);
  });

  test("atTurnEnd: tasks run after the turn's microtasks, in order; one queued while they run waits for the next turn", async () => {
    const log: string[] = [];
    atTurnEnd({ turnEnded: () => log.push("a") });
    atTurnEnd({
      turnEnded: () => {
        log.push("b");
        atTurnEnd({ turnEnded: () => log.push("c (next turn)") });
      },
    });
    queueMicrotask(() => log.push("microtask"));
    expect(claimTurn()).toBe(false); // the turn's end is armed already
    await new Promise<void>((r) => setImmediate(r)); // runs after the queue's immediate
    log.push("after the turn");
    await nextTurn();
    expect(log).toEqual(["microtask", "a", "b", "after the turn", "c (next turn)"]);
  });
});
