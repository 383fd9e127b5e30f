/**
 * The simulation's stream sockets pass the same two-way stream conformance suite as the Node
 * backend's and the mock's: TCP connections between two simulated hosts (with latency, random
 * chunk sizes, a small `tcpCapacity`, losses), and a host-local Unix socket path.
 */
import { Switch } from "../../src/core/index.ts";
import { currentEnv, type StreamSocket } from "../../src/net/index.ts";
import { Sim, type SimOptions } from "../../src/sim/index.ts";
import { describeTwoWayStream, type StreamPair } from "./stream-conformance.ts";

/**
 * A simulation whose client runs each test body: host `b` accepts connections on port 9000
 * (and the Unix path /run/b.sock on the client host) and hands each accepted socket to the
 * body's `makePair`.
 */
function simulated(options: Omit<SimOptions, "seed">, via: "tcp" | "unix") {
  let seed = 0;
  const accepted: StreamSocket[] = [];
  const arrivals: Array<() => void> = [];
  const serve = async (env: { net: import("../../src/net/index.ts").Net }, addr: string) => {
    await Switch.run(async (sw) => {
      const l = await env.net.listen(addr, { sw, backlog: 4 });
      for (;;) {
        const [s] = await l.accept({ sw });
        accepted.push(s);
        for (const a of arrivals.splice(0)) a();
      }
    });
  };
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    const sim = Sim.create({ ...options, seed: seed++ });
    let result: T | undefined;
    if (via === "tcp") sim.host("b", (env) => serve(env, "tcp:0.0.0.0:9000"));
    sim.client("a", async (env) => {
      if (via === "unix") {
        await Switch.run(async (sw) => {
          sw.fork(() => serve(env, "unix:/run/b.sock"));
          result = await fn();
          sw.fail(new Error("done"));
        }).catch((e: unknown) => {
          if (!(e instanceof Error && e.message === "done")) throw e;
        });
      } else result = await fn();
    });
    await sim.run();
    return result as T;
  };
  const makePair = async (): Promise<StreamPair> => {
    const { net } = currentEnv();
    const { promise: done, resolve: release } = Promise.withResolvers<void>();
    const { promise: got, resolve: ready, reject } = Promise.withResolvers<StreamSocket>();
    const scope = Switch.run(async (sw) => {
      ready(await net.connect(via === "tcp" ? "tcp:b:9000" : "unix:/run/b.sock", { sw }));
      await done;
    });
    scope.catch(reject);
    const a = await got;
    while (accepted.length === 0) await new Promise<void>((r) => arrivals.push(r));
    const b = accepted.shift() as StreamSocket;
    return Object.assign([a, b] as const, {
      async [Symbol.asyncDispose]() {
        release();
        await scope;
        await b.close();
      },
    });
  };
  return { run, makePair };
}

for (const [name, options, via] of [
  ["Sim: TCP between two hosts", {}, "tcp"],
  ["Sim: TCP with tcpCapacity 1000 and 10% losses", { tcpCapacity: 1000, dropRate: 0.1 }, "tcp"],
  ["Sim: TCP without partial delivery, latency 0", { partialDelivery: false, latency: 0 }, "tcp"],
  ["Sim: a Unix socket path on one host", {}, "unix"],
] as const) {
  const { run, makePair } = simulated(options, via);
  describeTwoWayStream(name, makePair, { run });
}
