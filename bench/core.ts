/**
 * The cost of weir's core against bare promises: forking fibers on a switch, `Fiber.both`,
 * cancelling a switch full of blocked fibers, `suspend`, and AsyncLocalStorage itself.
 *
 * Each case runs in every round, rounds interleaved (so drift hits every case alike); the
 * report gives medians in ns per fiber/operation and weir/bare ratios, then one JSON line.
 *
 * Usage: node bench/core.ts [--quick] [--rounds N] [--n N]
 *   --quick   small sizes and 4 rounds (a smoke test: well under 2 s)
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { parseArgs } from "node:util";
import { Fiber } from "../src/core/fiber.ts";
import { currentFiber, runInFiber } from "../src/core/fiber-context.ts";
import { suspend } from "../src/core/suspend.ts";
import { Switch } from "../src/core/switch.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    n: { type: "string" },
  },
});
const quick = values.quick === true;
const rounds = Math.max(4, Number(values.rounds ?? (quick ? 4 : 7)));
/** Fibers per switch (fork, cancel), operations per sample (both, suspend, ALS). */
const n = Number(values.n ?? (quick ? 2_000 : 10_000));

type Case = { readonly name: string; readonly unit: string; readonly run: () => Promise<number> };

/** Times `fn` (which does `count` operations) and returns ns per operation. */
async function perOp(count: number, fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / count;
}

const trivial = async (): Promise<void> => {
  await null;
};

// -- fork + join of n trivial async fibers ------------------------------------------------
const forkWeir: Case = {
  name: "fork+join (Switch.run + sw.fork)",
  unit: "ns/fiber",
  run: () =>
    perOp(n, () =>
      Switch.run(async (sw) => {
        for (let i = 0; i < n; i++) sw.fork(trivial);
      }),
    ),
};
const forkBare: Case = {
  name: "fork+join (Promise.all of async fns)",
  unit: "ns/fiber",
  run: () =>
    perOp(n, async () => {
      const ps: Promise<void>[] = [];
      for (let i = 0; i < n; i++) ps.push(trivial());
      await Promise.all(ps);
    }),
};

// -- both: n sequential calls of both(f, g) -----------------------------------------------
const bothWeir: Case = {
  name: "Fiber.both(f, g)",
  unit: "ns/call",
  run: () =>
    perOp(n, async () => {
      for (let i = 0; i < n; i++) await Fiber.both(trivial, trivial);
    }),
};
const bothBare: Case = {
  name: "Promise.all([f(), g()])",
  unit: "ns/call",
  run: () =>
    perOp(n, async () => {
      for (let i = 0; i < n; i++) await Promise.all([trivial(), trivial()]);
    }),
};

// -- cancellation: n fibers blocked, then cancelled at once ---------------------------------
const stop = new Error("bench: stop");
const cancelWeir: Case = {
  name: "cancel switch, n fibers in suspend",
  unit: "ns/fiber",
  run: async () => {
    let t0 = 0n;
    await Switch.run(async (sw) => {
      for (let i = 0; i < n; i++) sw.fork(() => suspend<void>(() => () => {}));
      t0 = process.hrtime.bigint();
      sw.fail(stop);
    }).catch(() => {});
    return Number(process.hrtime.bigint() - t0) / n;
  },
};
const cancelBare: Case = {
  name: "abort controller, n promises listening",
  unit: "ns/fiber",
  run: async () => {
    const ac = new AbortController();
    const ps: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      ps.push(
        new Promise<void>((_, reject) => {
          ac.signal.addEventListener("abort", () => reject(ac.signal.reason), { once: true });
        }),
      );
    }
    const t0 = process.hrtime.bigint();
    ac.abort(stop);
    await Promise.allSettled(ps);
    return Number(process.hrtime.bigint() - t0) / n;
  },
};

// -- suspend vs new Promise, resolved from a later microtask -------------------------------
const suspendWeir: Case = {
  name: "await suspend(resolve later)",
  unit: "ns/op",
  run: () =>
    perOp(n, async () => {
      for (let i = 0; i < n; i++) {
        await suspend<void>((resolve) => {
          queueMicrotask(resolve);
          return undefined;
        });
      }
    }),
};
const suspendBare: Case = {
  name: "await new Promise(resolve later)",
  unit: "ns/op",
  run: () =>
    perOp(n, async () => {
      for (let i = 0; i < n; i++) {
        await new Promise<void>((resolve) => {
          queueMicrotask(resolve);
        });
      }
    }),
};

// -- AsyncLocalStorage: an await chain inside a fiber vs outside any store; run + getStore ---
const als = new AsyncLocalStorage<{ v: number }>();
const chain = async (): Promise<void> => {
  for (let i = 0; i < n; i++) await trivial();
};
const awaitsInFiber: Case = {
  name: "await chain inside runInFiber",
  unit: "ns/await",
  run: () => perOp(n, () => runInFiber({ ...currentFiber() }, chain)),
};
const awaitsBare: Case = {
  name: "await chain outside any store",
  unit: "ns/await",
  run: () => perOp(n, () => als.exit(chain)),
};
const sink = { v: 0 };
const noop = (): number => sink.v;
const runOnly: Case = {
  name: "runInFiber(ctx, fn)",
  unit: "ns/op",
  run: () =>
    perOp(n, async () => {
      const ctx = { ...currentFiber() };
      for (let i = 0; i < n; i++) sink.v += runInFiber(ctx, noop);
    }),
};
const getOnly: Case = {
  name: "currentFiber() (AsyncLocalStorage.getStore)",
  unit: "ns/op",
  run: () =>
    perOp(n, () =>
      runInFiber({ ...currentFiber() }, async () => {
        for (let i = 0; i < n; i++) if (currentFiber().cc.isOn) sink.v++;
      }),
    ),
};
const plainCall: Case = {
  name: "plain call fn() (baseline of the two above)",
  unit: "ns/op",
  run: () =>
    perOp(n, async () => {
      for (let i = 0; i < n; i++) sink.v += noop();
    }),
};

const pairs: Array<readonly [string, Case, Case]> = [
  ["fork", forkWeir, forkBare],
  ["both", bothWeir, bothBare],
  ["cancel", cancelWeir, cancelBare],
  ["suspend", suspendWeir, suspendBare],
  ["alsAwait", awaitsInFiber, awaitsBare],
  ["alsRun", runOnly, plainCall],
  ["alsGet", getOnly, { ...plainCall }],
];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const samples = new Map<Case, number[]>();
for (const [, a, b] of pairs) {
  samples.set(a, []);
  samples.set(b, []);
}

const t0 = performance.now();
// One warm-up round (not recorded), then interleaved rounds; alternate which side goes first.
for (let r = -1; r < rounds; r++) {
  for (const [, a, b] of pairs) {
    const order = r % 2 === 0 ? [a, b] : [b, a];
    for (const c of order) {
      const v = await c.run();
      if (r >= 0) samples.get(c)?.push(v);
    }
  }
}
const elapsed = performance.now() - t0;

const fmt = (x: number) => x.toFixed(1).padStart(9);
const out: Record<string, { weir: number; bare: number; ratio: number; unit: string }> = {};
process.stdout.write(
  `weir core bench: node ${process.version}, n=${n}, ${rounds} rounds (medians), ${elapsed.toFixed(0)} ms\n`,
);
for (const [key, a, b] of pairs) {
  const ma = median(samples.get(a) ?? []);
  const mb = median(samples.get(b) ?? []);
  const ratio = ma / mb;
  out[key] = {
    weir: Math.round(ma * 10) / 10,
    bare: Math.round(mb * 10) / 10,
    ratio: Math.round(ratio * 100) / 100,
    unit: a.unit,
  };
  process.stdout.write(
    `${key.padEnd(10)} ${a.name.padEnd(44)} ${fmt(ma)} ${a.unit}\n` +
      `${"".padEnd(10)} ${b.name.padEnd(44)} ${fmt(mb)} ${b.unit}   ratio ${ratio.toFixed(2)}\n`,
  );
}
process.stdout.write(
  `${JSON.stringify({ bench: "core", node: process.version, n, rounds, ms: Math.round(elapsed), results: out })}\n`,
);
