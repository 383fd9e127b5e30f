import { describe, expect, test } from "vitest";
import { Switch } from "../core/index.ts";
import { Sockaddr } from "../net/index.ts";
import { Sim, type SimOptions } from "./index.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The client sends datagrams "0".."n-1" to host `sink`, which records what arrives, in order. */
async function datagrams(options: SimOptions, n: number): Promise<{ got: string[]; sim: Sim }> {
  const sim = Sim.create(options);
  const got: string[] = [];
  sim.host("sink", async (env) => {
    await Switch.run(async (sw) => {
      const u = await env.net.datagramSocket("udp:0.0.0.0:9999", { sw });
      const buf = new Uint8Array(16);
      for (;;) {
        const [from, k] = await u.recv(buf);
        got.push(`${decoder.decode(buf.subarray(0, k))} from ${Sockaddr.format(from)}`);
      }
    });
  });
  sim.client("src", async (env) => {
    await Switch.run(async (sw) => {
      const u = await env.net.datagramSocket("udpv4", { sw });
      for (let i = 0; i < n; i++)
        await u.send([encoder.encode(String(i))], { dst: "udp:sink:9999" });
      await env.clock.sleep(100);
    });
  });
  await sim.run();
  return { got, sim };
}

describe("UDP in the simulation", () => {
  test("datagrams are reordered by their latencies, lost with dropRate, duplicated with duplicateRate", async () => {
    const { got, sim } = await datagrams(
      { seed: 3, latency: { min: 1, max: 20 }, dropRate: 0.2, duplicateRate: 0.2 },
      10,
    );
    expect(got).toMatchInlineSnapshot(`
      [
        "5 from udp:10.0.0.2:49152",
        "3 from udp:10.0.0.2:49152",
        "5 from udp:10.0.0.2:49152",
        "0 from udp:10.0.0.2:49152",
        "1 from udp:10.0.0.2:49152",
        "7 from udp:10.0.0.2:49152",
        "9 from udp:10.0.0.2:49152",
        "2 from udp:10.0.0.2:49152",
        "8 from udp:10.0.0.2:49152",
        "9 from udp:10.0.0.2:49152",
        "2 from udp:10.0.0.2:49152",
        "4 from udp:10.0.0.2:49152",
      ]
    `);
    expect(sim.trace().filter((l) => l.includes("datagram"))).toMatchInlineSnapshot(`
      [
        "0 ms net: src:49152 > sink:9999 datagram #3 (1 B) duplicated",
        "0 ms net: src:49152 > sink:9999 datagram #6 (1 B) duplicated",
        "0 ms net: src:49152 > sink:9999 datagram #7 (1 B) lost",
        "0 ms net: src:49152 > sink:9999 datagram #10 (1 B) duplicated",
        "7 ms net: src:49152 > sink:9999 datagram #6 (1 B)",
        "9 ms net: src:49152 > sink:9999 datagram #4 (1 B)",
        "11 ms net: src:49152 > sink:9999 datagram #6 (1 B)",
        "12 ms net: src:49152 > sink:9999 datagram #1 (1 B)",
        "12 ms net: src:49152 > sink:9999 datagram #2 (1 B)",
        "12 ms net: src:49152 > sink:9999 datagram #8 (1 B)",
        "12 ms net: src:49152 > sink:9999 datagram #10 (1 B)",
        "13 ms net: src:49152 > sink:9999 datagram #3 (1 B)",
        "13 ms net: src:49152 > sink:9999 datagram #9 (1 B)",
        "13 ms net: src:49152 > sink:9999 datagram #10 (1 B)",
        "14 ms net: src:49152 > sink:9999 datagram #3 (1 B)",
        "19 ms net: src:49152 > sink:9999 datagram #5 (1 B)",
      ]
    `);
  });

  test("with no faults every datagram arrives once; the same seed gives the same order", async () => {
    const a = await datagrams({ seed: 12, latency: { min: 1, max: 50 } }, 50);
    const b = await datagrams({ seed: 12, latency: { min: 1, max: 50 } }, 50);
    expect(a.got.length).toBe(50);
    expect(new Set(a.got).size).toBe(50);
    expect(a.got).toEqual(b.got);
    expect(a.got).not.toEqual(
      [...a.got].sort((x, y) => Number.parseInt(x, 10) - Number.parseInt(y, 10)),
    );
  });

  test("a receiver that does not read keeps udpCapacity datagrams and drops the rest", async () => {
    const sim = Sim.create({ seed: 1, udpCapacity: 3 });
    let got = 0;
    sim.client("c", async (env) => {
      await Switch.run(async (sw) => {
        const r = await env.net.datagramSocket("udp:127.0.0.1:5000", { sw });
        const s = await env.net.datagramSocket("udpv4", { sw });
        for (let i = 0; i < 5; i++)
          await s.send([encoder.encode("x")], { dst: "udp:127.0.0.1:5000" });
        await env.clock.sleep(1);
        expect(sim.netstat().dropped).toBe(2);
        const buf = new Uint8Array(4);
        for (let i = 0; i < 3; i++) got += (await r.recv(buf))[1];
      });
    });
    await sim.run();
    expect(got).toBe(3);
  });

  test("datagrams into a partition are lost; to a port nobody has, lost; empty datagrams arrive", async () => {
    const sim = Sim.create({ seed: 2 });
    const got: number[] = [];
    sim.host("h", async (env) => {
      await Switch.run(async (sw) => {
        const u = await env.net.datagramSocket("udp:0.0.0.0:1", { sw });
        for (;;) got.push((await u.recv(new Uint8Array(4)))[1]);
      });
    });
    sim.client("c", async (env) => {
      await Switch.run(async (sw) => {
        const s = await env.net.datagramSocket("udpv4", { sw });
        sim.partition("c", "h");
        await s.send([encoder.encode("lost")], { dst: "udp:h:1" });
        await env.clock.sleep(50);
        sim.repair("c", "h");
        await s.send([encoder.encode("nobody")], { dst: "udp:h:2" });
        await s.send([], { dst: "udp:h:1" });
        await env.clock.sleep(50);
        await expect(s.send([encoder.encode("x")])).rejects.toThrow(
          "send: option dst is required (the socket is not connected)",
        );
      });
    });
    await sim.run();
    expect(got).toEqual([0]);
    expect(sim.trace().filter((l) => l.includes("lost"))).toMatchInlineSnapshot(`
      [
        "8 ms net: c:49152 > h:1 datagram #1 (4 B) lost: partitioned",
        "56 ms net: c:49152 > h:2 datagram #2 (6 B) lost: nobody listens",
      ]
    `);
  });
});

test("a held link keeps at most 4096 datagrams; more are lost", async () => {
  const sim = Sim.create({ seed: 1 });
  let got = 0;
  sim.host("h", async (env) => {
    await Switch.run(async (sw) => {
      const u = await env.net.datagramSocket("udp:0.0.0.0:1", { sw });
      for (;;) {
        await u.recv(new Uint8Array(1));
        got++;
      }
    });
  });
  sim.client("c", async (env) => {
    await Switch.run(async (sw) => {
      const s = await env.net.datagramSocket("udpv4", { sw });
      sim.hold("c", "h");
      for (let i = 0; i < 5000; i++) await s.send([encoder.encode("x")], { dst: "udp:h:1" });
      await env.clock.sleep(100);
      expect(sim.netstat().held.datagrams).toBe(4096);
      expect(sim.netstat().dropped).toBe(5000 - 4096);
    });
  });
  await sim.run();
  expect(got).toBe(0);
});
