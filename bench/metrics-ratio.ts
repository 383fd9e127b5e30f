/**
 * The cost of metrics (`npm run bench`): one weir echo server process (Net.runServer +
 * Flow.copy, bench/echo-weir-metrics.ts) measured in rounds with a subscriber on every
 * `weir:*` channel and without, interleaved (on, off, off, on, ...), under pingpong (50
 * connections, 64-byte messages: the goal is >= 0.97) and the connection rate (each connection
 * publishes an open and a close). The load is the shared C load generator when it is there
 * (../shared/bench/loadgen), else `weir bench`. Prints the median of the on/off ratios of
 * adjacent rounds, of throughput and of the server's CPU time per message (steadier than
 * throughput on a loaded machine). First, in this process, what the serve loop's metrics
 * cost per connection (open and close) without and with a subscriber (bench/metrics-micro.ts),
 * and what share of a connection's time that is at the connection rate measured.
 *
 * Usage: node bench/metrics-ratio.ts [--full]   (env: ROUNDS, default 8, --full 16; SECS, default 1)
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { metricsPerConnection } from "./metrics-micro.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const full = process.argv.includes("--full");
const rounds = Number(process.env.ROUNDS ?? (full ? 16 : 8));
const secs = process.env.SECS ?? "1";
const loadgen = resolve(root, "../shared/bench/loadgen");
const useLoadgen = existsSync(loadgen);

const server = spawn(process.execPath, [join(root, "bench/echo-weir-metrics.ts"), "0"], {
  stdio: ["pipe", "pipe", "inherit"],
});
const lines = createInterface({ input: server.stdout });
const waiting: Array<(l: string) => void> = [];
lines.on("line", (l) => waiting.shift()?.(l));
const nextLine = (): Promise<string> => new Promise((ok) => waiting.push(ok));

/** Sets the subscriber and waits for the server to say it has. */
async function subscriber(on: boolean): Promise<void> {
  const ack = nextLine();
  server.stdin.write(on ? "on\n" : "off\n");
  const got = await ack;
  if (got !== (on ? "ON" : "OFF")) throw new Error(`server answered ${JSON.stringify(got)}`);
}

/** The server's CPU time so far, in s (utime + stime of /proc/PID/stat, in 10 ms ticks). */
function serverCpu(): number {
  const stat = readFileSync(`/proc/${server.pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** One round of `load`: messages (or connections) per second, and server CPU s per 1000. */
function measure(port: number, load: "pingpong" | "connrate"): [number, number] {
  const cpu0 = serverCpu();
  const rate = drive(port, load);
  return [rate, ((serverCpu() - cpu0) / (rate * Number(secs))) * 1000];
}

/** Runs the load generator for one round: messages (or connections) per second. */
function drive(port: number, load: "pingpong" | "connrate"): number {
  const c = load === "pingpong" ? "50" : "16";
  if (useLoadgen) {
    const r = spawnSync(
      loadgen,
      [load, "127.0.0.1", String(port), "-c", c, "-s", "64", "-t", secs, "-w", "0.3"],
      { encoding: "utf8" },
    );
    const m = /RESULT .*?(?:msgs_per_s|conns_per_s)=([\d.]+)/.exec(r.stdout);
    if (m === null) throw new Error(`loadgen failed: ${r.stdout}${r.stderr}`);
    return Number(m[1]);
  }
  const cli = join(root, "src/cli/main.ts");
  const args = [
    "bench",
    `tcp:127.0.0.1:${port}`,
    "--mode",
    load,
    "--connections",
    c,
    "--size",
    "64",
  ];
  const r = spawnSync(process.execPath, [cli, ...args, "--duration", secs, "--json", "--quiet"], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`weir bench failed: ${r.stderr}`);
  return Number((JSON.parse(r.stdout) as { requestsPerS: number }).requestsPerS);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1
    ? (s[(n - 1) / 2] as number)
    : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
};

try {
  const m = /LISTENING (\d+)/.exec(await nextLine());
  if (m === null) throw new Error("the server did not say where it listens");
  const port = Number(m[1]);
  process.stdout.write(
    `one server process, ${rounds} interleaved rounds of ${secs} s per load (${useLoadgen ? "shared loadgen" : "weir bench"})\n`,
  );
  const micro = metricsPerConnection();
  process.stdout.write(
    `per connection (open + close, in process): off ${micro.off.toFixed(0)} ns, on ${micro.on.toFixed(0)} ns\n`,
  );
  let worst = Infinity;
  let connRate = 0;
  for (const load of ["pingpong", "connrate"] as const) {
    const n = load === "pingpong" ? rounds : Math.max(4, rounds / 2);
    await subscriber(false);
    measure(port, load); // warm-up
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (let i = 0; i < n; i += 2) {
      // on first in even pairs, off first in odd ones: drift favours neither
      const order = (i / 2) % 2 === 0 ? [true, false] : [false, true];
      const got = new Map<boolean, [number, number]>();
      for (const on of order) {
        await subscriber(on);
        got.set(on, measure(port, load));
      }
      const [rOn, cOn] = got.get(true) as [number, number];
      const [rOff, cOff] = got.get(false) as [number, number];
      ratios.push(rOn / rOff);
      cpuRatios.push(cOn / cOff);
    }
    const r = median(ratios);
    worst = Math.min(worst, r);
    if (load === "connrate") connRate = measure(port, load)[0];
    const what = load === "pingpong" ? "pp50   " : "conn   ";
    const goal = load === "pingpong" ? "  (goal >= 0.97)" : "";
    process.stdout.write(
      `${what} metrics-on/off median ${r.toFixed(3)}  rounds ${ratios.map((x) => x.toFixed(2)).join(" ")}${goal}\n` +
        `${what} server CPU per message on/off median ${median(cpuRatios).toFixed(3)}  rounds ${cpuRatios.map((x) => x.toFixed(2)).join(" ")}  (lower is better)\n`,
    );
  }
  process.stdout.write(`worst ratio (1.0 = parity): ${worst.toFixed(3)}\n`);
  const share = (micro.on - micro.off) * 1e-9 * connRate;
  process.stdout.write(
    `at ${connRate.toFixed(0)} connections/s, a subscriber's ${(micro.on - micro.off).toFixed(0)} ns per connection is ${(share * 100).toFixed(2)}% of the server's time (expected conn on/off ${(1 / (1 + share)).toFixed(4)})\n`,
  );
} finally {
  server.kill("SIGTERM");
}
