/** Every row of the errno table, and docs/errors.md saying the same. */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { classify, ERRNO_TABLE } from "./errors.ts";

const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");

/** The doc's kind table: the kind (backticks dropped) -> the "raised for" cell. */
function docRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of doc.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 4 || !cells[1]?.startsWith("`")) continue;
    rows.set(cells[1].replaceAll("`", ""), cells[2] ?? "");
  }
  return rows;
}

describe("ERRNO_TABLE", () => {
  test.each(ERRNO_TABLE.flatMap((row) => row.codes.map((code) => [code, row.label] as const)))(
    "%s is %s",
    (code, label) => {
      const cause = Object.assign(new Error(`x ${code}`), { code, syscall: "read" });
      const err = classify(cause);
      const got = err.kind === "ConnectionFailure" ? `${err.kind} ${err.reason}` : err.kind;
      expect(got).toBe(label);
      expect(err.cause).toBe(cause);
    },
  );

  test.each(ERRNO_TABLE.map((row) => [row.label, row.codes] as const))(
    "docs/errors.md lists the codes of %s in its row",
    (label, codes) => {
      const cell = docRows().get(label);
      expect(cell, `a row for ${label}`).toBeDefined();
      for (const code of codes) expect(cell).toMatch(new RegExp(`\\b${code}\\b`));
    },
  );

  test("a code is in one row only, and the doc names no code the table lacks", () => {
    const all = ERRNO_TABLE.flatMap((r) => r.codes);
    expect(new Set(all).size).toBe(all.length);
    const inDoc = new Set<string>();
    for (const [label, cell] of docRows()) {
      if (label === "Unknown" || label === "ConnectionReset") continue; // examples / ENOTCONN
      for (const m of cell.matchAll(/\b(E[A-Z]+|ERR_[A-Z_]+)\b/g)) inDoc.add(m[1] ?? "");
    }
    expect([...inDoc].filter((c) => !all.includes(c))).toEqual([]);
  });
});
