/**
 * `traceln` (Eio's tests/trace.md): formatting, the fiber's sink, the prefix, stderr.
 */
import { describe, expect, test, vi } from "vitest";
import { currentFiber, runInFiber } from "./fiber-context.ts";
import { Switch } from "./switch.ts";
import { traceOf, withTrace } from "./test-helpers/trace.ts";
import { traceln } from "./trace.ts";

describe("traceln", () => {
  test("traceln() writes one line per call (trace.md)", async () => {
    expect(
      await traceOf(() => {
        traceln("One-line trace");
        traceln("A nested list\n  Foo\n  Bar");
      }),
    ).toEqual(["One-line trace", "A nested list\n  Foo\n  Bar"]);
  });

  test("traceln() formats its arguments as console.log does", async () => {
    expect(
      await traceOf(() => {
        traceln("i = %d", 1);
        traceln("Client received: %j", "Bye");
        traceln("%s and %s", "a", "b");
        traceln("several", 1, true, null, [1, 2], { a: 1 });
        traceln(new Map([["k", 1]]));
        traceln("%o", "x");
        traceln();
      }),
    ).toEqual([
      "i = 1",
      'Client received: "Bye"',
      "a and b",
      "several 1 true null [ 1, 2 ] { a: 1 }",
      "Map(1) { 'k' => 1 }",
      "'x'",
      "",
    ]);
  });

  test("traceln() never colours its output", async () => {
    const r = await withTrace(() => traceln({ n: 1, s: "x" }));
    expect(r.trace).toEqual(["{ n: 1, s: 'x' }"]);
  });

  test("traceln() prefixes lines with the fiber's tracePrefix", async () => {
    const lines: string[] = [];
    runInFiber(
      { ...currentFiber(), trace: { write: (l) => void lines.push(l) }, tracePrefix: "[1] " },
      () => traceln("in domain 1"),
    );
    expect(lines).toEqual(["[1] in domain 1"]);
  });

  test("traceln() in a forked fiber goes to the same sink", async () => {
    expect(
      await traceOf(() =>
        Switch.run(async (sw) => {
          sw.fork(async () => traceln("from fiber"));
          traceln("from body");
        }),
      ),
    ).toEqual(["from fiber", "from body"]);
  });

  test("traceln() without a sink writes the line to stderr", () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      runInFiber({ ...currentFiber(), trace: undefined, tracePrefix: "" }, () =>
        traceln("to stderr %d", 2),
      );
      expect(write).toHaveBeenCalledWith("to stderr 2\n");
    } finally {
      write.mockRestore();
    }
  });
});
