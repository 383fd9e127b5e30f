import { expect, test } from "vitest";
import { Cancel } from "./cancel.ts";
import { CancelContext } from "./cancel-context.ts";
import { isCancelled } from "./errors.ts";
import { Fiber } from "./fiber.ts";
import { runInFiber, withCancelContext } from "./fiber-context.ts";

test("CancelContext.kill() cancels protected contexts below it too; cancel() does not", async () => {
  const run = async (how: "cancel" | "kill") => {
    const cc = new CancelContext(null);
    const events: string[] = [];
    const body = runInFiber(withCancelContext(cc), () =>
      Cancel.protect(async () => {
        try {
          await Fiber.awaitCancel();
        } catch (e) {
          events.push(isCancelled(e) ? "protected fiber cancelled" : String(e));
        }
      }),
    );
    await Promise.resolve();
    if (how === "cancel") cc.cancel(new Error("stop"));
    else cc.kill(new Error("crash"));
    const r = await Promise.race([
      body.then(() => "done"),
      new Promise((r) => setTimeout(r, 20, "still running")),
    ]);
    events.push(r as string);
    return events;
  };
  expect(await run("cancel")).toEqual(["still running"]);
  expect(await run("kill")).toEqual(["protected fiber cancelled", "done"]);
});

test("a protected context made below a killed one starts cancelled", () => {
  const cc = new CancelContext(null);
  cc.kill(new Error("crash"));
  expect(new CancelContext(cc, true).cancelled).toBe(true);
  const cc2 = new CancelContext(null);
  cc2.cancel(new Error("stop"));
  expect(new CancelContext(cc2, true).cancelled).toBe(false);
});
