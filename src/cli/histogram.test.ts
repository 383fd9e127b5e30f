import { describe, expect, test } from "vitest";
import { Histogram } from "./histogram.ts";

describe("Histogram", () => {
  test("percentile() is exact for small values and within 0.8% above them", () => {
    const h = new Histogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    expect(h.percentile(50)).toBe(50);
    expect(h.percentile(99)).toBe(99);
    expect(h.percentile(100)).toBe(100);
    expect(h.percentile(0)).toBe(1);
    const big = new Histogram();
    const values = Array.from({ length: 10_000 }, (_, i) => 1000 + i * 997);
    for (const v of values) big.record(v);
    for (const p of [50, 90, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1] as number;
      const got = big.percentile(p);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect((got - exact) / exact).toBeLessThan(0.008);
    }
  });

  test("count, min, max and mean are exact; memory does not grow with samples", () => {
    const h = new Histogram();
    for (let i = 0; i < 200_000; i++) h.record((i % 1000) * 1000 + 7);
    expect(h.count).toBe(200_000);
    expect(h.min).toBe(7);
    expect(h.max).toBe(999_007);
    expect(h.mean).toBeCloseTo(499_507, 0);
    // values beyond the tracked range still set the exact max
    h.record(2 ** 50);
    expect(h.max).toBe(2 ** 50);
    expect(h.percentile(100)).toBe(2 ** 50);
  });

  test("percentile() never reports more than the max nor less than the min", () => {
    const h = new Histogram();
    h.record(123_456_789);
    expect(h.percentile(50)).toBe(123_456_789);
    expect(h.percentile(99.9)).toBe(123_456_789);
  });

  test("an empty histogram reports zeros and no rows", () => {
    const h = new Histogram();
    expect([h.count, h.min, h.max, h.mean, h.percentile(99)]).toEqual([0, 0, 0, 0, 0]);
    expect(h.rows()).toEqual([]);
  });

  test("rows() groups by 1-2-5 bounds, from the min's row to the max's, counts adding up", () => {
    const h = new Histogram();
    for (const v of [1500, 1800, 3000, 40_000, 40_000]) h.record(v);
    const rows = h.rows(1000);
    expect(rows.map((r) => r.le)).toEqual([2000, 5000, 10_000, 20_000, 50_000]);
    expect(rows.map((r) => r.count)).toEqual([2, 1, 0, 0, 2]);
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(h.count);
  });

  test("add() merges and reset() forgets", () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(10);
    b.record(1_000_000);
    a.add(b);
    expect([a.count, a.min, a.max]).toEqual([2, 10, 1_000_000]);
    a.reset();
    expect(a.count).toBe(0);
    expect(a.percentile(50)).toBe(0);
  });

  test("record() rejects negative and NaN values naming them", () => {
    const h = new Histogram();
    expect(() => h.record(-1)).toThrow(new RangeError("value must be a number >= 0, got -1"));
    expect(() => h.record(Number.NaN)).toThrow(RangeError);
  });
});
