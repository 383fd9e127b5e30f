/**
 * The deadlines' soak (not part of `npm test`: it takes a minute and 20 000 fds):
 *
 * 1. Slowloris: 1000 peers that send one byte a second (and reconnect when closed) against
 *    `Net.runServer` with `maxConnections: 100`, `headerTimeout: 1000`, `headerBytes: 16`; a
 *    well-behaved client, every 300 ms while the attack goes on, must be served within 2 s.
 * 2. Idle memory: 10 000 idle echo connections with `idleTimeout` set against the same without
 *    (heap + external, and RSS, of the server process after a GC): at most 1.10x.
 * 3. Pingpong: 32 connections of 64-byte round trips against the echo server with
 *    `idleTimeout` and without, interleaved rounds, medians: at least 0.97x.
 *
 * The servers run in child processes of this script (`--serve MODE`); the peers run here.
 * Usage: `npm run bench:soak -- [--rounds N] [--only slowloris|memory|pingpong]` (default 3
 * rounds). Prints ratios.
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const self = fileURLToPath(import.meta.url);

// ---- the servers (child processes) ----

async function serve(mode: string): Promise<void> {
  const { Switch } = await import("../src/core/index.ts");
  const { copy, readExact } = await import("../src/flow/flow-ops.ts");
  const { runServer } = await import("../src/net/run-server.ts");
  const { run } = await import("../src/run.ts");
  await run(async (env) => {
    await Switch.run(async (sw) => {
      const listener = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 4096 });
      const addr = listener.listeningAddr;
      process.stdout.write(`LISTENING ${addr.type === "tcp" ? addr.port : 0}\n`);
      process.stdin.on("data", (d) => {
        if (!d.toString().includes("mem")) return;
        (globalThis as { gc?: () => void }).gc?.();
        const m = process.memoryUsage();
        process.stdout.write(`MEM ${m.heapUsed + m.external} ${m.rss}\n`);
      });
      if (mode === "slowloris") {
        const reply = new TextEncoder().encode("ok\n");
        await runServer(
          listener,
          async (flow) => {
            await readExact(flow, new Uint8Array(16));
            await flow.write([reply]);
          },
          { onError: () => {}, maxConnections: 100, headerTimeout: 1000, headerBytes: 16 },
        );
      } else {
        const idleTimeout = mode === "echo-idle" ? 600_000 : undefined;
        await runServer(listener, (flow) => copy(flow, flow), { onError: () => {}, idleTimeout });
      }
    });
  });
}

// ---- the peers (this process) ----

interface Server {
  readonly child: ChildProcess;
  readonly port: number;
  mem(): Promise<[number, number]>;
  stop(): Promise<void>;
}

async function startServer(mode: string): Promise<Server> {
  const child = spawn(process.execPath, ["--expose-gc", self, "--serve", mode], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let buf = "";
  const waiters: Array<(line: string) => void> = [];
  child.stdout?.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      waiters.shift()?.(line);
    }
  });
  const next = (): Promise<string> => new Promise((resolve) => waiters.push(resolve));
  const port = Number((await next()).split(" ")[1]);
  return {
    child,
    port,
    async mem() {
      const p = next();
      child.stdin?.write("mem\n");
      const [, heap, rss] = (await p).split(" ");
      return [Number(heap), Number(rss)];
    },
    stop() {
      return new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      });
    },
  };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function slowloris(): Promise<void> {
  const server = await startServer("slowloris");
  const attackers = new Set<Socket>();
  let closedByServer = 0;
  let attacking = true;
  const attack = async (): Promise<void> => {
    try {
      const s = await open(server.port);
      attackers.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        attackers.delete(s);
        if (!attacking) return;
        closedByServer++;
        void attack();
      });
    } catch {
      if (attacking) setTimeout(() => void attack(), 100);
    }
  };
  await Promise.all(Array.from({ length: 1000 }, attack));
  const drip = setInterval(() => {
    for (const s of attackers) s.write("x");
  }, 1000);
  await sleep(2500);
  const latencies: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    const c = await open(server.port);
    c.write("GET / HTTP/1.0\r\n");
    await new Promise<void>((resolve) => c.once("data", () => resolve()));
    latencies.push(performance.now() - t0);
    c.destroy();
    await sleep(300);
  }
  attacking = false;
  clearInterval(drip);
  for (const s of attackers) s.destroy();
  await server.stop();
  const worst = Math.max(...latencies);
  console.log(
    `slowloris: 1000 peers, maxConnections 100, headerTimeout 1000 ms: ` +
      `${closedByServer} attacker connections closed by the server; a well-behaved client served ` +
      `in ${median(latencies).toFixed(0)} ms (median of 10), ${worst.toFixed(0)} ms at worst: ` +
      `${worst < 2000 ? "within" : "NOT within"} 2 s`,
  );
}

async function idleMemory(mode: string): Promise<[number, number]> {
  const server = await startServer(mode);
  const [heap0, rss0] = await server.mem();
  const socks: Socket[] = [];
  for (let i = 0; i < 10_000; i += 500) {
    socks.push(...(await Promise.all(Array.from({ length: 500 }, () => open(server.port)))));
  }
  await sleep(1000);
  const [heap1, rss1] = await server.mem();
  for (const s of socks) s.destroy();
  await server.stop();
  return [heap1 - heap0, rss1 - rss0];
}

async function timedPingpong(port: number, ms: number): Promise<number> {
  const socks = await Promise.all(Array.from({ length: 32 }, () => open(port)));
  const msg = Buffer.alloc(64, 97);
  let trips = 0;
  const end = performance.now() + ms;
  const done = socks.map(
    (s) =>
      new Promise<void>((resolve) => {
        let got = 0;
        s.on("data", (d: Buffer) => {
          got += d.length;
          while (got >= 64) {
            got -= 64;
            trips++;
            if (performance.now() < end) s.write(msg);
            else {
              resolve();
              return;
            }
          }
        });
        s.write(msg);
      }),
  );
  await Promise.all(done);
  for (const s of socks) s.destroy();
  return trips;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: "string" },
      rounds: { type: "string", default: "3" },
      only: { type: "string" },
    },
  });
  if (values.serve !== undefined) {
    await serve(values.serve);
    return;
  }
  const rounds = Number(values.rounds);
  const only = values.only;
  if (only === undefined || only === "slowloris") await slowloris();
  if (only === undefined || only === "memory") await idleMemoryRatio(rounds);
  if (only === undefined || only === "pingpong") await pingpongRatio(rounds);
}

async function idleMemoryRatio(rounds: number): Promise<void> {
  const heap: Record<string, number[]> = { echo: [], "echo-idle": [] };
  const rss: Record<string, number[]> = { echo: [], "echo-idle": [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 === 0 ? ["echo", "echo-idle"] : ["echo-idle", "echo"]) {
      const [h, m] = await idleMemory(mode);
      heap[mode]?.push(h);
      rss[mode]?.push(m);
    }
  }
  const hr = median(heap["echo-idle"] ?? []) / median(heap.echo ?? []);
  const rr = median(rss["echo-idle"] ?? []) / median(rss.echo ?? []);
  console.log(
    `idle memory: 10 000 connections with idleTimeout / without: heap+external ${hr.toFixed(3)}x, ` +
      `RSS ${rr.toFixed(3)}x (medians of ${rounds}; goal <= 1.10x)`,
  );
}

async function pingpongRatio(rounds: number): Promise<void> {
  const plain = await startServer("echo");
  const idle = await startServer("echo-idle");
  const trips: Record<string, number[]> = { echo: [], "echo-idle": [] };
  await timedPingpong(plain.port, 500); // warm-up
  await timedPingpong(idle.port, 500);
  for (let r = 0; r < 2 * rounds; r++) {
    for (const [mode, s] of r % 2 === 0
      ? ([
          ["echo", plain],
          ["echo-idle", idle],
        ] as const)
      : ([
          ["echo-idle", idle],
          ["echo", plain],
        ] as const)) {
      trips[mode]?.push(await timedPingpong(s.port, 2000));
    }
  }
  await plain.stop();
  await idle.stop();
  const pr = median(trips["echo-idle"] ?? []) / median(trips.echo ?? []);
  console.log(
    `pingpong: 32 connections, 64 B round trips, with idleTimeout / without: ${pr.toFixed(3)}x ` +
      `(medians of ${2 * rounds} interleaved rounds of 2 s; goal >= 0.97x)`,
  );
}

await main();
