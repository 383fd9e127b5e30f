/**
 * The runtime column of `npm run bench`: the same echo loads on weir's echo server
 * (bench/echo-weir.ts: run + Net.runServer + Flow.copy) and on the raw node:net echo
 * (bench/raw-echo.mjs), both run by the same runtime, for Node, Bun and Deno (the `bun` and
 * `deno` dev dependencies), in one run: the ratio weir/raw is against that runtime's own
 * node:net. The shared load generator (../shared/bench: loadgen.c, ratio.sh) drives them when it
 * is there, as for the other echo servers; else `weir bench` (on the Node that runs this),
 * which may be the bottleneck itself (ratios near 1 then say little). The two servers of a
 * runtime are measured interleaved, REPS times, and the median ratio printed.
 * Usage: node bench/runtimes-ratio.ts [--full]
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const full = process.argv.includes("--full");
const reps = Number(process.env.REPS ?? (full ? 3 : 1));
const secs = process.env.SECS ?? (full ? "3" : "2");
const loads: Array<[string, string[], string]> = [
  ["pp50", ["--mode", "pingpong", "--connections", "50", "--size", "64"], "requestsPerS"],
  ["stream", ["--mode", "stream", "--connections", "8", "--size", "64k"], "bytesPerS"],
  ...(full
    ? ([
        ["conn", ["--mode", "connrate", "--connections", "16", "--size", "64"], "requestsPerS"],
      ] as [string, string[], string][])
    : []),
];

/** How each runtime runs a script (TypeScript sources included). */
const runtimes: Array<{ name: string; argv: (script: string) => string[] }> = [
  { name: "node", argv: (s) => [process.execPath, s, "0"] },
  { name: "bun", argv: (s) => [resolve(root, "node_modules/.bin/bun"), s, "0"] },
  { name: "deno", argv: (s) => [resolve(root, "node_modules/.bin/deno"), "run", "-A", s, "0"] },
];

function version(name: string): string {
  if (name === "node") return process.versions.node;
  const bin = resolve(root, `node_modules/.bin/${name}`);
  if (!existsSync(bin)) return "";
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? (/\d+\.\d+\.\d+/.exec(r.stdout)?.[0] ?? "") : "";
}

async function startServer(argv: string[]): Promise<[ChildProcess, number]> {
  const child = spawn(argv[0] as string, argv.slice(1), {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((ok, fail) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) ok(Number(m[1]));
    });
    child.on("exit", (code) => fail(new Error(`${argv.join(" ")} exited with ${code}`)));
  });
  return [child, port];
}

function measure(port: number, args: string[], key: string): number {
  const cli = resolve(root, "src/cli/main.ts");
  const r = spawnSync(
    process.execPath,
    [cli, "bench", `tcp:127.0.0.1:${port}`, ...args, "--duration", secs, "--json", "--quiet"],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`weir bench failed: ${r.stderr}`);
  return Number((JSON.parse(r.stdout) as Record<string, unknown>)[key]);
}

const shared = resolve(root, "../shared/bench");
const ratioSh = resolve(shared, "ratio.sh");
const useShared = existsSync(ratioSh) && existsSync(resolve(shared, "loadgen.c"));

/** The shared tools' ratio.sh on one runtime's two servers; false if it failed. */
function sharedRatio(rt: { name: string; argv: (script: string) => string[] }): boolean {
  const cmd = (script: string): string => rt.argv(resolve(root, script)).join(" ");
  const r = spawnSync(
    "bash",
    [
      ratioSh,
      `weir-${rt.name}`,
      cmd("bench/echo-weir.ts"),
      `raw-${rt.name}`,
      cmd("bench/raw-echo.mjs"),
    ],
    {
      cwd: root,
      stdio: "inherit",
      env: {
        ...process.env,
        TESTS: process.env.TESTS ?? (full ? "pp50,stream,conn" : "pp50,stream"),
        REPS: String(reps),
        SECS: secs,
      },
    },
  );
  return r.status === 0;
}

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

let failed = false;
if (useShared) {
  for (const rt of runtimes) {
    const v = version(rt.name);
    if (v === "") {
      process.stdout.write(`${rt.name}: not installed (npm ci installs bun and deno)\n`);
      failed = true;
      continue;
    }
    process.stdout.write(`-- ${rt.name} ${v}: weir-${rt.name}/raw-${rt.name}\n`);
    if (!sharedRatio(rt)) failed = true;
  }
  process.exit(failed ? 1 : 0);
}
process.stdout.write(
  `${"runtime".padEnd(13)} ${"load".padEnd(7)} ${"weir".padStart(12)} ${"raw".padStart(12)}  weir/raw\n`,
);
for (const rt of runtimes) {
  const v = version(rt.name);
  if (v === "") {
    process.stdout.write(`${rt.name}: not installed (npm ci installs bun and deno)\n`);
    failed = true;
    continue;
  }
  for (const [load, args, key] of loads) {
    const weir: number[] = [];
    const raw: number[] = [];
    const ratios: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const order = rep % 2 === 0 ? ["weir", "raw"] : ["raw", "weir"];
      const got = new Map<string, number>();
      for (const which of order) {
        const script = resolve(
          root,
          which === "weir" ? "bench/echo-weir.ts" : "bench/raw-echo.mjs",
        );
        const [child, port] = await startServer(rt.argv(script));
        try {
          got.set(which, measure(port, args, key));
        } finally {
          child.kill("SIGKILL");
        }
      }
      weir.push(got.get("weir") ?? 0);
      raw.push(got.get("raw") ?? 0);
      ratios.push((got.get("weir") ?? 0) / (got.get("raw") ?? 1));
    }
    const unit = key === "bytesPerS" ? "MB/s" : "req/s";
    const scale = key === "bytesPerS" ? 1e-6 : 1;
    const fmt = (x: number): string => `${(x * scale).toFixed(0)} ${unit}`.padStart(12);
    process.stdout.write(
      `${`${rt.name} ${v}`.padEnd(13)} ${load.padEnd(7)} ${fmt(median(weir))} ${fmt(median(raw))}  ${median(ratios).toFixed(3)}${reps > 1 ? `  rounds ${ratios.map((x) => x.toFixed(2)).join(" ")}` : ""}\n`,
    );
  }
}
process.exitCode = failed ? 1 : 0;
