/**
 * The package as npm ships it: what `npm pack` puts in it, source maps that resolve without
 * `src/`, and an install whose native addon is missing (no prebuild, no compiler), where TCP
 * still works and `weir/unix` says what to do.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe("npm pack", () => {
  test("ships LICENSE, README, docs, the build and the addon's sources; no tests", () => {
    const r = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    const [pack] = JSON.parse(r.stdout) as [{ files: { path: string }[] }];
    const paths = pack.files.map((f) => f.path);
    for (const p of [
      "LICENSE",
      "README.md",
      "package.json",
      "docs/errors.md",
      "docs/cli.md",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/cli/main.js",
      "native/weir.c",
      "binding.gyp",
    ]) {
      expect(paths).toContain(p);
    }
    expect(paths.filter((p) => /\.test\.|test-helpers/.test(p))).toEqual([]);
    expect(paths.filter((p) => p.startsWith("src/") || p.startsWith("test/"))).toEqual([]);
  });

  test("every source map in dist/ carries its sources (src/ is not shipped)", () => {
    const maps = filesUnder(join(ROOT, "dist")).filter((f) => f.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(50);
    const dangling = maps.filter((f) => {
      const m = JSON.parse(readFileSync(f, "utf8")) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      return m.sources.some((_, i) => typeof m.sourcesContent?.[i] !== "string");
    });
    expect(dangling.map((f) => relative(ROOT, f))).toEqual([]);
  });
});

describe("an install without the native addon", () => {
  /** The package as installed with neither a prebuilt addon nor a local build. */
  function installedWithoutAddon(): string {
    const dir = mkdtempSync(join(tmpdir(), "weir-noaddon-"));
    dirs.push(dir);
    const pkg = join(dir, "node_modules", "weir");
    mkdirSync(pkg, { recursive: true });
    cpSync(join(ROOT, "dist"), join(pkg, "dist"), { recursive: true });
    cpSync(join(ROOT, "package.json"), join(pkg, "package.json"));
    symlinkSync(
      join(ROOT, "node_modules", "node-gyp-build"),
      join(dir, "node_modules", "node-gyp-build"),
    );
    return dir;
  }

  test("Unix stream sockets work without it: a live path is AddressInUse, mode is set", () => {
    const dir = installedWithoutAddon();
    const path = join(dir, "s.sock");
    const script = `
      import { statSync } from "node:fs";
      import { Flow, run, Switch } from "weir";
      await run(async (env) => {
        await Switch.run(async (sw) => {
          const l = await env.net.listen(${JSON.stringify(`unix:${path}`)}, { sw, backlog: 1, mode: 0o640 });
          console.log("mode:", (statSync(${JSON.stringify(path)}).mode & 0o777).toString(8));
          const e = await env.net.listen(${JSON.stringify(`unix:${path}`)}, { sw, backlog: 1, reuseAddr: true }).catch((x) => x);
          console.log("again:", e.err.kind);
          const [probe] = await l.accept({ sw }); // the connect that found the path live
          await probe.close();
          sw.fork(() => l.acceptFork({ sw, onError: console.error }, (f) => Flow.copy(f, f)));
          const c = await env.net.connect(l.listeningAddr, { sw });
          await Flow.copyString("ping", c);
          await c.shutdown("send");
          console.log("echo:", await Flow.readAll(c, { maxSize: 10 }));
          sw.fail(new Error("done"));
        }).catch((e) => { if (e.message !== "done") throw e; });
      });
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "" },
      timeout: 15_000,
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("mode: 640\nagain: AddressInUse\necho: ping\n");
  });

  test("a TCP echo works, and weir/unix throws NativeAddonUnavailable saying what to do", () => {
    const dir = installedWithoutAddon();
    const script = `
      import { Flow, run, Switch } from "weir";
      import { Unix } from "weir/unix";
      await run(async (env) => {
        await Switch.run(async (sw) => {
          const l = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
          sw.fork(() => l.acceptFork({ sw, onError: console.error }, (f) => Flow.copy(f, f)));
          const c = await env.net.connect(l.listeningAddr, { sw });
          await Flow.copyString("ping", c);
          await c.shutdown("send");
          console.log("echo:", await Flow.readAll(c, { maxSize: 10 }));
          sw.fail(new Error("done"));
        }).catch((e) => { if (e.message !== "done") throw e; });
      });
      try {
        await Switch.run(async (sw) => Unix.socketpairStream({ sw }));
      } catch (e) {
        console.log(e.name, e.code);
        console.log(e.message);
      }
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "" },
      timeout: 15_000,
    });
    expect(r.stderr).toBe("");
    const [echo, error, message] = r.stdout.split("\n");
    expect(echo).toBe("echo: ping");
    expect(error).toBe("NativeAddonUnavailable WEIR_NATIVE_ADDON_UNAVAILABLE");
    expect(message).toContain(`not available for ${process.platform}-${process.arch}`);
    expect(message).toContain("npm rebuild weir");
  });
});
