/**
 * The examples against what users would otherwise run, driven by the real clients, in
 * interleaved rounds, reported as medians and ratios:
 * - `redis-benchmark -t set,get -c 50 -P 16 -q` against examples/mini-redis, the same protocol
 *   on raw node:net (bench/mini-redis-node-net.ts: the peer to beat) and Debian's redis-server
 *   (the practical limit: one core, no persistence);
 * - `ab -k -c 50` against examples/http and a node:http hello server (bench/http-node.ts).
 *
 * Usage: node bench/examples-ratio.ts [--full]. By default 2 rounds of 100 000 redis requests
 * and 50 000 HTTP requests per server (about 40 s); `--full`: 5 rounds of 200 000 each (the
 * issue's figures, about 4 minutes). A missing program is reported and its part skipped.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import net from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const node = process.execPath;
const { values } = parseArgs({ options: { full: { type: "boolean", default: false } } });
const rounds = values.full ? 5 : 2;
const redisN = values.full ? 200_000 : 100_000;
const httpN = values.full ? 200_000 : 50_000;

function has(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Waits until something accepts connections on `port`. */
async function accepting(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        r(true);
      });
      s.once("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing accepts on port ${port}`);
}

interface Server {
  readonly name: string;
  readonly argv: (port: number) => string[];
}

async function withServer<T>(
  s: Server,
  warm: (port: number) => void,
  fn: (port: number) => T,
): Promise<T> {
  const port = await freePort();
  const [cmd, ...args] = s.argv(port);
  const child = spawn(cmd as string, args, { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  try {
    await accepting(port, child);
    warm(port); // let the JIT compile the hot paths first
    return fn(port);
  } finally {
    const closed = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await closed;
  }
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 24, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Runs `measure` on each server, round after round (interleaved); medians per server and key. */
async function compare(
  servers: Server[],
  warm: (port: number) => void,
  measure: (port: number) => Record<string, number>,
): Promise<Map<string, Record<string, number>>> {
  const samples = new Map<string, Record<string, number[]>>();
  for (let r = 0; r < rounds; r++) {
    for (const s of servers) {
      const got = await withServer(s, warm, measure);
      const acc = samples.get(s.name) ?? {};
      for (const [k, v] of Object.entries(got)) acc[k] = [...(acc[k] ?? []), v];
      samples.set(s.name, acc);
    }
  }
  const out = new Map<string, Record<string, number>>();
  for (const [name, acc] of samples) {
    out.set(name, Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, median(v)])));
  }
  return out;
}

function report(medians: Map<string, Record<string, number>>, base: string, what: string): void {
  const b = medians.get(base) as Record<string, number>;
  for (const [name, m] of medians) {
    const cells = Object.entries(m).map(
      ([k, v]) => `${k} ${(v / (b[k] as number)).toFixed(2)}x (${Math.round(v)})`,
    );
    process.stdout.write(
      `  ${name.padEnd(22)} ${cells.join("  ")}   (${what} vs ${base}, median of ${rounds})\n`,
    );
  }
}

let failed = false;
if (has("redis-benchmark")) {
  const servers: Server[] = [
    { name: "mini-redis (weir)", argv: (p) => [node, "examples/mini-redis/main.ts", String(p)] },
    { name: "node:net", argv: (p) => [node, "bench/mini-redis-node-net.ts", String(p)] },
  ];
  if (has("redis-server")) {
    servers.push({
      name: "redis-server",
      argv: (p) => [
        "redis-server",
        "--port",
        String(p),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ],
    });
  } else process.stdout.write("  (redis-server not installed: apt-get install redis-server)\n");
  process.stdout.write(`redis-benchmark -t set,get -n ${redisN} -c 50 -P 16 -q, requests/s:\n`);
  const warm = (port: number): void => {
    run("redis-benchmark", [
      "-p",
      String(port),
      "-t",
      "set,get",
      "-n",
      "20000",
      "-c",
      "50",
      "-P",
      "16",
      "-q",
    ]);
  };
  const medians = await compare(servers, warm, (port) => {
    const out = run("redis-benchmark", [
      "-p",
      String(port),
      "-t",
      "set,get",
      "-n",
      String(redisN),
      "-c",
      "50",
      "-P",
      "16",
      "-q",
    ]);
    const rate = (t: string): number =>
      Number(new RegExp(`${t}: ([\\d.]+) requests per second`).exec(out)?.[1] ?? Number.NaN);
    return { SET: rate("SET"), GET: rate("GET") };
  });
  report(medians, "node:net", "requests/s");
} else {
  process.stdout.write("redis-benchmark not installed (apt-get install redis-tools): skipped\n");
  failed = true;
}

if (has("ab")) {
  const servers: Server[] = [
    { name: "examples/http (weir)", argv: (p) => [node, "examples/http/main.ts", String(p)] },
    { name: "node:http", argv: (p) => [node, "bench/http-node.ts", String(p)] },
  ];
  process.stdout.write(`ab -k -c 50 -n ${httpN}, requests/s:\n`);
  const warm = (port: number): void => {
    run("ab", ["-q", "-k", "-c", "50", "-n", "10000", `http://127.0.0.1:${port}/`]);
  };
  const medians = await compare(servers, warm, (port) => {
    const out = run("ab", [
      "-q",
      "-k",
      "-c",
      "50",
      "-n",
      String(httpN),
      `http://127.0.0.1:${port}/`,
    ]);
    if (!/Failed requests:\s+0\n/.test(out)) throw new Error(`ab: failed requests\n${out}`);
    return { req: Number(/Requests per second:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN) };
  });
  report(medians, "node:http", "requests/s");
} else {
  process.stdout.write("ab not installed (apt-get install apache2-utils): skipped\n");
  failed = true;
}
process.exitCode = failed ? 1 : 0;
