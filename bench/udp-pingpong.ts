/**
 * UDP ping-pong on loopback: weir's datagram sockets (`net.datagramSocket`, `send`/`recv`, a
 * weir echo on the other end) against raw `node:dgram` doing the same, rounds interleaved;
 * reports the median ns per round trip of each and the weir/raw ratio, then one JSON line.
 *
 * Usage: node bench/udp-pingpong.ts [--quick] [--rounds N] [--n N] [--root DIR]
 *   --root DIR  measure the weir sources under DIR (to compare two checkouts in one run)
 */
import { createSocket, type Socket } from "node:dgram";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    n: { type: "string" },
    root: { type: "string" },
  },
});
const quick = values.quick === true;
const rounds = Math.max(3, Number(values.rounds ?? (quick ? 3 : 7)));
const n = Number(values.n ?? (quick ? 2_000 : 20_000));
const root = resolve(values.root ?? resolve(import.meta.dirname, ".."));
const srcUrl = (p: string): string => pathToFileURL(resolve(root, "src", p)).href;

type Run = () => Promise<number>;

function bound(type: "udp4"): Promise<Socket> {
  return new Promise((res) => {
    const s = createSocket(type);
    s.bind(0, "127.0.0.1", () => res(s));
  });
}

/** Raw node:dgram: a client sends, an echo sends back, n times. */
const raw: Run = async () => {
  const [a, b] = await Promise.all([bound("udp4"), bound("udp4")]);
  b.on("message", (m, r) => b.send(m, r.port, r.address));
  const msg = Buffer.alloc(64, 1);
  const bPort = b.address().port;
  const t0 = process.hrtime.bigint();
  await new Promise<void>((done) => {
    let left = n;
    a.on("message", () => {
      if (--left === 0) done();
      else a.send(msg, bPort, "127.0.0.1");
    });
    a.send(msg, bPort, "127.0.0.1");
  });
  const ns = Number(process.hrtime.bigint() - t0) / n;
  await Promise.all([
    new Promise<void>((r) => a.close(() => r())),
    new Promise<void>((r) => b.close(() => r())),
  ]);
  return ns;
};

const { run } = (await import(srcUrl("run.ts"))) as typeof import("../src/run.ts");
const { Fiber, Switch } = (await import(
  srcUrl("core/index.ts")
)) as typeof import("../src/core/index.ts");

/** weir: the same, with send/recv on both ends. */
const weir: Run = () =>
  run(async (env) =>
    Switch.run(async (sw) => {
      const a = await env.net.datagramSocket("udp:127.0.0.1:0", { sw });
      const b = await env.net.datagramSocket("udp:127.0.0.1:0", { sw });
      const msg = new Uint8Array(64).fill(1);
      const bufA = new Uint8Array(2048);
      const bufB = new Uint8Array(2048);
      const t0 = process.hrtime.bigint();
      await Fiber.first(
        async () => {
          for (;;) {
            const [from, len] = await b.recv(bufB);
            await b.send([bufB.subarray(0, len)], { dst: from });
          }
        },
        async () => {
          for (let i = 0; i < n; i++) {
            await a.send([msg], { dst: b.localAddr });
            await a.recv(bufA);
          }
        },
      );
      return Number(process.hrtime.bigint() - t0) / n;
    }),
  );

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] as number;
};

await raw();
await weir(); // warm both
const rawNs: number[] = [];
const weirNs: number[] = [];
const ratios: number[] = [];
for (let r = 0; r < rounds; r++) {
  // alternate the order, so that drift hits both alike
  let rr: number;
  let ww: number;
  if (r % 2 === 0) {
    rr = await raw();
    ww = await weir();
  } else {
    ww = await weir();
    rr = await raw();
  }
  rawNs.push(rr);
  weirNs.push(ww);
  ratios.push(ww / rr);
}
const out = {
  bench: "udp-pingpong",
  root,
  n,
  rounds,
  rawNsPerRoundTrip: Math.round(median(rawNs)),
  weirNsPerRoundTrip: Math.round(median(weirNs)),
  weirOverRaw: Math.round(median(ratios) * 100) / 100,
};
console.log(
  `udp ping-pong (64 B, ${n} round trips, ${rounds} rounds): raw ${out.rawNsPerRoundTrip} ns, weir ${out.weirNsPerRoundTrip} ns per round trip; weir/raw ${out.weirOverRaw}`,
);
console.log(JSON.stringify(out));
