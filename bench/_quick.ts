import { Switch } from "../src/core/index.ts";
import { Sim } from "../src/sim/index.ts";

async function pingpong(seed: number, rounds: number, clients = 1): Promise<number> {
  const sim = Sim.create({ seed, partialDelivery: false });
  sim.host("server", async (env) => {
    await Switch.run(async (sw) => {
      const l = await env.net.listen("tcp:0.0.0.0:7", { sw, backlog: 16 });
      for (;;) {
        await l.acceptFork({ sw, onError: (e) => { throw e; } }, async (s) => {
          const buf = new Uint8Array(64);
          for (;;) {
            let n: number;
            try { n = await s.readInto(buf); } catch { return; }
            await s.write([buf.subarray(0, n)]);
          }
        });
      }
    });
  });
  for (let c = 0; c < clients; c++) {
    sim.client(`c${c}`, async (env) => {
      await Switch.run(async (sw) => {
        const s = await env.net.connect("tcp:server:7", { sw });
        const msg = new Uint8Array(16);
        const buf = new Uint8Array(64);
        for (let i = 0; i < rounds; i++) {
          await s.write([msg]);
          let got = 0;
          while (got < 16) got += await s.readInto(buf);
        }
      });
    });
  }
  await sim.run();
  return sim.netstat().delivered;
}
let t = performance.now();
const d = await pingpong(1, 50000);
let dt = (performance.now() - t) / 1000;
console.log(`pingpong: ${d} segments in ${dt.toFixed(2)}s = ${(d / dt).toFixed(0)}/s`);
t = performance.now();
let total = 0;
for (let s = 0; s < 200; s++) total += await pingpong(s, 100, 2);
dt = (performance.now() - t) / 1000;
console.log(`200 seeds x (3 hosts, 2x100 rt): ${dt.toFixed(2)}s -> 1000 seeds ~${(dt * 5).toFixed(1)}s; ${total} segs`);
