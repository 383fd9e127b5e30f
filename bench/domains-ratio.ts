/**
 * Several cores: `weir echo --domains N-1` (Net.runServer's accept loop in this thread plus
 * N-1 worker threads, each with its own SO_REUSEPORT socket on the same port) for N = 1 up to
 * the core count, under pingpong (50 connections x 64 B) and connection-rate (16 workers:
 * connect, 64 B, echo, close) load. Prints, per N, the median of REPS interleaved rounds and
 * its ratio to N = 1 (the goal: at least 0.8 x N).
 *
 * The load generator is the shared `loadgen` (../shared/bench, built from loadgen.c) when it
 * is there, else `weir bench`. It runs on the same machine: with N = the core count it shares
 * the cores with the server, so the top N measures less than the server could do.
 *
 * Usage: node bench/domains-ratio.ts [MAX_N]   (env REPS, default 3; SECS, default 3)
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cores = availableParallelism();
const maxN = Number(process.argv[2] ?? cores);
const reps = Number(process.env.REPS ?? 3);
const secs = process.env.SECS ?? "3";
const shared = resolve(root, "../shared/bench");
const loadgen = join(shared, "loadgen");

/** The loadgen binary (built from loadgen.c into a temporary dir if only that is there). */
function findLoadgen(): string | undefined {
  if (existsSync(loadgen)) return loadgen;
  const src = join(shared, "loadgen.c");
  if (!existsSync(src)) return undefined;
  const out = join(mkdtempSync(join(tmpdir(), "weir-loadgen-")), "loadgen");
  const r = spawnSync("gcc", ["-O2", "-Wall", "-o", out, src], { stdio: "inherit" });
  return r.status === 0 ? out : undefined;
}

const generator = findLoadgen();

interface Load {
  readonly name: string;
  readonly unit: string;
  readonly loadgen: string[];
  readonly weir: string[];
}

const loads: Load[] = [
  {
    name: "pingpong",
    unit: "msg/s",
    loadgen: ["pingpong", "-c", "50", "-s", "64"],
    weir: ["--mode", "pingpong", "--connections", "50", "--size", "64"],
  },
  {
    name: "connrate",
    unit: "conn/s",
    loadgen: ["connrate", "-c", "16", "-s", "64"],
    weir: ["--mode", "connrate", "--connections", "16", "--size", "64"],
  },
];

async function startServer(n: number): Promise<[ChildProcess, number]> {
  const child = spawn(
    process.execPath,
    [join(root, "src/cli/main.ts"), "echo", "127.0.0.1:0", "--domains", String(n - 1)],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const port = await new Promise<number>((ok, fail) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on tcp:127\.0\.0\.1:(\d+)/.exec(out);
      if (m) ok(Number(m[1]));
    });
    child.on("exit", (code) => fail(new Error(`weir echo --domains ${n - 1} exited with ${code}`)));
  });
  return [child, port];
}

/** Requests (messages or connections) per second of one load against `port`. */
function measure(port: number, load: Load): number {
  if (generator !== undefined) {
    const [mode, ...rest] = load.loadgen as [string, ...string[]];
    const r = spawnSync(
      generator,
      [mode, "127.0.0.1", String(port), ...rest, "-t", secs, "-w", "1"],
      { encoding: "utf8" },
    );
    const m = /\b(msgs|conns)_per_s=([\d.]+)/.exec(r.stdout);
    if (r.status !== 0 || m === null) throw new Error(`loadgen failed: ${r.stdout}${r.stderr}`);
    return Number(m[2]);
  }
  const r = spawnSync(
    process.execPath,
    [
      join(root, "src/cli/main.ts"),
      "bench",
      `tcp:127.0.0.1:${port}`,
      ...load.weir,
      "--duration",
      secs,
      "--json",
      "--quiet",
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`weir bench failed: ${r.stderr}`);
  return Number((JSON.parse(r.stdout) as { requestsPerS: number }).requestsPerS);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const ns = Array.from({ length: Math.max(1, Math.min(maxN, 64)) }, (_, i) => i + 1);
const results = new Map<string, number[]>(); // `${load}/${n}` -> rates
for (let rep = 0; rep < reps; rep++) {
  // interleaved, alternating the order, so that drift spreads over every N
  const order = rep % 2 === 0 ? ns : [...ns].reverse();
  for (const n of order) {
    for (const load of loads) {
      const [child, port] = await startServer(n);
      try {
        const key = `${load.name}/${n}`;
        results.set(key, [...(results.get(key) ?? []), measure(port, load)]);
      } finally {
        child.kill("SIGKILL");
      }
    }
  }
}

process.stdout.write(
  `weir echo --domains N-1 (N accept loops, SO_REUSEPORT), ${cores} cores; load: ${
    generator === undefined ? "weir bench" : "loadgen"
  } on the same machine; median of ${reps} interleaved rounds of ${secs} s\n`,
);
process.stdout.write("load      N   median rate  x N=1   goal (0.8 x N)  rounds (min-max)\n");
let missed = 0;
for (const load of loads) {
  const base = median(results.get(`${load.name}/1`) ?? [0]);
  for (const n of ns) {
    const rates = results.get(`${load.name}/${n}`) ?? [0];
    const rate = median(rates);
    const spread = `${Math.min(...rates).toFixed(0)}-${Math.max(...rates).toFixed(0)}`;
    const ratio = base > 0 ? rate / base : 0;
    const goal = 0.8 * n;
    const met = n === 1 || ratio >= goal;
    if (!met) missed++;
    process.stdout.write(
      `${load.name.padEnd(9)} ${String(n).padStart(2)} ${rate.toFixed(0).padStart(9)} ${load.unit.padEnd(6)} ${ratio.toFixed(2).padStart(5)}   ${(n === 1 ? "-" : `${goal.toFixed(1)} ${met ? "met" : "missed"}`).padEnd(12)}   ${spread}\n`,
    );
  }
}
if (ns.length >= cores) {
  process.stdout.write(
    `note: at N = ${cores} the server's ${cores} threads share the ${cores} cores with the load generator\n`,
  );
}
if (ns.length < 2) process.stdout.write("note: one core: nothing to compare\n");
process.stdout.write(`${missed === 0 ? "every goal met" : `${missed} goal(s) missed`}\n`);
