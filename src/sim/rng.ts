/**
 * The simulation's random generator: small, fast and seeded (sfc32, seeded through
 * splitmix32), so that a seed gives the same run on every machine.
 * @module
 */

/** A seeded pseudo-random generator. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** A generator for `seed` (any integer; the same seed gives the same sequence). */
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform integer in [0, 2^32). */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A uniform number in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** A uniform integer in [min, max] (both integers, min <= max). */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability `p` (never draws when `p` is 0, so a fault-free run stays cheap). */
  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }
}
