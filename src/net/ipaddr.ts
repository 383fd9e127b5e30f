/**
 * IP addresses (Eio's `Net.Ipaddr`): immutable IPv4 and IPv6 values, their RFC 5952 text form
 * and the parser for it.
 * @module
 */
import { show as describe } from "../core/checks.ts";

/**
 * An IP address: an immutable IPv4 (4 bytes) or IPv6 (16 bytes) value. Make one with
 * {@link Ipaddr.parse}, {@link Ipaddr.ofRaw} or take a constant such as `Ipaddr.V4.loopback`.
 *
 * @example
 * ```ts
 * const ip = Ipaddr.parse("1:0:0:2:0:0:0:3");
 * ip.family; // 6
 * ip.toString(); // "1:0:0:2::3"
 * ```
 */
export interface Ipaddr {
  /** 4 for IPv4, 6 for IPv6 (including IPv4-mapped IPv6 addresses such as `::ffff:1.2.3.4`). */
  readonly family: 4 | 6;
  /** The address bytes in network order (4 or 16), as a fresh copy: changing it changes nothing. */
  readonly raw: Uint8Array;
  /**
   * The text form: dotted decimal for IPv4; RFC 5952 for IPv6 (lowercase, no leading zeros, the
   * longest run of two or more zero groups, the first one on ties, written `::`), with IPv4-mapped
   * addresses written `::ffff:192.168.1.3`.
   */
  toString(): string;
  /** Whether `other` is the same address (same family and bytes). */
  equals(other: Ipaddr): boolean;
  /** Whether this is a loopback address: `127.0.0.0/8`, `::1`, or `::ffff:127.0.0.0/104`. */
  isLoopback(): boolean;
  /** Whether this is the unspecified ("any") address: `0.0.0.0` or `::`. */
  isAny(): boolean;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] as const;

function isMapped(b: Uint8Array): boolean {
  if (b.length !== 16) return false;
  for (let i = 0; i < 12; i++) if (b[i] !== MAPPED_PREFIX[i]) return false;
  return true;
}

function formatV4(b: Uint8Array, offset: number): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

function formatV6(b: Uint8Array): string {
  if (isMapped(b)) return `::ffff:${formatV4(b, 12)}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // RFC 5952 4.2: compress the longest run of >= 2 zero groups, the first one on ties
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

class IpaddrValue implements Ipaddr {
  readonly family: 4 | 6;
  declare readonly raw: Uint8Array;
  readonly #bytes: Uint8Array;
  readonly #text: string;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.family = bytes.length === 4 ? 4 : 6;
    this.#text = bytes.length === 4 ? formatV4(bytes, 0) : formatV6(bytes);
    // An own enumerable getter (not a prototype one) so that structural comparisons such as
    // vitest's toEqual and util.inspect see the bytes, not just the family
    Object.defineProperty(this, "raw", {
      enumerable: true,
      get: (): Uint8Array => this.#bytes.slice(),
    });
    Object.freeze(this);
  }

  static isIpaddr(x: unknown): x is IpaddrValue {
    return typeof x === "object" && x !== null && #bytes in x;
  }

  toString(): string {
    return this.#text;
  }

  equals(other: Ipaddr): boolean {
    if (!IpaddrValue.isIpaddr(other)) return false;
    const a = this.#bytes;
    const b = other.#bytes;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  isLoopback(): boolean {
    const b = this.#bytes;
    if (b.length === 4) return b[0] === 127;
    if (isMapped(b)) return b[12] === 127;
    for (let i = 0; i < 15; i++) if (b[i] !== 0) return false;
    return b[15] === 1;
  }

  isAny(): boolean {
    return this.#bytes.every((x) => x === 0);
  }

  // console.log and util.inspect show the address, not the [Getter] of `raw`
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Ipaddr(${this.#text})`;
  }
}

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses dotted IPv4 into `out` at `offset`; false if `text` is not exactly a.b.c.d. */
function parseV4Into(text: string, out: Uint8Array, offset: number): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!DECIMAL_OCTET.test(p)) return false;
    const n = Number(p);
    if (n > 255) return false;
    out[offset + i] = n;
  }
  return true;
}

/** Parses IPv6 groups (hex, with an optional dotted IPv4 last) into 16-bit numbers. */
function parseGroups(parts: string[], lastMayBeV4: boolean): number[] | undefined {
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (lastMayBeV4 && i === parts.length - 1 && p.includes(".")) {
      const v4 = new Uint8Array(4);
      if (!parseV4Into(p, v4, 0)) return undefined;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!HEX_GROUP.test(p)) return undefined;
      groups.push(Number.parseInt(p, 16));
    }
  }
  return groups;
}

function parseV6(text: string): Uint8Array | undefined {
  // The longest valid form is 8 groups of 4 digits with 7 colons, or 6 groups and a dotted tail
  if (text.length > 45) return undefined;
  const gap = text.indexOf("::");
  let groups: number[];
  if (gap < 0) {
    const all = parseGroups(text.split(":"), true);
    if (all === undefined || all.length !== 8) return undefined;
    groups = all;
  } else {
    if (text.indexOf("::", gap + 1) >= 0) return undefined;
    const left = text.slice(0, gap);
    const right = text.slice(gap + 2);
    const head = left === "" ? [] : parseGroups(left.split(":"), false);
    const tail = right === "" ? [] : parseGroups(right.split(":"), true);
    if (head === undefined || tail === undefined) return undefined;
    // "::" stands for one or more zero groups (RFC 4291 2.2)
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  return out;
}

const V4_LOOPBACK = new IpaddrValue(Uint8Array.of(127, 0, 0, 1));
const V4_ANY = new IpaddrValue(new Uint8Array(4));
const V6_LOOPBACK = new IpaddrValue(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
const V6_ANY = new IpaddrValue(new Uint8Array(16));

/**
 * Makes and recognises {@link Ipaddr} values (Eio's `Net.Ipaddr` module).
 *
 * @example
 * ```ts
 * Ipaddr.V4.loopback.toString(); // "127.0.0.1"
 * Ipaddr.parse("::ffff:192.168.1.3").toString(); // "::ffff:192.168.1.3"
 * Ipaddr.ofRaw("\x7f\0\0\x01").equals(Ipaddr.V4.loopback); // true
 * ```
 */
export const Ipaddr = Object.freeze({
  /** IPv4 constants: `loopback` is `127.0.0.1`, `any` is `0.0.0.0`. */
  V4: Object.freeze({ loopback: V4_LOOPBACK as Ipaddr, any: V4_ANY as Ipaddr }),
  /** IPv6 constants: `loopback` is `::1`, `any` is `::`. */
  V6: Object.freeze({ loopback: V6_LOOPBACK as Ipaddr, any: V6_ANY as Ipaddr }),

  /**
   * Makes an address from its bytes in network order: 4 bytes give IPv4, 16 give IPv6. A
   * string is read as Eio's raw byte string, one byte per character (`"\x7f\0\0\x01"`). The bytes
   * are copied.
   * @throws RangeError if there are not 4 or 16 bytes, or a character is above `\xff`;
   *   TypeError if `bytes` is neither a Uint8Array nor a string.
   * @example
   * ```ts
   * Ipaddr.ofRaw(Uint8Array.of(10, 0, 0, 1)).toString(); // "10.0.0.1"
   * Ipaddr.ofRaw("\x7f\0\0\x01").toString(); // "127.0.0.1"
   * ```
   */
  ofRaw(bytes: Uint8Array | string): Ipaddr {
    let copy: Uint8Array;
    if (typeof bytes === "string") {
      copy = new Uint8Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) {
        const c = bytes.charCodeAt(i);
        if (c > 0xff) {
          throw new RangeError(
            `bytes must hold only characters \\x00..\\xff, got \\u${c.toString(16).padStart(4, "0")} at index ${i}`,
          );
        }
        copy[i] = c;
      }
    } else if (bytes instanceof Uint8Array) {
      copy = Uint8Array.from(bytes);
    } else {
      throw new TypeError(`bytes must be a Uint8Array or a string, got ${describe(bytes)}`);
    }
    if (copy.length !== 4 && copy.length !== 16) {
      throw new RangeError(`bytes must be 4 or 16 bytes long, got ${copy.length}`);
    }
    return new IpaddrValue(copy);
  },

  /**
   * Reads an IP address from text: dotted IPv4 (`0..255` octets, no leading zeros) or any valid
   * IPv6 text (RFC 4291), including a dotted IPv4 tail (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`).
   * No brackets, spaces, or zone ids (`fe80::1%eth0`).
   * @throws TypeError naming the text if it is not a valid address, or not a string.
   * @example
   * ```ts
   * Ipaddr.parse("4:1:0:0:2:0:0:3").toString(); // "4:1::2:0:0:3"
   * Ipaddr.parse("1.2.3"); // throws TypeError: invalid IP address "1.2.3"
   * ```
   */
  parse(text: string): Ipaddr {
    if (typeof text !== "string") {
      throw new TypeError(`text must be a string, got ${describe(text)}`);
    }
    if (text.includes(":")) {
      if (text.includes("%")) {
        throw new TypeError(
          `invalid IP address ${JSON.stringify(text)} (zone ids are not supported)`,
        );
      }
      const bytes = parseV6(text);
      if (bytes !== undefined) return new IpaddrValue(bytes);
    } else {
      const bytes = new Uint8Array(4);
      if (parseV4Into(text, bytes, 0)) return new IpaddrValue(bytes);
    }
    throw new TypeError(`invalid IP address ${JSON.stringify(text)}`);
  },

  /**
   * Whether `x` is an {@link Ipaddr} made by this module (a look-alike object is not).
   * @example
   * ```ts
   * Ipaddr.isIpaddr(Ipaddr.V6.any); // true
   * Ipaddr.isIpaddr("::"); // false
   * ```
   */
  isIpaddr(x: unknown): x is Ipaddr {
    return IpaddrValue.isIpaddr(x);
  },
});
