import { expect, test } from "vitest";
import { currentFiber, runInFiber } from "../core/index.ts";
import { Backend } from "./backend.ts";
import { layoutData, layoutList, quote, splitLines, traceData } from "./trace.ts";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

test("quote() escapes as OCaml's %S", () => {
  expect(quote('a"b\\c')).toBe('"a\\"b\\\\c"');
  expect(quote("\r\n\t\b")).toBe('"\\r\\n\\t\\b"');
  expect(quote("\x00\x1f\x7f")).toBe('"\\000\\031\\127"');
  expect(quote(" ~")).toBe('" ~"');
});

test("quote() shows UTF-8 text as its bytes", () => {
  expect(quote("é")).toBe('"\\195\\169"');
  expect(quote(Uint8Array.of(0xff, 0x41))).toBe('"\\255A"');
  expect(quote("")).toBe('""');
});

test("splitLines() splits after each newline", () => {
  const parts = splitLines(bytes("a\nb\n\nc")).map((p) => new TextDecoder().decode(p));
  expect(parts).toEqual(["a\n", "b\n", "\n", "c"]);
  expect(splitLines(bytes("a\n")).length).toBe(1);
  expect(splitLines(new Uint8Array(0)).length).toBe(1);
});

test("layoutData() aligns continuation lines at the column", () => {
  expect(layoutData(bytes("GET /\r\nHost: x\r\n\r\n"), 4)).toBe(
    '"GET /\\r\\n"\n    "Host: x\\r\\n"\n    "\\r\\n"',
  );
});

test("layoutList() prints a vectored write as a list", () => {
  expect(layoutList([bytes("ab"), bytes("cd")], 0)).toBe('["ab"; "cd"]');
  expect(layoutList([bytes("a\nb"), bytes("c")], 2)).toBe('["a\\n"\n   "b"; "c"]');
});

test("traceData() counts the fiber's trace prefix in the indentation", async () => {
  const lines: string[] = [];
  await Backend.run(
    () =>
      runInFiber({ ...currentFiber(), tracePrefix: "[1] " }, () =>
        traceData("flow", "wrote", bytes("a\nb")),
      ),
    { onTrace: (l) => lines.push(l) },
  );
  expect(lines).toEqual(['[1] flow: wrote "a\\n"', '                "b"']);
});
