/**
 * docs/sim.md's examples run as written: every ```ts block is a program importing `weir` and
 * `weir/sim`, run by Node 24 with those names mapped to this checkout's sources, and what it
 * prints must equal the ```text block that follows it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const doc = readFileSync(join(root, "docs/sim.md"), "utf8");
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```\n```text\n([\s\S]*?)```/g)].map((m) => ({
  code: m[1] as string,
  expected: m[2] as string,
}));
// Inside the repository, so relative imports reach src/ and node_modules.
const dir = mkdtempSync(join(root, "test/readme/.sim-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry: Record<string, string> = {
  weir: "../../../src/index.ts",
  "weir/sim": "../../../src/sim/index.ts",
};

function localise(code: string): string {
  return code.replace(/from "(weir(?:\/sim)?)"/g, (_, name: string) => `from "${entry[name]}"`);
}

describe("docs/sim.md examples", () => {
  test("there are examples, each followed by its output", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
  });
  test("the examples type-check", () => {
    const files = blocks.map(({ code }, i) => {
      const file = join(dir, `typed-${i + 1}.ts`);
      writeFileSync(file, `${localise(code)}\nexport {};\n`);
      return file;
    });
    const tsconfig = join(dir, "tsconfig.json");
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: "../../../tsconfig.json",
        compilerOptions: { noEmit: true },
        include: files,
      }),
    );
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const r = spawnSync(process.execPath, [tsc, "-p", tsconfig], { cwd: root, encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
  blocks.forEach(({ code, expected }, i) => {
    test(`example ${i + 1} prints what docs/sim.md says`, () => {
      const file = join(dir, `example-${i + 1}.ts`);
      writeFileSync(file, localise(code));
      const r = spawnSync(process.execPath, [file], {
        cwd: root,
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe(expected);
      expect(r.status).toBe(0);
    });
  });
});
