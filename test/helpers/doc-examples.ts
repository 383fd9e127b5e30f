/**
 * Documents whose examples run as written (the README, docs/*.md): every ```ts block is a
 * program importing `weir` (and `weir/mock`, `weir/unix`, `weir/sim`), type-checked and run by
 * the Node that runs the tests (it strips the types), from the repository's root, with those
 * names mapped to this checkout's sources; what it prints must equal the ```text block that
 * follows it. An example that needs what the runtime lacks (weir/unix's fd streams on Bun) must
 * fail there with UnsupportedOnRuntime instead.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { type RuntimePrimitive, runtime, runtimeHas } from "../../src/core/runtime.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const entry: Record<string, string> = {
  weir: "../../../src/index.ts",
  "weir/mock": "../../../src/mock/index.ts",
  "weir/unix": "../../../src/unix/index.ts",
  "weir/sim": "../../../src/sim/index.ts",
};

/** `code` with the package's names replaced by this checkout's sources. */
function localise(code: string): string {
  return code.replace(
    /from "(weir(?:\/mock|\/unix|\/sim)?)"/g,
    (_, name: string) => `from "${entry[name]}"`,
  );
}

/** The primitive an example needs that this runtime lacks (docs/runtimes.md), if any. */
function lacking(code: string): RuntimePrimitive | undefined {
  if (/Unix\.(socketpairStream|pipe|importSocketStream)\(/.test(code) && !runtimeHas("fd-stream")) {
    return "fd-stream";
  }
  if (/Unix\.(socketpairDatagram|importSocketDatagram)\(/.test(code) && !runtimeHas("uv-poll")) {
    return "uv-poll";
  }
  return undefined;
}

/**
 * Declares the tests of the document at `path` (relative to the repository's root): that it
 * has at least `minExamples` examples, that they type-check (tsc is slow on a loaded machine:
 * two minutes allowed), and one test per example comparing what it prints.
 */
export function docExamples(path: string, minExamples: number): void {
  const page = readFileSync(join(root, path), "utf8");
  const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```\n```text\n([\s\S]*?)```/g)].map((m) => ({
    code: m[1] as string,
    expected: m[2] as string,
  }));
  // Inside the repository (test/readme/.run-*), so relative imports reach src/ and node_modules.
  const dir = mkdtempSync(join(root, "test/readme/.run-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe(`${path} examples`, () => {
    test("there are examples, each followed by its output", () => {
      expect(blocks.length).toBeGreaterThanOrEqual(minExamples);
    });
    test("the examples type-check", { timeout: 120_000 }, () => {
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
      const title = code.split("\n").find((l) => l.startsWith("await")) ?? `example ${i + 1}`;
      test(`example ${i + 1} prints what ${path} says (${title.slice(0, 40)})`, {
        timeout: 60_000,
      }, () => {
        const file = join(dir, `example-${i + 1}.ts`);
        writeFileSync(file, localise(code));
        const r = spawnSync(process.execPath, [file], {
          cwd: root,
          encoding: "utf8",
          timeout: 50_000,
        });
        const missing = lacking(code);
        if (missing !== undefined) {
          // On a runtime without it, the example stops at once with the typed error
          expect(r.stderr).toContain(`UnsupportedOnRuntime: Unix.`);
          expect(r.stderr).toContain(`is not supported on ${runtime.name} `);
          expect(r.status).not.toBe(0);
          return;
        }
        expect(r.stderr).toBe("");
        expect(r.stdout).toBe(expected);
        expect(r.status).toBe(0);
      });
    });
  });
}
