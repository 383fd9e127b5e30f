/**
 * `npm run bench`: every benchmark of weir in one run, each printed as ratios against the
 * baseline measured in the same run (never single figures: these machines drift).
 *
 * 1. Micro-benchmarks: core (fibers, cancellation), weir/sim (simulated messages per second
 *    against real loopback TCP; 1000 seeds of a three-host scenario) and BufRead (against
 *    node:readline and a hand-written splitter).
 * 2. Echo servers on weir (Net.runServer + Flow.copy, Tcp.Server.createSock + Flow.copy,
 *    Tcp.Server.create with reader/writer: chunks, and the plain read(buf)/write/flushed loop)
 *    against a raw node:net echo, under the shared load
 *    generator when it is there (the optional shared tools, `loadgen.c` and `ratio.sh`, in
 *    `../shared/bench` beside the repository: pingpong, stream, connection rate, idle memory;
 *    interleaved rounds, medians). Without them, `weir bench` (the CLI's load generator)
 *    drives the same servers instead.
 * 2b. The runtime column (bench/runtimes-ratio.ts): weir's echo against the raw node:net echo,
 *    both on Node, both on Bun, both on Deno (the dev dependencies), `weir bench` driving all.
 * 3. TLS echo servers: weir's against raw node:tls with `pipe`, driven by `weir bench --tls`
 *    (bench/tls-ratio.ts): pingpong, stream, full handshakes per second, idle memory.
 * 4. The examples under their real clients (bench/examples-ratio.ts): `redis-benchmark` against
 *    examples/mini-redis, the same protocol on raw node:net and Debian's redis-server; `ab -k`
 *    against examples/http and a node:http server (needs redis-tools, redis-server,
 *    apache2-utils; a missing one is reported and skipped).
 * 5. PROXY protocol headers parsed per second, and connect latency with a dead first address
 *    with and without Happy Eyeballs (bench/proxy-protocol.ts).
 * 6. Metrics: the runServer echo with a subscriber on every `weir:*` channel against without,
 *    pingpong and connection rate (bench/metrics-ratio.ts; in the default run too, ~20 s).
 * 7. Several cores: `weir echo --domains N-1` for N = 1 to the core count, pingpong and
 *    connection rate as ratios to N = 1 (bench/domains-ratio.ts; `--domains` runs only this).
 *
 * Usage: node bench/run.ts [--full] [--micro-only] [--net-only] [--domains]
 * By default the run takes about 3 minutes: the micro-benchmarks (short inputs) and one echo
 * server per face (Net.runServer; Tcp.Server with Reader/Writer), 2 interleaved rounds of 2 s
 * per load. `--full` takes about 15: every echo server (4 rounds of 3 s), TLS, the examples
 * and the PROXY protocol, for figures to quote.
 * Environment passed to ratio.sh: REPS, SECS, TESTS, IDLE_N (override the above).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const node = process.execPath;
const { values } = parseArgs({
  options: {
    full: { type: "boolean", default: false },
    "micro-only": { type: "boolean", default: false },
    "net-only": { type: "boolean", default: false },
    domains: { type: "boolean", default: false },
  },
});

function section(title: string): void {
  process.stdout.write(`\n== ${title}\n`);
}

function runScript(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const r = spawnSync(args[0] as string, args.slice(1), { cwd: root, stdio: "inherit", env });
  return r.status ?? 1;
}

if (values.domains) {
  section("several cores: weir echo --domains N-1, N = 1 to the core count (ratios to N = 1)");
  process.exitCode = runScript([node, "bench/domains-ratio.ts"]);
  process.exit();
}

const quick = !values.full;
process.stdout.write(
  quick
    ? "npm run bench: about 2 minutes: the micro-benchmarks and two echo servers (npm run bench -- --full: about 15, every server, TLS, the examples, PROXY protocol, for figures to quote)\n"
    : "npm run bench -- --full: about 15 minutes\n",
);
let failures = 0;

if (!values["net-only"]) {
  section("core: fibers and cancellation (weir vs bare promises)");
  failures += runScript([node, "bench/core.ts", ...(quick ? ["--quick"] : [])]) === 0 ? 0 : 1;
  section("weir/sim: simulated TCP messages per second (vs real loopback TCP), seeds per minute");
  failures += runScript([node, "bench/sim.ts", ...(quick ? ["--quick"] : [])]) === 0 ? 0 : 1;
  section("BufRead.line vs node:readline and an indexOf splitter");
  failures +=
    runScript([node, "bench/flow-bufread.ts", ...(quick ? ["--mb", "16"] : [])]) === 0 ? 0 : 1;
}

if (!values["micro-only"]) {
  const shared = resolve(root, "../shared/bench");
  const ratio = join(shared, "ratio.sh");
  const rawServer = existsSync(join(shared, "servers/node_net_echo_data.mjs"))
    ? join(shared, "servers/node_net_echo_data.mjs")
    : join(root, "bench/raw-echo.mjs");
  // the default run: one server per face (Net.runServer; Tcp.Server with Reader/Writer)
  const servers: Array<[string, string]> = quick
    ? [
        ["weir-runServer", "bench/echo-weir.ts"],
        ["weir-tcp-plain", "bench/echo-tcp-plain.ts"],
      ]
    : [
        ["weir-runServer", "bench/echo-weir.ts"],
        ["weir-tcp-sock", "bench/echo-tcp-sock.ts"],
        ["weir-tcp-rw", "bench/echo-tcp-rw.ts"],
        ["weir-tcp-plain", "bench/echo-tcp-plain.ts"],
      ];
  const env = {
    ...process.env,
    REPS: process.env.REPS ?? (quick ? "2" : "4"),
    SECS: process.env.SECS ?? (quick ? "2" : "3"),
    IDLE_N: process.env.IDLE_N ?? (quick ? "2000" : "5000"),
  };
  for (const [name, script] of servers) {
    if (!existsSync(join(root, script))) continue;
    section(`${name} vs raw node:net ('data' + write) echo`);
    if (existsSync(ratio) && existsSync(join(shared, "loadgen.c"))) {
      const code = runScript(
        ["bash", ratio, name, `${node} ${join(root, script)} 0`, "raw", `${node} ${rawServer} 0`],
        env,
      );
      failures += code === 0 ? 0 : 1;
    } else {
      const code = runScript([node, "bench/cli-ratio.ts", name, script, rawServer], env);
      failures += code === 0 ? 0 : 1;
    }
  }
}

if (!values["micro-only"]) {
  section("metrics: the weir echo server with a subscriber on every weir:* channel vs without");
  failures +=
    runScript([node, "bench/metrics-ratio.ts", ...(quick ? [] : ["--full"])]) === 0 ? 0 : 1;
}

if (!values["micro-only"]) {
  section("runtimes: weir echo vs each runtime's own raw node:net echo, on Node, Bun and Deno");
  failures +=
    runScript([node, "bench/runtimes-ratio.ts", ...(quick ? [] : ["--full"])]) === 0 ? 0 : 1;
}

if (!values["micro-only"] && !quick) {
  section(
    "TLS echo: weir (net.listen with tls + Flow.copy) vs raw node:tls (pipe), weir bench --tls",
  );
  const env = {
    ...process.env,
    REPS: process.env.REPS ?? (quick ? "2" : "4"),
    SECS: process.env.SECS ?? (quick ? "2" : "3"),
    TLS_IDLE_N: process.env.TLS_IDLE_N ?? (quick ? "500" : "1000"),
  };
  failures += runScript([node, "bench/tls-ratio.ts"], env) === 0 ? 0 : 1;
  section("examples: mini-redis vs node:net and redis-server; HTTP vs node:http");
  failures += runScript([node, "bench/examples-ratio.ts", "--full"]) === 0 ? 0 : 1;
  section("PROXY protocol: headers parsed per second; connect with a dead first address");
  failures += runScript([node, "bench/proxy-protocol.ts"]) === 0 ? 0 : 1;
  section("several cores: weir echo --domains N-1, N = 1 to the core count (ratios to N = 1)");
  failures += runScript([node, "bench/domains-ratio.ts"]) === 0 ? 0 : 1;
}

process.exitCode = failures === 0 ? 0 : 1;
