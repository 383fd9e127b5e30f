/**
 * PROXY protocol headers parsed per second, and connect latency with a dead first address,
 * with and without Happy Eyeballs.
 *
 *   node bench/proxy-protocol.ts [--n 200000] [--rounds 5]
 *
 * Parse speed: weir's `parseProxyHeader` (every field checked, addresses parsed into
 * `Sockaddr`s) on a v1 TCP4 line, a v1 TCP6 line and a v2 TCP4 header with ALPN, authority and
 * unique id TLVs, against a naive v1 split (`toString` + `split(" ")`, no checks) as the floor;
 * interleaved rounds, medians.
 *
 * Connect latency: `Net.withTcpConnect` to a name whose first address is a black hole on
 * 127.0.0.2 (a listener whose accept queue is full, so the kernel drops the SYN) and whose
 * second is a live listener on 127.0.0.1: with Happy Eyeballs (250 ms delay) and without (each
 * attempt limited to 2 s, the attempt timeout standing in for the ~2 minutes a SYN can wait).
 */
import net from "node:net";
import { parseArgs } from "node:util";
import { native } from "../src/backend-node/native.ts";
import { monoClock, run, Switch, Timeout } from "../src/index.ts";
import type { Net as NetT, StreamAddr } from "../src/net/index.ts";
import { Net, Sockaddr } from "../src/net/index.ts";
import { encodeV2, parseProxyHeader, tlvsOf } from "../src/net/proxy-protocol/index.ts";

const { values } = parseArgs({
  options: { n: { type: "string", default: "200000" }, rounds: { type: "string", default: "5" } },
});
const N = Number(values.n);
const ROUNDS = Number(values.rounds);

const text = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const inputs = {
  "v1 TCP4": text("PROXY TCP4 192.168.10.200 10.0.0.1 56324 443\r\n"),
  "v1 TCP6": text("PROXY TCP6 2001:db8:85a3::8a2e:370:7334 2001:db8::1 56324 443\r\n"),
  "v2 TCP4+TLVs": encodeV2({
    version: 2,
    command: "PROXY",
    source: Sockaddr.parse("tcp:192.168.10.200:56324"),
    destination: Sockaddr.parse("tcp:10.0.0.1:443"),
    tlvs: tlvsOf({ alpn: "h2", authority: "api.example.com", uniqueId: text("0123456789abcdef") }),
  }),
};

function perSecond(f: () => void): number {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) f();
  return N / ((performance.now() - t0) / 1000);
}

const naive = (b: Uint8Array): number => Buffer.from(b).toString("latin1").split(" ").length;

const results: Record<string, number[]> = {};
function record(name: string, rate: number): void {
  results[name] = [...(results[name] ?? []), rate];
}
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, bytes] of Object.entries(inputs)) {
    let sink = 0;
    const rate = perSecond(() => {
      const p = parseProxyHeader(bytes, "any");
      if (p.status === "done") sink += p.length;
    });
    if (sink === 0) throw new Error(`${name}: not parsed`);
    record(name, rate);
  }
  record(
    "naive v1 split (floor)",
    perSecond(() => naive(inputs["v1 TCP4"])),
  );
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`proxy-protocol: ${N} parses x ${ROUNDS} rounds, node ${process.version}`);
for (const [name, xs] of Object.entries(results)) {
  console.log(`  ${name.padEnd(24)} ${(median(xs) / 1e6).toFixed(2)} M headers/s`);
}
console.log(
  `  weir v1 TCP4 / naive split: ${(median(results["v1 TCP4"]!) / median(results["naive v1 split (floor)"]!)).toFixed(2)}x`,
);

// --- connect latency with a dead first address --------------------------------------------

function withResolver(inner: NetT, addrs: StreamAddr[]): NetT {
  return {
    connect: (a, o) => inner.connect(a, o),
    listen: (a, o) => inner.listen(a, o),
    datagramSocket: (a, o) => inner.datagramSocket(a, o),
    getaddrinfo: (h, o) => inner.getaddrinfo(h, o),
    getaddrinfoStream: async () => addrs,
    getaddrinfoDatagram: (h, o) => inner.getaddrinfoDatagram(h, o),
    getnameinfo: (a, o) => inner.getnameinfo(a, o),
  };
}

const fd = native.socket("inet", "stream");
native.bind(fd, { family: "inet", address: "127.0.0.2", port: 0 });
native.listen(fd, 0);
const bh = native.getsockname(fd);
const bhPort = bh.family === "unix" ? 0 : bh.port;
const filler = net.connect({ host: "127.0.0.2", port: bhPort });
await new Promise((r) => filler.once("connect", r));
const dead = Sockaddr.stream(`tcp:127.0.0.2:${bhPort}`);

await run(async (env) => {
  await Switch.run(async (sw) => {
    const l = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 64 });
    sw.fork(() => l.acceptFork({ sw, onError: () => {} }, async () => {}));
    const viaNet = withResolver(env.net, [dead, l.listeningAddr]);
    const time = async (opts: object): Promise<number> => {
      const t0 = monoClock.now();
      await Net.withTcpConnect(
        viaNet,
        { host: "dual.example", service: "80", ...opts },
        async () => {},
      );
      return monoClock.now() - t0;
    };
    const he: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < 3; i++) {
      he.push(await time({ happyEyeballs: { clock: monoClock } }));
      plain.push(await time({ timeout: Timeout.ms(monoClock, 2000) }));
    }
    console.log("connect with a dead first address (median of 3):");
    console.log(`  Happy Eyeballs (250 ms delay)   ${median(he).toFixed(0)} ms`);
    console.log(`  one after another (2 s timeout) ${median(plain).toFixed(0)} ms`);
    console.log(`  ratio: ${(median(plain) / median(he)).toFixed(1)}x faster with Happy Eyeballs`);
    sw.fail(new Error("done"));
  }).catch((e: unknown) => {
    if (!(e instanceof Error && e.message === "done")) throw e;
  });
});
filler.destroy();
native.close(fd);
