/**
 * TLS echo: weir (`bench/echo-weir-tls.ts`) against raw node:tls with `pipe`
 * (`bench/raw-tls-echo.mjs`), each server in its own process, driven by `weir bench --tls`,
 * interleaved REPS times (the order alternating): pingpong 50 x 64 B, stream 8 x 64 KiB,
 * full handshakes per second (connrate: connect, handshake, 64 B, close), and the server's
 * idle memory per TLS connection (RSS growth with IDLE_N idle connections open). Prints the
 * median ratio weir/raw per load, and each round's.
 * Usage: node bench/tls-ratio.ts   (REPS, SECS, IDLE_N from the environment)
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import * as tls from "node:tls";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const reps = Number(process.env.REPS ?? 4);
const secs = process.env.SECS ?? "3";
const idleN = Number(process.env.TLS_IDLE_N ?? 1000);
const ca = resolve(root, "test/fixtures/tls/ca.crt");
// `weir`: the defaults (`strictClose`, a truncated stream is an error); `native`: the same
// server with `tls.strictClose: false` (TLS natively over the socket's handle)
const servers = {
  weir: ["bench/echo-weir-tls.ts"],
  native: ["bench/echo-weir-tls.ts", "--native"],
  raw: ["bench/raw-tls-echo.mjs"],
} as const;
type Side = keyof typeof servers;
const loads: Array<[string, string[], string]> = [
  ["pp50", ["--mode", "pingpong", "--connections", "50", "--size", "64"], "requestsPerS"],
  ["stream", ["--mode", "stream", "--connections", "8", "--size", "64k"], "bytesPerS"],
  ["hshake", ["--mode", "connrate", "--connections", "16", "--size", "64"], "requestsPerS"],
];

async function startServer(side: Side): Promise<[ChildProcess, number]> {
  const [script, ...flags] = servers[side];
  const child = spawn(process.execPath, [resolve(root, script), "0", ...flags], {
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
    [
      cli,
      "bench",
      `tcp:127.0.0.1:${port}`,
      "--tls",
      "--ca",
      ca,
      ...args,
      "--duration",
      secs,
      "--json",
      "--quiet",
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`weir bench failed: ${r.stderr}`);
  return Number((JSON.parse(r.stdout) as Record<string, unknown>)[key]);
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The server's RSS growth per connection with `idleN` idle TLS connections open. */
async function idleMemory(child: ChildProcess, port: number): Promise<number> {
  const pid = child.pid as number;
  // Warm the server up (code paths, first allocations), then take the baseline
  await open(port, 50).then(closeAll);
  await sleep(300);
  const before = rssBytes(pid);
  const conns = await open(port, idleN);
  await sleep(500);
  const after = rssBytes(pid);
  closeAll(conns);
  return (after - before) / idleN;
}

async function open(port: number, n: number): Promise<tls.TLSSocket[]> {
  const caPem = readFileSync(ca);
  const conns: tls.TLSSocket[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from(
      { length: Math.min(50, n - i) },
      () =>
        new Promise<tls.TLSSocket>((ok, fail) => {
          const s = tls.connect({ host: "127.0.0.1", port, ca: caPem });
          s.once("secureConnect", () => ok(s));
          s.once("error", fail);
        }),
    );
    conns.push(...(await Promise.all(batch)));
  }
  return conns;
}

function closeAll(conns: tls.TLSSocket[]): void {
  for (const c of conns) c.destroy();
}

const ratios = new Map<string, number[]>();
const push = (load: string, r: number): void => {
  const list = ratios.get(load) ?? [];
  list.push(r);
  ratios.set(load, list);
};
for (let rep = 0; rep < reps; rep++) {
  const order: Side[] = rep % 2 === 0 ? ["weir", "native", "raw"] : ["raw", "native", "weir"];
  for (const [load, args, key] of loads) {
    const got = new Map<Side, number>();
    for (const side of order) {
      const [child, port] = await startServer(side);
      try {
        got.set(side, measure(port, args, key));
      } finally {
        child.kill("SIGKILL");
      }
    }
    push(load, (got.get("weir") ?? 0) / (got.get("raw") ?? 1));
    push(`${load} native`, (got.get("native") ?? 0) / (got.get("raw") ?? 1));
  }
  const mem = new Map<Side, number>();
  for (const side of order) {
    const [child, port] = await startServer(side);
    try {
      mem.set(side, await idleMemory(child, port));
    } finally {
      child.kill("SIGKILL");
    }
  }
  push("idleMem", (mem.get("weir") ?? 0) / (mem.get("raw") ?? 1));
  push("idleMem native", (mem.get("native") ?? 0) / (mem.get("raw") ?? 1));
  process.stdout.write(
    `round ${rep + 1}: idle memory per TLS connection weir ${((mem.get("weir") ?? 0) / 1024).toFixed(1)} KiB, raw ${((mem.get("raw") ?? 0) / 1024).toFixed(1)} KiB\n`,
  );
}
for (const [load, list] of ratios) {
  const sorted = [...list].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const rounds = list.map((x) => x.toFixed(2)).join(" ");
  const goal = load.startsWith("idleMem") ? "goal <= 1.10" : "goal >= 0.95";
  process.stdout.write(
    `${load.padEnd(15)} weir-tls/raw-tls median ${median.toFixed(3)}  rounds ${rounds}  (${goal})\n`,
  );
}
