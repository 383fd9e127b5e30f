/**
 * weir/sim's speed, against its goals and against real loopback TCP in the same run:
 *
 * 1. Ping-pong throughput: one client and one echo host, 16-byte messages, round trips one
 *    after another; simulated TCP messages (writes, one each way per round trip) per real second, with
 *    partial delivery off and on. The baseline is the same ping-pong over real loopback TCP
 *    (node:net), interleaved with it round by round; the report gives medians of rounds and
 *    the sim/real ratio. Goal: >= 100 000 simulated messages per second on one core.
 * 2. Exploration: 1 000 seeds of a three-host scenario (client -> proxy -> db, 100 round trips
 *    through the proxy, default options plus 1% losses). Goal: under a minute.
 *
 * Rates are per CPU second of the process (user + system, so the kernel's share of real TCP
 * counts too): the machine is shared, and wall-clock rates there measure the neighbours. The
 * exploration reports both its CPU and its wall-clock time.
 *
 * Usage: node bench/sim.ts [--quick] [--rounds N]
 */
import { once } from "node:events";
import { createConnection, createServer, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { Switch } from "../src/core/index.ts";
import type { StreamSocket } from "../src/net/index.ts";
import { Sim } from "../src/sim/index.ts";

const { values } = parseArgs({
  options: { quick: { type: "boolean", default: false }, rounds: { type: "string" } },
});
const quick = values.quick === true;
const rounds = Math.max(3, Number(values.rounds ?? (quick ? 3 : 5)));
const roundTrips = quick ? 20_000 : 50_000;
const seeds = quick ? 200 : 1000;

const msg = new Uint8Array(16);

async function readN(s: StreamSocket, buf: Uint8Array, n: number): Promise<void> {
  let got = 0;
  while (got < n) got += await s.readInto(buf.subarray(got, n));
}

/** Echo host: copies each read back. */
async function echo(env: { net: import("../src/net/index.ts").Net }, port: number): Promise<void> {
  await Switch.run(async (sw) => {
    const l = await env.net.listen(`tcp:0.0.0.0:${port}`, { sw, backlog: 16 });
    for (;;) {
      await l.acceptFork({ sw, onError: () => {} }, async (s) => {
        const buf = new Uint8Array(256);
        for (;;) {
          const n = await s.readInto(buf).catch(() => 0);
          if (n === 0) return;
          await s.write([buf.subarray(0, n)]);
        }
      });
    }
  });
}

/**
 * Simulated ping-pong: returns simulated messages (16-byte writes, one each way per round
 * trip; with partial delivery a message may travel as several segments) per real second.
 */
async function simPingPong(partialDelivery: boolean): Promise<number> {
  const sim = Sim.create({ seed: 1, partialDelivery, traceLimit: 1, durationMs: Infinity });
  sim.host("server", (env) => echo(env, 7));
  sim.client("client", async (env) => {
    await Switch.run(async (sw) => {
      const s = await env.net.connect("tcp:server:7", { sw });
      const buf = new Uint8Array(16);
      for (let i = 0; i < roundTrips; i++) {
        await s.write([msg]);
        await readN(s, buf, 16);
      }
    });
  });
  const t0 = cpuSeconds();
  await sim.run();
  return (2 * roundTrips) / (cpuSeconds() - t0);
}

/** The same ping-pong over real loopback TCP: messages (one each way per round trip) per second. */
async function realPingPong(): Promise<number> {
  const server = createServer((c) => c.on("data", (d) => c.write(d)));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const c: Socket = createConnection(port, "127.0.0.1");
  c.setNoDelay(true);
  await once(c, "connect");
  const n = Math.floor(roundTrips / 4);
  const t0 = cpuSeconds();
  await new Promise<void>((resolve) => {
    let left = n;
    let got = 0;
    c.on("data", (d: Buffer) => {
      got += d.length;
      while (got >= 16) {
        got -= 16;
        if (--left === 0) return resolve();
        c.write(msg);
      }
    });
    c.write(msg);
  });
  const secs = cpuSeconds() - t0;
  c.destroy();
  server.close();
  return (2 * n) / secs;
}

/** One seed of the three-host scenario. */
async function threeHosts(seed: number): Promise<void> {
  const sim = Sim.create({ seed, dropRate: 0.01, traceLimit: 1000 });
  sim.host("db", (env) => echo(env, 5432));
  sim.host("proxy", async (env) => {
    await Switch.run(async (sw) => {
      const l = await env.net.listen("tcp:0.0.0.0:80", { sw, backlog: 16 });
      for (;;) {
        await l.acceptFork({ sw, onError: () => {} }, async (front) => {
          await Switch.run(async (sw2) => {
            const back = await env.net.connect("tcp:db:5432", { sw: sw2 });
            const buf = new Uint8Array(16);
            for (;;) {
              const ok = await readN(front, buf, 16).then(
                () => true,
                () => false,
              );
              if (!ok) return;
              await back.write([buf]);
              await readN(back, buf, 16);
              await front.write([buf]);
            }
          });
        });
      }
    });
  });
  sim.client("client", async (env) => {
    await Switch.run(async (sw) => {
      const s = await env.net.connect("tcp:proxy:80", { sw });
      const buf = new Uint8Array(16);
      for (let i = 0; i < 100; i++) {
        await s.write([msg]);
        await readN(s, buf, 16);
      }
    });
  });
  await sim.run();
}

/**
 * CPU seconds (user + system) this process has used: the machine is shared, so rates are per
 * second of one core's time rather than of the wall clock.
 */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const simOff: number[] = [];
const simOn: number[] = [];
const real: number[] = [];
for (let r = 0; r < rounds; r++) {
  simOff.push(await simPingPong(false));
  real.push(await realPingPong());
  simOn.push(await simPingPong(true));
}
const fmt = (x: number): string => `${Math.round(x).toLocaleString("en")}`;
console.log(
  `ping-pong, ${roundTrips} round trips of 16 bytes, ${rounds} interleaved rounds (medians, per CPU second of this process):`,
);
console.log(
  `  sim, partial delivery off: ${fmt(median(simOff))} simulated messages/s (goal >= 100,000: ${median(simOff) >= 100_000 ? "met" : "MISSED"}); sim/real = ${(median(simOff) / median(real)).toFixed(2)}`,
);
console.log(
  `  sim, partial delivery on:  ${fmt(median(simOn))} simulated messages/s (goal >= 100,000: ${median(simOn) >= 100_000 ? "met" : "MISSED"}); sim/real = ${(median(simOn) / median(real)).toFixed(2)}`,
);
console.log(`  real loopback TCP (node:net): ${fmt(median(real))} messages/s`);

const t0 = cpuSeconds();
const w0 = performance.now();
for (let s = 0; s < seeds; s++) await threeHosts(s);
const secs = cpuSeconds() - t0;
const wall = (performance.now() - w0) / 1000;
const per1000 = (secs * 1000) / seeds;
console.log(
  `exploration: ${seeds} seeds of three hosts, 100 round trips through a proxy, 1% losses: ${secs.toFixed(1)} s of CPU, ${wall.toFixed(1)} s of wall clock (per 1000 seeds: ${per1000.toFixed(1)} CPU s, ${((wall * 1000) / seeds).toFixed(1)} wall s; goal < 60 s: ${per1000 < 60 && (wall * 1000) / seeds < 60 ? "met" : "MISSED"})`,
);
console.log(
  JSON.stringify({
    bench: "sim",
    simMsgsPerSec: { partialOff: median(simOff), partialOn: median(simOn) },
    realMsgsPerSec: median(real),
    ratio: { partialOff: median(simOff) / median(real), partialOn: median(simOn) / median(real) },
    cpuSecondsPer1000Seeds: per1000,
    wallSecondsPer1000Seeds: (wall * 1000) / seeds,
  }),
);
