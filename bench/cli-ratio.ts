/**
 * The fallback of `npm run bench` when ../shared/bench (loadgen.c, ratio.sh) is not there:
 * `weir bench` drives a weir echo server and the raw node:net baseline, each in its own process,
 * interleaved REPS times on the same loads; prints the median ratio per load.
 * Usage: node bench/cli-ratio.ts NAME WEIR_SERVER_SCRIPT RAW_SERVER_SCRIPT [BASE_NAME]
 * (env TESTS: the loads to run, default all: pp50,stream,conn).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const [name, weirScript, rawScript, baseName = "raw"] = process.argv.slice(2) as [
  string,
  string,
  string,
  string?,
];
const reps = Number(process.env.REPS ?? 4);
const secs = process.env.SECS ?? "3";
const allLoads: Array<[string, string[], string]> = [
  ["pp50", ["--mode", "pingpong", "--connections", "50", "--size", "64"], "requestsPerS"],
  ["stream", ["--mode", "stream", "--connections", "8", "--size", "64k"], "bytesPerS"],
  ["conn", ["--mode", "connrate", "--connections", "16", "--size", "64"], "requestsPerS"],
];
const only = process.env.TESTS?.split(",");
const loads = only === undefined ? allLoads : allLoads.filter(([l]) => only.includes(l));

async function startServer(script: string): Promise<[ChildProcess, number]> {
  const child = spawn(process.execPath, [resolve(root, script), "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((ok, fail) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) ok(Number(m[1]));
    });
    child.on("exit", (code) => fail(new Error(`${script} exited with ${code}`)));
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

const ratios = new Map<string, number[]>();
for (let rep = 0; rep < reps; rep++) {
  for (const [load, args, key] of loads) {
    const order = rep % 2 === 0 ? [weirScript, rawScript] : [rawScript, weirScript];
    const got = new Map<string, number>();
    for (const script of order) {
      const [child, port] = await startServer(script);
      try {
        got.set(script, measure(port, args, key));
      } finally {
        child.kill("SIGKILL");
      }
    }
    const list = ratios.get(load) ?? [];
    list.push((got.get(weirScript) ?? 0) / (got.get(rawScript) ?? 1));
    ratios.set(load, list);
  }
}
for (const [load, list] of ratios) {
  const sorted = [...list].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const rounds = sorted.map((x) => x.toFixed(2)).join(" ");
  process.stdout.write(
    `${load.padEnd(7)} ${name}/${baseName} median ${median.toFixed(3)}  rounds ${rounds}\n`,
  );
}
