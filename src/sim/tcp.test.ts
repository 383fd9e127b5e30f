import { describe, expect, test } from "vitest";
import { Fiber, IoError, Switch } from "../core/index.ts";
import { BufRead, Flow } from "../flow/index.ts";
import { Sim, type SimOptions } from "./index.ts";
import type { SimEnv } from "./types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Host `srv` reads messages with `readMessages`; the client writes each line with its own write. */
async function framing(
  options: SimOptions,
  readMessages: (s: import("../net/index.ts").StreamSocket) => Promise<string[]>,
): Promise<string[]> {
  const sim = Sim.create(options);
  let got: string[] = [];
  sim.host("srv", async (env) => {
    await Switch.run(async (sw) => {
      const l = await env.net.listen("tcp:0.0.0.0:80", { sw, backlog: 1 });
      const [s] = await l.accept({ sw });
      got = await readMessages(s);
    });
  });
  sim.client("c", async (env: SimEnv) => {
    await Switch.run(async (sw) => {
      const s = await env.net.connect("tcp:srv:80", { sw });
      for (const m of ["hello\n", "wonderful\n", "world\n"]) {
        await s.write([encoder.encode(m)]);
        await env.clock.sleep(20);
      }
      await s.shutdown("send");
      await env.clock.sleep(100);
    });
  });
  await sim.run();
  return got;
}

// The framing bug: one read taken for one message.
async function naive(s: import("../net/index.ts").StreamSocket): Promise<string[]> {
  const out: string[] = [];
  const buf = new Uint8Array(100);
  for (let i = 0; i < 3; i++) out.push(decoder.decode(buf.subarray(0, await s.readInto(buf))));
  return out;
}

async function byLines(s: import("../net/index.ts").StreamSocket): Promise<string[]> {
  const out: string[] = [];
  for await (const line of BufRead.of(s, { maxSize: 100 }).lines()) out.push(`${line}\n`);
  return out;
}

describe("TCP in the simulation", () => {
  test("partial delivery shows a framing bug on the first seed; a line reader passes every seed", async () => {
    const expected = ["hello\n", "wonderful\n", "world\n"];
    expect(await framing({ seed: 0, partialDelivery: false }, naive)).toEqual(expected);
    expect(await framing({ seed: 0 }, naive)).not.toEqual(expected);
    for (let seed = 0; seed < 50; seed++)
      expect(await framing({ seed }, byLines)).toEqual(expected);
  });

  test("partial delivery gives reads of every size down to one byte", async () => {
    const sizes = new Set<number>();
    const sim = Sim.create({ seed: 1 });
    sim.client("c", async (env) => {
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:127.0.0.1:80", { sw, backlog: 1 });
        const a = await env.net.connect("tcp:127.0.0.1:80", { sw });
        const [b] = await l.accept({ sw });
        await Fiber.both(
          async () => {
            for (let i = 0; i < 400; i++) await a.write([encoder.encode("0123456789")]);
            await a.shutdown("send");
          },
          async () => {
            const buf = new Uint8Array(8);
            for (;;) {
              const n = await b.readInto(buf).catch(() => 0);
              if (n === 0) return;
              sizes.add(n);
            }
          },
        );
      });
    });
    await sim.run();
    expect(sizes.has(1)).toBe(true);
    expect([...sizes].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test("a vectored write is sent whole, gathered into segments", async () => {
    const sim = Sim.create({ seed: 1, partialDelivery: false });
    let got = "";
    sim.host("srv", async (env) => {
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:0.0.0.0:80", { sw, backlog: 1 });
        const [s] = await l.accept({ sw });
        got = await Flow.readAll(s, { maxSize: 100 });
      });
    });
    sim.client("c", async (env) => {
      await Switch.run(async (sw) => {
        const s = await env.net.connect("tcp:srv:80", { sw });
        await s.write(["GET / ", "HTTP/1.1", "\r\n"].map((x) => encoder.encode(x)));
        await s.close();
        await env.clock.sleep(50);
      });
    });
    await sim.run();
    expect(got).toBe("GET / HTTP/1.1\r\n");
    expect(sim.trace().filter((l) => l.includes("data"))).toEqual([
      "20 ms net: c:49152 > srv:80 data 16",
    ]);
  });

  test("a writer waits once tcpCapacity bytes are in flight or unread, and goes on as the peer reads", async () => {
    const sim = Sim.create({ seed: 2, tcpCapacity: 1000 });
    const log: string[] = [];
    sim.host("slow", async (env) => {
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:0.0.0.0:80", { sw, backlog: 1 });
        const [s] = await l.accept({ sw });
        await env.clock.sleep(1000);
        const text = await Flow.readAll(s, { maxSize: 20_000 });
        log.push(`read ${text.length} bytes by ${env.clock.now()} ms`);
      });
    });
    sim.client("c", async (env) => {
      await Switch.run(async (sw) => {
        const s = await env.net.connect("tcp:slow:80", { sw });
        const r = await Fiber.first(
          async () => {
            await s.write([new Uint8Array(10_000)]);
            return "written";
          },
          async () => {
            await env.clock.sleep(500);
            const { tcpBytes } = sim.netstat().inFlight;
            return `still writing at 500 ms, ${tcpBytes <= 1000 ? "at most 1000" : tcpBytes} bytes in flight`;
          },
        );
        log.push(r);
        // the cancelled write had sent 1000 bytes (a cancelled write may have written some)
        await s.write([new Uint8Array(10_000)]);
        log.push(`written at ${env.clock.now()} ms`);
        await s.shutdown("send");
        await env.clock.sleep(2000);
      });
    });
    await sim.run();
    expect(log).toMatchInlineSnapshot(`
      [
        "still writing at 500 ms, at most 1000 bytes in flight",
        "written at 1049 ms",
        "read 11000 bytes by 1058 ms",
      ]
    `);
  });

  test("a full accept queue drops SYNs, which are sent again; the clients connect once accepting starts", async () => {
    const sim = Sim.create({ seed: 3 });
    sim.host("srv", async (env) => {
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:0.0.0.0:80", { sw, backlog: 1 });
        await env.clock.sleep(2000);
        for (;;) {
          const [s] = await l.accept({ sw });
          await Flow.copyString("hi", s);
          await s.close();
        }
      });
    });
    const got: string[] = [];
    for (const name of ["c1", "c2", "c3"]) {
      sim.client(name, async (env) => {
        await Switch.run(async (sw) => {
          const s = await env.net.connect("tcp:srv:80", { sw });
          got.push(`${name} ${await Flow.readAll(s, { maxSize: 10 })} at ${env.clock.now()}`);
        });
      });
    }
    await sim.run();
    expect(got.length).toBe(3);
    expect(sim.trace().filter((l) => l.includes("accept queue full")).length).toBeGreaterThan(0);
    expect(got).toMatchInlineSnapshot(`
      [
        "c1 hi at 2008",
        "c2 hi at 3016",
        "c3 hi at 3016",
      ]
    `);
  });

  test("Unix sockets and loopback are local to their host", async () => {
    const sim = Sim.create({ seed: 4 });
    sim.host("a", async (env) => {
      await Switch.run(async (sw) => {
        await env.net.listen("unix:/run/a.sock", { sw, backlog: 1 });
        await env.net.listen("tcp:127.0.0.1:80", { sw, backlog: 1 });
        await env.clock.sleep(Infinity);
      });
    });
    const out: string[] = [];
    sim.client("b", async (env) => {
      await Switch.run(async (sw) => {
        for (const addr of ["unix:/run/a.sock", "tcp:a:80"]) {
          const e = await env.net.connect(addr, { sw }).catch((x: unknown) => x);
          out.push((e as IoError).message.split("\n")[0] as string);
        }
      });
    });
    await sim.run();
    expect(out).toEqual([
      "Fs NotFound: ENOENT: /run/a.sock",
      "Net ConnectionFailure Refused: ECONNREFUSED: connection refused",
    ]);
  });

  test("closing with unread data resets the connection, as Linux does", async () => {
    const sim = Sim.create({ seed: 5 });
    sim.host("srv", async (env) => {
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:0.0.0.0:80", { sw, backlog: 1 });
        const [s] = await l.accept({ sw });
        await s.readInto(new Uint8Array(1));
        await s.close();
      });
    });
    let e: unknown;
    sim.client("c", async (env) => {
      await Switch.run(async (sw) => {
        const s = await env.net.connect("tcp:srv:80", { sw });
        await s.write([encoder.encode("more than one byte")]);
        e = await s.readInto(new Uint8Array(10)).catch((x: unknown) => x);
      });
    });
    await sim.run();
    expect(e).toBeInstanceOf(IoError);
    expect((e as IoError).err.kind).toBe("ConnectionReset");
  });
});
